"""Annotation files: every malformed file gives file:line errors, never a traceback."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from headerparse.annotations.schema import load_files, parse_condition, parse_file

DATA = Path(__file__).parent / "data" / "annotations"
BAD = sorted((DATA / "bad").glob("*.yaml"))


@pytest.mark.parametrize("name", ["sched.yaml", "other.yaml"])
def test_good_files_parse_cleanly(name: str) -> None:
    parsed, diags = parse_file((DATA / "good" / name).read_bytes(), name)
    assert diags == []
    assert parsed is not None and parsed.hypercalls


def test_good_file_structure() -> None:
    parsed, _ = parse_file((DATA / "good" / "sched.yaml").read_bytes(), "sched.yaml")
    assert parsed is not None
    (sched,) = parsed.hypercalls
    assert sched.scope.hypercall == "sched_op"
    subs = {s.scope.subop: s for s in sched.subops}
    assert subs["SCHEDOP_mystery"].has_takes and subs["SCHEDOP_mystery"].takes is None
    (case,) = subs["SCHEDOP_shutdown"].cases
    assert str(case.scope.condition) == "sched_shutdown.reason == SHUTDOWN_suspend"
    pv, rest = case.args
    assert pv.position == 3 and pv.selector is not None and pv.selector.names == ("pv",)
    assert pv.fields["constraint"].kind == "must-be"
    assert rest.fields["read_by"] == ("nobody",)
    assert case.provenance[0].ref == "bfc2e6e942" and case.provenance[0].date == "2014-05"
    assert {p.symbol for p in parsed.pins} >= {"SHUTDOWN_suspend", "struct sched_shutdown"}


def test_missing_directory_is_an_error() -> None:
    files, diags = load_files(DATA / "no-such-dir")
    assert files == [] and [d.rule for d in diags] == ["XA100"]


def test_conditions() -> None:
    c = parse_condition("  sched_shutdown.reason==SHUTDOWN_suspend ")
    assert c is not None and (c.lhs, c.op, c.rhs) == ("sched_shutdown.reason", "==",
                                                      "SHUTDOWN_suspend")
    assert parse_condition("a.b.c != 0x10") is not None
    assert parse_condition("reason is 2") is None
    assert parse_condition("a == b == c") is None


def test_mangled_files_never_raise() -> None:
    # Truncations and byte flips of a valid file: each gives a result or a
    # diagnostic with a line, never an exception.
    good = (DATA / "good" / "sched.yaml").read_bytes()
    rng = random.Random(1234)
    samples = [good[:n] for n in range(0, len(good), 7)]
    for _ in range(300):
        b = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.choice(b" :-[]{}\t\n\"'&*!|>%@`#,0aZ\xff")
        samples.append(bytes(b))
    for data in samples:
        parsed, diags = parse_file(data, "mangled.yaml")
        assert parsed is not None or diags
        for d in diags:
            assert d.loc is not None and d.loc.file == "mangled.yaml" and d.loc.line >= 1


def test_documented_example_is_valid() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "annotations.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed, diags = parse_file(example.encode(), "example.yaml")
    assert diags == [] and parsed is not None
    assert parsed.hypercalls[0].subops[0].cases[0].args[0].fields["read_by"] == ("toolstack",)
