"""Results shared between the merges of one process (a review's parent and patched
tree): what comes out is what a process with nothing shared gives."""

from __future__ import annotations

import json
from pathlib import Path

from support.extract_case import case_files, write_tree

from headerparse.extract import cache as extract_cache
from headerparse.extract import merge
from headerparse.extract.pipeline import Options, extract
from headerparse.extract.reuse import Memo
from headerparse.model import model_to_json
from headerparse.tree import open_tree

ARCHS = ("x86_32", "arm64")


def _forget() -> None:
    merge.FIELDS.clear()
    extract_cache._SOURCES.clear()
    extract_cache._FACTS.clear()


def _json(files: dict[str, bytes], root: Path, cache: Path | None) -> str:
    tree = open_tree(str(write_tree(root, files)))
    return json.dumps(model_to_json(extract(tree, Options(archs=ARCHS), cache=cache)))


def _files() -> dict[str, bytes]:
    return {**case_files("layout_traps"), **case_files("macros")}


def _edit(files: dict[str, bytes], path: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert files[path].count(old) == 1, old
    return {**files, path: files[path].replace(old, new)}


EDITS = {
    # A member's own comment: its record's fields must not come from the first merge.
    "member comment": ("layout_traps.h", b"/* IN */", b"/* IN: what the caller asks */"),
    "field type": ("layout_traps.h", b"uint32_t flags;", b"uint16_t flags;"),
}


def _second_merge(tmp_path: Path, name: str, cache: Path | None) -> tuple[str, str, int]:
    """``after``'s JSON merged after ``before``'s in one process, and with nothing shared."""
    before = _files()
    after = _edit(before, *EDITS[name])
    _forget()
    _json(before, tmp_path / "before", cache)
    hits = merge.FIELDS.hits
    shared = _json(after, tmp_path / "after", cache)
    hits = merge.FIELDS.hits - hits
    _forget()
    alone = _json(after, tmp_path / "after", None)
    return shared, alone, hits


def test_a_second_merge_gives_what_a_merge_alone_does(tmp_path: Path) -> None:
    for name in EDITS:
        for cache in (None, tmp_path / f"cache-{len(name)}"):
            shared, alone, hits = _second_merge(tmp_path / name.replace(" ", "-"), name, cache)
            assert shared == alone, (name, cache)
            assert hits > 0, (name, cache)      # the untouched records were reused
            assert ("what the caller asks" in shared) == (name == "member comment")


def test_unchanged_cache_entries_are_decoded_once(tmp_path: Path) -> None:
    _forget()
    cache = tmp_path / "cache"
    files = _files()
    first = _json(files, tmp_path / "a", cache)
    store = extract_cache.Store(cache)
    blobs = [store.get("facts", p.stem) for p in sorted((cache / "facts").iterdir())]
    assert len(blobs) == len(ARCHS) and None not in blobs
    facts = [extract_cache._unmarshal_facts(b) for b in blobs]
    # Equal bytes read again (another object) give the objects decoded before.
    assert all(f is not None and f is extract_cache._unmarshal_facts(bytes(bytearray(b)))
               for f, b in zip(facts, blobs, strict=True))
    # Other bytes are decoded afresh: a damaged entry is no entry.
    assert extract_cache._unmarshal_facts(blobs[0][:-1]) is None
    # The same headers in another directory: served from the shared objects, and what a
    # process with nothing shared gives.
    extract_cache.STATS.clear()
    shared = _json(files, tmp_path / "b", cache)
    assert extract_cache.STATS["facts.hit"] == len(ARCHS)
    _forget()
    assert shared == _json(files, tmp_path / "b", None) != first


def test_a_memo_forgets_all_at_its_limit() -> None:
    memo: Memo[int] = Memo(2)
    made: list[str] = []

    def make(k: str) -> int:
        made.append(k)
        return len(made)

    assert [memo.get(k, lambda k=k: make(k)) for k in ("a", "b", "a")] == [1, 2, 1]
    assert memo.hits == 1
    memo.get("c", lambda: make("c"))        # full: everything before is forgotten
    assert memo.get("a", lambda: make("a")) == 4 and made == ["a", "b", "c", "a"]
