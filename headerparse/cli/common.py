"""What every command shares: tree options, progress, errors and the stages' inputs.

Each helper here turns a library error into :class:`UsageError` (exit 2) in one place,
so that no command tells a bad tree, arch or annotation directory differently.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from headerparse.extract import ExtractError, Options, extract, extract_json
from headerparse.model import Diagnostic, Model
from headerparse.safeio import escape_controls, write_output
from headerparse.tree import HeaderTree, TreeError, cache_dir, open_tree

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
Progress = Callable[[str], None]


class UsageError(Exception):
    """A user-facing error: printed as one line, exit 2."""


def progress(args: argparse.Namespace) -> Progress:
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


def add_annotation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--annotations", metavar="DIR",
                   help="annotation files (default: $HEADERPARSE_ANNOTATIONS, else the "
                   "source/annotations/ of headerparse)")


_INTERFACE_VERSION = re.compile(r"0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10}")


def extract_options(args: argparse.Namespace) -> Options:
    version = args.interface_version
    if version is not None and not _INTERFACE_VERSION.fullmatch(version):
        # It lands in a -D of every parse: junk there is a compile error per header at best.
        raise UsageError(f"--interface-version {version!r} is not a number such as 0x00040e00")
    archs = tuple(a.strip() for a in args.arch.split(",") if a.strip()) if args.arch else None
    return Options(archs=archs, tools=not args.no_tools, interface_version=args.interface_version)


def tree_at(path: str | None, rev: str | None, say: Progress | None = None) -> HeaderTree:
    try:
        return open_tree(path, rev, progress=say)
    except TreeError as exc:
        raise UsageError(str(exc)) from exc


# Set by a command whose heap is big and all its own (``build``, ``extract``):
# ``python -m headerparse`` then exits without freeing it object by object.
LEAVE_FAST: list[object] = []


def leave_fast(*keep: object) -> None:
    """Let ``python -m headerparse`` leave this run's heap to the OS, ``keep`` too (held
    here, so that returning does not free it first).  For a command that registers no
    exit handler and leaves no object to finalize: the streams are flushed at exit."""
    LEAVE_FAST[:] = [keep]      # the last run's only: tests run many in one process


def open_args_tree(args: argparse.Namespace) -> HeaderTree:
    """The tree ``--tree``/``--rev`` name."""
    return tree_at(args.tree, args.rev, progress(args))


def extractor(args: argparse.Namespace) -> Callable[..., Model]:
    """Extraction with the command's options; each tree's diagnostics are the caller's.

    ``run(tree, archs=None)``: ``archs`` is the arch list to use when ``--arch`` does not
    fix one (review extracts a patched tree with its parent's). A tree asked for twice
    is extracted once: review needs the parent's model for the annotations and for the
    comparison, and a merge costs a second.
    """
    options, say = extract_options(args), progress(args)
    cache = None if args.no_cache else cache_dir()
    done: dict[tuple, Model] = {}

    def run(tree: HeaderTree, archs: tuple[str, ...] | None = None) -> Model:
        opts = replace(options, archs=archs) if archs and options.archs is None else options
        key = (tree.description, tree.content_hash(), opts)
        if key not in done:
            try:
                done[key] = extract(tree, opts, progress=say, cache=cache)
            except ExtractError as exc:
                raise UsageError(str(exc)) from exc
        return done[key]
    return run


def load_model_json(args: argparse.Namespace, tree: HeaderTree,
                    hold: list[object] | None = None) -> tuple[Model, list[str]]:
    """:func:`load_model`'s model, and its compact JSON in parts, made alongside (``extract
    --json``: the parsers of a cold run encode a third of it while this process merges);
    ``hold`` as :func:`extract_json`'s."""
    try:
        model, text = extract_json(tree, extract_options(args), progress=progress(args),
                                   cache=None if args.no_cache else cache_dir(), hold=hold)
    except ExtractError as exc:
        raise UsageError(str(exc)) from exc
    report(model.diagnostics)
    return model, text


def load_model(args: argparse.Namespace, tree: HeaderTree | None = None
               ) -> tuple[HeaderTree, Model]:
    """Open the tree (unless given) and extract the model, printing header diagnostics
    to stderr."""
    tree = tree or open_args_tree(args)
    model = extractor(args)(tree)
    report(model.diagnostics)
    return tree, model


def has_errors(model: Model) -> bool:
    """A header of the tree failed to compile (or another error diagnostic): exit 1."""
    return any(d.severity == "error" for d in model.diagnostics)


def report_errors(model: Model) -> bool:
    """Print the model's error diagnostics only; True when there is one."""
    return report(d for d in model.diagnostics if d.severity == "error")


def report(diagnostics: Iterable[Diagnostic]) -> bool:
    """Print errors and warnings to stderr; True when there is an error."""
    error = False
    for d in diagnostics:
        if d.severity in ("error", "warning"):
            print(d.render(), file=sys.stderr)
        error = error or d.severity == "error"
    return error


def annotations(args: argparse.Namespace, tree: HeaderTree | None, model: Model, *,
                defs: tuple[str, str] | None = None
                ) -> tuple[AnnotationSet, list[Diagnostic]]:
    """The annotations bound to ``tree`` (see :mod:`headerparse.annotations.load`)."""
    from headerparse.annotations.load import load_for_tree
    from headerparse.paths import ANNOTATIONS_ENV, annotations_dir

    given = getattr(args, "annotations", None)
    directory = annotations_dir(given)
    # A directory the user named must exist; only the built-in default may be absent.
    if (given or os.environ.get(ANNOTATIONS_ENV)) and not directory.is_dir():
        named = f"--annotations {given}" if given else f"${ANNOTATIONS_ENV} ({directory})"
        raise UsageError(f"{named}: no such annotations directory")
    return load_for_tree(model, tree, directory, defs=defs)


def emit(path: str | None, text: str) -> None:
    """``text`` to ``path``, or to stdout when there is none."""
    if not path:
        sys.stdout.write(text)
        return
    write_output(path, escape_controls(text))


def waivers(args: argparse.Namespace) -> list:
    """The ``--waivers`` file's waivers; a bad file is a usage error."""
    from headerparse.checks.rules import WaiverError, load_waivers

    try:
        return load_waivers(Path(args.waivers)) if args.waivers else []
    except WaiverError as exc:
        raise UsageError(str(exc)) from exc


def waive(findings: list, given: list) -> tuple[list, list]:
    """``findings`` split into (kept, waived); a waiver that matches nothing is said."""
    from headerparse.checks.rules import apply_waivers

    kept, dropped, unused = apply_waivers(findings, given)
    for w in unused:
        print(f"headerparse: warning: waiver {w.where} ({w.rule}) matched nothing",
              file=sys.stderr)
    return kept, dropped
