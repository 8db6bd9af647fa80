"""What the site shows beyond the model: ABI variants, annotations and findings.

The caller hands over what the other stages produced (the bound
:class:`~headerparse.annotations.types.AnnotationSet`, its diagnostics and the
checks' findings); nothing here loads or runs a stage. Without annotations the
pages show what the headers alone say. The pages only ever see the plain records
defined here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from headerparse.annotations.subops import Catalog, catalog, complete
from headerparse.model import Diagnostic, Hypercall, Model
from headerparse.variants import Variant, slots, variants_for_archs

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet, Condition, Known


@dataclass(frozen=True)
class ArgRow:
    """One argument of a call on one variant."""

    variant: str
    position: int           # 1-based; 0 for the return value
    register: str
    ctype: str = ""
    meaning: str = ""
    constraint: str = ""
    readers: str = ""
    direction: str = ""


@dataclass(frozen=True)
class ArgTable:
    """Arguments of a hypercall or sub-op, per variant, possibly under a condition."""

    heading: str
    rows: tuple[ArgRow, ...]
    condition: str | None = None
    returns: Mapping[str, str] = field(default_factory=dict)   # text -> "v1, v2"
    notes: tuple[str, ...] = ()
    provenance: tuple[str, ...] = ()
    since: str = ""
    source: str = "derived"      # "derived: <what>" or "annotation: <file:line>"


@dataclass(frozen=True)
class SiteFacts:
    variants: tuple[Variant, ...]
    hypercall_tables: Mapping[str, tuple[ArgTable, ...]]   # hypercall name -> tables
    op_tables: Mapping[str, tuple[ArgTable, ...]]          # sub-op macro -> tables
    availability: Mapping[str, Mapping[str, bool]]         # hypercall/op -> variant -> bool
    availability_source: Mapping[str, str]
    findings: tuple[Diagnostic, ...]
    annotated: bool = False      # whether the annotation layer contributed
    arity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # hc -> variant -> n
    subops: Catalog | None = None    # every hypercall's sub-ops (None: the op groups only)


# ------------------------------------------------------------------ derived facts

def derived_table(hc: Hypercall, variants: tuple[Variant, ...],
                  available: Mapping[str, bool]) -> ArgTable | None:
    """The argument registers the backtick prototype implies, per variant."""
    proto = hc.prototype
    if proto is None:
        return None
    rows = []
    for v in variants:
        if not available.get(v.name, True):
            continue
        slot = 0
        for p in proto.params:
            n = slots(p.type, v)
            regs = v.arg_registers[slot:slot + n]
            reg = "+".join(regs) if len(regs) == n else "(none: too many arguments)"
            rows.append(ArgRow(v.name, slot + 1, reg, p.type, p.name or ""))
            slot += n
        if proto.variadic and slot < len(v.arg_registers):
            rows.append(ArgRow(v.name, slot + 1, v.arg_registers[slot], "...",
                               "further arguments, by sub-op"))
    return ArgTable("Arguments", tuple(rows), source="derived: the backtick prototype at "
                    f"{proto.loc.file}:{proto.loc.line}")


def register_split(hc: Hypercall, variants: tuple[Variant, ...],
                   available: Mapping[str, bool]) -> str:
    """The fact that a 64-bit argument takes two registers of a 32-bit guest, low half
    first: the prototype's C arguments are fewer than the registers the call reads."""
    proto = hc.prototype
    if proto is None:
        return ""
    split: dict[tuple[str, ...], list[str]] = {}
    for v in variants:
        if not available.get(v.name, True):
            continue
        wide = [f"{p.name or p.type} ({p.type})" for p in proto.params if slots(p.type, v) > 1]
        if wide and v.arg_registers:
            split.setdefault(tuple(wide), []).append(v.name)
    return "; ".join(
        f"On {', '.join(vs)}, {' and '.join(wide)} "
        f"{'takes two registers' if len(wide) == 1 else 'take two registers each'}, low half "
        "first: the prototype's "
        f"{proto.arity} argument(s) fill {proto.arity + len(wide)} registers"
        for wide, vs in split.items())


