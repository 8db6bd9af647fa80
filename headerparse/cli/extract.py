"""``headerparse extract`` (the model as JSON) and ``headerparse fetch`` (Debian's headers)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING, Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    add_tree_options,
    extract_options,
    leave_fast,
    load_model,
    load_model_json,
    open_args_tree,
    progress,
    report,
)
from headerparse.parallel import alongside
from headerparse.safeio import check_output_file, write_output

if TYPE_CHECKING:
    from headerparse.tree import HeaderTree


def register(sub: Any) -> None:
    p = sub.add_parser("extract", help="write the model of a tree as JSON")
    add_tree_options(p)
    p.add_argument("--json", required=True, metavar="FILE", help="output file, - for stdout")
    p.add_argument("--pretty", action="store_true")
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("fetch", help="fetch Debian's libxen-dev headers into the cache")
    p.add_argument("--suite", help="Debian suite (default: this machine's)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_fetch)


def cmd_extract(args: argparse.Namespace) -> int:
    from headerparse.extract import store_json
    from headerparse.model import model_json_text
    from headerparse.tree import cache_dir

    if args.json != "-":
        check_output_file(args.json)    # before the work: a bad name is known now
    # The cache keeps the compact form only: --pretty is never a copy of it.
    compact = not args.pretty
    cached = compact and not args.no_cache
    # Read once: reading and hashing the headers is a hundredth of a second.
    tree = open_args_tree(args)
    hit = _cached_extract(args, tree) if cached and args.json != "-" else None
    if hit is not None:
        return hit
    held: list[object] = []     # the run's workings, left to the OS with the model
    if compact:
        model, parts = load_model_json(args, tree, held)
    else:
        model = load_model(args, tree)[1]
        parts = [model_json_text(model, indent=1)]
    leave_fast(model, held)
    errors = any(d.severity == "error" for d in model.diagnostics)
    # The JSON is ASCII (ensure_ascii): its bytes once, for both files (9 MB on 4.17).
    data = _chunks([*parts, "\n"]) if cached or args.json != "-" else []
    # What is written below, byte for byte: a later copy equals a fresh run.  Kept
    # while the output is written: both are system calls, and so is the checksum.
    stored = alongside(lambda: store_json(model, extract_options(args), cache_dir(), data)
                       ) if cached else lambda: None
    try:
        if args.json == "-":
            sys.stdout.writelines([*parts, "\n"])
        else:
            write_output(args.json, data)
            progress(args)(f"wrote {args.json}: {len(model.records)} records, "
                           f"{len(model.macros)} macros, {len(model.hypercalls)} hypercalls")
    except BaseException:
        # The output's error is the one to report; the cache copy is only waited for.
        with contextlib.suppress(Exception):
            stored()
        raise
    stored()
    return EXIT_FINDINGS if errors else EXIT_OK


def _chunks(parts: list[str], size: int = 1 << 20) -> list[bytes]:
    """``parts`` (17,000 on 4.17) as the ASCII bytes of about ``size`` characters each:
    a few large buffers are written and checksummed without the GIL, in one call each."""
    out: list[bytes] = []
    group: list[str] = []
    n = 0
    for part in parts:
        group.append(part)
        n += len(part)
        if n >= size:
            out.append("".join(group).encode("ascii"))
            group, n = [], 0
    if group:
        out.append("".join(group).encode("ascii"))
    return out


def _cached_extract(args: argparse.Namespace, tree: HeaderTree) -> int | None:
    """Copy the cached model JSON when the tree is unchanged; None when not cached."""
    from headerparse.extract import ExtractError, cached_json
    from headerparse.tree import cache_dir

    try:
        hit = cached_json(tree, extract_options(args), cache_dir())
    except ExtractError as exc:
        raise UsageError(str(exc)) from exc
    if hit is None:
        return None
    data, diags = hit
    errors = report(diags)
    write_output(args.json, data)
    progress(args)(f"wrote {args.json} (unchanged tree: served from the cache)")
    return EXIT_FINDINGS if errors else EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    from headerparse.tree import TreeError, fetch_debian_headers

    try:
        path = fetch_debian_headers(args.suite, progress=progress(args))
    except TreeError as exc:
        raise UsageError(str(exc)) from exc
    print(path)
    return EXIT_OK
