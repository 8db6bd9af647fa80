"""A cold extraction's parse, started before the lexing it used to wait for.

A parse needs three things from the headers: the object-like macros to probe, the
headers that ``#error`` outside the toolstack's view, and xen-compat.h's latest
interface version.  The lexer knows them exactly, after a tenth of a second;
:func:`quick_inputs` reads them off the raw bytes in a tenth of that.  So a cold run
forks its parsers at once (:class:`Speculation`) and lexes meanwhile; then it checks
the quick inputs against the lexer's.  Should they differ (a ``#define`` the quick
reading missed or saw wrongly), the parsers are stopped and the arches parsed as
before: what the model holds never depends on the guess.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headerparse import treesafe
from headerparse.extract.lexer import Define, scan_defines
from headerparse.extract.options import Options
from headerparse.parallel import Claims, Send, Streamer, WorkerFailed
from headerparse.tree import HeaderTree, TreeError

# domctl.h and sysctl.h #error unless the toolstack's view is asked for.
# (Each pattern opens with its "#", found fast, and what precedes it on its line is
# checked after (treesafe.directives): a pattern opening with ^ in multi-line mode is
# tried at every offset, ten times slower on 4.17's headers.)
_TOOLS_ONLY = re.compile(r"#\s*if\s+!\s*defined\s*\(?\s*__XEN__\s*\)?\s*&&\s*"
                         r"!\s*defined\s*\(?\s*__XEN_TOOLS__\s*\)?\s*\n\s*#\s*error")
_DEFINE = re.compile(rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(\(?)")
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


def is_tools_only(text: str) -> bool:
    """Whether ``text`` opens a line with the toolstack-only ``#if ... #error``."""
    return any(m.start() == 0 or text[m.start() - 1] == "\n"
               for m in _TOOLS_ONLY.finditer(text))


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
              for _, m in treesafe.directives(_DEFINE, _BLOCK_COMMENT.sub(b" ", data))
              if not m.group(2)}
    # The text the lexer searches: the bytes decoded as HeaderSource.text is.
    tools_only = frozenset() if options.tools else frozenset(
        p for p, data in files.items()
        if is_tools_only(data.decode("utf-8", errors="replace")))
    compat = files.get(COMPAT)
    defines = defines_for(options, scan_defines(compat.decode("utf-8", errors="replace"), COMPAT)
                          if compat is not None else None)
    return Inputs(sorted(probes), tools_only, defines)


# How much the parsers yield to the process that forked them.
_PARSERS_NICENESS = 3


