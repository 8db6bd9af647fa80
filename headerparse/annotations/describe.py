"""The annotations part of ``headerparse show NAME``: per variant, with registers and sources."""

from __future__ import annotations

from headerparse.annotations.types import (
    AnnotationSet,
    ArgStatement,
    Condition,
    HypercallSummary,
    Info,
)
from headerparse.model import Model
from headerparse.variants import BY_NAME


def describe(aset: AnnotationSet, model: Model, name: str) -> list[str]:
    """Lines for every annotation ``name`` has: hypercall, sub-op, struct, or constant."""
    out: list[str] = []
    facts = aset.hypercall(name)
    if facts is not None:
        out += _hypercall(aset, facts)
    for b in aset.subop(name):
        for hc in b.hypercalls:
            out += _subop(aset, hc, name)
    if not aset.subop(name):
        hand = {i.scope.hypercall for i in aset.infos if i.scope.subop == name}
        for hc in sorted(hand):
            out += _subop(aset, hc, name)
    for r in model.records_named(name):
        li = aset.layout_intent(r.key)
        if li is not None:
            word = "one layout on every arch" if li.intent == "same" else "differs by design"
            out += [f"annotations: {r.key} — layout intent: {word}", f"  why: {li.why}",
                    f"  [{li.source}]"]
        users = [b for b in aset.subops if b.takes == r.key]
        if users:
            out.append(f"annotations: {r.key} is the argument of "
                       + ", ".join(f"{b.subop} ({'/'.join(b.hypercalls)})" for b in users))
    conds = [(a.scope, a.scope.condition) for a in aset.args
             if a.scope.condition is not None and name in (a.scope.condition.rhs,)]
    for scope in dict.fromkeys(s for s, _ in conds):
        out.append(f"annotations: {name} selects extra statements: {scope} "
                   f"(see 'headerparse show {scope.subop}')")
    return out


def _src(sources: tuple) -> str:
    # Provenance is printed once per scope (see _info); per-line sources stay short.
    return "; ".join(s.short() for s in sources)


def _hypercall(aset: AnnotationSet, h: HypercallSummary) -> list[str]:
    title = f"annotations: hypercall {h.name} ({h.macro} = {h.number})"
    if h.alias_of:
        title += f", an alias of {h.alias_of}"
    lines = [title]
    lines += _info(aset.info(h.alias_of or h.name), "  ")
    for v in aset.variants:
        avail = h.available.get(v.name)
        if avail is None:
            lines.append(f"  {v.name}: availability unknown")
            continue
        if not avail.value:
            lines.append(f"  {v.name}: not available  [{_src(avail.sources)}]")
            continue
        arity = h.arity.get(v.name)
        if arity is None:
            lines.append(f"  {v.name}: available, arity unknown  [{_src(avail.sources)}]")
            continue
        regs = " ".join(v.arg_registers[:arity.value]) if v.index_register else "?"
        lines.append(f"  {v.name}: available [{_src(avail.sources)}]")
        lines.append(f"      index in {v.index_register}; {arity.value} argument(s) in {regs} "
                     f"[{_src(arity.sources)}]")
    lines += _args(aset, h.alias_of or h.name, None, None, "  ")
    lines += _returns(aset, h.alias_of or h.name, None, None, "  ")
    subs = aset.subops_of(h.alias_of or h.name)
    if subs:
        lines.append("  sub-ops: " + ", ".join(
            f"{b.subop} -> {b.takes or 'no argument'}" for b in subs))
    missing = aset.unbound(h.alias_of or h.name)
    if missing:
        lines.append(f"  sub-ops with no known argument: {', '.join(missing)}")
    return lines


