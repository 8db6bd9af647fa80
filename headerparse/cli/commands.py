"""Command line: ``headerparse SUBCOMMAND``.

Exit codes (documented in the README): 0 success; 1 the input has errors
(a header that fails to compile, findings at or above the threshold);
2 usage or input error (no such tree, unknown symbol, bad option).

Every command lives in the module of its family, which has a ``register(sub)``
adding its parsers; :data:`FAMILIES` lists them all, in ``--help`` order.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from headerparse import __version__
from headerparse.cli import annotations, check, conform, extract, history, show, site
from headerparse.cli.common import EXIT_OK, EXIT_USAGE, UsageError
from headerparse.safeio import (
    EscapingWriter,
    InputTooLarge,
    OutputError,
    Terminated,
    request_stop,
)

FAMILIES = (extract, show, check, conform, annotations, site, history)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headerparse", description="The Xen public headers as an ABI: docs and checks.")
    parser.add_argument("--version", action="version", version=f"headerparse {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for family in FAMILIES:
        family.register(sub)
    return parser


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
        return _run(build_parser().parse_args(argv))
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
