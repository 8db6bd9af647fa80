"""Command line: ``headerparse SUBCOMMAND``.

Exit codes (documented in the README): 0 success; 1 the input has errors
(a header that fails to compile, findings at or above the threshold);
2 usage or input error (no such tree, unknown symbol, bad option).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headerparse import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A user-facing error: printed as one line, exit 2."""


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    def say(msg: str) -> None:
        if not getattr(args, "quiet", False):
            print(f"headerparse: {msg}", file=sys.stderr, flush=True)
    return say


def add_tree_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tree", help="Xen checkout, public include dir or installed include dir "
                   "(default: Debian's libxen-dev headers, fetched into the cache)")
    p.add_argument("--rev", help="read the headers at this git revision of --tree")
    p.add_argument("--arch", help="comma-separated arches (default: x86_32,x86_64,arm32,arm64 "
                   "and riscv64/ppc64 when the tree has them)")
    p.add_argument("--no-tools", action="store_true",
                   help="the guest view: do not define __XEN_TOOLS__")
    p.add_argument("--interface-version", help="value of __XEN_INTERFACE_VERSION__")
    p.add_argument("--no-cache", action="store_true", help="do not use the model cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")


def load_model(args: argparse.Namespace) -> Any:
    """Open the tree and extract the model, printing header diagnostics to stderr."""
    from headerparse.extract import ExtractError, extract
    from headerparse.tree import TreeError, cache_dir, open_tree

    say = _progress(args)
    try:
        tree = open_tree(args.tree, args.rev, progress=say)
        model = extract(tree, _options(args), progress=say,
                        cache=None if args.no_cache else cache_dir())
    except (TreeError, ExtractError) as exc:
        raise UsageError(str(exc)) from exc
    report(model.diagnostics)
    return model


def report(diagnostics: Any) -> bool:
    """Print errors and warnings to stderr; True when there is an error."""
    for d in diagnostics:
        if d.severity in ("error", "warning"):
            print(d.render(), file=sys.stderr)
    return any(d.severity == "error" for d in diagnostics)


def cmd_extract(args: argparse.Namespace) -> int:
    from headerparse.model import model_json_text

    # The cache keeps the compact form only: --pretty is never a copy of it.
    compact = not args.pretty
    hit = _cached_extract(args) if compact and not args.no_cache and args.json != "-" else None
    if hit is not None:
        return hit
    model = load_model(args)
    errors = any(d.severity == "error" for d in model.diagnostics)
    data = model_json_text(model, indent=1 if args.pretty else None)
    if compact and not args.no_cache:
        from headerparse.extract import store_json
        from headerparse.tree import cache_dir

        # What is written below, byte for byte: a later copy equals a fresh run.
        store_json(model, _options(args), cache_dir(), data + "\n")
    if args.json == "-":
        sys.stdout.write(data + "\n")
    else:
        _write_atomically(Path(args.json), data + "\n")
        _progress(args)(f"wrote {args.json}: {len(model.records)} records, "
                        f"{len(model.macros)} macros, {len(model.hypercalls)} hypercalls")
    return EXIT_FINDINGS if errors else EXIT_OK


def _cached_extract(args: argparse.Namespace) -> int | None:
    """Copy the cached model JSON when the tree is unchanged; None when not cached."""
    from headerparse.extract import ExtractError, cached_json
    from headerparse.tree import TreeError, cache_dir, open_tree

    try:
        tree = open_tree(args.tree, args.rev, progress=_progress(args))
        hit = cached_json(tree, _options(args), cache_dir())
    except (TreeError, ExtractError) as exc:
        raise UsageError(str(exc)) from exc
    if hit is None:
        return None
    path, diags = hit
    errors = report(diags)
    tmp = Path(args.json + ".tmp")
    shutil.copyfile(path, tmp)
    tmp.replace(args.json)
    _progress(args)(f"wrote {args.json} (unchanged tree: served from the cache)")
    return EXIT_FINDINGS if errors else EXIT_OK


def _options(args: argparse.Namespace) -> Any:
    from headerparse.extract import Options

    archs = tuple(a.strip() for a in args.arch.split(",") if a.strip()) if args.arch else None
    return Options(archs=archs, tools=not args.no_tools, interface_version=args.interface_version)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def cmd_show(args: argparse.Namespace) -> int:
    from headerparse.show import show

    model = load_model(args)
    status = EXIT_OK
    for name in args.names:
        lines = show(model, name)
        if lines is None:
            print(f"headerparse: no symbol named {name!r} in {model.tree}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        print("\n".join(lines))
        print()
    return status


def cmd_layout(args: argparse.Namespace) -> int:
    from headerparse.layout import layout_json, layout_text

    model = load_model(args)
    if args.all:
        records = list(model.records)
    else:
        if not args.names:
            raise UsageError("layout needs type names or --all")
        records = []
        for name in args.names:
            hits = model.records_named(name)
            if not hits:
                raise UsageError(f"no struct or union named {name!r} in {model.tree}")
            records += hits
    archs = model.archs
    if args.format == "json":
        docs = [layout_json(model, records, a) for a in archs]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
        return EXIT_OK
    for r in records:
        for a in archs:
            lay = r.layout(a)
            if lay is not None:
                print(layout_text(r, lay))
                print()
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from headerparse.tree import TreeError, fetch_debian_headers

    try:
        path = fetch_debian_headers(args.suite, progress=_progress(args))
    except TreeError as exc:
        raise UsageError(str(exc)) from exc
    print(path)
    return EXIT_OK


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "extract": (cmd_extract, "write the model of a tree as JSON"),
    "show": (cmd_show, "everything known about a symbol"),
    "layout": (cmd_layout, "per-arch layout of structs and unions, pahole style"),
    "fetch": (cmd_fetch, "fetch Debian's libxen-dev headers into the cache"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headerparse", description="The Xen public headers as an ABI: docs and checks.")
    parser.add_argument("--version", action="version", version=f"headerparse {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help=COMMANDS["extract"][1])
    add_tree_options(p)
    p.add_argument("--json", required=True, metavar="FILE", help="output file, - for stdout")
    p.add_argument("--pretty", action="store_true")
    p = sub.add_parser("show", help=COMMANDS["show"][1])
    add_tree_options(p)
    p.add_argument("names", nargs="+", metavar="NAME")
    p = sub.add_parser("layout", help=COMMANDS["layout"][1])
    add_tree_options(p)
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p = sub.add_parser("fetch", help=COMMANDS["fetch"][1])
    p.add_argument("--suite", help="Debian suite (default: this machine's)")
    p.add_argument("-q", "--quiet", action="store_true")
    for hook in EXTRA_COMMANDS:
        hook(sub)
    return parser


# Later stages register their subcommands here: f(subparsers) adds a parser
# whose defaults carry ``func``.
EXTRA_COMMANDS: list[Callable[[Any], None]] = []


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or COMMANDS[args.command][0]
    try:
        return func(args)
    except UsageError as exc:
        print(f"headerparse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _load_plugins() -> None:
    # Subcommands of later stages live in their own modules; importing them
    # registers them. A missing optional module is not an error.
    import importlib

    for name in ("headerparse.annotations_cli", "headerparse.check_cli", "headerparse.site_cli"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
