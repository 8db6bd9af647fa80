"""Binding annotations to a model, settling facts, drift, and the query API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.models import make_model

from headerparse.annotations.bind import bind
from headerparse.annotations.load import load_annotations
from headerparse.annotations.schema import parse_file
from headerparse.annotations.types import Condition

DATA = Path(__file__).parent / "data" / "annotations"
CASES = sorted((DATA / "bind").glob("*.yaml"))
DEFS = (DATA / "hypercall-defs.c").read_text()


def test_binding_cases_cover_every_drift_rule() -> None:
    rules = {line.rsplit("[", 1)[1].rstrip("]") for p in CASES
             for line in p.with_suffix(".expected").read_text().splitlines()}
    assert {"XA201", "XA202", "XA203", "XA204", "XA205", "XA206", "XA208", "XA209", "XA210",
            "XA211", "XA212", "XA214", "XA216"} <= rules


@pytest.fixture
def good():
    model = make_model()
    aset, diags = load_annotations(DATA / "good", model)
    return model, aset, diags


def test_good_annotations_bind_without_errors(good) -> None:
    _, _, diags = good
    assert [d.render() for d in diags if d.severity != "note"] == []


def test_suspend_third_argument_per_variant(good) -> None:
    _, aset, _ = good
    cond = "sched_shutdown.reason == SHUTDOWN_suspend"
    got = {}
    for v in ("x86-pv32", "x86-pv64", "x86-hvm32", "x86-hvm64", "arm32", "arm64"):
        args = aset.arguments("sched_op", "SCHEDOP_shutdown", cond, variant=v)
        third = args[-1]
        got[v] = (third.position, aset.register_of(v, 3), third.readers,
                  str(third.constraint))
    assert got["x86-pv64"] == (3, "RDX", ("toolstack",),
                               "must be the MFN of the guest's start_info page")
    assert got["x86-pv32"][:3] == (3, "EDX", ("toolstack",))
    assert got["x86-hvm64"] == (3, "RDX", ("nobody",), "any value")
    assert got["arm64"][:2] == (3, "x2") and got["arm32"][:2] == (3, "r2")
    third = aset.arguments("sched_op", "SCHEDOP_shutdown", Condition(
        "sched_shutdown.reason", "==", "SHUTDOWN_suspend"), variant="x86-pv64")[-1]
    assert third.source.kind == "hand-written"
    assert "bfc2e6e942" in str(third.source) and "good/sched.yaml:" in str(third.source)
    # Without the condition the third argument is not there.
    assert len(aset.arguments("sched_op", "SCHEDOP_shutdown", variant="x86-pv64")) == 2


def test_arity_availability_and_sources(good) -> None:
    _, aset, _ = good
    sched = aset.hypercall("__HYPERVISOR_sched_op")
    assert sched is not None
    assert {v: k.value for v, k in sched.arity.items()} == {
        "x86-pv32": 3, "x86-pv64": 3, "x86-hvm32": 2, "x86-hvm64": 2, "arm32": 2, "arm64": 2}
    srcs = [str(s) for s in sched.arity["x86-pv64"].sources]
    assert srcs[0].startswith("hand-written: ") and "derived: prototype at sched.h:25" in srcs
    seg = aset.hypercall("set_segment_base")
    assert seg is not None and [v for v, k in seg.available.items() if k.value] == ["x86-pv64"]
    # The header note agrees and is listed as a second source.
    assert "derived: header note 'x86/64 only' at xen.h:80" in [
        str(s) for s in seg.available["arm64"].sources]


def test_alias_binds_to_its_number(good) -> None:
    _, aset, _ = good
    arch0, mca = aset.hypercall("arch_0"), aset.hypercall("mca")
    assert arch0 is not None and mca is not None and mca.alias_of == "arch_0"
    assert mca.available == arch0.available and mca.number == 48
    assert aset.annotated("mca") and aset.annotated("arch_0")


def test_subop_bindings(good) -> None:
    _, aset, _ = good
    by = {b.subop: b for b in aset.subops_of("sched_op")}
    assert by["SCHEDOP_shutdown"].takes == "struct sched_shutdown"
    assert str(by["SCHEDOP_shutdown"].source) == \
        "derived: 'SCHEDOP_* => struct sched_*' mapping at sched.h:42"
    assert by["SCHEDOP_yield"].takes is None and "@arg == NULL." in str(by["SCHEDOP_yield"].source)
    assert by["SCHEDOP_shutdown_code"].takes == "struct sched_shutdown"
    assert by["SCHEDOP_mystery"].source.kind == "hand-written"
    assert aset.unbound("sched_op") == []


def test_unbound_subop_blocks_coverage() -> None:
    # Without good/sched.yaml nothing binds SCHEDOP_mystery.
    parsed, _ = parse_file((DATA / "good" / "other.yaml").read_bytes(), "other.yaml")
    aset, _ = bind([parsed], make_model(), DEFS, "hypercall-defs.c")
    assert aset.unbound("sched_op") == ["SCHEDOP_mystery"]
    cov = aset.coverage()["hypercalls"]["sched_op"]
    assert cov["annotated"] is False and "argument of SCHEDOP_mystery" in cov["missing"]
    assert cov["subops"]["SCHEDOP_mystery"] == {"takes": None, "position": None,
                                               "source": None}


def test_coverage_json_shape(good) -> None:
    _, aset, _ = good
    data = json.loads(json.dumps(aset.coverage()))
    sched = data["hypercalls"]["sched_op"]
    assert sched["number"] == 29 and sched["annotated"] is True
    assert sched["arity"]["x86-pv64"] == 3 and sched["available"]["arm64"] is True
    assert sched["registers"]["x86-pv64"] == ["RAX", "RDI", "RSI", "RDX"]
    assert sched["registers"]["arm32"] == ["r12", "r0", "r1"]
    assert data["hypercalls"]["console_io"]["annotated"] is True
    assert set(data["hypercalls"]) == {"set_segment_base", "sched_op", "console_io", "arch_0",
                                       "mca"}
    assert data["summary"] == {"hypercalls": 5, "annotated": 5}


def test_defs_derive_everything_they_can() -> None:
    # No annotation file at all: the table and the prototypes settle console_io.
    aset, diags = bind([], make_model(), DEFS, "hypercall-defs.c")
    assert [d.rule for d in diags if d.severity == "error"] == []
    console = aset.hypercall("console_io")
    assert console is not None and aset.annotated("console_io")
    assert all(k.value for k in console.available.values())
    src = [str(s) for s in console.available["arm64"].sources]
    assert src == ["derived: hypercall-defs.c table row console_io at hypercall-defs.c:50"]
    arity = [str(s) for s in console.arity["x86-pv32"].sources]
    assert arity[0].startswith("derived: hypercall-defs.c prototype console_io(")
    assert "derived: prototype at xen.h:482" in arity
    # The defs and the header note disagree on pv32: the headers are right,
    # but only a hand-written override may say so; until then, a warning.
    warn = [d for d in diags if d.rule == "XA208"]
    assert warn and warn[0].severity == "warning" and warn[0].archs == ("x86-pv32",)
    # mca's row serves arch_0 through the alias; the Xen-internal row is a note.
    assert aset.hypercall("arch_0").available["x86-pv64"].value is True
    assert [d.rule for d in diags if d.severity == "note"] == ["XA221"]


def test_defs_conflict_is_an_error_unless_overridden(tmp_path: Path) -> None:
    text = ("family: x\nhypercalls:\n  set_segment_base:\n    available: x86\n"
            "symbols:\n  __HYPERVISOR_set_segment_base: 25\n")
    parsed, _ = parse_file(text.encode(), "seg.yaml")
    _, diags = bind([parsed], make_model(), DEFS, "hypercall-defs.c")
    errors = [d for d in diags if d.severity == "error"]
    assert {d.rule for d in errors} == {"XA207", "XA208"}
    (xa207,) = [d for d in errors if d.rule == "XA207"]
    assert xa207.archs == ("x86-hvm32", "x86-hvm64") and xa207.loc.line == 4
    text = text.replace("    available: x86\n", "    overrides: the handler refuses 32-bit "
                        "guests\n    available: x86-pv64\n")
    parsed, _ = parse_file(text.encode(), "seg.yaml")
    aset, diags = bind([parsed], make_model(), DEFS, "hypercall-defs.c")
    assert [d.render() for d in diags if d.severity != "note"] == []
    assert any(d.rule == "XA207" and "(overridden)" in d.message for d in diags)
    assert aset.hypercall("set_segment_base").available["x86-pv32"].value is False


def test_defs_arity_conflict() -> None:
    text = ("family: x\nhypercalls:\n  console_io:\n    overrides: testing\n    available: all\n"
            "    args:\n      - {arg: 1, name: cmd, read_by: xen}\n"
            "symbols:\n  __HYPERVISOR_console_io: 18\n")
    parsed, _ = parse_file(text.encode(), "c.yaml")
    _, diags = bind([parsed], make_model(), DEFS, "hypercall-defs.c")
    assert any(d.rule == "XA207" and "arity of console_io" in d.message for d in diags)


def test_missing_column_makes_a_variant_unavailable() -> None:
    model = make_model()
    model = type(model)(**{**model.__dict__, "archs": model.archs + ("riscv64",)})
    aset, _ = bind([], model, DEFS, "hypercall-defs.c")
    console = aset.hypercall("console_io")
    assert console.available["riscv64"].value is False
    assert "has no riscv64 column" in str(console.available["riscv64"].sources[0])


def test_duplicates_across_files(tmp_path: Path) -> None:
    shutil.copy(DATA / "good" / "other.yaml", tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(
        "family: b\nhypercalls:\n  arch_0:\n    available: none\n"
        "symbols:\n  __HYPERVISOR_console_io: 17\n")
    _, diags = load_annotations(tmp_path, make_model())
    rendered = [d.render() for d in diags]
    assert any("b.yaml:3:3: error: second annotation of hypercall arch_0 (first at "
               in r and "a.yaml:" in r and "[XA108]" in r for r in rendered)
    assert any("b.yaml:6:3: error: __HYPERVISOR_console_io is pinned differently at "
               in r and "[XA109]" in r for r in rendered)


def test_show_lists_the_suspend_facts(good) -> None:
    from headerparse.annotations.describe import describe

    model, aset, _ = good
    text = "\n".join(describe(aset, model, "SCHEDOP_shutdown"))
    assert "when sched_shutdown.reason == SHUTDOWN_suspend:" in text
    assert "arg3 start_info_mfn (xen_pfn_t)" in text
    assert "x86-pv32 EDX, x86-pv64 RDX" in text
    assert "x86-hvm32 EDX, x86-hvm64 RDX, arm32 r2, arm64 x2" in text
    assert "read by toolstack" in text and "read by nobody; any value" in text
    assert 'provenance: commit bfc2e6e942 "clarify SHUTDOWN_suspend additional argument"' in text
    hc = "\n".join(describe(aset, model, "sched_op"))
    assert "x86-pv64: available" in hc and "3 argument(s) in RDI RSI RDX" in hc
    assert "index in RAX" in hc
    st = "\n".join(describe(aset, model, "struct sched_shutdown"))
    assert "layout intent: one layout on every arch" in st
