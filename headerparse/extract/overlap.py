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

import pickle
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headerparse import treesafe
from headerparse.extract.lexer import Define, scan_defines
from headerparse.extract.options import Options
from headerparse.parallel import Claims, Send, Streamer

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
    """A forked worker that checks the tree (:func:`treesafe.parse_problems`), then parses
    the arches of ``jobs`` in turn, each taken when it is free, until none is left.

    ``parse(*jobs[arch])`` runs in the worker and gives what it sends back, through a
    file under ``spool``: the pipe would hold the worker up (an arch's facts are
    megabytes) until this process, busy lexing and parsing, read them.  This process
    takes its own share later (:meth:`run`), or stops the worker (:meth:`cancel`).
    """

    def __init__(self, files: dict[str, bytes], jobs: dict[str, tuple], inputs: Inputs,
                 parse: Callable[..., Any], spool: Path) -> None:
        self.jobs, self.inputs = jobs, inputs
        self.arches = arches = list(jobs)
        self._claims = Claims(len(arches))

        def work(send: Send) -> None:
            send(next(iter(treesafe.parse_problems(files)), None))
            while (i := self._claims.take()) is not None:
                path = spool / f"facts-{i}.pickle"
                path.write_bytes(pickle.dumps(parse(*jobs[arches[i]]),
                                              protocol=pickle.HIGHEST_PROTOCOL))
                send((arches[i], str(path)))

        self._worker = Streamer(work)
        self._problem: tuple[str | None] | None = None

    def matches(self, inputs: Inputs) -> bool:
        return inputs == self.inputs

    def problem(self) -> str | None:
        """Why the tree must not be parsed (the worker's check), or None."""
        if self._problem is None:
            self._problem = (self._worker.next(),)      # the worker's first message
        return self._problem[0]

    def run(self, parse_here: Callable[..., Any], parsed: Callable[[str, Any], None]) -> None:
        """Parse the arches left here (``parse_here(*job)``), then hand each arch's result
        to ``parsed``, this process's and then the worker's."""
        try:
            while (i := self._claims.take()) is not None:
                arch = self.arches[i]
                parsed(arch, parse_here(*self.jobs[arch]))
            while (got := self._worker.next()) is not None:
                arch, path = got
                parsed(arch, pickle.loads(Path(path).read_bytes()))
        finally:
            self.cancel()

    def cancel(self) -> None:
        self._worker.kill()
        self._claims.close()
