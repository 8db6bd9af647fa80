"""The extraction caches: an edit re-does only what it must, and the model is always
byte for byte what an extraction with no cache gives."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.extract_case import case_files, write_tree

from headerparse.extract import cache as extract_cache
from headerparse.extract import source as extract_source
from headerparse.extract.cache import STATS, Store
from headerparse.extract.lexer import code_skeleton, scan_comments
from headerparse.extract.pipeline import ExtractError, Options, cached_json, extract, store_json
from headerparse.extract.source import HeaderSource, read_source
from headerparse.model import model_to_json
from headerparse.tree import HeaderTree, open_tree

ARCHS = ("x86_32", "arm64")     # two ABIs are enough here, and half the parsing

NOTES = b"""\
/* notes.h: what a comment edit may and may not change. */
#ifndef __XEN_PUBLIC_NOTES_H__
#define __XEN_PUBLIC_NOTES_H__

#include "xen.h"

#define NOTE_SLASHES "/* not a comment */"   /* a comment after a string */
#define NOTE_QUOTE '"' /* a quote in a char literal */
#define NOTE_SUM (1 + \\
    2) /* after a continued macro */
/* \xc3\xa9 */ struct note_wide { uint8_t a; /* \xc3\xa9 */ uint32_t b; };
#warning "notes" /* clang reads this comment into its message */