def _subop(aset: AnnotationSet, hypercall: str, subop: str) -> list[str]:
    h = aset.hypercall(hypercall)
    title = f"annotations: {subop}, sub-op of {hypercall}"
    if h is not None:
        title += f" ({h.macro} = {h.number})"
    lines = [title]
    for b in aset.subop(subop):
        if hypercall in b.hypercalls:
            lines.append(f"  argument: {b.takes or 'none'} in arg{b.position}  [{b.source}]")
    lines += _info(aset.info(hypercall, subop), "  ")
    lines += _args(aset, hypercall, subop, None, "  ")
    lines += _returns(aset, hypercall, subop, None, "  ")
    for cond in aset.conditions(hypercall, subop):
        lines.append(f"  when {cond}:")
        lines += _info(aset.info(hypercall, subop, cond), "    ")
        lines += _args(aset, hypercall, subop, cond, "    ", only_cond=True)
        lines += _returns(aset, hypercall, subop, cond, "    ", only_cond=True)
    return lines


def _info(info: Info | None, pad: str) -> list[str]:
    if info is None:
        return []
    lines = []
    if info.summary:
        lines.append(f"{pad}summary: {info.summary}  [{info.source.where()}]")
    if info.since:
        lines.append(f"{pad}since: Xen {info.since}")
    for n in info.notes:
        lines.append(f"{pad}note: {n}")
    if info.overrides:
        lines.append(f"{pad}overrides the headers: {info.overrides}")
    for p in info.source.provenance:
        lines.append(f"{pad}provenance: {p}")
    return lines


def _args(aset: AnnotationSet, hypercall: str, subop: str | None, cond: Condition | None,
          pad: str, only_cond: bool = False) -> list[str]:
    """Each distinct statement once, with the variants it holds for and their registers.

    Under a statement in force, those of wider scopes stay visible (the sub-op's
    struct, the hypercall's readers); lower-ranked ones of the same scope do not.
    """
    groups: dict[tuple[int, int], tuple[ArgStatement, list[str]]] = {}
    for v in aset.variants:
        avail = aset.available(hypercall, variant=v.name, subop=subop)
        if avail is not None and not avail.value:
            continue
        layers = aset.argument_layers(hypercall, subop, cond, variant=v.name)
        for pos, stmts in layers.items():
            for depth, a in enumerate(stmts):  # the one in force first
                if only_cond and a.scope.condition is None:
                    continue
                if not only_cond and a.scope.condition is not None:
                    continue
                if any(b.scope == a.scope for b in stmts[:depth]):
                    continue
                groups.setdefault((pos, id(a)), (a, []))[1].append(v.name)
    lines = []
    for (_pos, _), (a, names) in sorted(groups.items(), key=lambda kv: kv[0][0]):
        regs = ", ".join(f"{n} {BY_NAME[n].register(a.position) or '?'}" for n in names)
        lines.append(f"{pad}{_arg_text(a)}")
        lines.append(f"{pad}    {regs}  [{a.source.short()}]")
    return lines


def _arg_text(a: ArgStatement) -> str:
    head = f"arg{a.position}"
    if a.name:
        head += f" {a.name}"
    if a.ctype:
        head += f" ({a.ctype})"
    facts = []
    if a.direction:
        facts.append(a.direction)
    if a.readers:
        facts.append("read by " + ", ".join(a.readers))
    if a.constraint:
        facts.append(str(a.constraint))
    text = head + (f": {a.meaning}" if a.meaning else "")
    return text + (f"; {'; '.join(facts)}" if facts else "")


def _returns(aset: AnnotationSet, hypercall: str, subop: str | None, cond: Condition | None,
             pad: str, only_cond: bool = False) -> list[str]:
    seen: dict[int, tuple[object, list[str]]] = {}
    for v in aset.variants:
        for r in aset.return_values(hypercall, subop, cond, variant=v.name):
            if (r.scope.condition is not None) != only_cond or (
                    not only_cond and r.scope.subop != subop):
                continue
            seen.setdefault(id(r), (r, []))[1].append(v.name)
    lines = []
    for r, names in seen.values():
        which = "all variants" if len(names) == len(aset.variants) else ", ".join(names)
        lines.append(f"{pad}returns ({which}): {r.text}  [{r.source.where()}]")
    return lines
