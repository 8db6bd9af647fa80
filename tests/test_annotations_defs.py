"""hypercall-defs.c: the hypervisor's own table, in its real format."""

from __future__ import annotations

from pathlib import Path

import pytest

from headerparse.annotations.hypercall_defs import parse_hypercall_defs

DATA = Path(__file__).parent / "data" / "annotations"


def test_synthetic_table() -> None:
    defs, diags = parse_hypercall_defs((DATA / "hypercall-defs.c").read_text())
    assert diags == [] and defs is not None
    assert defs.columns == ("pv32", "pv64", "hvm32", "hvm64", "arm")
    assert [r.name for r in defs.rows] == ["sched_op", "console_io", "set_segment_base", "mca",
                                          "paging_domctl_cont"]
    sched = defs.row("sched_op")
    assert sched is not None and dict(sched.cells) == {
        "pv32": "compat", "pv64": "do", "hvm32": "compat", "hvm64": "do", "arm": "do"}
    # Priorities (":2") are dropped; "-" is None; the #if guarding a row is kept.
    seg = defs.row("set_segment_base")
    assert seg is not None and seg.cells["pv32"] == "do" and seg.cells["hvm64"] is None
    assert seg.guards == ("ifdef CONFIG_PV",)
    mca = defs.row("mca")        # the #if branch of a full build, not the #elif
    assert mca is not None and mca.cells["pv64"] == "do" and mca.cells["arm"] is None
    assert defs.row("shim_only") is None
    proto = defs.handler(sched, "pv32")
    assert proto is not None and proto.prefixes == ("do", "compat") and proto.arity == 2
    compat = defs.handler(defs.row("console_io"), "arm")
    assert compat is not None and compat.params[2] == ("char *", "buffer")


def test_prototype_without_parameters() -> None:
    text = "prefix: do\niret()\nfoo(void)\ntable: pv64\niret do\nfoo do\n"
    defs, diags = parse_hypercall_defs(text)
    assert diags == [] and defs is not None
    assert defs.handler(defs.row("iret"), "pv64").arity == 0
    assert defs.handler(defs.row("foo"), "pv64").arity == 0


@pytest.mark.parametrize("text,line,fragment", [
    ("prefix: do\nfoo(int a)\n#ifdef CONFIG_X\n", 3, "unterminated #if"),
    ("prefix: do\nfoo(int a)\n#endif\ntable: pv64\n", 3, "#endif without #if"),
    ("foo(int a)\ntable: pv64\n", 1, "before any 'prefix:' line"),
    ("prefix: do\nfoo int a\ntable: pv64\n", 2, "expected a prototype"),
    ("prefix: do\nfoo(int)\ntable: pv64\n", 2, "has no type and name"),
    ("prefix: do\nfoo(int a)\ntable: pv32 pv64\nfoo do\n", 4, "1 cells"),
    ("prefix: do\nfoo(int a)\ntable: pv64\nfoo do\nfoo do\n", 5, "second table row"),
    ("prefix: do\n#if defined(CONFIG_X) &&\nfoo(int a)\n#endif\ntable: pv64\n", 2, "#if"),
    ("prefix: do\n#frobnicate\n", 2, "unsupported preprocessor line"),
    ("prefix: do\nfoo(int a)\n", 2, "no 'table:' line"),
    ("", 0, "no 'table:' line"),
])
def test_malformed_defs_give_a_line(text: str, line: int, fragment: str) -> None:
    defs, diags = parse_hypercall_defs(text, "hypercall-defs.c")
    assert defs is None
    (d,) = diags
    assert d.rule == "XA220" and d.loc is not None and d.loc.line == line
    assert fragment in d.message
    assert d.render().startswith(f"hypercall-defs.c:{line}:1: error: ")
