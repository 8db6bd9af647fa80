"""The model's JSON with layouts whose text a parser wrote (``known``) is the JSON
without them, byte for byte, however many are known and whatever the comments say."""

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


@pytest.mark.parametrize("share", [1, 2, 3], ids=["all", "half", "a third"])
def test_known_layouts_change_no_byte(model, share: int) -> None:
    layouts = [lay for r in model.records for lay in r.layouts.values()]
    assert len(layouts) > 10
    known = {id(lay): value_json_text(lay) for lay in layouts[::share]}
    parts = model_json_parts(model, known=known)
    assert len(parts) == 2 * len(known) + 1
    assert "".join(parts) == model_json_text(model)


def test_extract_json_is_the_models_text(tmp_path: Path) -> None:
    files = {**case_files("layout_traps"), "marked.h": MARKERS}
    tree = open_tree(str(write_tree(tmp_path, files)))
    model, parts = extract_json(tree, Options(archs=("x86_32", "x86_64", "arm64")))
    assert "".join(parts) == model_json_text(model)
    assert len(parts) > 1       # the parsers' layouts were used
