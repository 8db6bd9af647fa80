"""headerparse's layouts and macro values against GCC's, on real Xen trees, on every arch.

Our numbers come from libclang; the oracle's from GCC cross compilers (see
tests/oracle/gcc.py), so a disagreement is a bug in one of them or a real
compiler difference, never the same bug twice.  Our side is run through the
documented command line (``layout --format json``, ``extract --json``), which
is the contract other tools rely on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.oracle import gcc
except ImportError:  # tests/ itself is on sys.path when it is not a package
    from oracle import gcc  # type: ignore[no-redef]

TREES = ("xen_tree_417", "xen_tree_414", "xen_tree_420")
ARCHES = [
    pytest.param(a, marks=pytest.mark.skipif(gcc.compiler_for(a) is None,
                                             reason=f"no GCC for {a}"))
    for a in gcc.ARCHES
]
MAX_LINES = 200  # of a failure message; the count says how many more there are


@dataclass
class Subject:
    """One tree: where GCC finds it, our model of it, and answers cached per arch."""

    name: str
    include_dir: Path
    model: dict[str, Any]
    tmp: Path
    cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def parsed_headers(self, arch: str) -> list[str]:
        return [h["path"] for h in self.model["headers"] if h["status"].get(arch) == "parsed"]


def headerparse(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "headerparse", *args],
                          capture_output=True, text=True, timeout=1800)
    # Exit 1 means "the input has findings"; the output is still complete.
    if done.returncode not in (0, 1):
        pytest.fail(f"headerparse {' '.join(args)} exited {done.returncode}:\n{done.stderr}",
                    pytrace=False)
    return done


@pytest.fixture(scope="module", params=TREES)
def subject(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Subject:
    tree = request.getfixturevalue(request.param)
    include_dir = tree.materialize()
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "model.json"
    headerparse("extract", "--json", str(out), "--tree", str(include_dir / "public"),
                "--arch", ",".join(gcc.ARCHES), "-q")
    return Subject(request.param, include_dir, json.loads(out.read_text()), tmp)


def our_layouts(subject: Subject, arch: str) -> dict[str, Any]:
    key = ("ours", arch)
    if key not in subject.cache:
        done = headerparse("layout", "--all", "--arch", arch, "--format", "json",
                           "--tree", str(subject.include_dir / "public"), "-q")
        doc = json.loads(done.stdout)
        assert doc["arch"] == arch
        subject.cache[key] = doc["types"]
    return subject.cache[key]


def gcc_layouts(subject: Subject, arch: str) -> tuple[dict[str, dict], gcc.Report]:
    key = ("gcc-layouts", arch)
    if key not in subject.cache:
        types = {k: [m["path"] for m in t["members"] if m["bit_size"] is None]
                 for k, t in our_layouts(subject, arch).items()}
        report = gcc.Report()
        got = gcc.gcc_layouts(subject.include_dir, arch, subject.parsed_headers(arch), types,
                              report=report)
        subject.cache[key] = (got, report)
    return subject.cache[key]


def checked_macros(model: dict[str, Any], arch: str) -> list[dict[str, Any]]:
    """Object-like macros active on ``arch`` whose name is defined only once there.

    A name defined at two places has no single value for us to be held to.
    """
    active = [m for m in model["macros"] if m["params"] is None and arch in m["archs"]]
    count = Counter(m["name"] for m in active)
    return [m for m in active if count[m["name"]] == 1]


def gcc_macros(subject: Subject, arch: str) -> tuple[dict[str, int], gcc.Report]:
    key = ("gcc-macros", arch)
    if key not in subject.cache:
        names = [m["name"] for m in checked_macros(subject.model, arch)]
        report = gcc.Report()
        got = gcc.gcc_macro_values(subject.include_dir, arch, subject.parsed_headers(arch),
                                   names, report=report)
        subject.cache[key] = (got, report)
    return subject.cache[key]


# ---------------------------------------------------------------- comparisons


def _why(report: gcc.Report, key: str) -> str:
    return f"absent ({report.failed[key]})" if key in report.failed else "absent"


def member_mismatches(arch: str, key: str, members: list[dict[str, Any]],
                      theirs: dict[str, Any], report: gcc.Report) -> list[str]:
    out = []
    for m in members:
        if m["bit_size"] is not None:
            continue  # offsetof cannot take bitfields, so GCC cannot be asked
        path, where = m["path"], f"{key} {m['path']}"
        offset = theirs["offsets"].get(path, _why(report, where))
        if offset != m["offset"]:
            out.append(f"{arch} {key} {path}: ours={m['offset']} gcc={offset}")
        size = theirs["sizes"].get(path)
        if size is None and m["size"] == 0 and m["type"].endswith("[]"):
            continue  # a flexible array: sizeof refuses it, we say 0
        if size != m["size"]:
            size = _why(report, where) if size is None else size
            out.append(f"{arch} {key} sizeof({path}): ours={m['size']} gcc={size}")
    return out


def layout_mismatches(arch: str, ours: dict[str, Any], theirs: dict[str, dict],
                      report: gcc.Report) -> list[str]:
    """``arch key path: ours=X gcc=Y`` for every number we and GCC disagree on."""
    out = []
    for key, t in sorted(ours.items()):
        g = theirs.get(key)
        if g is None:
            out.append(f"{arch} {key} sizeof: ours={t['size']} gcc={_why(report, key)} "
                       f"[{t['file']}:{t['line']}]")
            continue
        for what, c in (("size", "sizeof"), ("align", "_Alignof")):
            if t[what] != g[what]:
                out.append(f"{arch} {key} {c}: ours={t[what]} gcc={g[what]}")
        out += member_mismatches(arch, key, t["members"], g, report)
    return out


def macro_findings(arch: str, macros: list[dict[str, Any]], theirs: dict[str, int],
                   report: gcc.Report) -> tuple[list[str], list[str]]:
    """(values that differ, values GCC computes that we lack), one line each."""
    wrong, missing = [], []
    for m in macros:
        name, ours = m["name"], m["values"].get(arch)
        if ours is not None and theirs.get(name) != ours:
            gv = theirs.get(name, _why(report, name))
            wrong.append(f"{arch} {name}: ours={ours} gcc={gv} [{m['loc']['file']}]")
        elif ours is None and name in theirs:
            why = m.get("why_not", {}).get(arch, "no reason given")
            missing.append(f"{arch} {name}: ours=absent ({why}) gcc={theirs[name]} "
                           f"[{m['loc']['file']}]")
    return wrong, missing


def fail_with(title: str, lines: list[str]) -> None:
    if not lines:
        return
    shown = lines[:MAX_LINES]
    more = [f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else []
    pytest.fail("\n".join([f"{title}: {len(lines)}", *shown, *more]), pytrace=False)


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_parsed_headers_compile_together_with_gcc(subject: Subject, arch: str) -> None:
    headers = subject.parsed_headers(arch)
    assert headers, f"no header is parsed on {arch}"
    _, report = gcc_layouts(subject, arch)
    lines = [f"{arch} {h}: {msg}" for h, msg in sorted(report.broken_headers.items())]
    if len(report.units) > 1:
        lines += [f"{arch} needs separate translation units for: {u}" for u in report.units[1:]]
    fail_with(f"{subject.name}: headers we parse that GCC does not compile in one unit", lines)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_layouts_match_gcc(subject: Subject, arch: str) -> None:
    ours = our_layouts(subject, arch)
    assert len(ours) > 300, f"only {len(ours)} types on {arch}: the comparison would be vacuous"
    theirs, report = gcc_layouts(subject, arch)
    fail_with(f"{subject.name}: layouts that differ from GCC's",
              layout_mismatches(arch, ours, theirs, report))


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_macro_values_match_gcc(subject: Subject, arch: str) -> None:
    macros = checked_macros(subject.model, arch)
    theirs, report = gcc_macros(subject, arch)
    assert len(theirs) > 1000, f"GCC computed only {len(theirs)} macros on {arch}"
    wrong, _ = macro_findings(arch, macros, theirs, report)
    fail_with(f"{subject.name}: macro values that differ from GCC's", wrong)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHES)
def test_every_integer_macro_has_a_value(subject: Subject, arch: str) -> None:
    macros = checked_macros(subject.model, arch)
    theirs, report = gcc_macros(subject, arch)
    _, missing = macro_findings(arch, macros, theirs, report)
    fail_with(f"{subject.name}: integer macros GCC evaluates that we give no value", missing)


# ---------------------------------------------------------------- the comparisons themselves


def test_mismatches_are_listed_one_per_line() -> None:
    report = gcc.Report(failed={"struct gone": "incomplete type",
                                "struct s b": "no member named 'b'"})
    member = {"bit_offset": None, "bit_size": None, "type": "uint32_t", "size": 4}
    ours = {
        "struct s": {"size": 8, "align": 4, "file": "x.h", "line": 1, "members": [
            {**member, "path": "a", "offset": 0},
            {**member, "path": "b", "offset": 4},
            {**member, "path": "bits", "offset": 0, "bit_offset": 0, "bit_size": 3},
            {**member, "path": "flex", "offset": 8, "size": 0, "type": "uint8_t[]"},
        ]},
        "struct gone": {"size": 4, "align": 4, "file": "x.h", "line": 9, "members": []},
    }
    theirs = {"struct s": {"size": 12, "align": 4, "offsets": {"a": 4, "flex": 8},
                           "sizes": {"a": 4}}}
    assert layout_mismatches("x86_32", ours, theirs, report) == [
        "x86_32 struct gone sizeof: ours=4 gcc=absent (incomplete type) [x.h:9]",
        "x86_32 struct s sizeof: ours=8 gcc=12",
        "x86_32 struct s a: ours=0 gcc=4",
        "x86_32 struct s b: ours=4 gcc=absent (no member named 'b')",
        "x86_32 struct s sizeof(b): ours=4 gcc=absent (no member named 'b')",
    ]
    loc = {"file": "x.h"}
    macros = [{"name": "A", "values": {"arm64": 1}, "loc": loc},
              {"name": "B", "values": {}, "why_not": {"arm64": "a string"}, "loc": loc},
              {"name": "C", "values": {"arm64": -1}, "loc": loc}]
    assert macro_findings("arm64", macros, {"A": 2, "B": 3, "C": -1}, gcc.Report()) == (
        ["arm64 A: ours=1 gcc=2 [x.h]"], ["arm64 B: ours=absent (a string) gcc=3 [x.h]"])
