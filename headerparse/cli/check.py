"""``headerparse check`` and ``headerparse review``: the conformance side of headerparse.

Exit codes: 0 clean; 1 findings at or above ``--fail-on``; 2 usage or input error
(bad tree, bad waiver file, a patch that is refused or does not apply).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    add_annotation_options,
    add_tree_options,
    annotations,
    emit,
    extractor,
    open_args_tree,
    report_errors,
    tree_at,
    waive,
    waivers,
)
from headerparse.diagnostics import SEVERITIES

if TYPE_CHECKING:
    from headerparse.checks.reference import Loaded
    from headerparse.model import Model
    from headerparse.tree import HeaderTree


def _common(p: argparse.ArgumentParser) -> None:
    add_tree_options(p)
    p.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="error",
                   help="exit 1 when a finding is this severe or worse (default: error)")
    add_annotation_options(p)
    p.add_argument("--reference", metavar="FILE",
                   help="a YAML file of argument facts to use instead of the annotations")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")


def register(sub: Any) -> None:
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


def reference_for(args: argparse.Namespace, tree: HeaderTree, model: Model) -> Loaded:
    """What the checks take as true: ``--reference FILE``, else the bound annotations;
    and the tree's own list of compat-translated structs when it has one."""
    from headerparse.checks.reference import Loaded, ReferenceError, load_yaml
    from headerparse.checks.shared import for_tree

    if args.reference:
        try:
            return Loaded(load_yaml(Path(args.reference)), translation=for_tree(tree.extra))
        except ReferenceError as exc:
            raise UsageError(str(exc)) from exc
    return replace(_annotated(args, tree, model), translation=for_tree(tree.extra))


def _annotated(args: argparse.Namespace, tree: HeaderTree, model: Model) -> Loaded:
    from headerparse.checks.reference import from_annotations

    aset, diags = annotations(args, tree, model)
    loaded = from_annotations(aset, diags)
    for problem in loaded.problems[:20]:
        print(f"headerparse: annotations: {problem}", file=sys.stderr)
    # A file that does not parse (XA1xx) would silently drop its checks: refuse to go on.
    broken = [d for d in diags if d.severity == "error" and d.rule.startswith("XA1")]
    if broken:
        raise UsageError(f"{len(broken)} annotation file error(s), the first: "
                         f"{broken[0].render()}")
    return loaded


def _baseline(args: argparse.Namespace) -> HeaderTree:
    spec = args.baseline
    if Path(spec).is_dir():
        return tree_at(spec, None)
    if args.tree is None:
        raise UsageError(f"--baseline {spec} is not a directory; a git revision needs "
                         "--tree pointing at a Xen repository")
    return tree_at(args.tree, spec)


def _only(paths: list[str] | None) -> set[str] | None:
    if not paths:
        return None
    prefix = "xen/include/public/"
    return {p.split(prefix, 1)[1] if prefix in p else p for p in paths}


def _sarif_root(args: argparse.Namespace, tree: Any) -> dict[str, str]:
    """Where SARIF locations start: a checkout's root (paths xen/include/public/...), else
    the directory given; Debian's headers have no root worth naming."""
    from headerparse.tree import PUBLIC

    if tree.checkout_root or (args.tree and args.rev):
        root = Path(tree.checkout_root or args.tree).resolve()
        return {"root_uri": root.as_uri(), "uri_prefix": PUBLIC + "/"}
    return {"root_uri": Path(args.tree).resolve().as_uri()} if args.tree else {}


def cmd_check(args: argparse.Namespace) -> int:
    from headerparse.checks import formats
    from headerparse.checks.run import CheckInput, run_checks
    from headerparse.diagnostics import at_or_above, severities_at_or_above, sort_findings

    given = waivers(args)
    extract = extractor(args)
    tree = open_args_tree(args)
    model = extract(tree)
    broken = report_errors(model) and args.fail_on != "never"
    base = extract(_baseline(args)) if args.baseline else None
    loaded = reference_for(args, tree, model)
    findings = run_checks(CheckInput(tree.files, model, loaded, base), _only(args.only))
    findings += _history_findings(args, tree, model)
    kept, dropped = waive(sort_findings(findings), given)
    text = formats.FORMATTERS[args.format](
        kept, verbose=args.verbose, fail_on=severities_at_or_above(args.fail_on),
        extra={"tree": model.tree, "waived": len(dropped)}, **_sarif_root(args, tree))
    if args.format == "text" and not args.quiet:
        text += f"{len(kept)} finding(s), {len(dropped)} waived\n"
    emit(args.output, text)
    return EXIT_FINDINGS if broken or at_or_above(kept, args.fail_on) else EXIT_OK


def _history_findings(args: argparse.Namespace, tree: HeaderTree, model: Model) -> list[Any]:
    """XC411 from --tree's ABI history (cached only: check never computes it)."""
    from headerparse.cli.common import progress
    from headerparse.history.checks import reused_names
    from headerparse.tree import cache_dir

    found = reused_names(tree, model, None if args.no_cache else cache_dir(), progress(args))
    only = _only(args.only)
    return [f for f in found if only is None or (f.loc is not None and f.loc.file in only)]


def _release(args: argparse.Namespace, extract: Any) -> Any:
    """The runtime-checked versions of the newest RELEASE-* tag reachable from --rev,
    read from its text, else its model; None off git."""
    from headerparse.checks import versions
    from headerparse.history.revisions import last_release

    if not (args.tree and args.rev):
        return None
    tag = last_release(Path(args.tree), args.rev)
    if tag is None:
        return None
    tree = tree_at(args.tree, tag, None)
    return versions.from_text(tree.description, tree.files) or extract(tree)


def _at_version(args: argparse.Namespace, tree: Any, version: str) -> Any:
    """``tree`` as a guest built for ``version`` of the interface sees it (the tools
    always get the latest: xen-compat.h)."""
    view = {**vars(args), "interface_version": version, "no_tools": True}
    return extractor(argparse.Namespace(**view))(tree)


def cmd_review(args: argparse.Namespace) -> int:
    from headerparse.checks import review
    from headerparse.diagnostics import at_or_above

    extract = extractor(args)
    try:
        data = review.read_patch(args.patch, sys.stdin)
    except review.ReviewError as exc:
        raise UsageError(str(exc)) from exc
    tree = open_args_tree(args)
    model = extract(tree)
    loaded = reference_for(args, tree, model)
    try:
        result = review.review(data, tree, extract, loaded, lambda: _release(args, extract),
                               lambda t, version: _at_version(args, t, version))
    except review.ReviewError as exc:
        raise UsageError(str(exc)) from exc
    if args.format == "json":
        text = review.to_json(result)
    else:
        text = review.to_text(result, markdown=args.format == "markdown")
    emit(args.output, text)
    return EXIT_FINDINGS if at_or_above(result.introduced, args.fail_on) else EXIT_OK
