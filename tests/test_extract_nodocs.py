"""``Options(docs=False)``: what the history reads is what a full extraction gives,
with no comment attached to anything, and its cache entries are its own."""

from __future__ import annotations

import json
from pathlib import Path

from support.extract_case import case_files, write_tree

from headerparse.extract.pipeline import Options, extract
from headerparse.history import summary
from headerparse.model import EMPTY_DOC, Model, model_to_json
from headerparse.tree import HeaderTree, open_tree

ARCHS = ("x86_32", "arm64")


def _tree(tmp_path: Path) -> HeaderTree:
    files = {**case_files("layout_traps"), **case_files("macros"),
             "args.h": b"/*\n * Adds one.\n * @a: what to add it to\n */\n"
                       b"#define ADD_ONE(a) ((a) + 1)\n"}
    return open_tree(str(write_tree(tmp_path / "t", files)))


def _docs(model: Model) -> list:
    return ([m.doc for m in model.macros] + [r.doc for r in model.records]
            + [f.doc for r in model.records for f in r.fields]
            + [e.doc for e in model.enums] + [t.doc for t in model.typedefs]
            + [h.doc for h in model.headers])


def test_without_docs_the_history_summary_is_the_same(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    full = extract(tree, Options(archs=ARCHS))
    bare = extract(tree, Options(archs=ARCHS, docs=False))
    assert any(d != EMPTY_DOC for d in _docs(full))      # the case has docs to leave out
    assert all(d == EMPTY_DOC for d in _docs(bare))
    assert not any(m.args for m in bare.macros) and any(m.args for m in full.macros)
    assert summary.from_model(bare, "t") == summary.from_model(full, "t")
    assert bare.options["docs"] == "false" and "docs" not in full.options


def test_runs_with_and_without_docs_do_not_share_sources_or_models(tmp_path: Path) -> None:
    tree, cache = _tree(tmp_path), tmp_path / "cache"
    expected = json.dumps(model_to_json(extract(tree, Options(archs=ARCHS))))
    extract(tree, Options(archs=ARCHS, docs=False), cache=cache)
    again = extract(tree, Options(archs=ARCHS), cache=cache)
    assert json.dumps(model_to_json(again)) == expected
    assert Options(docs=False).key() != Options().key()
