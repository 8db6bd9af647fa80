"""A header's source cache entry: what is shared is written once and read back
shared, the text is left to the header's bytes, and a reference that points nowhere
makes the entry a miss."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from headerparse.extract import cache, plaindata
from headerparse.extract.cache import STATS, Store, load_sources
from headerparse.extract.source import HeaderSource, read_source

HEADER = b"""/* Set when the op may block. */
#define XEN_OP_a 1
#define XEN_OP_b 2   /* the b flag */
#define XEN_OP_c 4
"""


def _values(src: HeaderSource) -> list[object]:
    return [getattr(src, f.name) for f in dataclasses.fields(src) if f.name != "index"]


def test_a_comment_shared_by_the_lexer_is_written_once_and_read_back_shared() -> None:
    src = read_source("public/op.h", HEADER)
    heading = src.comments[0].comment
    # The run's heading documents each define of it: the very comment of the list.
    docs = [d[0].before for d in src.macro_docs if d is not None]
    assert len(docs) == 3 and all(c is heading for c in docs)
    blob = plaindata.dumps(src)
    assert blob.count(b'"Set when the op may block."') == 1
    back = plaindata.loads(blob)
    assert _values(back) == _values(src)
    shared = back.comments[0].comment
    assert all(d[0].before is shared for d in back.macro_docs if d is not None)


def test_every_header_of_a_fuzzed_text_reads_back_equal() -> None:
    text = HEADER + b"#define F(x) (x) /* \\\n spliced */\n/* ` enum op { */\n/* ` } */\n"
    src = read_source("public/f.h", text)
    assert _values(plaindata.loads(plaindata.dumps(src))) == _values(src)


@pytest.mark.parametrize("ref", [99, -1, True, 1.5, "0", None])
def test_a_reference_to_nothing_written_is_not_an_entry(ref: object) -> None:
    data = json.loads(plaindata.dumps(read_source("public/op.h", HEADER)))
    data["v"][2][0]["v"][0] = {"r": ref}    # the first comment's Comment
    with pytest.raises(ValueError, match="not a cache entry"):
        plaindata.loads(json.dumps(data).encode())


def test_an_entry_leaves_the_text_to_the_bytes_it_is_keyed_by(tmp_path: Path) -> None:
    files = {"public/op.h": HEADER, "public/latin1.h": b"/* caf\xe9 */\n#define X 1\n"}
    cold = load_sources(files, Store(tmp_path))
    entries = sorted((tmp_path / "sources").glob("*.bin"))
    assert len(entries) == 2
    assert not any(b"#define XEN_OP_a" in e.read_bytes() for e in entries)
    cache._SOURCES.clear()
    STATS.clear()
    warm = load_sources(files, Store(tmp_path))
    assert STATS["sources.hit"] == 2 and not STATS["sources.miss"]
    assert {p: _values(s) for p, s in warm.items()} == {p: _values(s) for p, s in cold.items()}
    assert warm["public/latin1.h"].text == "/* caf\ufffd */\n#define X 1\n"


@pytest.mark.parametrize("split", [False, True])
def test_entries_left_for_later_are_written_when_the_caller_says(tmp_path: Path,
                                                                  split: bool) -> None:
    files = {f"public/h{i}.h": HEADER.replace(b"XEN_OP", f"XEN_OP{i}".encode())
             for i in range(30)}    # enough to split the lexing between two processes
    later: list = []
    first = load_sources(files, Store(tmp_path), split=split, later=later)
    if split:   # each process keeps the entries of what it lexed, there and then
        assert not later
    else:       # one job a header, for the caller to run between other things
        assert len(later) == len(files) and not list(tmp_path.glob("sources/*.bin"))
        for job in later:
            job()
    assert len(list(tmp_path.glob("sources/*.bin"))) == len(files)
    cache._SOURCES.clear()
    STATS.clear()
    again: list = []
    warm = load_sources(files, Store(tmp_path), split=split, later=again)
    assert STATS["sources.hit"] == len(files) and not again     # nothing lexed, nothing left
    assert {p: _values(s) for p, s in warm.items()} == {p: _values(s) for p, s in first.items()}
