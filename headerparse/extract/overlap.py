"""A cold extraction's parse, started before the lexing it used to wait for.

A parse needs three things from the headers: the object-like macros to probe, the
headers that ``#error`` outside the toolstack's view, and xen-compat.h's latest
interface version.  The lexer knows them exactly, after a quarter of a second;
:func:`quick_inputs` reads them off the raw bytes in a hundredth of that.  So a
cold run forks a parsing worker at once (:class:`Speculation`) and lexes meanwhile;
then it checks the quick inputs against the lexer's, and parses the arches the
worker has not taken.  Should they differ (a ``#define`` the quick reading missed
or saw wrongly), the worker is stopped and the arches parsed as before: what the
model holds never depends on the guess.
"""

from __future__ import annotations

import os
import pickle
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headerparse import treesafe
from headerparse.extract.lexer import Define, scan_defines
from headerparse.extract.options import Options
from headerparse.parallel import Claims, Send, Streamer, WorkerFailed
from headerparse.tree import HeaderTree, TreeError

# domctl.h and sysctl.h #error unless the toolstack's view is asked for.
TOOLS_ONLY = re.compile(r"^#\s*if\s+!\s*defined\s*\(?\s*__XEN__\s*\)?\s*&&\s*"
                        r"!\s*defined\s*\(?\s*__XEN_TOOLS__\s*\)?\s*\n\s*#\s*error", re.M)
_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\(?)", re.M)
# Enough for the guess: a comment's "#define" (an obsolete value) is no definition.
_BLOCK_COMMENT = re.compile(rb"/\*.*?\*/", re.S)
COMPAT = "xen-compat.h"
# Speculations of this process: "started", and "dropped" when the guess was wrong or
# the cache held the facts (what the tests assert on).
STATS: Counter[str] = Counter()


@dataclass(frozen=True)
class Inputs:
    """What a parse takes from the headers besides the tree itself."""

    probes: list[str]                    # object-like macro names, sorted
    tools_only: frozenset[str]           # headers left out of the guest view
    defines: dict[str, str | None]       # -D options


def defines_for(options: Options, compat: list[Define] | None) -> dict[str, str | None]:
    """The -D options of a parse; ``compat`` is xen-compat.h's defines (None: no such header)."""
    out: dict[str, str | None] = {}
    if options.tools:
        out["__XEN_TOOLS__"] = None
    version = options.interface_version
    if version is None and not options.tools:
        for d in compat or ():
            if d.name == "__XEN_LATEST_INTERFACE_VERSION__":
                version = d.body
    if version is not None:
        out["__XEN_INTERFACE_VERSION__"] = version
    out.update(dict(options.extra_defines))
    return out


def quick_inputs(files: dict[str, bytes], options: Options) -> Inputs:
    """The lexer's :class:`Inputs`, as far as the raw bytes tell (a guess, checked later)."""
    probes = {m.group(1).decode() for data in files.values()
              for m in _DEFINE.finditer(_BLOCK_COMMENT.sub(b" ", data)) if not m.group(2)}
    # The text the lexer searches: the bytes decoded as HeaderSource.text is.
    tools_only = frozenset() if options.tools else frozenset(
        p for p, data in files.items()
        if TOOLS_ONLY.search(data.decode("utf-8", errors="replace")))
    compat = files.get(COMPAT)
    defines = defines_for(options, scan_defines(compat.decode("utf-8", errors="replace"), COMPAT)
                          if compat is not None else None)
    return Inputs(sorted(probes), tools_only, defines)


