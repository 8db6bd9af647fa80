"""Tree -> model: read every header, parse every arch, merge into one Model.

Two caches make a re-run cheap (``extract_cache``): each header's lexing and
markup, keyed by its bytes, and each arch's libclang facts, keyed by the code
skeletons of all headers (comment text blanked).  After a comment edit a run
re-reads one header, parses nothing and merges; after a code edit it parses
again.  The merge itself is :mod:`merge`.  ``extract --json`` also keeps the
model's JSON (:func:`store_json`), which an unchanged tree's next run copies.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import marshal
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from headerparse import __version__, treesafe
from headerparse.extract import archfacts, overlap
from headerparse.extract.archfacts import ArchFacts
from headerparse.extract.cache import (
    LIMITS,
    MAX_ENTRY_BYTES,
    SideJob,
    Store,
    checksum,
    clang_id,
    code_edited,
    code_hash,
    facts_entry,
    facts_key,
    load_facts,
    load_sources,
    prune_dir,
    save_facts,
    skeleton_digest,
    write_atomically,
)
from headerparse.extract.options import ExtractError, Options
from headerparse.extract.overlap import (
    COMPAT,
    Inputs,
    Speculation,
    defines_for,
    is_tools_only,
)
from headerparse.extract.translation_unit import tree_literals
from headerparse.model import (
    SCHEMA_VERSION,
    Diagnostic,
    Model,
    diagnostics_from_json,
    model_json_parts,
    to_json,
    value_json_text,
)
from headerparse.parallel import WorkerFailed, can_fork, deal, fork_map
from headerparse.safeio import private_tempdir, read_regular
from headerparse.targets import TARGETS, Target, available_archs, translation_unit_headers
from headerparse.tree import HeaderTree

if TYPE_CHECKING:   # the lexing's and the merge's: see _extract
    from headerparse.extract.merge import Merger
    from headerparse.extract.source import HeaderSource

Progress = Callable[[str], None]


def extract(tree: HeaderTree, options: Options | None = None, *, progress: Progress | None = None,
            cache: Path | None = None) -> Model:
    """Build the model of ``tree``, reusing what the caches under ``cache`` hold.

    With every header's lexing and every arch's facts cached, building the model
    is a merge (a fifth of a second on Xen 4.17): cheaper than reading a whole
    cached model back from its JSON, so there is no whole-model cache here (the
    JSON one serves ``extract --json`` alone: :func:`cached_json`).
    ``cache=None`` reads and writes no cache at all.
    """
    return _run(tree, options, progress, cache, False)[0]


def extract_json(tree: HeaderTree, options: Options | None = None, *,
                 progress: Progress | None = None, cache: Path | None = None,
                 hold: list[object] | None = None) -> tuple[Model, list[str]]:
    """:func:`extract`, and the model's compact JSON (``model_json_parts(model)``): the
    parsers of a run that parses encode their arches' layouts, while this process merges.

    ``hold`` gets what the run leaves behind (the arches' facts, the merge's workings), to
    keep rather than free on return: for a caller that leaves its heap to the OS at exit
    (freeing them costs 6 ms on 4.17, at the end of the run, on one core)."""
    model, parts = _run(tree, options, progress, cache, True, hold)
    return model, parts or []


def _run(tree: HeaderTree, options: Options | None, progress: Progress | None,
         cache: Path | None, text: bool, hold: list[object] | None = None
         ) -> tuple[Model, list[str] | None]:
    options = options or Options()
    say = progress or (lambda _msg: None)
    archs = _archs(tree, options)
    store = Store(cache) if cache is not None else None
    with _gc_paused(), contextlib.ExitStack() as stack:
        model, known = _extract(tree, options, archs, say, store, stack, text)
        # Still within: the parsers' layouts are in the spool the stack removes.
        json_text = model_json_parts(model, known=known()) if text else None
        if hold is not None:
            hold.append(known)      # it holds the merger, which holds the rest
    if store is not None:
        store.prune()
    return model, json_text


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the model is built.

    Building allocates a few hundred thousand objects and keeps nearly all of
    them (sources, facts, the model), none in cycles: the collector's full passes
    over them cost a fifth of an incremental run and free nothing.  Afterwards
    they join the oldest generation unscanned (a freeze and a thaw move them
    there): left in the youngest, the first collection after this scanned all of
    them (30 ms on 4.17), and then moved them on to be scanned again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:     # never thaw what someone else froze
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def cached_json(tree: HeaderTree, options: Options | None, cache: Path | None
                ) -> tuple[bytes, tuple[Diagnostic, ...]] | None:
    """The cached model JSON of ``tree`` (its bytes) and its diagnostics, without loading
    the model.

    ``extract --json`` on an unchanged tree only writes these bytes out (what
    :func:`store_json` kept): the point is that a no-change re-run costs a small
    fraction of a parse.  They are the bytes the digest was checked on: the file is
    read once (9 MB on 4.17; reading it again to copy it was a twentieth of the run).
    """
    options = options or Options()
    path = _json_path(tree.content_hash(), tree.description, options, _archs(tree, options),
                      cache)
    if path is None or not path.exists():
        return None
    try:
        # Regular files only: a FIFO planted in a shared cache reads as a miss, not a hang.
        meta = json.loads(read_regular(path.with_suffix(".diags"), MAX_ENTRY_BYTES) or b"")
        data = read_regular(path, MAX_ENTRY_BYTES)
        if data is None or meta["digest"] != _digest(data):
            return None     # gone, damaged, or half of a concurrent rewrite
        return data, diagnostics_from_json(meta["diagnostics"])
    except Exception:   # a damaged entry is a miss
        return None


def store_json(model: Model, options: Options | None, cache: Path | None,
               text: str | bytes | Sequence[bytes]) -> None:
    """Keep ``text``, the compact JSON of ``model`` (or its bytes, maybe in parts), for
    :func:`cached_json`."""
    path = _json_path(model.tree_hash, model.tree, options or Options(), model.archs, cache)
    if path is None:
        return
    data = text.encode() if isinstance(text, str) else text
    # cached_json trusts the model file only when it matches the digest beside it.
    meta = {"digest": _digest(data), "diagnostics": [to_json(d) for d in model.diagnostics]}
    if write_atomically(path, data):
        write_atomically(path.with_suffix(".diags"), json.dumps(meta).encode())
    prune_dir(path.parent, LIMITS["models"], "*.json", companions=(".diags",))


def _digest(data: bytes | Sequence[bytes]) -> str:
    return f"crc32:{checksum(data).hex()}"


def _json_path(tree_hash: str, description: str, options: Options, archs: tuple[str, ...],
               cache: Path | None) -> Path | None:
    if cache is None:
        return None
    # The description is part of the key because the model records it: two
    # copies of the same headers are still two trees to the user.
    h = hashlib.sha256("\0".join([tree_hash, description, options.key(), ",".join(archs),
                                  __version__, str(SCHEMA_VERSION), clang_id(),
                                  code_hash()]).encode()).hexdigest()[:24]
    return cache / "models" / f"{h}.json"


def _archs(tree: HeaderTree, options: Options) -> tuple[str, ...]:
    if not options.archs:
        return available_archs(tree.files)
    unknown = [a for a in options.archs if a not in TARGETS]
    if unknown:
        raise ExtractError(f"unknown arch {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    return tuple(options.archs)


def _extract(tree: HeaderTree, options: Options, archs: tuple[str, ...], say: Progress,
             store: Store | None, stack: contextlib.ExitStack, text: bool
             ) -> tuple[Model, Callable[[], dict[int, str]]]:
    """The model, and what gives the text of those of its layouts the parsers encoded
    (when ``text``), by ``id``."""
    # A run that will parse (cold, or after a code edit) parses while it lexes and reads
    # the cache: two parsers start on the arches at once.
    edited, lexed = (code_edited(tree.files, store, options.docs) if store is not None
                     else (True, {}))
    spec = _speculate(tree, options, archs, store, stack, now=edited, layouts=text)
    # Imported once the parsers run (a cold run's start has one core busy): they need
    # neither the lexing's modules nor the merge's, which this process needs next.
    from headerparse.extract.merge import Merger

    # What libclang would read outside the tree, or expand for minutes, is refused
    # before a parse.  Checking costs a quarter of lexing the tree: a split lexing
    # takes it along, on the second core, as a parse is then all but certain (or
    # the first parser does, before any parse).
    check = SideJob(lambda: next(iter(treesafe.parse_problems(tree.files)), None),
                    sum(len(data) for data in tree.files.values()) // 4)
    # With parsers at work, the sources' cache entries wait for a moment when this
    # process waits for them.
    later: list[Callable[[], None]] = []
    sources = load_sources(tree.files, store, check if spec is None else None, options.docs,
                           split=spec is None, later=later, lexed=lexed)
    defines = _defines(options, sources)
    probes = sorted({d.name for s in sources.values() for d in s.defines if d.params is None})
    # domctl.h and sysctl.h #error unless the toolstack's view is asked for:
    # in the guest view they are left out, and said to be.
    tools_only = set() if options.tools else {p for p, s in sources.items()
                                              if is_tools_only(s.text)}
    jobs, keys, facts = _cached_facts(sources, archs, tools_only, store, probes, defines)
    if facts:
        say(f"libclang facts of {', '.join(facts)} served from cache (no code changed)")
    if spec is None and jobs and not facts:
        # Every arch to parse again (a code edit): the parsers start now.
        spec = _speculate(tree, options, archs, store, stack, now=True, layouts=text)
    if spec is not None and (facts or not _guessed(spec, Inputs(probes, frozenset(tools_only),
                                                                 defines))):
        spec.cancel()       # the guess was wrong, or the cache has (some of) it
        overlap.STATS["dropped"] += 1
        spec = None
    merger = Merger(tree, options, archs, sources, {}, tools_only)
    ahead = _Ahead(sources, merger) if text and jobs and spec is not None else None
    if jobs and spec is not None:
        facts.update(_parse_speculated(tree, spec, jobs, keys, say, store,
                                       lambda f: _preparing(merger, f), later,
                                       ahead.jobs if ahead is not None else None))
    for job in later:
        job()
    if jobs and spec is None:
        facts.update(_parse(tree, jobs, keys, say, store, check))
    say("merging arches")
    merger.facts = {a: facts[a] for a in archs}
    return merger.model(), lambda: {**_known_layouts(spec, merger.facts),
                                    **(ahead.known() if ahead is not None else {})}


class _Ahead:
    """Values of the model encoded (:func:`value_json_text`) while the last parser is
    awaited, as the merge will most likely hold them: the macros' docs and the records'
    documented members, two fifths of the model's text, which this process would
    otherwise encode after the merge, on one core."""

    def __init__(self, sources: dict[str, HeaderSource], merger: Merger) -> None:
        self.sources, self.merger = sources, merger
        # id -> the value and its text: the value is held, as an id names it only
        # while it lives.
        self._texts: dict[int, tuple[object, str]] = {}

    def jobs(self, parts: int = 8) -> list[Callable[[], None]]:
        """The docs of the macros, in ``parts``, then the members prepared by then."""
        docs = [found[0] for src in self.sources.values() for found in src.macro_docs
                if found is not None]
        step = -(-len(docs) // parts) or 1
        return [*(functools.partial(self._add, functools.partial(list, docs[i:i + step]))
                  for i in range(0, len(docs), step)),
                functools.partial(self._add, self.merger.field_docs.prepared)]

    def _add(self, values: Callable[[], Iterable[object]]) -> None:
        texts = self._texts
        for value in values():
            if id(value) not in texts:
                texts[id(value)] = (value, value_json_text(value))

    def known(self) -> dict[int, str]:
        return {key: text for key, (_value, text) in self._texts.items()}


def _cached_facts(sources: dict[str, HeaderSource], archs: tuple[str, ...],
                  tools_only: set[str], store: Store | None, probes: list[str],
                  defines: dict[str, str | None]
                  ) -> tuple[dict[str, tuple], dict[str, str], dict[str, ArchFacts]]:
    """The parse of each arch the cache does not hold (its job), each arch's cache key,
    and the facts the cache holds."""
    # The keys name cache entries only (and asking libclang's version costs a fortieth
    # of a second of imports): with no cache there are none.
    skeletons = skeleton_digest(sources) if store is not None else ""
    jobs: dict[str, tuple] = {}
    keys: dict[str, str] = {}
    facts: dict[str, ArchFacts] = {}
    for arch in archs:
        headers = [h for h in translation_unit_headers(sources, TARGETS[arch])
                   if h not in tools_only]
        if store is not None:
            keys[arch] = facts_key(skeletons, TARGETS[arch], headers, probes, defines)
            hit = load_facts(store, keys[arch], arch)
            if hit is not None:
                facts[arch] = hit
                continue
        jobs[arch] = (TARGETS[arch], headers, probes, defines)
    return jobs, keys, facts


def _known_layouts(spec: Speculation | None, facts: dict[str, ArchFacts]) -> dict[int, str]:
    """The parsers' texts of the layouts (:func:`_layout_texts`), by the ``id`` of each
    layout decoded here: their records come in the order they were sent in."""
    if spec is None:
        return {}
    try:
        texts = spec.extras()
    except WorkerFailed as exc:
        raise _failed(exc) from exc
    return {id(r.layout): t for arch, each in texts.items()
            for r, t in zip(facts[arch].records, each, strict=True)}


def _preparing(merger: Merger, facts: ArchFacts, parts: int = 8) -> list[Callable[[], None]]:
    """:meth:`Merger.prepare` of ``facts``, in parts: while the parsers' arches are
    awaited, the one that comes is read after the part at hand, not after all."""
    step = -(-len(facts.records) // parts) or 1
    return [functools.partial(merger.prepare, ArchFacts(facts.arch, facts.records[i:i + step]))
            for i in range(0, len(facts.records), step)]


def _parse(tree: HeaderTree, jobs: dict[str, tuple], keys: dict[str, str], say: Progress,
           store: Store | None, check: SideJob) -> dict[str, ArchFacts]:
    from headerparse.extract import clangparse

    problem = check.result if check.ran else next(iter(treesafe.parse_problems(tree.files)),
                                                  None)
    if problem is not None:
        raise ExtractError(f"{problem} ({tree.description})")
    say(f"parsing {len(tree.files)} headers for {', '.join(jobs)}")
    facts: dict[str, ArchFacts] = {}
    # A private copy of the tree for libclang (83 files: a fiftieth of a second):
    # a shared one in the cache could be pruned by a concurrent run mid-parse.
    with private_tempdir("headerparse-") as tmp:
        include_dir = tree.materialize(Path(tmp))
        tree_literals(include_dir / "public")     # read once, for the processes parsing

        shared = archfacts.Interned()

        def parsed(arch: str, got: ArchFacts | tuple[bytes, bytes | None]) -> None:
            if isinstance(got, ArchFacts):      # parsed in this process: no round trip
                facts[arch] = got
                if store is not None:
                    save_facts(store, keys[arch],
                               facts_entry(archfacts.encode(got), include_dir))
                return
            blob, entry = got
            if store is not None:
                save_facts(store, keys[arch], entry)
            facts[arch] = archfacts.loads(blob, shared)

        try:
            _parse_all({a: (include_dir, *job) for a, job in jobs.items()}, store is not None,
                       say, parsed)
        except clangparse.ClangUnavailable as exc:
            raise ExtractError(str(exc)) from exc
    return {arch: facts[arch] for arch in jobs}


def _speculate(tree: HeaderTree, options: Options, archs: tuple[str, ...],
               store: Store | None, stack: contextlib.ExitStack, now: bool,
               layouts: bool = False) -> Speculation | None:
    """Parsers of the arches, with inputs guessed from the raw headers, if ``now``: the
    arches will most likely be parsed.  (Else the facts are likely cached, and the fork
    would only cost this process its copy-on-write faults: 0.03 s of a comment edit's
    0.35 s on 4.17.)"""
    if len(archs) < 2 or not can_fork() or not now:
        return None
    overlap.STATS["started"] += 1
    tmp = Path(stack.enter_context(private_tempdir("headerparse-")))
    include_dir = tree.materialized_path(tmp)

    def jobs(inputs: Inputs) -> dict[str, tuple]:
        return {arch: (include_dir, TARGETS[arch],
                       [h for h in translation_unit_headers(tree.files, TARGETS[arch])
                        if h not in inputs.tools_only], inputs.probes, inputs.defines)
                for arch in archs}

    def after(keys: dict[str, str], kept: dict[str, tuple]) -> None:
        # A parser's arches go into the cache from the parser, while this process merges.
        for arch, (encoded, _facts) in kept.items():
            save_facts(store, keys[arch], facts_entry(encoded, include_dir))

    def ready() -> None:
        # What every parser needs, loaded or read by the first one, once.
        _load_libclang()
        tree_literals(include_dir / "public")

    spec = Speculation(tree, options, archs, tmp, jobs, _parse_to_send, after, ready,
                       extra=_layout_texts if layouts else None)
    stack.push(lambda kind, _exc, _tb: _end(spec, failed=kind is not None))
    return spec


def _end(spec: Speculation, failed: bool) -> None:
    """Left normally, the parsers are waited for (they are keeping their facts); else
    stopped."""
    if failed:
        spec.cancel()
        return
    try:
        spec.close()
    except WorkerFailed as exc:
        raise _failed(exc) from exc


def _guessed(spec: Speculation, inputs: Inputs) -> bool:
    """Whether the parsers' quick inputs are the lexer's."""
    try:
        return spec.matches(inputs)
    except WorkerFailed as exc:
        raise _failed(exc) from exc


def _failed(exc: WorkerFailed) -> ExtractError:
    from headerparse.extract import clangparse

    if isinstance(exc.error, clangparse.ClangUnavailable):
        return ExtractError(str(exc.error))
    return ExtractError(f"parsing the headers failed: {exc}")


def _load_libclang() -> None:
    from headerparse.extract import clangparse

    clangparse.load()


def _parse_to_send(include_dir: Path, target: Target, headers: list[str], probes: list[str],
                   defines: dict[str, str | None]) -> tuple[bytes, tuple[tuple, ArchFacts]]:
    """A parser's arch: its facts in their marshal form, which it sends back 4x faster
    than pickled dataclasses; it keeps them and their cache form."""
    from headerparse.extract import clangparse

    facts = clangparse.parse_arch(include_dir, target, headers, probes, defines)
    encoded = archfacts.encode(facts)
    return marshal.dumps(encoded), (encoded, facts)


def _layout_texts(kept: tuple[tuple, ArchFacts]) -> list[str]:
    """The text of each layout of a parser's arch, in its records' order."""
    return [value_json_text(r.layout) for r in kept[1].records]


def _parse_speculated(tree: HeaderTree, spec: Speculation, jobs: dict[str, tuple],
                      keys: dict[str, str], say: Progress, store: Store | None,
                      ahead: Callable[[ArchFacts], list[Callable[[], None]]],
                      idle: list[Callable[[], None]],
                      last: Callable[[], list[Callable[[], None]]] | None = None
                      ) -> dict[str, ArchFacts]:
    """The arches, from the parsers; ``idle`` (emptied) is done here while they are
    awaited, after ``ahead(facts)`` of each arch but the last, and then the jobs
    ``last()`` gives once a single arch is awaited."""
    facts: dict[str, ArchFacts] = {}
    shared = archfacts.Interned()

    def parsed(arch: str, blob: bytes) -> None:
        facts[arch] = archfacts.loads(blob, shared)
        if len(facts) < len(jobs):      # the last one's would only delay the merge
            idle[:0] = ahead(facts[arch])
        if len(facts) == len(jobs) - 1 and last is not None:
            # With one arch left, one parser is left too: a core is free (before, this
            # process's work would take the parsers' time).
            idle.extend(last())
        say(f"[{len(facts)}/{len(jobs)}] parsed {arch}")

    try:
        problem = spec.problem()
        if problem is not None:
            raise ExtractError(f"{problem} ({tree.description})")
        spec.keys(keys if store is not None else None)
        if store is not None:
            store.written_elsewhere("facts")
        say(f"parsing {len(tree.files)} headers for {', '.join(jobs)}")
        spec.run(parsed, idle)
    except WorkerFailed as exc:
        raise _failed(exc) from exc
    return {arch: facts[arch] for arch in jobs}


def _parse_one(here: int, cached: bool, include_dir: Path, target: Target,
               headers: list[str], probes: list[str], defines: dict[str, str | None]
               ) -> ArchFacts | tuple[bytes, bytes | None]:
    """One arch's facts; from a worker (not process ``here``) in their marshal form, which
    it sends back 4x faster than pickled dataclasses, with their cache entry if
    ``cached``."""
    from headerparse.extract import clangparse

    # What this process parsed it keeps as it is (the marshal form costs 0.06 s an
    # arch to write and read back, and decodes to equal facts).
    if os.getpid() == here:
        return clangparse.parse_arch(include_dir, target, headers, probes, defines)
    blob, (encoded, _facts) = _parse_to_send(include_dir, target, headers, probes, defines)
    return blob, facts_entry(encoded, include_dir) if cached else None


def _parse_all(jobs: dict[str, tuple], cached: bool, say: Progress,
               parsed: Callable[[str, ArchFacts | tuple[bytes, bytes | None]], None]) -> None:
    """Parse the arches, shared between processes when there is more than one core.

    ``parsed`` gets each arch's facts, in their marshal form and with their cache entry
    (if ``cached``) when a worker parsed them; the arches cost about the same, so they
    are dealt evenly.
    """
    arches = list(jobs)
    workers = min(len(arches), os.cpu_count() or 1) if can_fork() else 1
    shares = deal([1] * len(arches), workers)
    here = os.getpid()
    try:
        done = fork_map(lambda share: [_parse_one(here, cached, *jobs[arches[i]])
                                       for i in share], shares)
    except WorkerFailed as exc:
        raise _failed(exc) from exc
    n = 0
    for share, blobs in zip(shares, done, strict=True):
        for i, blob in zip(share, blobs, strict=True):
            n += 1
            parsed(arches[i], blob)
            say(f"[{n}/{len(arches)}] parsed {arches[i]}")


def _defines(options: Options, sources: dict[str, HeaderSource]) -> dict[str, str | None]:
    compat = sources.get(COMPAT)
    return defines_for(options, compat.defines if compat else None)
