"""The extraction's on-disk caches below the cache dir, and how their keys are made.

``models/``   ``extract --json``'s output, keyed by every byte of the tree
              (``extract.store_json``), which it copies when nothing changed;
``sources/``  one header's :class:`~headerparse.extract.source.HeaderSource` but its text (the
              bytes give it back), keyed by its path and bytes: a one-header edit
              re-reads one header;
``facts/``    one arch's :class:`~headerparse.extract.archfacts.ArchFacts`, keyed by the code
              skeletons of every header (comment text blanked) and the parse inputs:
              a comment edit that moves no code re-uses all of them;
``skeletons/`` the code skeleton's digest of each header a tree's last lexing run read,
              keyed by the tree's header paths: what tells a code edit from a comment
              edit before anything else is read (:func:`code_edited`).

Entries are written under a temporary name and renamed into place, so a reader
sees a whole entry or none; a blob starts with a digest of its payload, so a
damaged one reads as a miss, never as an error.  Each kind keeps its newest
entries (a hit refreshes an entry's mtime); writing is best effort.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from headerparse import model, paths, targets, tree
from headerparse.extract import archfacts, plaindata
from headerparse.extract.archfacts import ArchFacts
from headerparse.extract.reuse import Memo
from headerparse.parallel import WorkerFailed, can_fork, deal, fork_map
from headerparse.paths import PACKAGE, code_digest
from headerparse.safeio import read_regular
from headerparse.targets import Target

if TYPE_CHECKING:   # the lexing's modules: a cold run's parsers start before their imports
    from headerparse.extract.source import HeaderSource

# Newest entries kept per kind: a few trees' worth (a tree has ~85 headers and
# 4-6 arches; a 4.17 model is 8 MB of JSON, its facts ~1 MB per arch).
LIMITS = {"sources": 1200, "facts": 48, "models": 12, "skeletons": 48}
# An entry far larger than any tree's was not written by headerparse.
MAX_ENTRY_BYTES = 256 * 1024 * 1024
# A temporary file younger than this may be a concurrent run's write in progress.
GRACE_SECONDS = 600.0
# hpc1 held pickles and marshal, hpc2 a BLAKE2b digest: never read again.
_MAGIC = b"hpc3"
_DIGEST = 4


# The top-level modules extraction builds on; the package's own files are found by listing.
_SHARED = (model, paths, targets, tree)

# Entries of this process served and not ("sources.hit", "facts.miss", ...;
# "facts.unportable": parsed facts not kept): what the tests assert on.
STATS: Counter[str] = Counter()

# Entries decoded in this process, by their bytes: a review reads the parent's and
# the patched tree's, which share every unchanged header's entry and, when no code
# changed, every arch's facts (a fifth of a second each time).  Keyed by the bytes,
# an entry rewritten or damaged since is decoded afresh.  Nothing decoded is changed
# afterwards, so both trees may share the objects.
_SOURCES: Memo[HeaderSource | None] = Memo(LIMITS["sources"])
_FACTS: Memo[ArchFacts | None] = Memo(12)


@cache
def code_hash() -> str:
    """A change to headerparse's code must not serve what older code computed.

    Every entry depends on the whole extraction package and the top-level modules it
    builds on, found from the modules themselves: a file moved or added is hashed
    without anyone listing it here.
    """
    files = sorted((PACKAGE / "extract").glob("*.py")) + [Path(m.__file__ or "")
                                                          for m in _SHARED]
    return code_digest(files, sys.implementation.cache_tag)[:16]


@cache
def clang_id() -> str:
    """The installed libclang's version: what it computed is kept under it."""
    # Read off the wheel's metadata directory beside the package, as importlib.metadata
    # would find it: importing that (and the email parser it reads METADATA with) is a
    # fiftieth of a second of a cold run, before its parsing worker can start.
    spec = importlib.util.find_spec("clang")
    for where in (spec.submodule_search_locations or []) if spec else []:
        found = list(Path(where).parent.glob("libclang-*.dist-info"))
        if len(found) == 1:
            return found[0].name[len("libclang-"):-len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version("libclang")
    except metadata.PackageNotFoundError:
        return "libclang"


class Store:
    """Digest-checked blobs under ``<cache>/<kind>/<key>.bin``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._written: set[str] = set()

    def path(self, kind: str, key: str) -> Path:
        """Where the entry ``key`` of ``kind`` is, whether or not it exists."""
        return self.root / kind / f"{key}.bin"

    def get(self, kind: str, key: str) -> bytes | None:
        path = self.path(kind, key)
        # A regular file only: a FIFO or device planted in a shared cache must not hang us.
        data = read_regular(path, MAX_ENTRY_BYTES)
        if data is None:
            return None
        payload = data[len(_MAGIC) + _DIGEST:]
        if (data[:len(_MAGIC)] != _MAGIC
                or checksum(payload) != data[len(_MAGIC):len(_MAGIC) + _DIGEST]):
            return None
        _touch(path)
        return payload

    def put(self, kind: str, key: str, payload: bytes) -> None:
        write_atomically(self.path(kind, key), [_MAGIC + checksum(payload), payload])
        self._written.add(kind)

    def written_elsewhere(self, kind: str) -> None:
        """Another process (a parser) adds entries of ``kind``: :meth:`prune` them too."""
        self._written.add(kind)

    def prune(self) -> None:
        """Drop the oldest entries of the kinds this run added to."""
        for kind in sorted(self._written):
            prune_dir(self.root / kind, LIMITS[kind], "*.bin")
        self._written.clear()


def checksum(data: bytes | Sequence[bytes]) -> bytes:
    """What tells a whole entry from a damaged one, or from half of a concurrent rewrite.

    A CRC-32: no digest keeps whoever can write the cache from making headerparse
    wrong (docs/security.md), and a cryptographic one cost four times as much (16 ms
    for a cold run's 9 MB model, which a run with nothing changed reads again).
    """
    crc = 0
    for part in [data] if isinstance(data, bytes) else data:
        crc = zlib.crc32(part, crc)
    return crc.to_bytes(_DIGEST, "big")


def write_atomically(path: Path, data: bytes | Sequence[bytes]) -> bool:
    """Write under a temporary name, then rename: concurrent readers see all or nothing.

    ``data`` may come in parts, written one after the other."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.writelines([data] if isinstance(data, bytes) else data)
        os.replace(tmp, path)
        return True
    except OSError:     # a read-only or full cache dir costs speed, never the run
        _unlink(tmp)
        return False


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def prune_dir(directory: Path, keep: int, pattern: str, *, companions: Iterable[str] = ()
              ) -> None:
    """Keep the ``keep`` newest entries matching ``pattern`` (and their companion files).

    Also drops temporary files that a killed writer left behind.
    """
    now = time.time()
    for mtime, p in _newest_first(_glob(directory, ".*.tmp")):
        if now - mtime > GRACE_SECONDS:
            _unlink(p)
    entries = _glob(directory, pattern)
    if len(entries) <= keep:
        return
    for _mtime, p in _newest_first(entries)[keep:]:
        for victim in (p, *(p.with_suffix(s) for s in companions)):
            _unlink(victim)


def _glob(directory: Path, pattern: str) -> list[Path]:
    try:
        return list(directory.glob(pattern))
    except OSError:
        return []


def _newest_first(paths: list[Path]) -> list[tuple[float, Path]]:
    out = []
    for p in paths:
        try:
            out.append((p.stat().st_mtime, p))
        except OSError:
            pass    # pruned meanwhile by a concurrent run
    return sorted(out, reverse=True)


# ------------------------------------------------------------------ sources


@dataclass
class SideJob:
    """Work that may ride along with a lexing split between processes, dealt like one
    more header of ``cost`` bytes: it then costs no time of its own.  ``ran`` says
    whether it did (only a split lexing runs it) and ``result`` is what it returned."""

    func: Callable[[], object]
    cost: int
    ran: bool = False
    result: object = None


def load_sources(files: dict[str, bytes], store: Store | None, side: SideJob | None = None,
                 docs: bool = True, split: bool = True,
                 later: list[Callable[[], None]] | None = None,
                 lexed: dict[str, HeaderSource] | None = None) -> dict[str, HeaderSource]:
    """Every header's HeaderSource, in path order; from the cache where it has them, or
    from ``lexed`` (headers :func:`code_edited` lexed, which the cache lacks).

    ``split`` False lexes in this process alone (the other core has other work), and
    then ``later``, if given, gets the keeping of each header's cache entry, for when
    this process has nothing better to do."""
    if store is None:
        return dict(zip(sorted(files), read_sources(sorted(files.items()), side=side,
                                                    docs=docs, split=split), strict=True))
    found: dict[str, HeaderSource] = {}
    keys: dict[str, str] = {}
    for path, data in sorted(files.items()):
        key = keys[path] = _source_key(path, data, docs)
        src = _load_source(store.get("sources", key), data)
        if src is not None and src.path == path:
            found[path] = src
    misses = [(path, data) for path, data in sorted(files.items()) if path not in found]
    STATS["sources.hit"] += len(found)
    STATS["sources.miss"] += len(misses)
    def keep(path: str, blob: bytes) -> None:
        store.put("sources", keys[path], blob)

    # Misses are lexed together: a cold run's many are worth a second process.
    deferred = later is not None and not split
    lexed = lexed or {}

    def add(src: HeaderSource, kept: bool) -> None:
        found[src.path] = src
        if deferred and later is not None:
            later.append(functools.partial(_keep_later, keep, src))
        elif not kept:
            _keep_later(keep, src)

    for path, _ in misses:
        if path in lexed:
            add(lexed[path], kept=False)
    for src in read_sources([m for m in misses if m[0] not in lexed],
                            None if deferred else keep, side, docs, split):
        add(src, kept=True)
    if misses:
        keep_skeletons(store, found)
    return {path: found[path] for path in sorted(files)}


def _keep_later(keep: Keep, src: HeaderSource) -> None:
    keep(src.path, source_entry(src))


def _source_key(path: str, data: bytes, docs: bool) -> str:
    code = code_hash() if docs else f"{code_hash()}-no-docs"
    h = hashlib.sha256(f"{code}\0{_SOURCE_LAYOUT}\0{path}\0".encode())
    h.update(data)
    return h.hexdigest()[:32]


def code_edited(files: dict[str, bytes], store: Store, docs: bool = True
                ) -> tuple[bool, dict[str, HeaderSource]]:
    """Whether the arches will most likely be parsed again, told before the cache is
    read: many headers to lex (a cold run), or one whose code skeleton is not the one
    its path had when the tree was last lexed (:func:`keep_skeletons`): a code edit,
    where a comment edit keeps every arch's facts.  Also the headers lexed to tell,
    for :func:`load_sources`.  (The cache is asked by name only: an entry found may
    still prove damaged.)"""
    missing = []
    for path, data in files.items():
        if not store.path("sources", _source_key(path, data, docs)).is_file():
            missing.append(path)
            if len(missing) >= _PARALLEL_LEXING:
                return True, {}
    if not missing:
        return False, {}
    from headerparse.extract.source import read_source

    last = _last_skeletons(store, files)
    lexed = {path: read_source(path, files[path], docs) for path in sorted(missing)}
    return any(last.get(path) != src.code_digest for path, src in lexed.items()), lexed


def keep_skeletons(store: Store, sources: dict[str, HeaderSource]) -> None:
    """Keep the code skeletons' digests of ``sources``, for :func:`code_edited`."""
    digests = {path: src.code_digest for path, src in sorted(sources.items())}
    store.put("skeletons", _skeletons_key(sources), json.dumps(digests).encode())


def _last_skeletons(store: Store, files: Iterable[str]) -> dict[str, str]:
    try:
        digests = json.loads(store.get("skeletons", _skeletons_key(files)) or b"{}")
    except (ValueError, RecursionError):      # damaged: as if never kept
        return {}
    return digests if isinstance(digests, dict) else {}


def _skeletons_key(paths: Iterable[str]) -> str:
    return hashlib.sha256("\0".join([code_hash(), *sorted(paths)]).encode()).hexdigest()[:32]


# Fewer headers than this to lex are not worth a second process.
_PARALLEL_LEXING = 24
Keep = Callable[[str, bytes], None]     # (path, HeaderSource as data): what to do with each


def read_sources(items: list[tuple[str, bytes]], keep: Keep | None = None,
                 side: SideJob | None = None, docs: bool = True, split: bool = True
                 ) -> list[HeaderSource]:
    """The HeaderSource of each ``(path, bytes)``, in order; a forked child lexes half of many.

    ``keep`` gets each HeaderSource in its cache form, in the process that lexed it.  A cold run
    lexes every header (0.18 s on 4.17) while the second core idles; the
    child's half comes back pickled, which costs a twentieth of lexing it.  ``side``
    runs in one of the two shares, when there are two.
    """
    if not split or len(items) < _PARALLEL_LEXING or not can_fork():
        return _read(items, keep, docs)
    n = len(items)
    # Lexing time goes with size.
    shares = deal([len(data) for _, data in items] + ([side.cost] if side else []), 2)
    if n in shares[0]:
        # The first share is this process's, which has the merge to do after the parse
        # while the child idles: the side job goes to the child.
        shares.reverse()

    def work(share: list[int]) -> tuple[list[HeaderSource], tuple[object, ...]]:
        out = _read([items[i] for i in share if i < n], keep, docs)
        return out, ((side.func(),) if side is not None and n in share else ())

    try:
        done = fork_map(work, shares)
    except WorkerFailed:        # a child that fails leaves its headers to this process
        return _read(items, keep, docs)
    for _, extra in done:
        if side is not None and extra:
            side.ran, side.result = True, extra[0]
    out = dict(zip([i for share in shares for i in share if i < n],
                   [src for part, _ in done for src in part], strict=True))
    return [out[i] for i in range(n)]


def _read(items: list[tuple[str, bytes]], keep: Keep | None, docs: bool) -> list[HeaderSource]:
    from headerparse.extract.source import read_source

    out = [read_source(p, d, docs) for p, d in items]
    if keep is not None:
        for src in out:
            keep(src.path, source_entry(src))
    return out


# What a source entry holds: the HeaderSource as plaindata of its FORMAT, but its text.
_SOURCE_LAYOUT = f"{plaindata.FORMAT}-untexted"


def source_entry(src: HeaderSource) -> bytes:
    """The cache entry of ``src``: all but its text, which the header's bytes (the
    entry's key) give back; the text is a third of the entry, and writing the entries
    is a fifth of lexing the headers."""
    return plaindata.dumps(dataclasses.replace(src, text=""))


def _load_source(blob: bytes | None, data: bytes) -> HeaderSource | None:
    if blob is None:
        return None
    return _SOURCES.get((blob, data), lambda: _decode_source(blob, data))


def _decode_source(blob: bytes, data: bytes) -> HeaderSource | None:
    from headerparse.extract.source import HeaderSource

    try:
        src = plaindata.loads(blob)
    except ValueError:  # a blob of an older layout, or not ours: re-read the header
        return None
    if not isinstance(src, HeaderSource) or src.text:
        return None
    # As read_source decodes it: the same text for UTF-8, U+FFFD for other bytes.
    src.text = data.decode("utf-8", errors="replace")
    return src


# ------------------------------------------------------------------ facts


def skeleton_digest(sources: dict[str, HeaderSource]) -> str:
    """What every arch's parse depends on in the headers: paths and code skeletons."""
    h = hashlib.sha256()
    for path in sorted(sources):
        h.update(f"{path}\0{sources[path].code_digest}\n".encode())
    return h.hexdigest()


def facts_key(skeletons: str, target: Target, headers: list[str], probes: list[str],
              defines: dict[str, str | None]) -> str:
    """Everything one arch's parse reads: the code, the headers' skeletons, the TU's inputs."""
    data = json.dumps([archfacts.FORMAT, code_hash(), clang_id(), skeletons,
                       repr(target), headers, probes, sorted(defines.items())])
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def load_facts(store: Store | None, key: str, arch: str) -> ArchFacts | None:
    if store is None:
        return None
    facts = _unmarshal_facts(store.get("facts", key))
    ok = facts is not None and facts.arch == arch
    STATS["facts.hit" if ok else "facts.miss"] += 1
    return facts if ok else None


def _unmarshal_facts(blob: bytes | None) -> ArchFacts | None:
    if blob is None:
        return None
    return _FACTS.get(blob, lambda: _decode_facts(blob))


def _decode_facts(blob: bytes) -> ArchFacts | None:
    try:
        # JSON of plain values: an entry, whoever wrote it, is data (never marshal or
        # pickle, which trust their input).
        return archfacts.decode(json.loads(blob))
    except Exception:   # noqa: BLE001 - an older layout, or not ours: parse again
        return None


def facts_entry(encoded: tuple, include_dir: Path) -> bytes | None:
    """The cache entry of facts (:func:`archfacts.encode`), as JSON; None when they name
    the materialized tree.

    Made where the facts were parsed: a worker's arches then cost the parent no
    encoding (0.02 s an arch).
    """
    data = json.dumps(encoded, separators=(",", ":")).encode()
    # The key leaves out where the tree was materialized (a temporary directory):
    # facts naming it are this run's alone and are not kept.  (A path inside a JSON
    # string is escaped character by character: its escaped form is what to look for.)
    return None if json.dumps(str(include_dir.parent))[1:-1].encode() in data else data


def save_facts(store: Store | None, key: str, entry: bytes | None) -> None:
    """Keep ``entry`` (:func:`facts_entry`) unless it is None (the facts are not portable)."""
    if store is None:
        return
    if entry is None:
        STATS["facts.unportable"] += 1
        return
    store.put("facts", key, entry)
