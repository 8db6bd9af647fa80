"""``headerparse history``: since, backports, removed and changed for every symbol.

Exit codes: 0 done (a release that could not be read is reported on stderr, not
fatal); 2 usage or input error (not a git repository, no matching tag, libclang
missing, output not writable).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

# Not from headerparse.history, which every other command would import then.
from headerparse.paths import RELEASE_TAGS as DEFAULT_PATTERN

HELP = "since, removed-in and changed-in of every symbol, from a git tree's release tags"


def register(sub: Any) -> None:
    p = sub.add_parser("history", help=HELP, description=HELP)
    p.add_argument("--tree", default=".", help="a Xen git repository (default: the current dir)")
    p.add_argument("--revs", action="append", metavar="PATTERN",
                   help=f"tags to read, a git ref glob (default: {DEFAULT_PATTERN}); repeatable")
    p.add_argument("--arch", help="comma-separated arches to read (default: each release's: "
                   "x86 always, Arm from 4.2, PPC from 4.18, RISC-V from 4.19)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the caches")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    # The fold's state and the history are a few hundred thousand small objects, none in
    # cycles: the collector's passes over them were a tenth of adding one release.
    gc.disable()
    try:
        return _history(args)
    finally:
        gc.enable()


def _history(args: argparse.Namespace) -> int:
    from headerparse.extract import Options
    from headerparse.history.run import HistoryError, build_history
    from headerparse.targets import TARGETS
    from headerparse.tree import cache_dir

    say = (lambda _m: None) if args.quiet else (
        lambda m: print(f"headerparse: {m}", file=sys.stderr, flush=True))
    repo = Path(args.tree)
    if not repo.is_dir():
        return _fail(f"--tree {args.tree}: no such directory")
    archs = tuple(a.strip() for a in (args.arch or "").split(",") if a.strip())
    unknown = [a for a in archs if a not in TARGETS]
    if unknown:
        return _fail(f"unknown arch {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    try:
        outcome = build_history(repo, tuple(args.revs or (DEFAULT_PATTERN,)),
                                cache=None if args.no_cache else cache_dir(), progress=say,
                                options=Options(archs=archs or None))
    except HistoryError as exc:
        return _fail(str(exc))
    for problem in outcome.problems:
        print(f"headerparse: warning: {problem}", file=sys.stderr)
    history = outcome.history
    say(f"{len(history['releases'])} releases, {len(history['symbols'])} symbols "
        f"({outcome.mode}; {outcome.extracted} tree(s) extracted)")
    if args.format == "json":
        text = to_json(history)
    else:
        text = to_text(history)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror}")
    else:
        sys.stdout.write(text)
    return 0


def _fail(message: str) -> int:
    print(f"headerparse: error: {message}", file=sys.stderr)
    return 2


def to_json(history: dict[str, Any]) -> str:
    """The history as JSON, one symbol a line (diffable), at the C encoder's speed.

    ``json.dumps`` with an indent runs a pure-Python encoder (0.7 s on Xen's 17,000
    symbols, a third of adding a release), one call per symbol a quarter of that.
    So the symbols are encoded in one call and the line breaks put in after: an
    entry ends with its ``changed`` list, so ``]}, "`` only ever separates two
    entries (the names and change texts are identifiers, numbers and type names);
    should a text ever hold it, the slow way is taken.
    """
    head = {k: v for k, v in history.items() if k != "symbols"}
    symbols = json.dumps(history["symbols"])
    if symbols.count(']}, "') == max(len(history["symbols"]) - 1, 0):
        body = symbols[1:-1].replace(']}, "', ']},\n "')
    else:
        body = ",\n ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                           for k, v in history["symbols"].items())
    lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    lines.append('"symbols": {\n ' + body + "\n}" if body else '"symbols": {}')
    return "{\n" + ",\n".join(lines) + "\n}\n"


def to_text(history: dict[str, Any]) -> str:
    """One line per symbol: name, kind, since, backports, removed, changes."""
    releases = history["releases"]
    lines = [f"# {len(releases)} releases: {', '.join(releases)}"]
    for name, e in history["symbols"].items():
        parts = [f"since {e['since'] or '-'}"]
        if e["backports"]:
            parts.append(f"backports {','.join(e['backports'])}")
        if e["removed"]:
            parts.append(f"removed {e['removed']}")
        parts += [f"changed {c['release']} [{','.join(c['archs'])}] {c['what']}"
                  for c in e["changed"]]
        lines.append(f"{name} ({e['kind']}): {'; '.join(parts)}")
    return "\n".join(lines) + "\n"
