"""The bridge to the annotation layer and the checks, which may not be installed.

Kept apart from :mod:`headerparse.site.facts` because it is the one place that
knows those modules' APIs; when they change, only this file follows. Without
them the site shows what the headers alone say.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headerparse.model import Diagnostic, Model

DEFS_PATH = "xen/include/hypercall-defs.c"


@dataclass
class Extra:
    hypercall_tables: dict[str, tuple] = field(default_factory=dict)
    op_tables: dict[str, tuple] = field(default_factory=dict)
    availability: dict[str, Mapping[str, bool]] = field(default_factory=dict)
    availability_source: dict[str, str] = field(default_factory=dict)
    arity: dict[str, Mapping[str, int]] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def annotations_dir() -> Path:
    if os.environ.get("HEADERPARSE_ANNOTATIONS"):
        return Path(os.environ["HEADERPARSE_ANNOTATIONS"])
    return Path(__file__).resolve().parents[2] / "source" / "annotations"


def _defs_text(tree: Any) -> str | None:
    data = getattr(tree, "extra", {}).get(DEFS_PATH) if tree is not None else None
    return data.decode("utf-8", "replace") if data else None


def collect(model: Model, tree: Any, variants: tuple) -> Extra | None:
    """Argument tables and availability from the annotation layer, None without it."""
    mod = _optional("headerparse.annotations")
    directory = annotations_dir()
    if mod is None or not hasattr(mod, "load_annotations") or not directory.is_dir():
        return None
    aset, diags = mod.load_annotations(directory, model, _defs_text(tree))
    names = [v.name for v in variants]
    out = Extra(diagnostics=tuple(diags))
    for h in aset.hypercalls:
        out.availability[h.name] = {v: k.value for v, k in h.available.items() if v in names}
        srcs = _unique(str(s) for k in h.available.values() for s in k.sources)
        out.availability_source[h.name] = "; ".join(srcs)
        out.arity[h.name] = {v: k.value for v, k in h.arity.items() if v in names}
        target = h.alias_of or h.name
        table = _table(aset, names, "Arguments", target, None, None)
        out.hypercall_tables[h.name] = (table,) if table.rows else ()
        for b in aset.subops_of(target):
            if b.subop in out.op_tables:
                continue
            tables = [_table(aset, names, "Arguments of this sub-op", target, b.subop, None)]
            for cond in aset.conditions(target, b.subop):
                tables.append(_table(aset, names, f"When {cond.text}", target, b.subop, cond))
            out.op_tables[b.subop] = tuple(t for t in tables if t.rows or t.returns)
            avail = {v: aset.available(target, variant=v, subop=b.subop) for v in names}
            if any(k is not None and k.sources and k.sources[0] not in
                   _sources_of(h.available.get(v)) for v, k in avail.items()):
                out.availability[b.subop] = {v: bool(k.value) for v, k in avail.items()
                                             if k is not None}
                out.availability_source[b.subop] = "; ".join(_unique(
                    str(s) for k in avail.values() if k is not None for s in k.sources))
    return out


def _sources_of(known: Any) -> tuple:
    return known.sources if known is not None else ()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _table(aset: Any, variants: list[str], heading: str, hypercall: str, subop: str | None,
           cond: Any) -> Any:
    """One ArgTable: the statements of exactly this scope, per variant, with registers."""
    from headerparse.site.facts import ArgRow, ArgTable

    rows, sources, provenance = [], [], []
    returns: dict[str, list[str]] = {}
    for v in variants:
        avail = aset.available(hypercall, variant=v, subop=subop)
        if avail is not None and not avail.value:
            continue
        for a in aset.arguments(hypercall, subop, cond, variant=v):
            if (a.scope.subop, a.scope.condition) != (subop, cond):
                continue        # shown with the broader scope it belongs to
            reg = aset.register_of(v, a.position) or "(no register)"
            meaning = ": ".join(x for x in (a.name, a.meaning) if x)
            if a.struct and a.struct not in meaning:
                meaning += f" (points to {a.struct})"
            rows.append(ArgRow(v, a.position, reg, a.ctype, meaning,
                               str(a.constraint) if a.constraint else "",
                               ", ".join(a.readers), a.direction or ""))
            sources.append(a.source.short())
            provenance += [str(p) for p in a.source.provenance]
        for r in aset.return_values(hypercall, subop, cond, variant=v):
            if (r.scope.subop, r.scope.condition) == (subop, cond):
                returns.setdefault(r.text, []).append(v)
                sources.append(r.source.short())
                provenance += [str(p) for p in r.source.provenance]
    info = aset.info(hypercall, subop, cond)
    notes = tuple(info.notes) if info else ()
    if info and info.summary:
        notes = (info.summary, *notes)
    if info:
        provenance += [str(p) for p in info.source.provenance]
    return ArgTable(heading, tuple(rows), condition=cond.text if cond else None,
                    returns={text: ", ".join(vs) for text, vs in returns.items()},
                    notes=notes, provenance=tuple(_unique(provenance)),
                    since=info.since if info else "",
                    source="; ".join(_unique(sources)) or "derived")


def findings(model: Model, tree: Any) -> tuple[Diagnostic, ...]:
    """Diagnostics of the checks, when the checks are installed."""
    checks = _optional("headerparse.checks")
    reference = _optional("headerparse.reference")
    if checks is None or reference is None or tree is None:
        return ()
    loaded = reference.load_reference(model)
    found = checks.run_checks(checks.CheckInput(tree.files, model, loaded))
    return tuple(f.diagnostic() for f in found)
