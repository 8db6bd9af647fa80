"""Command line: ``headerparse SUBCOMMAND``.

Exit codes (documented in the README): 0 success; 1 the input has errors
(a header that fails to compile, findings at or above the threshold);
2 usage or input error (no such tree, unknown symbol, bad option).

Every command lives in the module of its family, which has a ``register(sub)``
adding its parsers; :data:`FAMILIES` lists them all, in ``--help`` order, and
:data:`COMMANDS` says which family has each command: a run imports and registers
its command's family alone (building every family's parsers and importing their
modules cost 7-8 ms of every start), ``--help`` and a mistyped command all of them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType, ModuleType

from headerparse import __version__
from headerparse.cli.common import EXIT_OK, EXIT_USAGE, UsageError
from headerparse.safeio import (
    EscapingWriter,
    InputTooLarge,
    OutputError,
    Terminated,
    request_stop,
)

FAMILIES = ("extract", "show", "check", "conform", "annotations", "site", "history")
# Each command's family (tests/test_cli.py checks it against what the families register).
COMMANDS = {"extract": "extract", "fetch": "extract", "show": "show", "layout": "show",
            "check": "check", "review": "check", "conform": "conform",
            "fetch-consumer": "conform", "annotations": "annotations", "build": "site",
            "history": "history"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``argv``'s command (its family's commands), or of every command."""
    parser = argparse.ArgumentParser(
        prog="headerparse", description="The Xen public headers as an ABI: docs and checks.")
    parser.add_argument("--version", action="version", version=f"headerparse {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    # The command is the first word that is not an option (the top level's are all flags).
    command = next((a for a in argv or () if not a.startswith("-")), None)
    for family in (COMMANDS[command],) if command in COMMANDS else FAMILIES:
        _family(family).register(sub)
    return parser


def _family(name: str) -> ModuleType:
    """The module of the family ``name``, imported now (by a statement each: the import
    graph is read off them)."""
    match name:
        case "extract":
            from headerparse.cli import extract as module
        case "show":
            from headerparse.cli import show as module
        case "check":
            from headerparse.cli import check as module
        case "conform":
            from headerparse.cli import conform as module
        case "annotations":
            from headerparse.cli import annotations as module
        case "site":
            from headerparse.cli import site as module
        case "history":
            from headerparse.cli import history as module
        case _:
            raise ValueError(f"no command family {name!r}")
    return module


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Once: a second signal during the clean-up must not interrupt it.
    signal.signal(signum, signal.SIG_IGN)
    request_stop(signum)
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> int:
    # Signal handlers can only be set in the main thread (an embedding caller's may not be).
    main_thread = threading.current_thread() is threading.main_thread()
    handlers = {s: signal.getsignal(s) for s in _UNWINDING} if main_thread else {}
    saved = sys.stdout, sys.stderr, handlers
    for signum in handlers:
        signal.signal(signum, _terminate)
    # Text a person reads never carries terminal control sequences from the input.
    sys.stdout = EscapingWriter(sys.stdout)     # type: ignore[assignment]
    sys.stderr = EscapingWriter(sys.stderr)     # type: ignore[assignment]
    try:
        argv = sys.argv[1:] if argv is None else argv
        return _run(build_parser(argv).parse_args(argv))
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        for signum, handler in saved[2].items():
            signal.signal(signum, handler)


_UNWINDING = (signal.SIGTERM, signal.SIGHUP)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except (UsageError, OutputError, InputTooLarge) as exc:
        print(f"headerparse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # A full disk, a read-only cache, a vanished file: one line, never a traceback.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"headerparse: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("headerparse: error: the input is nested too deeply", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Terminated as exc:
        return 128 + exc.signum
