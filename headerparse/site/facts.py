"""What the site shows beyond the model: ABI variants, annotations and findings.

Those come from other stages (``variants``, ``annotations``, the checks) which may be
absent or older than this module; everything goes through this adapter, which
tolerates their absence and falls back to what the headers alone say. The pages
only ever see the plain records defined here.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headerparse.model import Diagnostic, Hypercall, Model


@dataclass(frozen=True)
class VariantInfo:
    name: str               # "x86-pv64"
    title: str
    arch: str               # extraction arch whose layouts it uses
    index_register: str | None
    arg_registers: tuple[str, ...]
    bits: int = 64


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
class Facts:
    variants: tuple[VariantInfo, ...]
    hypercall_tables: Mapping[str, tuple[ArgTable, ...]]   # hypercall name -> tables
    op_tables: Mapping[str, tuple[ArgTable, ...]]          # sub-op macro -> tables
    availability: Mapping[str, Mapping[str, bool]]         # hypercall/op -> variant -> bool
    availability_source: Mapping[str, str]
    findings: tuple[Diagnostic, ...]
    annotated: bool = False      # whether the annotation layer contributed
    arity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # hc -> variant -> n


# ------------------------------------------------------------------ variants

_FALLBACK_VARIANTS = (
    VariantInfo("x86-pv32", "x86 PV guest, 32-bit", "x86_32", "EAX",
                ("EBX", "ECX", "EDX", "ESI", "EDI"), 32),
    VariantInfo("x86-pv64", "x86 PV guest, 64-bit", "x86_64", "RAX",
                ("RDI", "RSI", "RDX", "R10", "R8"), 64),
    VariantInfo("x86-hvm32", "x86 HVM/PVH guest, 32-bit mode", "x86_32", "EAX",
                ("EBX", "ECX", "EDX", "ESI", "EDI"), 32),
    VariantInfo("x86-hvm64", "x86 HVM/PVH guest, 64-bit mode", "x86_64", "RAX",
                ("RDI", "RSI", "RDX", "R10", "R8"), 64),
    VariantInfo("arm32", "Arm guest, AArch32", "arm32", "r12", ("r0", "r1", "r2", "r3", "r4"), 32),
    VariantInfo("arm64", "Arm guest, AArch64", "arm64", "x16", ("x0", "x1", "x2", "x3", "x4"), 64),
)


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def load_variants(model: Model) -> tuple[VariantInfo, ...]:
    mod = _optional("headerparse.variants")
    if mod is None or not hasattr(mod, "variants_for_archs"):
        return tuple(v for v in _FALLBACK_VARIANTS if v.arch in model.archs)
    out = []
    for v in mod.variants_for_archs(model.archs):
        out.append(VariantInfo(v.name, v.title, v.arch, v.index_register,
                               tuple(v.arg_registers), getattr(v, "bits", 64)))
    return tuple(out)


# ------------------------------------------------------------------ derived facts

_WIDE = frozenset({"u64", "s64", "uint64_t", "int64_t", "uint64_aligned_t", "int64_aligned_t",
                   "unsigned long long", "long long"})


def _slots(ctype: str, v: VariantInfo) -> int:
    bare = " ".join(ctype.replace("const", " ").split())
    return 2 if v.bits == 32 and "*" not in bare and "[" not in bare and bare in _WIDE else 1


def derived_table(hc: Hypercall, variants: tuple[VariantInfo, ...],
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
            n = _slots(p.type, v)
            regs = v.arg_registers[slot:slot + n]
            reg = "+".join(regs) if len(regs) == n else "(none: too many arguments)"
            rows.append(ArgRow(v.name, slot + 1, reg, p.type, p.name or ""))
            slot += n
        if proto.variadic and slot < len(v.arg_registers):
            rows.append(ArgRow(v.name, slot + 1, v.arg_registers[slot], "...",
                               "further arguments, by sub-op"))
    return ArgTable("Arguments", tuple(rows), source="derived: the backtick prototype at "
                    f"{proto.loc.file}:{proto.loc.line}")


def derived_availability(hc: Hypercall,
                         variants: tuple[VariantInfo, ...]) -> dict[str, bool]:
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


def load_facts(model: Model, tree: Any = None) -> Facts:
    """Everything the pages show beyond the model, from whatever stages are installed."""
    variants = load_variants(model)
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
    from headerparse.site import annotations_adapter
    extra = annotations_adapter.collect(model, tree, variants)
    if extra is not None:
        annotated = True
        hc_tables.update({k: v for k, v in extra.hypercall_tables.items() if v})
        op_tables.update(extra.op_tables)
        arity.update({k: v for k, v in extra.arity.items() if v})
        for name, per in extra.availability.items():
            avail.setdefault(name, {}).update(per)
            avail_src[name] = extra.availability_source.get(name, "annotation")
    findings = tuple(model.diagnostics) + (extra.diagnostics if extra else ()) \
        + annotations_adapter.findings(model, tree)
    return Facts(variants, hc_tables, op_tables, avail, avail_src, findings, annotated, arity)


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