class Speculation:
    """A forked worker that reads the quick inputs off ``tree``, writes it under ``spool``
    for libclang (:meth:`HeaderTree.materialize`) and checks it
    (:func:`treesafe.parse_problems`), all off this process's path; then, unless the
    check failed, parses the arches in turn, each taken when it is free, until none is
    left; and last, when this process has said the cache keys (:meth:`keys`), runs
    ``after(keys, kept)`` on what its parses kept.

    ``jobs(inputs)`` gives each arch's job; ``parse(*job)`` gives ``(sent, kept)``:
    ``sent`` comes back here through a file under ``spool`` (the pipe would hold the
    worker up, an arch's facts being megabytes, until this process, busy lexing and
    parsing, read them); ``kept`` stays in the worker for ``after``, which runs while
    this process merges.  This process takes its own share later (:meth:`run`), and
    waits for the worker (:meth:`close`) or stops it (:meth:`cancel`).
    """

    def __init__(self, tree: HeaderTree, options: Options, archs: tuple[str, ...],
                 spool: Path, jobs: Callable[[Inputs], dict[str, tuple]],
                 parse: Callable[..., tuple[Any, Any]],
                 after: Callable[[dict[str, str], dict[str, Any]], None]) -> None:
        self.arches = list(archs)
        self.include_dir = tree.materialized_path(spool)
        self._claims = Claims(len(archs))
        self._keys_read, self._keys_write = os.pipe()
        keys_read = self._keys_read

        def work(send: Send) -> None:
            os.close(self._keys_write)
            inputs = quick_inputs(tree.files, options)
            tree.materialize(spool)
            problem = next(iter(treesafe.parse_problems(tree.files)), None)
            send((problem, inputs))
            if problem is not None:
                return
            todo, kept = jobs(inputs), {}
            while (i := self._claims.take()) is not None:
                arch = self.arches[i]
                sent, kept[arch] = parse(*todo[arch])
                path = spool / f"facts-{i}.pickle"
                path.write_bytes(pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
                send((arch, str(path)))
            with os.fdopen(keys_read, "rb") as pipe:
                said = pipe.read()
            if said:
                after(pickle.loads(said), kept)

        self._worker = Streamer(work)
        os.close(self._keys_read)
        self._first: tuple[str | None, Inputs] | None = None
        self._over = False

    def _ready(self) -> tuple[str | None, Inputs]:
        if self._first is None:
            try:
                self._first = self._worker.next()       # type: ignore[assignment]
            except WorkerFailed as exc:
                if isinstance(exc.error, TreeError):    # the tree could not be written
                    raise exc.error from None
                raise
            if self._first is None:
                raise WorkerFailed("worker ended without a word")
        return self._first

    def matches(self, inputs: Inputs) -> bool:
        return inputs == self._ready()[1]

    def problem(self) -> str | None:
        """Why the tree must not be parsed (the worker's check), or None."""
        return self._ready()[0]

    def keys(self, keys: dict[str, str] | None) -> None:
        """Hand the worker the cache keys of the arches (None: keep nothing)."""
        fd, self._keys_write = self._keys_write, -1
        if fd < 0:
            return
        try:
            if keys is not None:
                os.write(fd, pickle.dumps(keys, protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            os.close(fd)

    def run(self, jobs: dict[str, tuple], parse_here: Callable[..., Any],
            parsed: Callable[[str, Any], None], idle: Iterable[Callable[[], None]] = ()
            ) -> None:
        """Parse arches here (``parse_here(*jobs[arch])``) while the worker has others
        left, then hand each arch's result to ``parsed``, this process's and then the
        worker's, doing the ``idle`` jobs while none of the worker's is there to take."""
        left = len(self.arches)
        # The last arch is left to the worker: this process has the merge ahead, the
        # worker's arches to read, and the idle jobs, which the worker cannot share.
        while (left == len(self.arches) or self._claims.left() > 1) and (
                i := self._claims.take()) is not None:
            arch = self.arches[i]
            parsed(arch, parse_here(*jobs[arch]))
            left -= 1
        waiting = iter(idle)
        while left:
            if not self._worker.ready() and (job := next(waiting, None)) is not None:
                job()
                continue
            got = self._worker.next()
            if got is None:
                raise WorkerFailed("worker ended before its arches were parsed")
            arch, path = got        # type: ignore[misc]
            parsed(arch, pickle.loads(Path(path).read_bytes()))
            left -= 1
        for job in waiting:
            job()

    def close(self) -> None:
        """Wait for the worker to finish what it does after the parse."""
        self.keys(None)
        try:
            while not self._over and self._worker.next() is not None:
                pass
        finally:
            self.cancel()

    def cancel(self) -> None:
        self._over = True
        self.keys(None)
        self._worker.kill()
        self._claims.close()
