"""``headerparse show NAME`` (everything known about one symbol, as text) and
``headerparse layout`` (pahole-style layouts)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_annotation_options,
    add_tree_options,
    annotations,
    has_errors,
    load_model,
    progress,
)
from headerparse.model import Doc, Macro, Model, Record

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet
    from headerparse.tree import HeaderTree


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="everything known about a symbol")
    add_tree_options(p)
    add_annotation_options(p)
    p.add_argument("--no-history", action="store_true",
                   help="leave out since/removed/changed, even when --tree has release tags")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("layout", help="per-arch layout of structs and unions, pahole style")
    add_tree_options(p)
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_layout)


def cmd_show(args: argparse.Namespace) -> int:
    tree, model = load_model(args)
    aset, _ = annotations(args, tree, model)
    history = None if args.no_history else _history(args, tree)
    status = EXIT_OK
    for name in args.names:
        lines = show(model, name, aset)
        told = _told(history, name, model)
        if lines is None and told:
            # Gone from this tree, known to its releases: "was tmem_op removed?"
            lines = [f"{name}: not in {model.tree}"]
        if lines is None:
            print(f"headerparse: no symbol named {name!r} in {model.tree}", file=sys.stderr)
            status = EXIT_USAGE
            continue
        print("\n".join(lines + (["", *told] if told else [])))
        print()
    return EXIT_FINDINGS if status == EXIT_OK and has_errors(model) else status


def _history(args: argparse.Namespace, tree: HeaderTree) -> dict[str, Any] | None:
    """The history of --tree's release tags, from the cache only (one git call): computing
    it takes minutes, which a question about one symbol must not. Without it, one line
    says how to compute it; without release tags, nothing is said."""
    from headerparse.site.history import tree_history
    from headerparse.tree import cache_dir

    return tree_history(tree, cache=None if args.no_cache else cache_dir(), say=progress(args),
                        compute=False)


def _told(history: dict[str, Any] | None, name: str, model: Model) -> list[str]:
    """The history of ``name``; of its hypercall too when the name is also a struct's."""
    from headerparse.history import describe, lookup

    if history is None:
        return []
    told = describe(history, name)
    hc = model.hypercall(name)
    found = lookup(history, name)
    if hc is not None and found is not None and found[0] != f"HYPERVISOR_{hc.name}":
        told += ["", *describe(history, f"HYPERVISOR_{hc.name}")]
    return told


def cmd_layout(args: argparse.Namespace) -> int:
    from headerparse.cli.layout import layout_json, layout_text

    _, model = load_model(args)
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
    if args.format == "json":
        docs = [layout_json(model, records, a) for a in model.archs]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
        return EXIT_FINDINGS if has_errors(model) else EXIT_OK
    for r in records:
        for a in model.archs:
            lay = r.layout(a)
            if lay is not None:
                print(layout_text(r, lay))
                print()
    return EXIT_FINDINGS if has_errors(model) else EXIT_OK


def show(model: Model, name: str, aset: AnnotationSet | None = None) -> list[str] | None:
    """Lines describing ``name``, or None when the model has no such symbol; with ``aset``,
    what the annotations say of it too."""
    name = " ".join(name.split())
    parts: list[list[str]] = []
    parts += [_macro(model, m) for m in model.macros_named(name)]
    parts += [_record(model, r) for r in model.records_named(name)]
    for t in model.typedefs:
        if t.name == name and not model.records_named(name):
            parts.append([f"typedef {t.name}  ({t.loc})", *_doc(t.doc),
                          *(f"  {a}: {u}" for a, u in t.underlying.items())])
    for e in model.enums:
        if e.key == name:
            parts.append([f"{e.key}  ({e.loc})", *_doc(e.doc),
                          *(f"  {c.name} = {_values(c.values)}" for c in e.constants)])
    hc = model.hypercall(name)
    if hc is not None and not model.macros_named(name):
        parts.append(_hypercall_lines(model, hc.name))
    for g in model.groups:
        if g.name == name:
            parts.append([f"op group {g.name}  ({g.loc})",
                          f"  mapping: {g.pattern} => {g.target}" if g.pattern else "  no mapping",
                          *(f"  {m}" for m in g.members)])
    if not parts:
        return None
    if aset is not None:
        from headerparse.annotations.describe import describe

        extra_lines = describe(aset, model, name)
        if extra_lines:
            parts.append(extra_lines)
    out: list[str] = []
    for p in parts:
        if out:
            out.append("")
        out.extend(p)
    return out


