"""Binding annotation files to the model, and settling each fact (rules XA2xx).

Every name a statement uses must resolve to a model symbol, and every symbol a
statement depends on is pinned in its file's ``symbols:`` section (value of a
macro, shape of a struct), so that a symbol that vanished, changed value or
changed shape is reported instead of silently making a statement wrong.
Hand-written facts are then combined with the derived ones; a contradiction
with ``hypercall-defs.c`` is an error, one with the headers needs ``overrides:``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from headerparse.annotations.derive import (
    TableEntry,
    canonical,
    cmd_position,
    defs_args,
    defs_availability,
    defs_rows_unknown,
    group_bindings,
    header_args,
    header_availability,
    hypercall_table,
    subop_groups,
)
from headerparse.annotations.hypercall_defs import HypercallDefs, parse_hypercall_defs
from headerparse.annotations.parsed import (
    ParsedFile,
    Pin,
    ScopeEntry,
    Selector,
    StructEntry,
)
from headerparse.annotations.pins import check_pins, layout_diff
from headerparse.annotations.types import (
    AnnotationSet,
    ArgStatement,
    Availability,
    Condition,
    HypercallSummary,
    Info,
    Known,
    LayoutIntent,
    ReturnStatement,
    Scope,
    Source,
    SubopBinding,
)
from headerparse.model import Diagnostic, Loc, Model
from headerparse.variants import Variant, resolve, variants_for_archs

_C_WORDS = frozenset({
    "void", "char", "short", "int", "long", "signed", "unsigned", "const", "volatile",
    "float", "double", "_Bool", "bool", "size_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
    "int8_t", "int16_t", "int32_t", "int64_t", "uintptr_t",
})
Fact = tuple[Any, Source]


def bind(files: list[ParsedFile], model: Model, defs_text: str | None,
         defs_path: str) -> tuple[AnnotationSet, list[Diagnostic]]:
    return _Binder(model).run(files, defs_text, defs_path)


class _Binder:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.universe = variants_for_archs(model.archs)
        self.table: dict[str, TableEntry] = hypercall_table(model)
        self.diags: list[Diagnostic] = []
        self.refs: dict[str, tuple[str, Loc]] = {}       # symbol -> ("value"|"shape", first use)
        self.args: list[ArgStatement] = []
        self.returns: list[ReturnStatement] = []
        self.avail: list[Availability] = []
        self.hand_avail: dict[tuple[str, str], Fact] = {}
        self.hand_subops: list[tuple[SubopBinding, Loc]] = []
        self.layouts: list[LayoutIntent] = []
        self.infos: list[Info] = []
        self.overrides: dict[str, Loc] = {}
        self.used_overrides: set[str] = set()
        self.xen_names: dict[str, str] = {}
        self.conflicts: dict[tuple[str, str, Loc | None, str], list[str]] = {}
        self.arg_conditions: list[tuple[str, Condition, Loc]] = []
        self.no_args: dict[str, Source] = {}

    def err(self, rule: str, loc: Loc | None, msg: str, why: str = "",
            severity: str = "error", symbol: str | None = None) -> None:
        self.diags.append(Diagnostic(rule, severity, loc, msg, why, symbol=symbol))

    # ------------------------------------------------------------ driver

    def run(self, files: list[ParsedFile], defs_text: str | None,
            defs_path: str) -> tuple[AnnotationSet, list[Diagnostic]]:
        entries, structs, pins = self._collect(files)
        for e in entries:
            self._hypercall(e)
        for s in structs:
            self._struct(s)
        defs = None
        if defs_text is not None:
            defs, more = parse_hypercall_defs(defs_text, defs_path)
            self.diags += more
        facts = self._settle(defs)
        subops, members = self._subops()
        self._arg_conditions()
        self._check_pins(pins)
        for name, loc in self.overrides.items():
            if name not in self.used_overrides:
                # Without hypercall-defs.c an override of the table cannot be judged.
                self.err("XA209", loc, f"'overrides:' of {name} overrides nothing: no "
                         "hand-written fact contradicts the headers"
                         + (" or hypercall-defs.c; remove it" if defs else
                            " (hypercall-defs.c, absent here, may still need it)"),
                         severity="warning" if defs else "note")
        self._emit_conflicts()
        aset = AnnotationSet(self.universe, tuple(facts), tuple(self.args), tuple(self.returns),
                             tuple(self.avail), tuple(subops), tuple(self.layouts),
                             tuple(self.infos), defs is not None, members)
        return aset, self.diags

    def _collect(self, files: list[ParsedFile]
                 ) -> tuple[list[ScopeEntry], list[StructEntry], dict[str, Pin]]:
        entries: dict[str, ScopeEntry] = {}
        structs: dict[str, StructEntry] = {}
        pins: dict[str, Pin] = {}
        for f in files:
            for e in f.hypercalls:
                name = canonical(self.table, e.scope.hypercall) or e.scope.hypercall
                if name in entries:
                    self.err("XA108", e.loc, f"second annotation of hypercall {name} "
                             f"(first at {_at(entries[name].loc)})")
                    continue
                entries[name] = _rebase(e, name)
            for s in f.structs:
                if s.name in structs:
                    self.err("XA108", s.loc, f"second annotation of {s.name} "
                             f"(first at {_at(structs[s.name].loc)})")
                    continue
                structs[s.name] = s
            for p in f.pins:
                key = self._pin_key(p.symbol)
                if key in pins and pins[key].value != p.value:
                    self.err("XA109", p.loc, f"{p.symbol} is pinned differently at "
                             f"{_at(pins[key].loc)}")
                pins.setdefault(key, p)
        return list(entries.values()), list(structs.values()), pins

    # ------------------------------------------------------------ hand-written statements

    def _source(self, loc: Loc, *chain: ScopeEntry) -> Source:
        prov = next((e.provenance for e in chain if e.provenance), ())
        return Source("hand-written", "annotation", loc, prov)

    def _hypercall(self, e: ScopeEntry) -> None:
        name = e.scope.hypercall
        entry = self.table.get(name)
        if entry is None:
            self.err("XA201", e.loc, f"no hypercall __HYPERVISOR_{name} in {self.model.tree}",
                     why="the hypercall vanished or is misspelt; annotations are never "
                         "silently skipped", symbol=f"__HYPERVISOR_{name}")
            return
        self._ref(entry.hypercall.macro, "value", e.loc)
        if e.overrides:
            self.overrides[name] = e.loc
        if e.xen_name:
            self.xen_names[name] = e.xen_name
        self._body(e, (e,))
        for sub in e.subops:
            self._subop(entry, sub, e)

    def _body(self, e: ScopeEntry, chain: tuple[ScopeEntry, ...]) -> None:
        src = self._source(e.loc, e)     # a scope's own provenance, not its parent's
        self.infos.append(Info(e.scope, src, e.summary, e.since, e.notes, e.overrides,
                               e.xen_name))
        if e.available is not None:
            chosen = {v.name for v in self._variants(e.available.selector)}
            mapping = {v.name: v.name in chosen for v in self.universe}
            asrc = self._source(e.available.loc, *chain)
            if e.scope.subop is None:
                for v, ok in mapping.items():
                    self.hand_avail[(e.scope.hypercall, v)] = (ok, asrc)
            self.avail.append(Availability(e.scope, mapping, asrc, e.available.requires))
        if e.no_args and e.scope.subop is None:
            self.no_args[e.scope.hypercall] = src
        for a in e.args:
            f = a.fields
            struct = self._record(f["struct"], a.loc) if f.get("struct") else None
            if f.get("type"):
                self._bind_type(f["type"], a.loc)
            self.args.append(ArgStatement(
                e.scope, a.position, self._names(a.selector), f.get("name") or "",
                f.get("type") or "", struct, f.get("meaning") or "", f.get("direction"),
                tuple(f.get("read_by") or ()), f.get("constraint"),
                self._source(a.loc, *chain)))
        for r in e.returns:
            self.returns.append(ReturnStatement(e.scope, self._names(r.selector), r.text,
                                                self._source(r.loc, *chain)))

    def _variants(self, sel: Selector | None) -> tuple[Variant, ...]:
        return resolve(sel.names if sel else "all", self.universe)

    def _names(self, sel: Selector | None) -> tuple[str, ...]:
        return tuple(v.name for v in self._variants(sel))

    def _subop(self, entry: TableEntry, sub: ScopeEntry, parent: ScopeEntry) -> None:
        name, hc = sub.scope.subop or "", entry.hypercall
        if not self.model.macros_named(name) and self._constant(name) is None:
            self.err("XA202", sub.loc, f"no sub-op {name} in {self.model.tree}", symbol=name)
            return
        groups = subop_groups(self.model, hc)
        if groups and not any(name in g.members for g in groups):
            where = ", ".join(f"{g.name} ({_at(g.loc)})" for g in groups)
            self.err("XA210", sub.loc, f"{name} is not a sub-op of {hc.name}: not a member of "
                     f"op group {where}", symbol=name)
            return
        self._ref(name, "value", sub.loc)
        takes = None
        if sub.has_takes:
            if sub.takes is not None:
                takes = self._record(sub.takes, sub.takes_loc or sub.loc)
                if takes is None:
                    return
            group = next((g.name for g in groups if name in g.members), None)
            pos = cmd_position(self.model, hc, group) + 1 if group else 2
            b = SubopBinding(name, group, (hc.name,), takes, pos,
                             f"takes {sub.takes or 'no argument'}",
                             self._source(sub.takes_loc or sub.loc, sub, parent))
            self.hand_subops.append((b, sub.takes_loc or sub.loc))
        self._body(sub, (sub, parent))
        for case in sub.cases:
            assert case.scope.condition is not None
            if self._condition(case.scope.condition, case.cond_loc or case.loc, takes,
                               hc.name):
                self._body(case, (case, sub, parent))

    def _condition(self, cond: Condition, loc: Loc, takes: str | None, hypercall: str) -> bool:
        ok = True
        parts = cond.lhs.split(".")
        if len(parts) == 1:
            self.arg_conditions.append((hypercall, cond, loc))
        else:
            key = self._record(parts[0], loc) or self._record(f"struct {parts[0]}", loc,
                                                                quiet=True)
            if key is None:
                return False
            path = ".".join(parts[1:])
            recs = self.model.records_named(key)
            paths = {f.path for r in recs for f in r.fields} | {
                m.path for r in recs for lay in r.layouts.values() for m in lay.members}
            if path not in paths:
                self.err("XA202", loc, f"{key} has no member {path!r}", symbol=f"{key}.{path}")
                ok = False
            if takes is not None and key != takes:
                self.err("XA211", loc, f"the condition tests {key}, but the sub-op's argument "
                         f"is {takes}", severity="warning")
        if not re.fullmatch(r"-?\d+|0x[0-9a-fA-F]+", cond.rhs):
            if not self.model.macros_named(cond.rhs) and self._constant(cond.rhs) is None:
                self.err("XA202", loc, f"no constant {cond.rhs} in {self.model.tree}",
                         symbol=cond.rhs)
                return False
            self._ref(cond.rhs, "value", loc)
        return ok

    def _arg_conditions(self) -> None:
        for hypercall, cond, loc in self.arg_conditions:
            names = {a.name for a in self.args if a.scope.hypercall == hypercall}
            if cond.lhs not in names and not re.fullmatch(r"arg[1-6]", cond.lhs):
                self.err("XA202", loc, f"{hypercall} has no argument named {cond.lhs!r}",
                         why="a condition names a struct member (struct.field) or an "
                             "argument (by name, or arg1..arg6)")

    def _record(self, name: str, loc: Loc, quiet: bool = False) -> str | None:
        recs = self.model.records_named(name)
        if not recs:
            if not quiet:
                self.err("XA202", loc, f"no struct or union {name!r} in {self.model.tree}",
                         symbol=name)
            return None
        self._ref(recs[0].key, "shape", loc)
        return recs[0].key

    def _constant(self, name: str) -> dict[str, int] | None:
        for e in self.model.enums:
            for c in e.constants:
                if c.name == name:
                    return dict(c.values)
        return None

    def _bind_type(self, ctype: str, loc: Loc) -> None:
        words = re.findall(r"[A-Za-z_]\w*", ctype)
        i = 0
        while i < len(words):
            w = words[i]
            if w in ("struct", "union", "enum") and i + 1 < len(words):
                tag = words[i + 1]
                i += 2
                if w == "enum":
                    if not any(g.name == tag for g in self.model.groups) and not any(
                            e.key == f"enum {tag}" for e in self.model.enums):
                        self.err("XA202", loc, f"no enum or op group {tag!r} for type {ctype!r}")
                elif not self.model.records_named(f"{w} {tag}"):
                    self.err("XA202", loc, f"no {w} {tag} for type {ctype!r}")
                continue
            i += 1
            if w in _C_WORDS or self.model.records_named(w) or self.model.macros_named(w):
                continue
            if not any(t.name == w for t in self.model.typedefs):
                self.err("XA202", loc, f"unknown type name {w!r} in {ctype!r}", symbol=w)

    def _struct(self, s: StructEntry) -> None:
        key = self._record(s.name, s.loc)
        if key is None:
            return
        src = Source("hand-written", "annotation", s.loc, s.provenance)
        self.layouts.append(LayoutIntent(key, s.intent, s.why, src))
        self._check_layout(s, key)

    def _check_layout(self, s: StructEntry, key: str) -> None:
        # A layout is the size and every member's offset and size; alignment alone
        # (uint64_t is 4-byte aligned on i386) matters only where the struct is embedded.
        lays = {a: lay for r in self.model.records_named(key) for a, lay in r.layouts.items()}
        sigs = {a: (lay.size, tuple((m.path, m.offset, m.size) for m in lay.members))
                for a, lay in lays.items()}
        if s.intent == "same" and len(set(sigs.values())) > 1:
            self.err("XA214", s.loc, f"{key} should have one layout on every arch but "
                     f"differs: {layout_diff(lays)}", symbol=key,
                     why="both ends of a shared structure may be of different widths")
        elif s.intent == "same" and len({lay.align for lay in lays.values()}) > 1:
            aligns = ", ".join(f"{a} {lay.align}" for a, lay in lays.items())
            self.err("XA214", s.loc, f"{key} has one layout but its alignment differs "
                     f"({aligns}): embedding it may place it differently", severity="note",
                     symbol=key)
        elif s.intent == "differs" and len(sigs) > 1 and len(set(sigs.values())) == 1:
            self.err("XA214", s.loc, f"{key} is said to differ by design but has the same "
                     f"layout on {', '.join(sigs)}", severity="warning", symbol=key)

    # ------------------------------------------------------------ settling

    def _settle(self, defs: HypercallDefs | None) -> list[HypercallSummary]:
        hdr_av = header_availability(self.model, self.table, self.universe)
        defs_av = defs_availability(defs, self.table, self.universe, self.xen_names) \
            if defs else {}
        derived = header_args(self.model, self.table, self.universe)
        if defs is not None:
            derived += defs_args(defs, self.table, self.universe, self.xen_names)
            for row in defs_rows_unknown(defs, self.table, self.xen_names):
                self.err("XA221", Loc(defs.path, defs.row(row).line if defs.row(row) else 1),
                         f"hypercall-defs.c row {row} names no hypercall of the headers",
                         severity="note",
                         why="a Xen-internal name; give it with 'xen_name:' if it serves "
                             "one of the __HYPERVISOR_* numbers")
        self.args = derived + self.args
        out: list[HypercallSummary] = []
        for name, entry in self.table.items():
            if entry.alias_of:
                continue
            available: dict[str, Known] = {}
            arity: dict[str, Known] = {}
            for v in self.universe:
                key = (name, v.name)
                k = self._pick(name, v.name, "availability", self.hand_avail.get(key),
                               defs_av.get(key), hdr_av.get(key))
                if k is None:
                    continue
                available[v.name] = k
                if k.value:
                    a = self._arity(name, v)
                    if a is not None:
                        arity[v.name] = a
            h = entry.hypercall
            groups = tuple(g.name for g in subop_groups(self.model, h))
            out.append(HypercallSummary(name, h.number, h.macro, h.loc, None, groups,
                                      available, arity))
        by_name = {f.name: f for f in out}
        for name, entry in self.table.items():
            if entry.alias_of and entry.alias_of in by_name:
                t = by_name[entry.alias_of]
                h = entry.hypercall
                out.append(HypercallSummary(name, h.number, h.macro, h.loc, entry.alias_of,
                                          t.groups, t.available, t.arity))
        self._subop_availability(by_name)
        return sorted(out, key=lambda f: (f.number, f.alias_of is not None, f.name))

    def _arity(self, name: str, v: Variant) -> Known | None:
        per: dict[str, list[ArgStatement]] = {"hand": [], "defs": [], "hdr": []}
        extra: list[ArgStatement] = []
        for a in self.args:
            if a.scope.hypercall != name or v.name not in a.variants:
                continue
            if a.scope.subop is not None:
                if a.used:
                    extra.append(a)
                continue
            kind = "hand" if not a.source.derived else (
                "defs" if a.source.basis.startswith("hypercall-defs.c") else "hdr")
            per[kind].append(a)
        facts: dict[str, Fact | None] = {}
        for kind, stmts in per.items():
            used = [a for a in stmts if a.used]
            if not stmts:
                zero = self.no_args.get(name) if kind == "hand" else None
                facts[kind] = (0, zero) if zero else None
                continue
            top = max((a.position for a in used), default=0)
            missing = sorted(set(range(1, top + 1)) - {a.position for a in stmts})
            if kind == "hand" and missing:
                self._conflict("XA212", "error", stmts[0].source.loc,
                               f"hand-written arguments of {name} skip argument "
                               f"{', '.join(map(str, missing))}: give every argument up to "
                               "the last one, or none", v.name)
            facts[kind] = (top, stmts[0].source)
        base = self._pick(name, v.name, "arity", facts["hand"], facts["defs"], facts["hdr"])
        if base is None:
            return None
        beyond = [a for a in extra if a.position > base.value]
        if not beyond:
            return base
        top = max(a.position for a in beyond)
        srcs = base.sources + tuple(dict.fromkeys(a.source for a in beyond))
        return Known(top, srcs)

    def _pick(self, name: str, variant: str, what: str, hand: Fact | None,
              defs: Fact | None, hdr: Fact | None) -> Known | None:
        if hand and defs and hand[0] != defs[0]:
            # The table says which handler is dispatched, not whether it serves the
            # guest (do_set_segment_base() refuses 32-bit PV guests): an override
            # with its reason keeps the disagreement visible as a note.
            overridden = name in self.overrides
            if overridden:
                self.used_overrides.add(name)
            self._conflict("XA207", "note" if overridden else "error", hand[1].loc,
                           f"{what} of {name}: hand-written {_fmt(what, hand[0])}, but "
                           f"{defs[1]} says {_fmt(what, defs[0])}"
                           + (" (overridden)" if overridden else ""), variant)
        if hand and hdr and hand[0] != hdr[0]:
            if name in self.overrides:
                self.used_overrides.add(name)
            else:
                self._conflict("XA208", "error", hand[1].loc,
                               f"{what} of {name}: hand-written {_fmt(what, hand[0])} "
                               f"contradicts {hdr[1]} ({_fmt(what, hdr[0])}); if the headers "
                               "are wrong, say why in 'overrides:'", variant)
        if not hand and defs and hdr and defs[0] != hdr[0]:
            self._conflict("XA208", "warning", hdr[1].loc,
                           f"{what} of {name}: the headers ({hdr[1]}) say "
                           f"{_fmt(what, hdr[0])}, hypercall-defs.c says "
                           f"{_fmt(what, defs[0])}", variant)
        trust_defs = defs and hand and defs[0] != hand[0] and name not in self.overrides
        chosen = defs if trust_defs else (hand or defs or hdr)
        if chosen is None:
            return None
        agree = [f[1] for f in (hand, defs, hdr) if f and f[0] == chosen[0]]
        return Known(chosen[0], tuple(agree))

    def _conflict(self, rule: str, severity: str, loc: Loc | None, msg: str,
                  variant: str) -> None:
        self.conflicts.setdefault((rule, severity, loc, msg), []).append(variant)

    def _emit_conflicts(self) -> None:
        for (rule, severity, loc, msg), variants in self.conflicts.items():
            self.diags.append(Diagnostic(rule, severity, loc, msg, archs=tuple(variants)))

    def _subop_availability(self, facts: dict[str, HypercallSummary]) -> None:
        for a in self.avail:
            f = facts.get(a.scope.hypercall)
            if a.scope.subop is None or f is None:
                continue
            bad = [v for v, ok in a.available.items()
                   if ok and v in f.available and not f.available[v].value]
            if bad:
                self.err("XA216", a.source.loc, f"{a.scope.subop} is said to be available on "
                         f"{', '.join(bad)}, where {a.scope.hypercall} is not")

    def _subops(self) -> tuple[list[SubopBinding], dict[str, tuple[str, ...]]]:
        derived, members = group_bindings(self.model, self.table)
        final = {(b.subop, b.group): b for b in derived}
        for b, loc in self.hand_subops:
            d = final.get((b.subop, b.group))
            if d is not None and d.source.derived and d.takes != b.takes:
                self.err("XA208", loc, f"{b.subop} is said to take {b.takes or 'no argument'}, "
                         f"but {d.source} says {d.takes or 'no argument'}", symbol=b.subop)
                continue
            if d is not None:
                b = dataclasses.replace(b, hypercalls=d.hypercalls, position=d.position)
            final[(b.subop, b.group)] = b
        for b in final.values():
            self._subop_arg(b)
        return list(final.values()), members

    def _subop_arg(self, b: SubopBinding) -> None:
        """The binding as an argument statement of each hypercall passing a pointer there."""
        everywhere = tuple(v.name for v in self.universe)
        for name in b.hypercalls:
            self.args.append(ArgStatement(
                Scope(name, b.subop), b.position, everywhere, "",
                f"{b.takes} *" if b.takes else "NULL", b.takes,
                f"points to {b.takes}" if b.takes else "no argument: NULL",
                source=b.source))

    # ------------------------------------------------------------ pins

    def _ref(self, symbol: str, kind: str, loc: Loc) -> None:
        self.refs.setdefault(symbol, (kind, loc))

    def _pin_key(self, symbol: str) -> str:
        recs = self.model.records_named(symbol)
        return recs[0].key if recs else symbol

    def _check_pins(self, pins: dict[str, Pin]) -> None:
        self.diags += check_pins(self.model, self.refs, pins)

def _rebase(e: ScopeEntry, name: str) -> ScopeEntry:
    if e.scope.hypercall == name:
        return e

    def scope(s: Scope) -> Scope:
        return dataclasses.replace(s, hypercall=name)

    subs = []
    for sub in e.subops:
        cases = [dataclasses.replace(c, scope=scope(c.scope)) for c in sub.cases]
        subs.append(dataclasses.replace(sub, scope=scope(sub.scope), cases=cases))
    return dataclasses.replace(e, scope=scope(e.scope), subops=subs,
                               xen_name=e.xen_name or e.scope.hypercall)








def _fmt(what: str, value: Any) -> str:
    if what == "availability":
        return "available" if value else "not available"
    return f"{value} argument{'s' if value != 1 else ''}"


def _at(loc: Loc) -> str:
    return f"{loc.file}:{loc.line}"
