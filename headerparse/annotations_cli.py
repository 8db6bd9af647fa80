"""``headerparse annotations check|coverage|pin`` and the annotation part of ``show``.

Importing this module registers both (``cli._load_plugins`` does it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from headerparse import cli, show
from headerparse.annotations import AnnotationSet, load_annotations
from headerparse.hypercall_defs import PATH as DEFS_PATH
from headerparse.model import Diagnostic, Model


def default_dir() -> Path:
    """$HEADERPARSE_ANNOTATIONS, else the checkout's source/annotations, else ./source/..."""
    if os.environ.get("HEADERPARSE_ANNOTATIONS"):
        return Path(os.environ["HEADERPARSE_ANNOTATIONS"])
    here = Path(__file__).resolve().parents[1] / "source" / "annotations"
    return here if here.is_dir() else Path("source/annotations")


def _defs_text(args: argparse.Namespace) -> tuple[str | None, str]:
    """The tree's hypercall-defs.c (or --defs FILE), decoded; None when there is none."""
    if getattr(args, "defs", None):
        try:
            return Path(args.defs).read_text(encoding="utf-8", errors="replace"), args.defs
        except OSError as exc:
            raise cli.UsageError(f"cannot read --defs {args.defs}: {exc.strerror}") from exc
    from headerparse.tree import TreeError, open_tree

    try:
        tree = open_tree(args.tree, args.rev)
    except TreeError as exc:
        raise cli.UsageError(str(exc)) from exc
    data = tree.extra.get(DEFS_PATH)
    return (data.decode("utf-8", errors="replace"), DEFS_PATH) if data is not None else (None,
                                                                                         DEFS_PATH)


def _load(args: argparse.Namespace) -> tuple[Model, AnnotationSet, list[Diagnostic]]:
    model = cli.load_model(args)
    text, path = _defs_text(args)
    directory = Path(args.annotations) if args.annotations else default_dir()
    aset, diags = load_annotations(directory, model, text, defs_path=path)
    return model, aset, diags


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
    return cli.EXIT_FINDINGS if errors else cli.EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    model, aset, diags = _load(args)
    for d in diags:
        if d.severity == "error":
            print(d.render(), file=sys.stderr)
    data = aset.coverage()
    data["tree"] = model.tree
    if args.format == "json":
        print(json.dumps(data, indent=1))
    else:
        print("\n".join(coverage_text(aset, data)))
    return cli.EXIT_OK


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
    return cli.EXIT_OK


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


def _register(sub: Any) -> None:
    p = sub.add_parser("annotations", help="validate, bind and report the annotation files")
    inner = p.add_subparsers(dest="annotations_command", required=True)
    for name, func, text in (
            ("check", cmd_check, "validate the annotation files and bind them to the tree"),
            ("coverage", cmd_coverage, "what is known of every hypercall, per variant"),
            ("pin", cmd_pin, "print the symbols: pins the files lack")):
        q = inner.add_parser(name, help=text)
        cli.add_tree_options(q)
        q.add_argument("--annotations", metavar="DIR",
                       help=f"annotation directory (default: {default_dir()})")
        q.add_argument("--defs", metavar="FILE",
                       help="a hypercall-defs.c to use instead of the tree's own")
        if name == "coverage":
            q.add_argument("--format", choices=("text", "json"), default="text")
        if name == "check":
            q.add_argument("-v", "--verbose", action="store_true", help="also print notes")
        q.set_defaults(func=func)


# ---------------------------------------------------------------- show


_CACHE: dict[int, tuple[Model, AnnotationSet]] = {}


def _for_show(model: Model) -> AnnotationSet | None:
    hit = _CACHE.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    text = None
    # ``show`` gets only the model; a checkout's hypercall-defs.c is found from
    # the tree description that tree.py gives checkouts.
    if model.tree.endswith(" (checkout)"):
        defs = Path(model.tree.removesuffix(" (checkout)")) / DEFS_PATH
        if defs.is_file():
            text = defs.read_text(encoding="utf-8", errors="replace")
    try:
        aset, _ = load_annotations(default_dir(), model, text)
    except OSError:
        return None
    _CACHE.clear()
    _CACHE[id(model)] = (model, aset)
    return aset


def show_section(model: Model, name: str) -> list[str]:
    aset = _for_show(model)
    if aset is None:
        return []
    from headerparse.annotations_show import describe
    return describe(aset, model, name)


cli.EXTRA_COMMANDS.append(_register)
show.EXTRA_SECTIONS.append(show_section)
