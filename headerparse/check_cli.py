"""``headerparse check`` and ``headerparse review``: the conformance side of headerparse.

Exit codes: 0 clean; 1 findings at or above ``--fail-on``; 2 usage or input error
(bad tree, bad waiver file, a patch that is refused or does not apply).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headerparse import cli
from headerparse.rules import SEVERITIES


def _common(p: argparse.ArgumentParser) -> None:
    cli.add_tree_options(p)
    p.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="error",
                   help="exit 1 when a finding is this severe or worse (default: error)")
    p.add_argument("--annotations", metavar="DIR",
                   help="annotation files (default: the source/annotations/ of headerparse)")
    p.add_argument("--reference", metavar="FILE",
                   help="a YAML file of argument facts to use instead of the annotations")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")


def _register(sub: Any) -> None:
    p = sub.add_parser("check", help="check the headers against the annotations, across "
                       "arches and against a baseline")
    _common(p)
    p.add_argument("--baseline", metavar="REV|DIR",
                   help="compare the ABI with this git revision of --tree, or this tree")
    p.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    p.add_argument("--waivers", metavar="FILE", help="YAML list of waived findings; each needs "
                   "rule and justification")
    p.add_argument("--only", metavar="HEADER", action="append",
                   help="report findings in this header only (repeatable; relative to the "
                   "public dir or to the Xen repo root)")
    p.add_argument("--verbose", action="store_true", help="text: print why and fix hints")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("review", help="review a header patch: ABI changes and the findings it "
                       "introduces")
    _common(p)
    p.add_argument("patch", metavar="PATCH", help="git format-patch file, mbox, unified diff, "
                   "or - for stdin")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=cmd_review)


cli.EXTRA_COMMANDS.append(_register)


# --------------------------------------------------------------------------- helpers


def _extractor(args: argparse.Namespace) -> Callable[[Any], Any]:
    from headerparse.extract import ExtractError, Options, extract
    from headerparse.tree import cache_dir

    archs = tuple(a.strip() for a in args.arch.split(",") if a.strip()) if args.arch else None
    options = Options(archs=archs, tools=not args.no_tools,
                      interface_version=args.interface_version)
    say = (lambda _m: None) if args.quiet else (
        lambda m: print(f"headerparse: {m}", file=sys.stderr, flush=True))

    def run(tree: Any) -> Any:
        try:
            return extract(tree, options, progress=say,
                           cache=None if args.no_cache else cache_dir())
        except ExtractError as exc:
            raise cli.UsageError(str(exc)) from exc
    return run


def _open(path: str | None, rev: str | None) -> Any:
    from headerparse.tree import TreeError, open_tree

    try:
        return open_tree(path, rev)
    except TreeError as exc:
        raise cli.UsageError(str(exc)) from exc


def _loaded(args: argparse.Namespace, model: Any) -> Any:
    from headerparse.reference import ReferenceError, load_reference

    try:
        loaded = load_reference(model, Path(args.reference) if args.reference else None,
                                Path(args.annotations) if args.annotations else None)
    except ReferenceError as exc:
        raise cli.UsageError(str(exc)) from exc
    for problem in loaded.problems[:20]:
        print(f"headerparse: annotations: {problem}", file=sys.stderr)
    return loaded


def _baseline(args: argparse.Namespace) -> Any:
    spec = args.baseline
    if Path(spec).is_dir():
        return _open(spec, None)
    if args.tree is None:
        raise cli.UsageError(f"--baseline {spec} is not a directory; a git revision needs "
                             "--tree pointing at a Xen repository")
    return _open(args.tree, spec)


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise cli.UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    else:
        sys.stdout.write(text)


def _only(paths: list[str] | None) -> set[str] | None:
    if not paths:
        return None
    prefix = "xen/include/public/"
    return {p.split(prefix, 1)[1] if prefix in p else p for p in paths}


# --------------------------------------------------------------------------- check


def cmd_check(args: argparse.Namespace) -> int:
    from headerparse import formats
    from headerparse.checks import CheckInput, run_checks
    from headerparse.rules import (
        WaiverError,
        apply_waivers,
        at_or_above,
        load_waivers,
        sort_findings,
    )

    try:
        waivers = load_waivers(Path(args.waivers)) if args.waivers else []
    except WaiverError as exc:
        raise cli.UsageError(str(exc)) from exc
    extract = _extractor(args)
    tree = _open(args.tree, args.rev)
    model = extract(tree)
    base = extract(_baseline(args)) if args.baseline else None
    loaded = _loaded(args, model)
    findings = run_checks(CheckInput(tree.files, model, loaded, base), _only(args.only))
    kept, waived, unused = apply_waivers(sort_findings(findings), waivers)
    for w in unused:
        print(f"headerparse: warning: waiver {w.where} ({w.rule}) matched nothing",
              file=sys.stderr)
    if args.format == "text":
        text = formats.to_text(kept, verbose=args.verbose)
        text += f"{len(kept)} finding(s), {len(waived)} waived\n" if not args.quiet else ""
    elif args.format == "json":
        text = formats.to_json(kept, extra={"tree": model.tree, "waived": len(waived)})
    elif args.format == "sarif":
        text = formats.to_sarif(kept)
    else:
        fail = SEVERITIES[:SEVERITIES.index(args.fail_on) + 1] if args.fail_on != "never" else ()
        text = formats.to_junit(kept, fail_on=fail)
    _emit(args, text)
    return cli.EXIT_FINDINGS if at_or_above(kept, args.fail_on) else cli.EXIT_OK


# --------------------------------------------------------------------------- review


def cmd_review(args: argparse.Namespace) -> int:
    from headerparse import review
    from headerparse.rules import at_or_above

    extract = _extractor(args)
    try:
        data = review.read_patch(args.patch, sys.stdin)
    except review.ReviewError as exc:
        raise cli.UsageError(str(exc)) from exc
    tree = _open(args.tree, args.rev)
    model = extract(tree)
    loaded = _loaded(args, model)
    try:
        result = review.review(data, tree, extract, loaded)
    except review.ReviewError as exc:
        raise cli.UsageError(str(exc)) from exc
    if args.format == "json":
        text = review.to_json(result)
    else:
        text = review.to_text(result, markdown=args.format == "markdown")
    _emit(args, text)
    return cli.EXIT_FINDINGS if at_or_above(result.introduced, args.fail_on) else cli.EXIT_OK