#endif
"""


def _files() -> dict[str, bytes]:
    files = {**case_files("layout_traps"), **case_files("macros")}
    files["notes.h"] = NOTES
    return files


def _edit(files: dict[str, bytes], path: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert files[path].count(old) == 1, old
    return {**files, path: files[path].replace(old, new)}


def _json(files: dict[str, bytes], root: Path, cache: Path | None) -> str:
    tree = open_tree(str(write_tree(root, files)))
    return json.dumps(model_to_json(extract(tree, Options(archs=ARCHS), cache=cache)))


def _incremental(tmp_path: Path, before: dict[str, bytes], after: dict[str, bytes]
                 ) -> tuple[str, str]:
    """The model JSON of ``after`` with the caches that ``before`` filled, and with none."""
    cache = tmp_path / "cache"
    _json(before, tmp_path / "before", cache)
    STATS.clear()
    warm = _json(after, tmp_path / "after", cache)
    # The same directory: the model names it.
    return warm, _json(after, tmp_path / "after", None)


COMMENT_EDITS = [
    ("layout_traps.h", b"A uint64_t after a 32-bit field: 4-aligned on x86_32 only.",
     b"After a 32-bit field, a uint64_t is 4-aligned on x86_32 (and only there)."),
    ("layout_traps.h", b"/* IN */", b"/* IN: what the caller asks */"),
    ("notes.h", b"a comment after a string", b"the string is code, this is not"),
    ("notes.h", b"a quote in a char literal", b"the quote does not open a string"),
    ("notes.h", b"after a continued macro", b"after a macro on two lines"),
    ("macros.h", b"32 or 64", b"thirty-two or sixty-four"),
]


def test_comment_edits_reuse_the_facts_and_match_a_cold_extraction(tmp_path: Path) -> None:
    before = _files()
    after = before
    for path, old, new in COMMENT_EDITS:
        after = _edit(after, path, old, new)
    warm, cold = _incremental(tmp_path, before, after)
    assert warm == cold
    assert STATS["facts.hit"] == len(ARCHS) and not STATS["facts.miss"]
    assert STATS["sources.miss"] == 3 and STATS["sources.hit"] == len(after) + 1 - 3
    assert "thirty-two or sixty-four" in warm and "what the caller asks" in warm


CODE_EDITS = {
    "field type": ("layout_traps.h", b"uint32_t flags;", b"uint16_t flags;"),
    "line added inside a comment": (
        "layout_traps.h", b"/* A uint64_t after a 32-bit field:",
        b"/*\n * A uint64_t after a 32-bit field:"),
    "string that looks like a comment": (
        "notes.h", b'"/* not a comment */"', b'"/* not a comment at all */"'),
    "wider character before code": ("notes.h", b"/* \xc3\xa9 */ struct", b"/* e */ struct"),
    "comment clang reads": ("notes.h", b"clang reads this", b"clang READS this"),
    "comment opener in a comment": (
        "notes.h", b"/* a comment after a string */", b"/* a comment /* after a string */"),
}


@pytest.mark.parametrize("name", CODE_EDITS)
def test_code_edits_parse_again_and_match_a_cold_extraction(name: str, tmp_path: Path) -> None:
    before = _files()
    after = _edit(before, *CODE_EDITS[name])
    warm, cold = _incremental(tmp_path, before, after)
    assert warm == cold
    assert STATS["facts.miss"] == len(ARCHS) and not STATS["facts.hit"]


def _fill(tmp_path: Path) -> tuple[Path, str]:
    cache = tmp_path / "cache"
    return cache, _json(_files(), tmp_path / "tree", cache)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    elif how == "empty":
        path.write_bytes(b"")
    else:   # a well-formed entry whose payload is not what the reader expects
        store = Store(path.parent.parent)
        store.put(path.parent.name, path.stem, b"\x00not a pickle or marshal payload")


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty", "foreign"])
def test_a_damaged_cache_entry_is_a_miss(how: str, tmp_path: Path) -> None:
    cache, first = _fill(tmp_path)
    entries = sorted((cache / "facts").glob("*.bin")) + sorted((cache / "sources").glob("*.bin"))
    assert len(entries) == len(ARCHS) + len(_files()) + 1     # + the sched.h write_tree adds
    for entry in entries:
        _damage(entry, how)
    STATS.clear()
    assert _json(_files(), tmp_path / "tree", cache) == first
    assert STATS["facts.miss"] == len(ARCHS) and not STATS["facts.hit"]
    # ... and the damaged entries were replaced by good ones.
    STATS.clear()
    assert _json(_files(), tmp_path / "tree", cache) == first
    assert STATS["facts.hit"] == len(ARCHS) and not STATS["sources.miss"]


def test_a_damaged_json_model_is_a_miss(tmp_path: Path) -> None:
    tree = open_tree(str(write_tree(tmp_path, _files())))
    options = Options(archs=ARCHS)
    model = extract(tree, options, cache=None)
    text = json.dumps(model_to_json(model))
    store_json(model, options, tmp_path / "cache", text)
    hit = cached_json(tree, options, tmp_path / "cache")
    assert hit is not None and hit[0] == text.encode() and hit[1] == model.diagnostics
    [path] = (tmp_path / "cache" / "models").glob("*.json")
    path.write_text(text[:-10])
    assert cached_json(tree, options, tmp_path / "cache") is None
    store_json(model, options, tmp_path / "cache", text)
    path.with_suffix(".diags").write_text("{not json")
    assert cached_json(tree, options, tmp_path / "cache") is None


def test_json_models_keep_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extract_cache.LIMITS, "models", 1)
    tree = open_tree(str(write_tree(tmp_path, _files())))
    model = extract(tree, Options(archs=ARCHS), cache=None)
    text = json.dumps(model_to_json(model))
    for tools in (True, False):     # two keys, as two option sets give
        store_json(model, Options(archs=ARCHS, tools=tools), tmp_path / "cache", text)
    assert len(list((tmp_path / "cache" / "models").iterdir())) == 2    # a .json, its .diags
    assert cached_json(tree, Options(archs=ARCHS, tools=False), tmp_path / "cache")


def test_no_cache_reads_and_writes_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv("HEADERPARSE_CACHE", str(tmp_path / "default-cache"))
    STATS.clear()
    _json(_files(), tmp_path / "tree", None)
    assert not (tmp_path / "default-cache").exists()
    assert not STATS


def test_caches_keep_their_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setitem(extract_cache.LIMITS, "sources", 6)
    monkeypatch.setitem(extract_cache.LIMITS, "facts", 3)
    cache = tmp_path / "cache"
    files = _files()
    for n in range(3):
        files = _edit(files, "macros.h", b"29" if n == 0 else b"%d" % (100 + n - 1),
                      b"%d" % (100 + n))
        _json(files, tmp_path / f"tree{n}", cache)
    assert len(list((cache / "sources").glob("*.bin"))) == 6     # of 5 headers + 2 edits
    assert len(list((cache / "facts").glob("*.bin"))) == 3
    assert not (cache / "trees").exists(), "libclang reads a private copy of the tree"
    # The newest are the ones kept: the last tree is served from the cache.
    STATS.clear()
    _json(files, tmp_path / "tree2", cache)
    assert STATS["facts.hit"] == len(ARCHS) and not STATS["sources.miss"]


# ------------------------------------------------------------------ code skeleton


def _skeleton(text: str) -> str | None:
    return code_skeleton(text, scan_comments(text, "t.h"))


def test_skeleton_blanks_comment_text_and_keeps_lines_and_byte_columns() -> None:
    text = ('#define A "/* s */" /* c1 */\n'
            "int x; // c2\n"
            "/* \u00e9 */ int y; /* a comment\n  on two lines */\n"
            "char q = '\"'; /* c3 */\n"
            "#define B 1 + \\\n  2 /* c4 */\n")
    assert _skeleton(text) == ('#define A "/* s */"\n'
                               "int x;\n"
                               + " " * 9 + "int y;\n"
                               "\n"
                               "char q = '\"';\n"
                               "#define B 1 + \\\n  2\n")


def test_skeleton_equal_for_comment_edits_only() -> None:
    base = "/* one */\nstruct s { int a; /* x */\n  int b; /* y */ };\n"
    assert _skeleton(base) == _skeleton(base.replace("one", "a longer comment"))
    assert _skeleton(base) == _skeleton(base.replace("/* x */", "/* a much longer x */"))
    assert _skeleton(base) != _skeleton(base.replace("/* y */", "/* a longer y */"))  # moves }
    assert _skeleton(base) != _skeleton(base.replace("one", "one\n"))
    assert _skeleton(base) != _skeleton(base.replace("int a", "long a"))


def test_skeleton_keeps_what_clang_reads_in_comments() -> None:
    assert "why" in _skeleton('#error "no" /* why */\n')
    assert "why" in _skeleton('#warning "no" \\\n /* why */\n')
    assert "b.h" in _skeleton("#include <a.h> /* b.h */\n")
    assert "inner" in _skeleton("/* outer /* inner */\nint x;\n")
    assert "still" in _skeleton("int x; // a line comment \\\n still one\n")
    assert _skeleton('#error "no"   \n').endswith("   \n")


@pytest.mark.parametrize("text", ["int x;\r\n", "int a; \\ \nint b;\n", "/* open\nint x;\n",
                                  "int x;\0\n"])
def test_skeleton_gives_up_where_the_scanner_is_not_clang(text: str) -> None:
    assert _skeleton(text) is None


# ------------------------------------------------------------------ the real headers


@pytest.mark.slow
def test_comment_edit_on_xen_417_is_byte_identical(xen_tree_417: HeaderTree, tmp_path: Path
                                                   ) -> None:
    cache = tmp_path / "cache"
    extract(xen_tree_417, cache=cache)
    old = b"Starting ring element"
    assert xen_tree_417.files["io/blkif.h"].count(old) >= 1
    files = dict(xen_tree_417.files)
    files["io/blkif.h"] = files["io/blkif.h"].replace(old, b"The starting ring element")
    edited = HeaderTree(f"{xen_tree_417.description} (edited)", files)
    STATS.clear()
    warm = json.dumps(model_to_json(extract(edited, cache=cache)))
    assert STATS["facts.hit"] == 4 and not STATS["facts.miss"] and STATS["sources.miss"] == 1
    assert "The starting ring element" in warm
    assert warm == json.dumps(model_to_json(extract(edited, cache=None)))


def test_extract_json_copies_what_a_fresh_run_writes(tmp_path: Path) -> None:
    public = write_tree(tmp_path, _files())

    def extract_json(out: str, *flags: str, cache: str = "cache") -> bytes:
        env = dict(os.environ, HEADERPARSE_CACHE=str(tmp_path / cache))
        r = subprocess.run([sys.executable, "-m", "headerparse", "extract", "-q", *flags,
                            "--arch", ",".join(ARCHS), "--tree", str(public),
                            "--json", str(tmp_path / out)], env=env, capture_output=True)
        assert r.returncode == 0, r.stderr
        return (tmp_path / out).read_bytes()

    fresh = extract_json("fresh.json")
    assert [p.read_bytes() for p in (tmp_path / "cache" / "models").glob("*.json")] == [fresh]
    assert extract_json("copied.json") == fresh     # served from the JSON cache
    assert extract_json("uncached.json", "--no-cache", cache="untouched") == fresh
    assert not (tmp_path / "untouched").exists()
    assert extract_json("pretty.json", "--pretty").startswith(b'{\n "schema"')


def _many_headers() -> list[tuple[str, bytes]]:
    """Enough headers for the lexing to be split between two processes."""
    cases = sorted(p for p in (Path(__file__).parent / "data" / "extract").glob("*.h"))
    one = [(p.name, p.read_bytes()) for p in cases] + [("notes.h", NOTES)]
    items = [(f"copy{n}/{path}", data) for n in range(8) for path, data in one]
    assert len(items) >= extract_cache._PARALLEL_LEXING
    return items


def _fields(src: HeaderSource) -> dict[str, object]:
    """A HeaderSource as comparable data (its comment index has no equality of its own;
    its memo of answers given, which a fresh index lacks, is left out)."""
    return {**{f.name: getattr(src, f.name) for f in dataclasses.fields(src)},
            "index": {k: v for k, v in vars(src.index).items() if not k.endswith("_cache")}}


def test_lexing_split_between_processes_gives_what_one_process_does() -> None:
    items = _many_headers()
    split = extract_cache.read_sources(items)
    assert [_fields(s) for s in split] == [_fields(read_source(p, d)) for p, d in items]


def test_a_failed_lexing_child_leaves_its_headers_to_the_parent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()

    def read_here_only(path: str, data: bytes, docs: bool = True) -> HeaderSource:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return read_source(path, data, docs)

    # The cache imports the lexing where it lexes: the patch is seen there.
    monkeypatch.setattr(extract_source, "read_source", read_here_only)
    items = _many_headers()
    split = extract_cache.read_sources(items)
    assert [_fields(s) for s in split] == [_fields(read_source(p, d)) for p, d in items]


def test_sources_lexed_by_the_child_are_cached_too(tmp_path: Path) -> None:
    files = dict(_many_headers())
    store = Store(tmp_path / "cache")
    STATS.clear()
    cold = extract_cache.load_sources(files, store)
    assert STATS["sources.miss"] == len(files)
    STATS.clear()
    warm = extract_cache.load_sources(files, Store(tmp_path / "cache"))
    assert STATS["sources.hit"] == len(files) and not STATS["sources.miss"]
    assert [_fields(s) for s in warm.values()] == [_fields(s) for s in cold.values()]
    assert list(warm) == list(cold) == sorted(files)


def test_a_side_job_rides_along_with_a_split_lexing() -> None:
    items = _many_headers()
    side = extract_cache.SideJob(os.getpid, 1)
    split = extract_cache.read_sources(items, side=side)
    assert side.ran and isinstance(side.result, int)
    assert [_fields(s) for s in split] == [_fields(read_source(p, d)) for p, d in items]
    few = extract_cache.SideJob(os.getpid, 1)
    extract_cache.read_sources(items[:2], side=few)
    assert not few.ran      # an unsplit lexing leaves it to the caller


@pytest.mark.parametrize("cache", [False, True], ids=["no-cache", "cache"])
def test_a_tree_lexed_in_two_processes_is_still_checked_before_the_parse(
        tmp_path: Path, cache: bool) -> None:
    # Enough headers for the split lexing, which then checks the tree on the side.
    files = {f"copy{n}/{path}": data for n in range(8) for path, data in _files().items()}
    files.update(_files())
    files["evil.h"] = b'#include "../../../../../../../../etc/hostname"\n'
    assert len(files) >= extract_cache._PARALLEL_LEXING
    tree = open_tree(str(write_tree(tmp_path / "t", files)))
    with pytest.raises(ExtractError, match=r"evil\.h:1: #include .* leaves the header tree"):
        extract(tree, Options(archs=("x86_64",)), cache=tmp_path / "c" if cache else None)


@pytest.mark.parametrize("name", ["plain", "caf\u00e9 \"quoted\""], ids=["ascii", "escaped"])
def test_facts_naming_the_materialized_tree_are_not_kept(tmp_path: Path, name: str) -> None:
    from headerparse.extract import archfacts
    from headerparse.model import Diagnostic, Loc

    include_dir = tmp_path / name / "include"
    facts = archfacts.ArchFacts("x86_64")
    assert extract_cache.facts_entry(archfacts.encode(facts), include_dir) is not None
    facts.diagnostics.append(Diagnostic(
        "XC001", "error", Loc("a.h", 1, 1), f"in {include_dir}/public/a.h: no", archs=("x86_64",)))
    assert extract_cache.facts_entry(archfacts.encode(facts), include_dir) is None


def test_the_libclang_id_is_the_installed_wheels_version() -> None:
    from importlib import metadata

    from headerparse.extract.cache import clang_id

    assert clang_id() == metadata.version("libclang")


@pytest.mark.parametrize("payload", [b"[" * 100_000, b"not json", b'["a list"]'])
def test_a_hostile_skeletons_entry_is_as_if_there_were_none(payload: bytes, tmp_path: Path
                                                            ) -> None:
    # Whoever writes the cache may write this entry too: at worst a comment edit is
    # taken for a code edit, never an error.
    files = {"edited.h": b"/* A comment. */\n#define EDITED 1\n"}
    store = Store(tmp_path)
    extract_cache.keep_skeletons(store, {p: read_source(p, d) for p, d in files.items()})
    assert extract_cache.code_edited(files, store)[0] is False
    [entry] = (tmp_path / "skeletons").iterdir()
    store.put("skeletons", entry.stem, payload)
    edited, lexed = extract_cache.code_edited(files, store)
    assert edited is True and list(lexed) == ["edited.h"]
