"""The golden suites: input files beside their expected output, one harness for all.

A suite is a directory of cases (``<case><suffix>`` inputs) and, beside each, the
expected output its renderer gives (``<case><expected>``). ``tests/test_golden.py``
checks every case of every suite; ``python3 tests/regen.py [SUITE[/CASE]...]``
rewrites the expected files from what the code does now. Regenerate only for an
intended change of behaviour or a new case, and review the diff like code: the
expected files are the specification. A generated file (``GENERATED``, e.g.
``docs/model-json.md``) is a golden of its own: the file is what the code renders.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class Suite:
    name: str
    directory: Path
    suffix: str                          # of the inputs
    expected: str                        # suffix of the expected outputs
    render: Callable[[Path], str]        # an input -> the text its expected file holds
    skip: tuple[str, ...] = ()           # inputs that are not cases (shared includes)

    def cases(self) -> list[str]:
        return sorted(p.name.removesuffix(self.suffix)
                      for p in self.directory.glob(f"*{self.suffix}") if p.name not in self.skip)

    def input(self, case: str) -> Path:
        return self.directory / f"{case}{self.suffix}"

    def expected_file(self, case: str) -> Path:
        return self.directory / f"{case}{self.expected}"

    def compare(self, case: str) -> tuple[Any, Any]:
        """(expected, actual) in a form where equality means the case passes."""
        want = self.expected_file(case).read_text(encoding="utf-8")
        got = self.render(self.input(case))
        if self.expected.endswith(".json"):
            return json.loads(want), json.loads(got)
        return want.splitlines(), got.splitlines()


def _extract(path: Path) -> str:
    from support.extract_case import project, run_case

    name = path.name.removesuffix(".h")
    with tempfile.TemporaryDirectory() as tmp:
        data = project(run_case(name, Path(tmp)), name)
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _markup(path: Path) -> str:
    from support.markup_case import render_case

    return json.dumps(render_case(path), indent=2, ensure_ascii=False) + "\n"


def _lines(items: list[str]) -> str:
    return "".join(f"{line}\n" for line in items)


def _schema(path: Path) -> str:
    """A malformed annotation file: its diagnostics, each with file:line (XA1xx)."""
    from headerparse.annotations.schema import parse_file

    parsed, diags = parse_file(path.read_bytes(), path.name)
    assert parsed is None, f"{path.name} is meant to be malformed"
    assert all(d.loc is not None and d.loc.line >= 1 and d.rule.startswith("XA1")
               for d in diags)
    return _lines([d.render() for d in diags])


def _model_args(path: Path) -> dict[str, Any]:
    # "# model: key=value" on the first line picks a variant of the synthetic model.
    first = path.read_text(encoding="utf-8").splitlines()[0]
    if not first.startswith("# model:"):
        return {}
    key, _, value = first.removeprefix("# model:").strip().partition("=")
    if key == "drop":
        return {"drop": tuple(value.split(","))}
    return {key: int(value) if value.isdigit() else value}


def _bind(path: Path) -> str:
    """A well-formed annotation file bound to the synthetic model: its drift (XA2xx)."""
    from headerparse.annotations.bind import bind
    from headerparse.annotations.schema import parse_file
    from support.models import make_model

    parsed, diags = parse_file(path.read_bytes(), path.name)
    assert parsed is not None, [d.render() for d in diags]
    _, diags = bind([parsed], make_model(**_model_args(path)), None, "hypercall-defs.c")
    assert all(d.rule.startswith("XA2") for d in diags)
    return _lines([d.render() for d in diags])


SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("extract", DATA / "extract", ".h", ".expected.json", _extract, skip=("xen.h",)),
    Suite("markup", DATA / "markup", ".h", ".expected.json", _markup),
    Suite("annotations-schema", DATA / "annotations" / "bad", ".yaml", ".expected", _schema),
    Suite("annotations-bind", DATA / "annotations" / "bind", ".yaml", ".expected", _bind),
)}


@dataclass(frozen=True)
class Generated:
    """A file of the repository that the code renders whole: a golden of one case."""

    name: str
    path: Path
    render: Callable[[], str]

    def compare(self) -> tuple[list[str], list[str]]:
        return self.path.read_text(encoding="utf-8").splitlines(), self.render().splitlines()


def _model_json() -> str:
    from support.model_doc import render

    return render()


GENERATED: dict[str, Generated] = {g.name: g for g in (
    Generated("model-json", DATA.parent.parent / "docs" / "model-json.md", _model_json),
)}


def regen(selectors: list[str]) -> list[Path]:
    """Rewrite the expected files of ``SUITE``, ``SUITE/CASE`` or generated file (all when none)."""
    written = []
    for sel in selectors or [*SUITES, *GENERATED]:
        if sel in GENERATED:
            gen = GENERATED[sel]
            gen.path.write_text(gen.render(), encoding="utf-8")
            written.append(gen.path)
            continue
        name, _, case = sel.partition("/")
        suite = SUITES[name]
        for c in [case] if case else suite.cases():
            out = suite.expected_file(c)
            out.write_text(suite.render(suite.input(c)), encoding="utf-8")
            written.append(out)
    return written
