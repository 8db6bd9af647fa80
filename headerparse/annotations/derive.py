"""Facts the tree already states: the hypercall table, prototypes, op-group mappings,
header notes, and (in a full checkout) ``hypercall-defs.c``.

Everything here is "derived": recomputed from the model on every run, so it
cannot go stale; each fact says where it was read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from headerparse.annotations.hypercall_defs import HypercallDefs
from headerparse.annotations.types import ArgStatement, Scope, Source, SubopBinding
from headerparse.model import Hypercall, Loc, Model, OpGroup
from headerparse.targets import arch_family_of
from headerparse.variants import Variant, slots

_ALIAS = re.compile(r"__HYPERVISOR_(\w+)\Z")
_ONLY = re.compile(r"\b(x86(?:[/_](?:32|64))?|arm(?:32|64)?)\s+only\b", re.I)
_NULL = re.compile(r"^\s*NULL\b", re.I)
_RECORD_REF = re.compile(r"\b(?:struct\s+(\w+)|(\w+_t))\b")
_ARG_NAMES = ("arg", "args", "uop", "op")
# Handler prefixes that dispatch to a stub rather than serving the call: Arm's
# dep_*() handlers log the use of a deprecated hypercall and return -ENOSYS.
_STUBS = {"dep": "'dep' handler: a deprecation stub failing with -ENOSYS"}


@dataclass(frozen=True)
class TableEntry:
    hypercall: Hypercall
    alias_of: str | None     # canonical hypercall name when this is an alias (mca -> arch_0)


def hypercall_table(model: Model) -> dict[str, TableEntry]:
    """The ``__HYPERVISOR_*`` hypercalls of the tree, keyed by the name after the prefix.

    The table is the ``enum hypercall_num`` op group of xen.h; macros defined
    as another member (``__HYPERVISOR_mca __HYPERVISOR_arch_0``) are aliases.
    Without the markup, hypercall numbers below 64 stand in for the group:
    other ``__HYPERVISOR_*`` macros (``__HYPERVISOR_VIRT_START``) are addresses.
    """
    group = next((g for g in model.groups if g.pattern == "__HYPERVISOR_*"
                  or g.name == "hypercall_num"), None)
    members = set(group.members) if group else None
    out: dict[str, TableEntry] = {}
    for h in model.hypercalls:
        if members is not None and h.macro in members:
            out[h.name] = TableEntry(h, None)
        elif members is None and 0 <= h.number < 64 and not h.name.isupper():
            out[h.name] = TableEntry(h, None)
    # Aliases are taken from the macros, not from the hypercalls of the model: an
    # alias in a header the extraction did not compile (xen-mca.h) is still one.
    for m in model.macros:
        hit = _ALIAS.match(m.name)
        target = _ALIAS.match(m.body.strip())
        if not hit or not target or hit.group(1) in out:
            continue
        t = out.get(target.group(1))
        if t is not None and t.alias_of is None:
            h = Hypercall(hit.group(1), t.hypercall.number, m.name, m.loc,
                          m.doc.trailing.text if m.doc.trailing else "", None, (), m.archs)
            out[h.name] = TableEntry(h, target.group(1))
    return out


def canonical(table: dict[str, TableEntry], name: str) -> str | None:
    entry = table.get(name)
    if entry is None:
        return None
    return entry.alias_of or name


# ---------------------------------------------------------------- availability


def header_availability(model: Model, table: dict[str, TableEntry],
                        universe: Sequence[Variant]) -> dict[tuple[str, str], tuple[bool, Source]]:
    """Unavailability the headers imply: the number macro is missing on an arch, or a
    note such as ``/* x86 only */`` excludes it. They never prove a call is served."""
    out: dict[tuple[str, str], tuple[bool, Source]] = {}
    for name, entry in table.items():
        if entry.alias_of:
            continue
        h = entry.hypercall
        for v in universe:
            if v.arch in model.archs and v.arch not in h.archs:
                out[(name, v.name)] = (False, Source(
                    "derived", f"{h.macro} is not defined for {v.arch}", h.loc))
        m = _ONLY.search(h.note or "")
        if m:
            allowed = _only(m.group(1).lower(), universe)
            for v in universe:
                if v.name not in allowed:
                    out.setdefault((name, v.name), (False, Source(
                        "derived", f"header note '{h.note.strip()}'", h.loc)))
    return out


def _only(what: str, universe: Sequence[Variant]) -> set[str]:
    family, _, bits = what.replace("_", "/").partition("/")
    if family.startswith("arm") and family != "arm":
        family, bits = "arm", family[3:]
    return {v.name for v in universe
            if v.family == family and (not bits or str(v.bits) == bits)}


def defs_availability(defs: HypercallDefs, table: dict[str, TableEntry],
                      universe: Sequence[Variant], xen_names: dict[str, str]
                      ) -> dict[tuple[str, str], tuple[bool, Source]]:
    """Availability per variant from the table of ``hypercall-defs.c``."""
    out: dict[tuple[str, str], tuple[bool, Source]] = {}
    for name, entry in table.items():
        if entry.alias_of:
            continue
        row = _row(defs, name, table, xen_names)
        for v in universe:
            if v.defs_column not in defs.columns:
                out[(name, v.name)] = (False, Source(
                    "derived", f"hypercall-defs.c table has no {v.name} column "
                    f"(columns: {' '.join(defs.columns)})", Loc(defs.path, 1)))
            elif row is None:
                out[(name, v.name)] = (False, Source(
                    "derived", "hypercall-defs.c table has no row for it", Loc(defs.path, 1)))
            else:
                prefix = row.cells.get(v.defs_column)
                served = prefix is not None and prefix not in _STUBS
                guard = f" (built {' and '.join(row.guards)})" if row.guards and served else ""
                stub = f" ({_STUBS[prefix]})" if prefix in _STUBS else ""
                out[(name, v.name)] = (served, Source(
                    "derived", f"hypercall-defs.c table row {row.name}{guard}{stub}",
                    Loc(defs.path, row.line)))
    return out


def _row(defs: HypercallDefs, name: str, table: dict[str, TableEntry],
         xen_names: dict[str, str]):
    names = [xen_names[name]] if name in xen_names else []
    names += [name] + [a for a, e in table.items() if e.alias_of == name]
    for n in names:
        row = defs.row(n)
        if row is not None:
            return row
    return None


def defs_rows_unknown(defs: HypercallDefs, table: dict[str, TableEntry],
                      xen_names: dict[str, str]) -> list[str]:
    """Rows naming no hypercall of the tree (Xen-internal names, another version's)."""
    known = set(table) | set(xen_names.values())
    return [r.name for r in defs.rows if r.name not in known]


# ---------------------------------------------------------------- arguments


def defs_args(defs: HypercallDefs, table: dict[str, TableEntry],
              universe: Sequence[Variant], xen_names: dict[str, str]) -> list[ArgStatement]:
    """Arguments of the handler serving each (hypercall, variant) in hypercall-defs.c."""
    out: list[ArgStatement] = []
    for name, entry in table.items():
        if entry.alias_of:
            continue
        row = _row(defs, name, table, xen_names)
        if row is None:
            continue
        by_proto: dict[int, list[str]] = {}
        protos = {}
        for v in universe:
            proto = defs.handler(row, v.defs_column) if v.defs_column in defs.columns else None
            if proto is not None:
                by_proto.setdefault(proto.line, []).append(v.name)
                protos[proto.line] = proto
        for line, variants in by_proto.items():
            proto = protos[line]
            src = Source("derived", f"hypercall-defs.c prototype {proto.text}",
                         Loc(defs.path, proto.line))
            for i, (ctype, pname) in enumerate(proto.params, 1):
                out.append(ArgStatement(Scope(name), i, tuple(variants), pname, ctype,
                                        source=src))
    return out


def header_args(model: Model, table: dict[str, TableEntry],
                universe: Sequence[Variant]) -> list[ArgStatement]:
    """Arguments from the backtick prototypes of the headers.

    A prototype in an arch header applies to that arch's variants only. On
    32-bit variants a 64-bit parameter takes two registers, low half first.
    """
    out: list[ArgStatement] = []
    for name, entry in table.items():
        if entry.alias_of:
            continue
        for proto in model.prototypes:
            if proto.name.removeprefix("HYPERVISOR_") != name:
                continue
            applies = _applies(proto.loc.file, universe)
            src = Source("derived", "prototype", proto.loc)
            by_layout: dict[tuple[int, ...], list[str]] = {}
            for v in applies:
                key = tuple(slots(p.type, v) for p in proto.params)
                by_layout.setdefault(key, []).append(v.name)
            for widths, variants in by_layout.items():
                pos = 1
                for p, width in zip(proto.params, widths, strict=True):
                    pname = p.name or ""
                    for half in range(width):
                        label = pname
                        if width == 2:
                            label = f"{pname} ({'low' if half == 0 else 'high'} 32 bits)"
                        out.append(ArgStatement(Scope(name), pos, tuple(variants), label,
                                                p.type, source=src))
                        pos += 1
    return out


def _applies(path: str, universe: Sequence[Variant]) -> list[Variant]:
    base = path.rsplit("/", 1)[-1]
    if base in ("arch-x86_32.h", "xen-x86_32.h"):
        return [v for v in universe if v.family == "x86" and v.bits == 32]
    if base in ("arch-x86_64.h", "xen-x86_64.h"):
        return [v for v in universe if v.family == "x86" and v.bits == 64]
    family = arch_family_of(path)
    return [v for v in universe if family is None or v.family == family]


def subop_groups(model: Model, hypercall: Hypercall) -> list[OpGroup]:
    """The op groups whose members select a sub-op of ``hypercall``.

    A group named by the first parameter (the command) or mapped to argument
    structs; a flags enum named by a later parameter (``enum uvm_flags``) is not.
    """
    out = []
    for g in model.groups:
        if g.name not in hypercall.groups:
            continue
        if cmd_position(model, hypercall, g.name) == 1 or (g.target or "").startswith("struct"):
            out.append(g)
    return out


def cmd_position(model: Model, hypercall: Hypercall, group: str) -> int:
    """The argument that selects the sub-op: the prototype parameter of ``enum group``."""
    if hypercall.prototype is not None:
        for i, p in enumerate(hypercall.prototype.params, 1):
            if re.search(rf"\benum\s+{re.escape(group)}\b", p.type):
                return i
    return 1


# ---------------------------------------------------------------- sub-ops


def group_bindings(model: Model, table: dict[str, TableEntry]
                   ) -> tuple[list[SubopBinding], dict[str, tuple[str, ...]]]:
    """Each sub-op of a hypercall's op group bound to its argument struct, where the
    headers say it: the ``=> struct`` mapping, else an ``@arg ==`` line."""
    users: dict[str, list[Hypercall]] = {}
    for entry in table.values():
        if entry.alias_of is None:
            for g in subop_groups(model, entry.hypercall):
                users.setdefault(g.name, []).append(entry.hypercall)
    out: list[SubopBinding] = []
    members: dict[str, tuple[str, ...]] = {}
    for g in model.groups:
        position = cmd_position(model, users[g.name][0], g.name) + 1 if g.name in users else 0
        # Only hypercalls passing a pointer after the command take the sub-ops'
        # structs; sched_op_compat passes a value there.
        hcs = tuple(h.name for h in users.get(g.name, ()) if _pointer_at(h, position))
        if not hcs:
            continue
        for name in hcs:
            members[name] = members.get(name, ()) + tuple(g.members)
        for member in g.members:
            b = _bind_member(model, g, member, hcs, position)
            if b is not None:
                out.append(b)
    return out, members


def _pointer_at(h: Hypercall, position: int) -> bool:
    if h.prototype is None or len(h.prototype.params) < position:
        return h.prototype is None or h.prototype.variadic
    ctype = h.prototype.params[position - 1].type
    return "*" in ctype or "[" in ctype


def _bind_member(model: Model, g: OpGroup, member: str, hcs: tuple[str, ...],
                 position: int) -> SubopBinding | None:
    target = g.target_for(member)
    if target and model.records_named(target):
        return SubopBinding(member, g.name, hcs, model.records_named(target)[0].key, position,
                            f"{g.pattern} => {g.target}",
                            Source("derived", f"'{g.pattern} => {g.target}' mapping", g.loc))
    for m in model.macros_named(member):
        for line in m.args:
            if line.name not in _ARG_NAMES:
                continue
            where = Loc(m.loc.file, line.line)
            src = Source("derived", f"'@{line.name} == {line.text.strip()}'", where)
            if _NULL.match(line.text):
                return SubopBinding(member, g.name, hcs, None, position, line.text.strip(), src)
            for hit in _RECORD_REF.finditer(line.text):
                name = f"struct {hit.group(1)}" if hit.group(1) else hit.group(2)
                recs = model.records_named(name)
                if recs:
                    return SubopBinding(member, g.name, hcs, recs[0].key, position,
                                        line.text.strip(), src)
    return None
