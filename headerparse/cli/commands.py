"""Command line: ``headerparse SUBCOMMAND``.

Exit codes (documented in the README): 0 success; 1 the input has errors
(a header that fails to compile, findings at or above the threshold);
2 usage or input error (no such tree, unknown symbol, bad option).

Every command lives in the module of its family, which has a ``register(sub)``
adding its parsers; :data:`FAMILIES` lists them all, in ``--help`` order.
"""

from __future__ import annotations

import argparse
import sys

from headerparse import __version__
from headerparse.cli import annotations, check, extract, show, site
from headerparse.cli.common import EXIT_OK, EXIT_USAGE, UsageError
from headerparse.history import cli as history

FAMILIES = (extract, show, check, annotations, site, history)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headerparse", description="The Xen public headers as an ABI: docs and checks.")
    parser.add_argument("--version", action="version", version=f"headerparse {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for family in FAMILIES:
        family.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"headerparse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
