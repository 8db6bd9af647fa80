"""Each attachment rule of headerparse/extract/attach.py on a case cut down from the
real header it was read off (tests/data/attach/rules.h), against the descriptions and
headings written beside it (rules.expected.tsv)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.extract_case import DATA as EXTRACT_DATA
from support.extract_case import write_tree
from test_attach import _matches, _norm

from headerparse.extract import Options, extract
from headerparse.model import Model
from headerparse.tree import open_tree

HERE = Path(__file__).parent / "data" / "attach"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Model:
    root = tmp_path_factory.mktemp("rules")
    files = {"xen.h": (EXTRACT_DATA / "xen.h").read_bytes(),
             "rules.h": (HERE / "rules.h").read_bytes()}
    return extract(open_tree(str(write_tree(root, files))), Options(), cache=root / "cache")


def _expected() -> list[list[str]]:
    rows = (HERE / "rules.expected.tsv").read_text(encoding="utf-8").splitlines()
    return [r.split("\t") for r in rows if r.strip() and not r.startswith("#")]


def _found(model: Model, kind: str, symbol: str):
    if kind == "macro":
        hits = [m for m in model.macros_named(symbol) if m.loc.file == "rules.h"]
        return (hits[0].doc, None) if hits else None
    key, _, path = symbol.partition(".")
    for r in model.records_named(key):
        for f in r.fields:
            if f.path == path:
                return f.doc, f.heading
    return None


@pytest.mark.parametrize(("kind", "symbol", "description", "heading"), _expected(),
                         ids=[r[1] for r in _expected()])
def test_rule(model: Model, kind: str, symbol: str, description: str, heading: str) -> None:
    found = _found(model, kind, symbol)
    assert found is not None, f"{symbol} not extracted"
    doc, head = found
    said = [_norm(c.text) for c in (doc.before, doc.trailing) if c is not None]
    if description == "-":
        assert not doc, f"{symbol} described by {said}"
    else:
        assert any(_matches(description, c) for c in (doc.before, doc.trailing)), said
    assert _matches(heading, head), f"{symbol} headed by {head and _norm(head.text)!r}"