def derived_availability(hc: Hypercall,
                         variants: tuple[Variant, ...]) -> dict[str, bool]:
    """Availability from where the number is defined and notes like ``/* x86 only */``."""
    note = hc.note.lower()
    out = {}
    for v in variants:
        ok = v.arch in hc.archs
        if re.search(r"\bx86 only\b", note):
            ok = ok and v.name.startswith("x86")
        elif re.search(r"\bx86/64 only\b", note):
            ok = ok and v.name.startswith("x86") and v.bits == 64
        out[v.name] = ok
    return out


# ------------------------------------------------------------------ assembling


def site_facts(model: Model, aset: AnnotationSet | None = None,
               diagnostics: Iterable[Diagnostic] = (),
               texts: Mapping[str, str] | None = None) -> SiteFacts:
    """Everything the pages show beyond the model: derived tables, then what ``aset`` adds;
    ``diagnostics`` are the annotations' and the checks' findings; ``texts`` (header
    path -> text) tell the sub-ops only the toolstack sees."""
    variants = variants_for_archs(model.archs)
    avail: dict[str, dict[str, bool]] = {}
    avail_src: dict[str, str] = {}
    hc_tables: dict[str, tuple[ArgTable, ...]] = {}
    for hc in model.hypercalls:
        avail[hc.name] = derived_availability(hc, variants)
        avail_src[hc.name] = "derived: where the headers define the number and its note"
        t = derived_table(hc, variants, avail[hc.name])
        hc_tables[hc.name] = (t,) if t else ()
    op_tables: dict[str, tuple[ArgTable, ...]] = {}
    arity: dict[str, Mapping[str, int]] = {
        name: _arity(tables) for name, tables in hc_tables.items()}
    annotated = False
    extra = collect(aset, variants) if aset is not None else None
    if extra is not None:
        annotated = True
        hc_tables.update({k: v for k, v in extra.hypercall_tables.items() if v})
        op_tables.update(extra.op_tables)
        arity.update({k: v for k, v in extra.arity.items() if v})
        for name, per in extra.availability.items():
            avail.setdefault(name, {}).update(per)
            avail_src[name] = extra.availability_source.get(name, "annotation")
    for hc in model.hypercalls:
        split = register_split(hc, variants, avail.get(hc.name, {}))
        if split and hc_tables.get(hc.name):
            first, *rest = hc_tables[hc.name]
            hc_tables[hc.name] = (replace(first, notes=(*first.notes, split)), *rest)
    cat = complete(catalog(model, texts or {}), aset, model)
    findings = tuple(model.diagnostics) + tuple(diagnostics) + cat.diagnostics
    return SiteFacts(variants, hc_tables, op_tables, avail, avail_src, findings, annotated, arity,
                     cat)


def with_diagnostics(facts: SiteFacts, model: Model,
                     diagnostics: Iterable[Diagnostic]) -> SiteFacts:
    """``facts``, made without diagnostics, with them: as :func:`site_facts` would have
    listed them (the model's, then ``diagnostics``, then the sub-op catalog's)."""
    cat = facts.subops.diagnostics if facts.subops is not None else ()
    return replace(facts, findings=tuple(model.diagnostics) + tuple(diagnostics) + cat)


def _arity(tables: tuple[ArgTable, ...]) -> dict[str, int]:
    """Per variant: the argument positions of the first unconditional table."""
    out: dict[str, int] = {}
    for t in tables:
        if t.condition:
            continue
        for row in t.rows:
            if row.position > 0 and row.ctype != "...":
                out[row.variant] = out.get(row.variant, 0) + 1
        break
    return out


# ------------------------------------------------------------------ annotations


@dataclass
class Extra:
    hypercall_tables: dict[str, tuple] = field(default_factory=dict)
    op_tables: dict[str, tuple] = field(default_factory=dict)
    availability: dict[str, Mapping[str, bool]] = field(default_factory=dict)
    availability_source: dict[str, str] = field(default_factory=dict)
    arity: dict[str, Mapping[str, int]] = field(default_factory=dict)


def collect(aset: AnnotationSet, variants: tuple[Variant, ...]) -> Extra:
    """Argument tables and availability from the annotation layer."""
    names = [v.name for v in variants]
    out = Extra()
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


def _sources_of(known: Known | None) -> tuple:
    return known.sources if known is not None else ()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _table(aset: AnnotationSet, variants: list[str], heading: str, hypercall: str,
           subop: str | None, cond: Condition | None) -> ArgTable:
    """One ArgTable: the statements of exactly this scope, per variant, with registers."""
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
