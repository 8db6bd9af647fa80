"""A cold extraction parses while it lexes, on inputs guessed from the raw headers:
the guess agrees with the lexer on real trees, and a wrong one changes nothing."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from support.extract_case import case_files, write_tree

from headerparse.extract import overlap, pipeline
from headerparse.extract.overlap import Inputs, quick_inputs
from headerparse.extract.pipeline import ExtractError, Options, extract
from headerparse.extract.source import read_source
from headerparse.model import model_to_json
from headerparse.parallel import Claims, Streamer, WorkerFailed, fork_map
from headerparse.tree import HeaderTree, open_tree

ARCHS = ("x86_32", "arm64")

COMPAT = b"""\
#ifndef __XEN_PUBLIC_XEN_COMPAT_H__
#define __XEN_PUBLIC_XEN_COMPAT_H__
#define __XEN_LATEST_INTERFACE_VERSION__ 0x00041000
#endif
"""

TOOLS = b"""\
#if !defined(__XEN__) && !defined(__XEN_TOOLS__)
#error "domctl operations are intended for use by node control tools only"
#endif
#define TOOLS_OP 7
struct tools_op { uint32_t cmd; };
"""


def _lexed(files: dict[str, bytes], options: Options) -> Inputs:
    """The inputs as the pipeline takes them from the lexer."""
    sources = {p: read_source(p, d) for p, d in files.items()}
    probes = sorted({d.name for s in sources.values() for d in s.defines if d.params is None})
    tools_only = frozenset() if options.tools else frozenset(
        p for p, s in sources.items() if overlap.is_tools_only(s.text))
    return Inputs(probes, tools_only, pipeline._defines(options, sources))


def _files(**extra: bytes) -> dict[str, bytes]:
    return {**case_files("layout_traps"), **case_files("macros"), "xen-compat.h": COMPAT,
            "domctl.h": TOOLS, **extra}


def _json(files: dict[str, bytes], root: Path, options: Options, cache: Path | None = None
          ) -> str:
    tree = open_tree(str(write_tree(root, files)))
    return json.dumps(model_to_json(extract(tree, options, cache=cache)))


@pytest.mark.parametrize("tools", [True, False], ids=["tools", "guest"])
def test_the_guess_is_the_lexers_on_the_test_headers(tools: bool) -> None:
    files = _files()
    options = Options(archs=ARCHS, tools=tools)
    assert quick_inputs(files, options) == _lexed(files, options)
    if not tools:
        assert quick_inputs(files, options).tools_only == {"domctl.h"}
        assert quick_inputs(files, options).defines["__XEN_INTERFACE_VERSION__"] == "0x00041000"


@pytest.mark.slow
@pytest.mark.parametrize("tools", [True, False], ids=["tools", "guest"])
def test_the_guess_is_the_lexers_on_xen(xen_tree_414: HeaderTree, xen_tree_417: HeaderTree,
                                        tools: bool) -> None:
    # Both trees hold #defines in comments ("XEN_DOMCTL_getmemlist 6 obsolete"),
    # which neither the lexer nor the guess may count.
    for tree in (xen_tree_414, xen_tree_417):
        options = Options(tools=tools)
        assert quick_inputs(tree.files, options) == _lexed(tree.files, options)


# Each trap makes the guess differ from the lexer: a name spliced by a
# backslash-newline, and a "/*" in a string that hides a #define from the guess.
TRAPS = {
    "spliced": b"#define SPLI\\\nCED 3\n",
    "string": b'#define OPENS "/*"\n#define HIDDEN 4\n#define CLOSES 5 /* */\n',
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_a_wrong_guess_is_dropped_and_changes_nothing(trap: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(**{"trap.h": TRAPS[trap]})
    options = Options(archs=ARCHS)
    assert quick_inputs(files, options) != _lexed(files, options)
    overlap.STATS.clear()
    guessed = _json(files, tmp_path / "a", options)
    assert overlap.STATS == {"started": 1, "dropped": 1}
    monkeypatch.setattr(pipeline, "can_fork", lambda: False)
    assert guessed == _json(files, tmp_path / "a", options)
    assert '"HIDDEN"' in guessed or trap != "string"


@pytest.mark.parametrize("tools", [True, False], ids=["tools", "guest"])
def test_a_right_guess_gives_what_one_process_does(tools: bool, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    options = Options(archs=("x86_32", "x86_64", "arm32", "arm64"), tools=tools)
    overlap.STATS.clear()
    guessed = _json(_files(), tmp_path / "a", options)
    assert overlap.STATS == {"started": 1}
    monkeypatch.setattr(pipeline, "can_fork", lambda: False)
    assert guessed == _json(_files(), tmp_path / "a", options)


def test_a_cached_run_drops_the_worker_and_serves_the_facts(tmp_path: Path) -> None:
    # Enough headers that a cold cache is worth speculating on.
    files = {f"copy{n}/{p}": d for n in range(6) for p, d in _files().items()}
    files.update(_files())
    options = Options(archs=ARCHS)
    cold = _json(files, tmp_path / "a", options, tmp_path / "cache")
    # The sources cache emptied, the facts kept: lexing again, the worker is started
    # and then stopped when the facts turn out cached.
    for entry in (tmp_path / "cache" / "sources").iterdir():
        entry.unlink()
    overlap.STATS.clear()
    assert _json(files, tmp_path / "a", options, tmp_path / "cache") == cold
    assert overlap.STATS == {"started": 1, "dropped": 1}


def test_an_edit_starts_the_parsers_at_once_only_when_it_moves_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = Options(archs=ARCHS)
    cache = tmp_path / "cache"
    # How many parsers had started when the cache's headers were read.
    started_before: list[int] = []
    load_sources = pipeline.load_sources

    def watched(*args: object, **kwargs: object) -> object:
        started_before.append(overlap.STATS["started"])
        return load_sources(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_sources", watched)
    files = _files(**{"edited.h": b"/* A comment. */\n#define EDITED 1\n"})
    _json(files, tmp_path / "a", options, cache)
    # A comment edit: the header's code skeleton is the one the cache last saw at its
    # path, so the facts are cached and no parser is forked.
    files["edited.h"] = b"/* The comment, edited. */\n#define EDITED 1\n"
    overlap.STATS.clear()
    commented = _json(files, tmp_path / "a", options, cache)
    assert overlap.STATS == {} and '"The comment, edited."' in commented
    assert started_before[-1] == 0
    # A code edit: the parsers start before the cached headers are read, and are kept.
    files["edited.h"] = b"/* The comment, edited. */\n#define EDITED 2\n"
    overlap.STATS.clear()
    coded = _json(files, tmp_path / "a", options, cache)
    assert overlap.STATS == {"started": 1} and started_before[-1] == 1
    assert coded == _json(files, tmp_path / "a", options)       # as with no cache
    # What tells one edit from the other is damaged: it is as if there were none, and
    # an edit is taken for a code edit (parsers started, then dropped on cached facts).
    for entry in (cache / "skeletons").iterdir():
        entry.write_bytes(b"damaged")
    files["edited.h"] = b"/* Edited again. */\n#define EDITED 2\n"
    overlap.STATS.clear()
    assert '"Edited again."' in _json(files, tmp_path / "a", options, cache)
    assert overlap.STATS == {"started": 1, "dropped": 1}


def test_the_worker_checks_the_tree_before_anything_is_parsed(tmp_path: Path) -> None:
    files = _files(**{"evil.h": b'#include "../../../../../../../../etc/hostname"\n'})
    overlap.STATS.clear()
    with pytest.raises(ExtractError, match=r"evil\.h:1: #include .* leaves the header tree"):
        _json(files, tmp_path / "t", Options(archs=ARCHS))
    assert overlap.STATS == {"started": 1}


def test_a_tree_that_fails_the_check_is_never_parsed(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from headerparse.extract import clangparse

    parsed = tmp_path / "parsed"

    def record(*_args: object, **_kw: object) -> None:
        parsed.write_text("a parse started")        # from whichever process it is
        raise AssertionError("parsed")

    monkeypatch.setattr(clangparse, "parse_arch", record)
    files = _files(**{"evil.h": b'#include "/etc/hostname"\n'})
    with pytest.raises(ExtractError, match=r"evil\.h:1: #include"):
        _json(files, tmp_path / "t", Options(archs=ARCHS))
    assert not parsed.exists()


def test_the_worker_keeps_its_arches_facts_in_the_cache(tmp_path: Path) -> None:
    files = {f"copy{n}/{p}": d for n in range(6) for p, d in _files().items()}
    files.update(_files())
    overlap.STATS.clear()
    cold = _json(files, tmp_path / "a", Options(archs=ARCHS), tmp_path / "cache")
    assert overlap.STATS == {"started": 1}
    # One entry an arch, whichever process parsed it; a second run parses nothing.
    assert len(list((tmp_path / "cache" / "facts").glob("*.bin"))) == len(ARCHS)
    from headerparse.extract import cache
    cache.STATS.clear()
    assert _json(files, tmp_path / "a", Options(archs=ARCHS), tmp_path / "cache") == cold
    assert cache.STATS["facts.hit"] == len(ARCHS)


@pytest.mark.parametrize("arch", ARCHS)
def test_a_parser_that_fails_fails_the_extraction(arch: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Whichever of the two parsers takes the arch, its exception is the run's error.
    from headerparse.extract import clangparse

    real = clangparse.parse_arch

    def failing(include_dir, target, *rest, **kw):
        if target.name == arch:
            raise RuntimeError(f"no facts for {arch}")
        return real(include_dir, target, *rest, **kw)

    monkeypatch.setattr(clangparse, "parse_arch", failing)
    with pytest.raises(ExtractError, match=f"RuntimeError: no facts for {arch}"):
        _json(_files(), tmp_path / "t", Options(archs=ARCHS))


def test_both_parsers_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from headerparse.extract import clangparse

    real, record = clangparse.parse_arch, tmp_path / "who"
    record.mkdir()

    def slow(include_dir, target, *rest, **kw):
        (record / target.name).write_text(str(os.getpid()))
        time.sleep(0.2)     # long enough that the other parser takes the next arch
        return real(include_dir, target, *rest, **kw)

    monkeypatch.setattr(clangparse, "parse_arch", slow)
    guessed = _json(_files(), tmp_path / "t", Options(archs=ARCHS))
    assert len({p.read_text() for p in record.iterdir()}) == 2
    assert os.getpid() not in {int(p.read_text()) for p in record.iterdir()}
    monkeypatch.setattr(pipeline, "can_fork", lambda: False)
    assert guessed == _json(_files(), tmp_path / "t", Options(archs=ARCHS))


def test_the_parsers_leave_nothing_for_the_end_to_remove(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The parsers' copy of the tree goes when the last parse is over, and this process
    # reads each parser's file once and removes it: the end of the run, on one core,
    # has (almost) nothing left to delete.
    left: list[list[Path]] = []
    real_end = pipeline._end

    def end(spec: overlap.Speculation, failed: bool) -> None:
        real_end(spec, failed)
        left.append(sorted(p for p in spec.include_dir.parents[2].rglob("*") if p.is_file()))

    monkeypatch.setattr(pipeline, "_end", end)
    overlap.STATS.clear()
    guessed = _json(_files(), tmp_path / "t", Options(archs=ARCHS), tmp_path / "c")
    assert overlap.STATS == {"started": 1}
    assert [[p.name for p in files] for files in left] == [["keys.pickle"]]
    assert guessed == _json(_files(), tmp_path / "t", Options(archs=ARCHS))


def test_held_workings_are_handed_over_not_freed(tmp_path: Path) -> None:
    tree = open_tree(str(write_tree(tmp_path / "t", _files())))
    held: list[object] = []
    model, parts = pipeline.extract_json(tree, Options(archs=ARCHS), hold=held)
    assert len(held) == 1 and callable(held[0])
    assert "".join(parts) == "".join(pipeline.model_json_parts(extract(tree, Options(archs=ARCHS))))


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_the_waiting_is_used_once_for_each_job(cached: bool, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # While the parsers work, this process documents the members of each arch but the
    # last and keeps the sources' cache entries: each once, none skipped.
    from headerparse.extract import cache, merge

    files = {f"copy{n}/{p}": d for n in range(6) for p, d in _files().items()}
    files.update(_files())
    prepared: list[tuple] = []
    kept: list[str] = []
    real_prepare, real_put = merge.Merger.prepare, cache.Store.put

    def prepare(self, facts) -> None:
        prepared.extend((facts.arch, r.key, r.loc) for r in facts.records)
        real_prepare(self, facts)

    def put(self, kind: str, key: str, payload: bytes) -> None:
        if kind == "sources":
            kept.append(key)
        real_put(self, kind, key, payload)

    monkeypatch.setattr(merge.Merger, "prepare", prepare)
    monkeypatch.setattr(cache.Store, "put", put)
    overlap.STATS.clear()
    _json(files, tmp_path / "t", Options(archs=ARCHS), tmp_path / "c" if cached else None)
    assert overlap.STATS == {"started": 1}
    assert prepared and len(prepared) == len(set(prepared))
    assert len({arch for arch, _key, _loc in prepared}) == len(ARCHS) - 1
    # One entry a header (the tree holds them and an xen.h made for it).
    assert len(kept) == len(set(kept)) == (len(files) + 1 if cached else 0)


def test_no_libclang_is_one_error_from_the_worker_too(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from headerparse.extract import clangparse

    def unavailable() -> None:
        raise clangparse.ClangUnavailable("cannot load libclang: gone")

    monkeypatch.setattr(clangparse, "_get_index", unavailable)
    with pytest.raises(ExtractError, match=r"^cannot load libclang: gone$"):
        _json(_files(), tmp_path / "t", Options(archs=ARCHS))


def test_a_worker_that_dies_fails_the_extraction(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()

    def die(_files: object) -> list[str]:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return []

    monkeypatch.setattr(overlap.treesafe, "parse_problems", die)
    with pytest.raises(ExtractError, match="parsing the headers failed: worker died"):
        _json(_files(), tmp_path / "t", Options(archs=ARCHS))


# ------------------------------------------------------------------ parallel primitives


def test_claims_give_each_item_to_exactly_one_process() -> None:
    claims = Claims(40)

    def take_all(_: int) -> list[int]:
        got = []
        while (i := claims.take()) is not None:
            got.append(i)
        return got

    mine, theirs = fork_map(take_all, [0, 1])
    claims.close()
    assert sorted(mine + theirs) == list(range(40))
    assert claims.take() is None


def test_a_streamer_hands_over_messages_then_its_error() -> None:
    def work(send) -> None:
        send(1)
        send({"two": [2]})
        raise ValueError("three")

    with Streamer(work) as child:
        assert child.next() == 1
        assert child.next() == {"two": [2]}
        with pytest.raises(WorkerFailed, match="ValueError: three"):
            child.next()


def test_a_streamer_that_dies_is_a_failure_not_the_end() -> None:
    def work(send) -> None:
        send("last words")
        os.kill(os.getpid(), signal.SIGKILL)

    with Streamer(work) as child:
        assert child.next() == "last words"
        with pytest.raises(WorkerFailed, match="died"):
            child.next()