class Speculation:
    """Forked parsers, all off this process's path: the first reads the quick inputs
    off ``tree``, writes it under ``spool`` for libclang (:meth:`HeaderTree.materialize`)
    and checks it (:func:`treesafe.parse_problems`); then, unless the check failed, it
    forks the others, and each parses the arches in turn, each taken when it is free,
    until none is left; and last, when this process has said the cache keys
    (:meth:`keys`), runs ``after(keys, kept)`` on what its parses kept.

    The hooks: ``ready()`` runs in the first parser before it forks the others (what
    they all need loaded); ``jobs(inputs)`` gives each arch's job; ``parse(*job)``
    gives ``(sent, kept)``: ``sent``, bytes, comes back here as they are through a file
    under ``spool`` (the pipe would hold a parser up, an arch's facts being megabytes,
    until this process, busy lexing, read them); ``kept`` stays in the parser for
    ``after``, which runs while this process merges; ``extra(kept)``, if given, is what
    a parser works out from an arch once it has parsed all it takes (:meth:`extras`).
    This process takes each arch's result (:meth:`run`), and waits for the parsers
    (:meth:`close`) or stops them (:meth:`cancel`).

    Two parsers on two cores, with this process lexing: three processes share the
    cores, so that none has the other two waiting at the end (an arch is a tenth of
    a second: with one parser, this process parsed one too, and one of the two
    always ended well before the other).
    """

    def __init__(self, tree: HeaderTree, options: Options, archs: tuple[str, ...],
                 spool: Path, jobs: Callable[[Inputs], dict[str, tuple]],
                 parse: Callable[..., tuple[bytes, Any]],
                 after: Callable[[dict[str, str], dict[str, Any]], None],
                 ready: Callable[[], None] = lambda: None, parsers: int = 2,
                 extra: Callable[[Any], Any] | None = None) -> None:
        self.arches = list(archs)
        self.include_dir = tree.materialized_path(spool)
        self._claims = Claims(len(archs))
        self._keys_read, self._keys_write = os.pipe()
        self._keys_file = spool / "keys.pickle"
        parsers = max(1, min(parsers, len(archs)))
        self._extra = extra is not None
        self._extras: dict[str, str] = {}      # arch -> path of its extra, as announced

        def parse_all(todo: dict[str, tuple], send: Send) -> None:
            kept = {}
            while (i := self._claims.take()) is not None:
                arch = self.arches[i]
                sent, kept[arch] = parse(*todo[arch])
                # As they are: pickled, they were copied once more on each side.
                path = spool / f"facts-{i}.bin"
                path.write_bytes(sent)
                send((arch, str(path)))
            for arch, k in kept.items() if extra is not None else ():
                path = spool / f"extra-{arch}.pickle"
                path.write_bytes(pickle.dumps(extra(k), protocol=pickle.HIGHEST_PROTOCOL))
                send(("extra", arch, str(path)))
            # The keys come in a file, once this process closes the pipe: every parser
            # reads them.
            with os.fdopen(os.dup(self._keys_read), "rb") as pipe:
                pipe.read()
            if kept and self._keys_file.exists():
                after(pickle.loads(self._keys_file.read_bytes()), kept)

        def work(send: Send) -> None:
            os.close(self._keys_write)
            # Three processes on two cores: the parent's share was a third, and it ended
            # its lexing, reading and documenting well after the parsers ended.
            os.nice(_PARSERS_NICENESS)
            inputs = quick_inputs(tree.files, options)
            tree.materialize(spool)
            problem = next(iter(treesafe.parse_problems(tree.files)), None)
            send((problem, inputs))
            if problem is not None:
                return
            todo = jobs(inputs)
            ready()
            others = [send.fork(lambda: parse_all(todo, send)) for _ in range(parsers - 1)]
            parse_all(todo, send)
            for pid in others:
                _, status = os.waitpid(pid, 0)
                if status != 0:
                    raise WorkerFailed(f"a parser died (exit status "
                                       f"{os.waitstatus_to_exitcode(status)})")
            # Every parse is over: the tree goes now, while this process's parent merges,
            # rather than at the end of its run (a twentieth of its single-core end).
            shutil.rmtree(self.include_dir.parent, ignore_errors=True)

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
        """Hand the parsers the cache keys of the arches (None: keep nothing)."""
        fd, self._keys_write = self._keys_write, -1
        if fd < 0:
            return
        try:
            if keys is not None:
                self._keys_file.write_bytes(pickle.dumps(keys, protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            os.close(fd)

    def run(self, parsed: Callable[[str, bytes], None], idle: list[Callable[[], None]]) -> None:
        """Hand each arch's result to ``parsed`` as it comes, doing the ``idle`` jobs, first
        to last, while none is there to take; ``parsed`` may add jobs to ``idle``, which
        ends empty."""
        left = len(self.arches)
        while left:
            if idle and not self._worker.ready():
                idle.pop(0)()
                continue
            got = self._next("its arches were parsed")
            if self._noted(got):
                continue
            arch, path = got
            parsed(arch, _take(Path(path)))
            left -= 1
        while idle:
            idle.pop(0)()

    def extras(self) -> dict[str, Any]:
        """Each arch's ``extra``, once the parsers have sent them all (after :meth:`run`)."""
        while self._extra and len(self._extras) < len(self.arches):
            self._noted(self._next("it sent what it works out after the parse"))
        return {arch: pickle.loads(_take(Path(path))) for arch, path in self._extras.items()}

    def _noted(self, got: tuple) -> bool:
        """Whether ``got`` announces an arch's extra, which is then kept for :meth:`extras`."""
        if got[0] != "extra":
            return False
        self._extras[got[1]] = got[2]
        return True

    def _next(self, before: str) -> tuple:
        got = self._worker.next()
        if got is None:
            raise WorkerFailed(f"worker ended before {before}")
        return got      # type: ignore[return-value]

    def close(self) -> None:
        """Wait for the parsers to finish what they do after the parse."""
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


def _take(path: Path) -> bytes:
    """The bytes a parser left in ``path``, which goes: read once, it is one file less for
    the end of the run to remove."""
    data = path.read_bytes()
    path.unlink()
    return data
