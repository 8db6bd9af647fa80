"""The comment lexer and the backtick markup parser: small rules as tables, and Xen 4.17's
real headers. The header-by-header cases are a golden suite (``tests/support/golden.py``,
``markup``), regenerated with ``python3 tests/regen.py markup``."""

from __future__ import annotations

from pathlib import Path

import pytest

from headerparse.extract.commenttext import clean_comment
from headerparse.extract.lexer import CommentIndex, scan_comments, scan_defines
from headerparse.extract.markup import direction_of, parse_markup
from headerparse.model import Comment, Doc, Loc

DATA = Path(__file__).parent / "data" / "markup"
CASES = sorted(p.stem for p in DATA.glob("*.h"))


# Small rules that read better as a table than as a header.

@pytest.mark.parametrize(("raw", "text"), [
    ("/* Clean up, save suspend info, kill.         */", "Clean up, save suspend info, kill."),
    ("/*****\n * banner\n *****/", "banner"),
    ("/*\n * one\n *\n *\n * two\n */", "one\n\ntwo"),
    ("/**/", ""),
    ("// c99", "c99"),
    ("/* ` enum sched_op { // SCHEDOP_* => struct sched_* */",
     "` enum sched_op { // SCHEDOP_* => struct sched_*"),
])
def test_clean_comment(raw: str, text: str) -> None:
    assert clean_comment(raw) == text


def _doc(text: str) -> Doc:
    return Doc(trailing=Comment(f"/* {text} */", text, Loc("x.h", 1), 1))


@pytest.mark.parametrize(("text", "direction"), [
    ("IN", "IN"), ("OUT: the handle", "OUT"), ("IN/OUT variables.", "IN/OUT"),
    ("[IN] domain", "IN"), ("[OUT]", "OUT"), ("IN - server id", "IN"), ("IN or OUT", "IN/OUT"),
    ("INDEX of the widget", None), ("in lower case", None), ("OUTPUT", None), ("", None),
])
def test_direction_of(text: str, direction: str | None) -> None:
    assert direction_of(_doc(text)) == direction


# ------------------------------------------------------------------ real headers


@pytest.mark.slow
def test_real_xen_417_headers(xen_tree_417) -> None:
    parsed = {}
    for rel, data in sorted(xen_tree_417.files.items()):
        text = data.decode("utf-8", errors="replace")
        comments, defines = scan_comments(text, rel), scan_defines(text, rel)
        parsed[rel] = (comments, defines, parse_markup(rel, comments, defines))

    # The real headers carry no markup mistakes.
    assert [d.render() for _, _, m in parsed.values() for d in m.diagnostics] == []

    sched_comments, sched_defines, sched = parsed["sched.h"]
    op = next(g for g in sched.groups if g.name == "sched_op")
    assert (op.pattern, op.target) == ("SCHEDOP_*", "struct sched_*")
    assert op.members[0] == "SCHEDOP_yield" and op.members[-1] == "SCHEDOP_pin_override"
    assert len(op.members) == 8
    assert op.target_for("SCHEDOP_shutdown") == "struct sched_shutdown"
    proto = next(p for p in sched.prototypes if p.name == "HYPERVISOR_sched_op")
    assert proto.variadic and proto.arity == 2 and proto.return_type == "long"

    suspend = next(d for d in sched_defines if d.name == "SHUTDOWN_suspend")
    doc = CommentIndex(sched_comments).doc_for(suspend.line, suspend.end_line)
    assert doc.trailing is not None
    assert doc.trailing.text == "Clean up, save suspend info, kill."

    xen = parsed["xen.h"][2]
    mmu = next(p for p in xen.prototypes if p.name == "HYPERVISOR_mmu_update")
    assert mmu.arity == 4 and mmu.return_type == "enum neg_errnoval"
    hcalls = next(g for g in xen.groups if g.name == "hypercall_num")
    assert hcalls.target_for("__HYPERVISOR_sched_op") == "HYPERVISOR_sched_op()"

    counts = [sum(len(getattr(m, kind)) for _, _, m in parsed.values())
              for kind in ("groups", "prototypes", "sections")]
    assert counts == [13, 22, 13]
