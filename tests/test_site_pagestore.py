"""Rendering only the pages whose inputs changed (headerparse.site.pagestore): what a page
reads is noted, an edit renders the pages that show what changed, and what is staged
after an edit is what a build from nothing stages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.models import TEXTS, synthetic_model

from headerparse.cli import site as site_cli
from headerparse.diagnostics import Loc
from headerparse.model import Comment, Model, model_from_json, model_to_json
from headerparse.site import pagestore
from headerparse.site.pagestore import (
    WHOLE_TREE,
    PageStore,
    Texts,
    masked_digest,
    noting,
    recorded,
)
from headerparse.tree import HeaderTree

FILES = {k: v.encode() for k, v in TEXTS.items()}


def _edit_comments(model: Model, file: str, old: str, new: str) -> Model:
    """``model`` with ``old`` replaced in the text of every comment of ``file``."""
    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            if {"raw", "text", "loc"} <= x.keys() and x["loc"]["file"] == file:
                return dict(x, raw=x["raw"].replace(old, new), text=x["text"].replace(old, new))
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x
    return model_from_json(walk(model_to_json(model)))


@pytest.fixture
def stage(monkeypatch, tmp_path):
    """stage(model, files, out) -> the docnames rendered, as `headerparse build` stages."""
    (tmp_path / "none").mkdir()
    monkeypatch.setenv("HEADERPARSE_ANNOTATIONS", str(tmp_path / "none"))
    rendered: list[str] = []
    fresh = PageStore.fresh

    def note_stale(self: PageStore, doc: str) -> bool:
        if not fresh(self, doc):
            rendered.append(doc)
            return False
        return True
    monkeypatch.setattr(PageStore, "fresh", note_stale)

    def run(model: Model, files: dict[str, bytes], out: Path) -> set[str]:
        rendered.clear()
        site_cli.stage(model, HeaderTree("synthetic", files), out)
        return set(rendered)
    return run


def _staged(out: Path) -> dict[str, str]:
    src = out / ".staging" / "src"
    return {p.relative_to(src).as_posix(): p.read_text("utf-8") for p in src.rglob("*")
            if p.is_file()}


def _reads(out: Path) -> dict[str, list[str]]:
    pages = json.loads((out / ".staging" / pagestore.STORE).read_text())["pages"]
    return {doc: entry["reads"] for doc, entry in pages.items()}


# ---------------------------------------------------------------- noting


def test_reads_of_comments_and_texts_are_noted_per_page():
    c = Comment("/* hi */", "hi", Loc("sched.h", 3), 3)
    texts = Texts({"a.h": "one\ntwo", "b.h": "three"})
    with noting() as outside:
        assert recorded(lambda: c.text + texts.lines("a.h")[1])() == ("hitwo", ["a.h", "sched.h"])
        assert recorded(lambda: str(texts.size("b.h")) + texts["b.h"])() == ("5three", ["b.h"])
        assert recorded(lambda: str(texts.size("a.h")))() == ("7", [])    # a size: not shown
        assert outside == set()
        assert c.raw == "/* hi */" and outside == {"sched.h"}   # outside any page
    assert "text" not in Comment.__dict__ and c.text == "hi"      # the class as it was


def test_reading_the_trees_digest_makes_a_page_unkeyable(tmp_path):
    model = synthetic_model()
    with noting():
        text, reads = recorded(lambda: model.tree_hash)()
    assert reads == [WHOLE_TREE]
    assert PageStore(tmp_path, ".hrst", FILES).key(reads) is None


def test_the_fingerprint_leaves_out_comment_text_only():
    model = synthetic_model()
    edited = _edit_comments(model, "sched.h", "Argument", "The argument")
    assert edited != model
    assert masked_digest(edited) == masked_digest(model)
    # A model read back from JSON shares no strings: the digest does not depend on that.
    assert masked_digest(model_from_json(model_to_json(model))) == masked_digest(model)
    data = model_to_json(model)
    data["macros"][0]["values"]["x86_64"] = 24
    assert masked_digest(model_from_json(data)) != masked_digest(model)


# ---------------------------------------------------------------- staging


def test_an_unchanged_build_renders_nothing(stage, tmp_path):
    model, out = synthetic_model(), tmp_path / "out"
    first = stage(model, FILES, out)
    assert "hypercalls/sched_op" in first and len(first) > 5
    staged = _staged(out)
    assert stage(model, FILES, out) == set()
    assert _staged(out) == staged


def test_a_comment_shown_on_a_hypercall_page_renders_that_page_again(stage, tmp_path):
    model, out = synthetic_model(), tmp_path / "out"
    stage(model, FILES, out)
    before = _staged(out)
    assert "sched.h" in _reads(out)["hypercalls/sched_op"]
    # The struct's doc, and SCHEDOP_shutdown's, are in sched.h and on the hypercall page.
    edited = _edit_comments(model, "sched.h", "Halt this domain", "Halt THIS domain")
    files = dict(FILES, **{"sched.h": FILES["sched.h"].replace(b"Halt this", b"Halt THIS")})
    rendered = stage(edited, files, out)
    assert {"hypercalls/sched_op", "headers/sched.h"} <= rendered
    assert not rendered & {"headers/xen.h", "headers/io/blkif.h", "types/index"}
    after = _staged(out)
    assert "Halt THIS domain" in after["hypercalls/sched_op.hrst"]
    assert after["hypercalls/sched_op.hrst"] != before["hypercalls/sched_op.hrst"]
    # What the edit build staged is what a build from nothing stages.
    stage(edited, files, tmp_path / "cold")
    assert after == _staged(tmp_path / "cold")


def test_a_change_beyond_comments_renders_every_page(stage, tmp_path):
    model, out = synthetic_model(), tmp_path / "out"
    everything = stage(model, FILES, out)
    data = model_to_json(model)
    data["macros"][5]["values"]["x86_64"] = 12          # BLKIF_MAX_SEGMENTS, in io/blkif.h
    assert stage(model_from_json(data), FILES, out) == everything


def test_new_code_renders_every_page(stage, tmp_path, monkeypatch):
    model, out = synthetic_model(), tmp_path / "out"
    everything = stage(model, FILES, out)
    monkeypatch.setattr(pagestore, "code_key", lambda: "other code")
    assert stage(model, FILES, out) == everything


def test_a_staged_page_changed_by_hand_or_a_damaged_store_is_rendered_again(stage, tmp_path):
    model, out = synthetic_model(), tmp_path / "out"
    everything = stage(model, FILES, out)
    page = out / ".staging" / "src" / "hypercalls" / "sched_op.hrst"
    text = page.read_text()
    page.write_text(text + "\nhand-made\n")
    assert stage(model, FILES, out) == {"hypercalls/sched_op"}
    assert page.read_text() == text
    page.unlink()
    assert stage(model, FILES, out) == {"hypercalls/sched_op"}
    store = out / ".staging" / pagestore.STORE
    store.write_text("{not json")
    assert stage(model, FILES, out) == everything
    store.write_text(json.dumps({"format": 1, "pages": {
        "hypercalls/sched_op": {"key": None, "reads": [["sched.h"]], "stat": "x"}}}))
    assert stage(model, FILES, out) == everything


def test_the_pages_read_no_global_the_fingerprint_does_not_cover():
    import jinja2.defaults

    from headerparse.site.render import environment

    env = environment()
    known = set(jinja2.defaults.DEFAULT_NAMESPACE) | pagestore.GLOBALS
    assert set(env.globals) <= known
    env.globals["something_new"] = 1
    with pytest.raises(RuntimeError, match="something_new"):
        pagestore.check_globals(env)


# ---------------------------------------------------------------- Sphinx's global pages


def _html(out: Path) -> dict[str, bytes]:
    html = out / "html"
    return {p.relative_to(html).as_posix(): p.read_bytes() for p in html.rglob("*")
            if p.is_file()}


def test_the_index_and_inventory_are_kept_only_while_no_declaration_changed(stage, tmp_path):
    import zlib

    from headerparse.site.sphinxrun import sphinx

    def build(model: Model, files: dict[str, bytes], out: Path) -> dict[str, bytes]:
        stage(model, files, out)
        assert sphinx(out, jobs="1", strict=True, quiet=True)
        return _html(out)

    def inventory(html: dict[str, bytes]) -> str:
        return zlib.decompress(html["objects.inv"].split(b"zlib.\n", 1)[1]).decode()

    model, out = synthetic_model(), tmp_path / "out"
    first = build(model, FILES, out)
    kept = {p: (out / "html" / p).stat().st_mtime_ns for p in ("genindex.html", "objects.inv")}
    # A comment: the pages showing it change, the index and the inventory do not.
    edited = _edit_comments(model, "sched.h", "Halt this domain", "Halt THIS domain")
    files = dict(FILES, **{"sched.h": FILES["sched.h"].replace(b"Halt this", b"Halt THIS")})
    second = build(edited, files, out)
    assert second["hypercalls/sched_op.html"] != first["hypercalls/sched_op.html"]
    assert {p: (out / "html" / p).stat().st_mtime_ns for p in kept} == kept
    assert second == build(edited, files, tmp_path / "cold1")
    # A declaration gone (and a word of the search index with it): both are written again.
    assert "BLKIF_MAX_SEGMENTS" in inventory(second)
    assert b"BLKIF_MAX_SEGMENTS" in second["genindex.html"]
    data = model_to_json(edited)
    data["macros"] = [m for m in data["macros"] if m["name"] != "BLKIF_MAX_SEGMENTS"]
    third = build(model_from_json(data), files, out)
    assert "BLKIF_MAX_SEGMENTS" not in inventory(third)
    assert b"BLKIF_MAX_SEGMENTS" not in third["genindex.html"]
    assert third == build(model_from_json(data), files, tmp_path / "cold2")


# ---------------------------------------------------------------- the facts


def test_the_facts_are_computed_again_only_when_a_header_they_read_changed(
        stage, tmp_path, monkeypatch):
    import pickle

    from headerparse.site import facts as site_facts_module

    calls: list[int] = []
    real = site_facts_module.site_facts
    monkeypatch.setattr(site_facts_module, "site_facts",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    model, out = synthetic_model(), tmp_path / "out"
    stage(model, FILES, out)
    assert len(calls) == 1
    _fmt, reads, _key, _facts = pickle.loads((out / ".staging" / pagestore.FACTS).read_bytes())
    assert "sched.h" in reads and "io/blkif.h" not in reads
    # A comment of a header the facts do not read: the last build's facts.
    blkif = _edit_comments(model, "io/blkif.h", "A ring request", "A ring's request")
    files = dict(FILES, **{"io/blkif.h": FILES["io/blkif.h"] + b"/* more */\n"})
    stage(blkif, files, out)
    assert len(calls) == 1
    # One they read: computed again, and the site is what a build from nothing makes.
    sched = _edit_comments(blkif, "sched.h", "Halt this domain", "Halt THIS domain")
    files["sched.h"] = FILES["sched.h"].replace(b"Halt this", b"Halt THIS")
    stage(sched, files, out)
    assert len(calls) == 2
    stage(sched, files, tmp_path / "cold")
    assert _staged(out) == _staged(tmp_path / "cold")
    # A damaged file is computed again, not trusted.
    (out / ".staging" / pagestore.FACTS).write_bytes(b"not a pickle")
    stage(sched, files, out)
    assert len(calls) == 4          # the cold build's, and this one
