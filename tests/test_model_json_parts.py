"""The model's JSON with values whose text was written ahead (``known``: layouts by the
parsers, member lists and macro docs while they were awaited) is the JSON without
them, byte for byte, however many are known and whatever the comments say."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.extract_case import case_files, write_tree

from headerparse.extract.pipeline import Options, extract, extract_json
from headerparse.model import model_json_parts, model_json_text, value_json_text
from headerparse.tree import open_tree

# A comment that spells what a marker looks like in the JSON (its token is random).
MARKERS = b'/* "\\u0000" \\u00000 "\\u00001" \\0 */\nstruct marked { int a; };\n'


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    files = {**case_files("layout_traps"), **case_files("macros"), "marked.h": MARKERS}
    root = write_tree(tmp_path_factory.mktemp("t"), files)
    return extract(open_tree(str(root)), Options(archs=("x86_32", "arm64")))


def _values(model, kind: str) -> list[object]:
    if kind == "layouts":
        return [lay for r in model.records for lay in r.layouts.values()]
    if kind == "fields":
        return [r.fields for r in model.records]
    return list({id(m.doc): m.doc for m in model.macros}.values())     # docs, once each


@pytest.mark.parametrize("kinds", [("layouts",), ("fields", "docs"), ("layouts", "fields", "docs")])
@pytest.mark.parametrize("share", [1, 2, 3], ids=["all", "half", "a third"])
def test_known_values_change_no_byte(model, share: int, kinds: tuple[str, ...]) -> None:
    values = [v for kind in kinds for v in _values(model, kind)[::share]]
    assert len(values) >= 5
    known = {id(v): value_json_text(v) for v in values}
    parts = model_json_parts(model, known=known)
    # A doc shared by several macros is put in at each of them.
    uses = sum(1 for r in model.records for v in (r.fields, *r.layouts.values()) if id(v) in known)
    uses += sum(1 for m in model.macros if id(m.doc) in known)
    assert len(parts) == 2 * uses + 1
    assert "".join(parts) == model_json_text(model)


def test_extract_json_is_the_models_text(tmp_path: Path) -> None:
    files = {**case_files("layout_traps"), "marked.h": MARKERS}
    tree = open_tree(str(write_tree(tmp_path, files)))
    model, parts = extract_json(tree, Options(archs=("x86_32", "x86_64", "arm64")))
    assert "".join(parts) == model_json_text(model)
    # The parsers' layouts were used, and the member lists written while they were awaited.
    assert len(parts) > 2 * sum(len(r.layouts) for r in model.records) + 1
