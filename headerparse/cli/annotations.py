"""``headerparse annotations check|coverage|pin``: the annotation files, validated and bound."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    add_tree_options,
    annotations,
    load_model,
)
from headerparse.paths import annotations_dir

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet
    from headerparse.model import Diagnostic, Model
    from headerparse.tree import HeaderTree


def _defs(args: argparse.Namespace) -> tuple[str, str] | None:
    """``--defs FILE`` as (text, path); None: the tree's own hypercall-defs.c."""
    if not getattr(args, "defs", None):
        return None
    try:
        with open(args.defs, encoding="utf-8", errors="replace") as f:
            return f.read(), args.defs
    except OSError as exc:
        raise UsageError(f"cannot read --defs {args.defs}: {exc.strerror}") from exc


def _load(args: argparse.Namespace) -> tuple[Model, AnnotationSet, list[Diagnostic]]:
    _tree, model, aset, diags = _load_tree(args)
    return model, aset, diags


def _load_tree(args: argparse.Namespace) -> tuple[HeaderTree, Model, AnnotationSet,
                                                 list[Diagnostic]]:
    tree, model = load_model(args)
    aset, diags = annotations(args, tree, model, defs=_defs(args))
    return tree, model, aset, diags


def cmd_check(args: argparse.Namespace) -> int:
    model, aset, diags = _load(args)
    for d in diags:
        if d.severity != "note" or args.verbose:
            print(d.render(), file=sys.stderr)
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = sum(1 for d in diags if d.severity == "warning")
    cov = aset.coverage()["summary"]
    print(f"annotations: {errors} error(s), {warnings} warning(s); "
          f"{cov['annotated']}/{cov['hypercalls']} hypercalls annotated "
          f"({'with' if aset.has_defs else 'without'} hypercall-defs.c) on {model.tree}")
    return EXIT_FINDINGS if errors else EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    from headerparse.annotations import subopcoverage, subops

    tree, model, aset, diags = _load_tree(args)
    cat = subops.complete(subops.catalog(model, {
        p: data.decode("utf-8", "replace") for p, data in tree.files.items()}), aset, model)
    for d in [*diags, *cat.diagnostics]:
        if d.severity == "error" or d.rule == "XM110":
            print(d.render(), file=sys.stderr)
    data = aset.coverage()
    data["tree"] = model.tree
    data["subops"] = subopcoverage.coverage(cat)
    if args.format == "json":
        print(json.dumps(data, indent=1))
    else:
        print("\n".join(coverage_text(aset, data) + [""]
                        + subopcoverage.coverage_lines(data["subops"])))
    return EXIT_OK


def coverage_text(aset: AnnotationSet, data: dict[str, Any]) -> list[str]:
    names = [v.name for v in aset.variants]
    head = f"{'hypercall':<30}{'nr':>4}  " + "".join(f"{n:>10}" for n in names) + "  annotated"
    lines = ["arity per variant; '-' not available, '?' unknown; hypercall-defs.c "
             + ("used" if aset.has_defs else "absent"), head]
    for name, h in data["hypercalls"].items():
        cells = []
        for n in names:
            avail, arity = h["available"][n], h["arity"][n]
            cells.append("?" if avail is None else "-" if not avail else
                         "?" if arity is None else str(arity))
        label = name + (f" (={h['alias_of']})" if h["alias_of"] else "")
        lines.append(f"{label:<30}{h['number']:>4}  " + "".join(f"{c:>10}" for c in cells)
                     + ("  yes" if h["annotated"] else "  NO: " + _missing(h["missing"])))
    s = data["summary"]
    lines += ["", f"{s['annotated']}/{s['hypercalls']} hypercalls annotated", "",
              "where each fact comes from (first source; coverage --format json lists all):"]
    for facts in aset.hypercalls:
        if facts.alias_of:
            continue
        for what, table in (("available", facts.available), ("arity", facts.arity)):
            srcs = dict.fromkeys(k.sources[0].short() for k in table.values() if k.sources)
            lines.append(f"  {facts.name} {what}: {'; '.join(srcs) or '-'}")
    return lines


def _missing(items: list[str]) -> str:
    # "availability on x86-pv32", "availability on arm64" -> "availability on x86-pv32, arm64"
    grouped: dict[str, list[str]] = {}
    for item in items:
        what, sep, where = item.partition(" on ")
        grouped.setdefault(what if sep else item, []).append(where if sep else "")
    return "; ".join(f"{w} on {', '.join(v)}" if any(v) else w for w, v in grouped.items())


def cmd_pin(args: argparse.Namespace) -> int:
    """Print the ``symbols:`` entries that check asks for, grouped by file."""
    _, _, diags = _load(args)
    by_file: dict[str, list[str]] = {}
    for d in diags:
        if d.rule == "XA205" and d.loc is not None:
            entry = d.message.split("'symbols:'", 1)[1].strip()
            by_file.setdefault(d.loc.file, [])
            if entry not in by_file[d.loc.file]:
                by_file[d.loc.file].append(entry)
    for path, entries in by_file.items():
        print(f"# {path}\nsymbols:")
        for e in entries:
            print(_block(e))
    return EXIT_OK


def _block(entry: str) -> str:
    """A pin as block YAML, which diffs member by member; short ones stay on a line."""
    import yaml

    if len(entry) <= 96:
        return f"  {entry}"
    data = yaml.safe_load(entry)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=200)
    lines = text.splitlines()
    return "\n".join("  " + line if i == 0 else "  " + line.replace("- ", "  - ", 1)
                     if line.lstrip().startswith("- ") else "  " + line
                     for i, line in enumerate(lines))


def register(sub: Any) -> None:
    p = sub.add_parser("annotations", help="validate, bind and report the annotation files")
    inner = p.add_subparsers(dest="annotations_command", required=True)
    for name, func, text in (
            ("check", cmd_check, "validate the annotation files and bind them to the tree"),
            ("coverage", cmd_coverage, "what is known of every hypercall, per variant"),
            ("pin", cmd_pin, "print the symbols: pins the files lack")):
        q = inner.add_parser(name, help=text)
        add_tree_options(q)
        q.add_argument("--annotations", metavar="DIR",
                       help=f"annotation directory (default: {annotations_dir()})")
        q.add_argument("--defs", metavar="FILE",
                       help="a hypercall-defs.c to use instead of the tree's own")
        if name == "coverage":
            q.add_argument("--format", choices=("text", "json"), default="text")
        if name == "check":
            q.add_argument("-v", "--verbose", action="store_true", help="also print notes")
        q.set_defaults(func=func)