def _doc(doc: Doc) -> list[str]:
    if not doc:
        return ["  (undocumented)"]
    return ["  | " + line if line else "  |" for line in doc.text.splitlines()]


def _values(values: dict[str, int]) -> str:
    distinct = set(values.values())
    if len(distinct) == 1:
        return f"{distinct.pop()} (all of {', '.join(values)})"
    return ", ".join(f"{a}: {v}" for a, v in values.items())


def _macro(model: Model, m: Macro) -> list[str]:
    sig = f"{m.name}({', '.join(m.params)})" if m.params is not None else m.name
    lines = [f"#define {sig} {m.body}", f"  defined at {m.loc}"]
    lines += _doc(m.doc)
    if m.values:
        lines.append(f"  value: {_values(dict(m.values))}")
    for arch, why in m.why_not.items():
        lines.append(f"  no integer value on {arch}: {why}")
    missing = [a for a in model.archs if a not in m.archs]
    if missing:
        lines.append(f"  not defined on: {', '.join(missing)}")
    for a in m.args:
        lines.append(f"  @{a.name} == {a.text}")
    group = next((g for g in model.groups if g.name == m.group and m.name in g.members), None)
    if group is not None:
        target = group.target_for(m.name)
        lines.append(f"  op group: {group.name} ({group.loc})"
                     + (f", argument {target}" if target else ""))
        for hc in model.hypercalls_for_group(group.name):
            lines += ["  " + line for line in _hypercall_lines(model, hc.name)]
    hc = model.hypercall(m.name) if m.name.startswith("__HYPERVISOR_") else None
    if hc is not None:
        lines += ["  " + line for line in _hypercall_lines(model, hc.name)[1:]]
    return lines


def _hypercall_lines(model: Model, name: str) -> list[str]:
    hc = model.hypercall(name)
    if hc is None:
        return []
    lines = [f"hypercall {hc.macro} ({hc.number})  ({hc.loc})"]
    if hc.note:
        lines.append(f"  note: {hc.note}")
    if hc.prototype is not None:
        p = hc.prototype
        lines.append(f"  prototype: {p.text}  ({p.loc})")
        lines.append(f"  arity: {p.arity}{' + variadic' if p.variadic else ''}")
    else:
        lines.append("  prototype: none in the headers' markup")
    return lines


def _record(model: Model, r: Record) -> list[str]:
    lines = [f"{r.key}  ({r.loc})"]
    if r.typedefs:
        lines.append(f"  typedefs: {', '.join(r.typedefs)}")
    if r.expanded_from:
        lines.append(f"  declared by macro {r.expanded_from}")
    lines += _doc(r.doc)
    sizes = {a: f"{lay.size}/{lay.align}" for a, lay in r.layouts.items()}
    lines.append("  size/align: " + ", ".join(f"{a} {s}" for a, s in sizes.items()))
    archs = list(r.layouts)
    lines.append("  " + f"{'member':<32}" + "".join(f"{a:>10}" for a in archs))
    for f in r.fields:
        cells = []
        for a in archs:
            m = r.layouts[a].member(f.path)
            cells.append(f"{'-' if m is None else f'{m.offset}+{m.size}':>10}")
        mark = f" [{f.direction}]" if f.direction else ""
        lines.append(f"  {f.path + mark:<32}" + "".join(cells))
    users = [g for g in model.groups for m in g.members
             if g.target_for(m) in (r.key, *r.typedefs)]
    for g in dict.fromkeys(users):
        ops = [m for m in g.members if g.target_for(m) in (r.key, *r.typedefs)]
        lines.append(f"  used by: {', '.join(ops)} ({g.name})")
    return lines
