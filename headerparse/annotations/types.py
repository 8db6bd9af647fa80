"""The annotation layer: what each hypercall argument means, per ABI variant.

Human-written YAML files under ``source/annotations/`` (format in
``docs/annotations.md``) are validated (``annotations_schema``), bound to the
model and combined with what the headers and ``hypercall-defs.c`` already say
(``annotations_bind``). The result is an :class:`AnnotationSet` of frozen
statements, each carrying its :class:`Source`: derived (and from where) or
hand-written (file:line and provenance).

Typical use::

    aset, diags = load_annotations(Path("source/annotations"), model, defs_text)
    for a in aset.arguments("sched_op", "SCHEDOP_shutdown",
                            "sched_shutdown.reason == SHUTDOWN_suspend", variant="x86-pv64"):
        print(a.position, a.register, a.meaning, a.readers, a.constraint, a.source)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from headerparse.model import Loc
from headerparse.variants import BY_NAME, Variant

# The closed sets of the annotation format: the types, and the tuples the schema offers.
Direction = Literal["in", "out", "in/out", "none"]
Reader = Literal["xen", "toolstack", "guest", "nobody"]
ConstraintKind = Literal["any", "must-be", "zero", "reserved"]
LayoutIntentKind = Literal["same", "differs"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
READERS: tuple[Reader, ...] = get_args(Reader)
CONSTRAINTS: tuple[ConstraintKind, ...] = get_args(ConstraintKind)
LAYOUT_INTENTS: tuple[LayoutIntentKind, ...] = get_args(LayoutIntentKind)


@dataclass(frozen=True)
class Provenance:
    """Where a hand-written fact comes from: a commit, a mailing-list thread, a document."""

    kind: str            # "commit" | "thread" | "doc" | "url"
    ref: str
    title: str = ""
    date: str = ""
    note: str = ""

    def __str__(self) -> str:
        out = f"{self.kind} {self.ref}"
        if self.title:
            out += f' "{self.title}"'
        if self.date:
            out += f" ({self.date})"
        if self.note:
            out += f": {self.note}"
        return out


@dataclass(frozen=True)
class Source:
    """Whether a fact is derived or hand-written, and from where."""

    kind: str                   # "derived" | "hand-written"
    basis: str                  # "prototype", "hypercall-defs.c row", "annotation", ...
    loc: Loc | None = None
    provenance: tuple[Provenance, ...] = ()

    @property
    def derived(self) -> bool:
        return self.kind == "derived"

    def where(self) -> str:
        return f"{self.loc.file}:{self.loc.line}" if self.loc else ""

    def short(self) -> str:
        """Like str() but without the provenance, for lines that repeat per statement."""
        if self.kind == "hand-written":
            return f"hand-written: {self.where()}" if self.loc else "hand-written"
        return str(self)

    def __str__(self) -> str:
        at = self.where()
        if self.kind == "hand-written":
            out = f"hand-written: {at}" if at else "hand-written"
            if self.provenance:
                out += " (provenance: " + "; ".join(str(p) for p in self.provenance) + ")"
            return out
        return f"derived: {self.basis}" + (f" at {at}" if at else "")


@dataclass(frozen=True)
class Condition:
    """``lhs op rhs`` on a sub-op's argument: ``sched_shutdown.reason == SHUTDOWN_suspend``."""

    lhs: str
    op: str              # "==" | "!="
    rhs: str

    @property
    def text(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> Condition | None:
        """``lhs == rhs`` or ``lhs != rhs``; None when ``text`` is neither."""
        m = _CONDITION.match(text)
        return cls(m.group(1), m.group(2), m.group(3)) if m else None


_CONDITION = re.compile(r"\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(==|!=)\s*(-?\w+)\s*\Z")


@dataclass(frozen=True)
class Scope:
    """What a statement is about: a hypercall, one of its sub-ops, or a sub-op under a condition."""

    hypercall: str
    subop: str | None = None
    condition: Condition | None = None

    def __str__(self) -> str:
        out = self.hypercall
        if self.subop:
            out += f" {self.subop}"
        if self.condition:
            out += f" when {self.condition}"
        return out


@dataclass(frozen=True)
class Constraint:
    kind: ConstraintKind
    text: str = ""

    def __str__(self) -> str:
        return {"any": "any value", "zero": "must be zero",
                "reserved": "reserved (must not be relied upon)"}.get(
                    self.kind, f"must be {self.text}")


@dataclass(frozen=True)
class ArgStatement:
    """One argument position of one scope on some variants."""

    scope: Scope
    position: int                    # 1-based argument register index
    variants: tuple[str, ...]
    name: str = ""
    ctype: str = ""
    struct: str | None = None        # the record the argument points to, bound to the model
    meaning: str = ""
    direction: Direction | None = None
    readers: tuple[Reader, ...] = ()
    constraint: Constraint | None = None
    source: Source = field(default_factory=lambda: Source("derived", ""))

    @property
    def used(self) -> bool:
        """False when nobody reads the register: it does not count towards the arity."""
        return self.readers != ("nobody",)


@dataclass(frozen=True)
class ReturnStatement:
    scope: Scope
    variants: tuple[str, ...]
    text: str
    source: Source


@dataclass(frozen=True)
class Availability:
    """Which variants may make a call (a hypercall, or a sub-op of one)."""

    scope: Scope
    available: Mapping[str, bool]    # variant -> available; variants not listed: unknown
    source: Source
    requires: str = ""               # build option it depends on, e.g. "CONFIG_ARGO"


@dataclass(frozen=True)
class SubopBinding:
    """A sub-op and the struct its argument points to (``None``: no argument)."""

    subop: str
    group: str | None
    hypercalls: tuple[str, ...]
    takes: str | None
    position: int                    # the hypercall argument carrying it
    text: str                        # as the source says it: "pointer to sched_poll_t structure"
    source: Source


@dataclass(frozen=True)
class LayoutIntent:
    struct: str
    intent: LayoutIntentKind         # "same": one layout on every arch; "differs": by design
    why: str
    source: Source


@dataclass(frozen=True)
class Info:
    """Free text about a scope: summary, version, notes, provenance."""

    scope: Scope
    source: Source
    summary: str = ""
    since: str = ""
    notes: tuple[str, ...] = ()
    overrides: str = ""              # why a hand-written fact contradicts a header-derived one
    xen_name: str = ""               # name of the row in hypercall-defs.c when it differs


@dataclass(frozen=True)
class Known:
    """A value with the sources that establish it."""

    value: Any
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class HypercallSummary:
    """Everything settled about one ``__HYPERVISOR_*`` hypercall, per variant."""

    name: str
    number: int
    macro: str
    loc: Loc
    alias_of: str | None
    groups: tuple[str, ...]
    available: Mapping[str, Known]   # variant -> Known(bool)
    arity: Mapping[str, Known]       # variant -> Known(int), for variants where available

    def missing(self, variants: tuple[Variant, ...]) -> list[str]:
        """What keeps this hypercall from counting as annotated, one phrase each."""
        out = []
        for v in variants:
            avail = self.available.get(v.name)
            if avail is None:
                out.append(f"availability on {v.name}")
            elif avail.value:
                arity = self.arity.get(v.name)
                if arity is None:
                    out.append(f"arity on {v.name}")
                elif v.register(arity.value) is None and arity.value > 0:
                    out.append(f"registers on {v.name} ({v.convention}, {arity.value} arguments)")
        return out


@dataclass(frozen=True)
class AnnotationSet:
    variants: tuple[Variant, ...]
    hypercalls: tuple[HypercallSummary, ...] = ()
    args: tuple[ArgStatement, ...] = ()
    returns: tuple[ReturnStatement, ...] = ()
    availability: tuple[Availability, ...] = ()
    subops: tuple[SubopBinding, ...] = ()
    layouts: tuple[LayoutIntent, ...] = ()
    infos: tuple[Info, ...] = ()
    has_defs: bool = False
    # hypercall -> the members of the op groups its prototype names (its sub-ops)
    group_members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    # ------------------------------------------------------------ look-ups

    def hypercall(self, name: str) -> HypercallSummary | None:
        bare = name.removeprefix("__HYPERVISOR_").removeprefix("HYPERVISOR_")
        return next((h for h in self.hypercalls if h.name == bare), None)

    def variant(self, name: str) -> Variant:
        if name not in BY_NAME:
            raise KeyError(f"unknown variant {name!r}; known: {', '.join(BY_NAME)}")
        return BY_NAME[name]

    def info(self, hypercall: str, subop: str | None = None,
             condition: Condition | str | None = None) -> Info | None:
        scope = Scope(hypercall, subop, _condition(condition))
        return next((i for i in self.infos if i.scope == scope), None)

    def subop(self, name: str) -> list[SubopBinding]:
        return [b for b in self.subops if b.subop == name]

    def subops_of(self, hypercall: str) -> list[SubopBinding]:
        return [b for b in self.subops if hypercall in b.hypercalls]

    def conditions(self, hypercall: str, subop: str | None = None) -> list[Condition]:
        seen: dict[Condition, None] = {}
        for s in (*self.args, *self.returns, *self.infos):
            sc = s.scope
            if sc.hypercall == hypercall and sc.subop == subop and sc.condition is not None:
                seen.setdefault(sc.condition)
        return list(seen)

    def layout_intent(self, struct: str) -> LayoutIntent | None:
        return next((li for li in self.layouts if li.struct == struct), None)

    def available(self, hypercall: str, *, variant: str,
                  subop: str | None = None) -> Known | None:
        """Whether ``variant`` may make the call; None when nobody knows."""
        if subop is not None:
            for a in self.availability:
                if a.scope == Scope(hypercall, subop) and variant in a.available:
                    return Known(a.available[variant], (a.source,))
        facts = self.hypercall(hypercall)
        return facts.available.get(variant) if facts else None

    def arity(self, hypercall: str, *, variant: str) -> Known | None:
        facts = self.hypercall(hypercall)
        return facts.arity.get(variant) if facts else None

    def arguments(self, hypercall: str, subop: str | None = None,
                  condition: Condition | str | None = None, *,
                  variant: str) -> list[ArgStatement]:
        """The argument statements in force for one call, one per position.

        The most specific scope wins (condition over sub-op over hypercall), then
        hand-written over ``hypercall-defs.c`` over the headers' prototypes.
        """
        cond = _condition(condition)
        scopes = [Scope(hypercall)]
        if subop is not None:
            scopes.append(Scope(hypercall, subop))
            if cond is not None:
                scopes.append(Scope(hypercall, subop, cond))
        best: dict[int, tuple[tuple[int, int], ArgStatement]] = {}
        for a in self.args:
            if variant not in a.variants or a.scope not in scopes:
                continue
            rank = (scopes.index(a.scope), _source_rank(a.source))
            if a.position not in best or rank > best[a.position][0]:
                best[a.position] = (rank, a)
        return [best[p][1] for p in sorted(best)]

    def argument_layers(self, hypercall: str, subop: str | None = None,
                        condition: Condition | str | None = None, *,
                        variant: str) -> dict[int, list[ArgStatement]]:
        """Every statement about each position of one call, the one in force first.

        A sub-op's statement (its struct) does not repeat what the hypercall's
        says (who reads the register): showing the layers shows both, each with
        its own source.
        """
        cond = _condition(condition)
        scopes = [Scope(hypercall)]
        if subop is not None:
            scopes.append(Scope(hypercall, subop))
            if cond is not None:
                scopes.append(Scope(hypercall, subop, cond))
        out: dict[int, list[ArgStatement]] = {}
        for a in self.args:
            if variant in a.variants and a.scope in scopes:
                out.setdefault(a.position, []).append(a)
        for stmts in out.values():
            stmts.sort(key=lambda a: (scopes.index(a.scope), _source_rank(a.source)),
                       reverse=True)
        return dict(sorted(out.items()))

    def register_of(self, variant: str, position: int) -> str | None:
        return self.variant(variant).register(position)

    def return_values(self, hypercall: str, subop: str | None = None,
                      condition: Condition | str | None = None, *,
                      variant: str) -> list[ReturnStatement]:
        cond = _condition(condition)
        wanted = {Scope(hypercall), Scope(hypercall, subop), Scope(hypercall, subop, cond)}
        return [r for r in self.returns if r.scope in wanted and variant in r.variants]

    def annotated(self, hypercall: str) -> bool:
        """Availability, arity and registers known on every variant, every sub-op bound."""
        facts = self.hypercall(hypercall)
        return facts is not None and not facts.missing(self.variants) \
            and not self.unbound(facts.alias_of or facts.name)

    def unbound(self, hypercall: str) -> list[str]:
        """Sub-ops of the hypercall's op groups with no known argument."""
        facts = self.hypercall(hypercall)
        if facts is None:
            return []
        bound = {b.subop for b in self.subops_of(facts.name)}
        return [m for m in self.group_members.get(facts.name, ()) if m not in bound]


    def coverage(self) -> dict[str, Any]:
        """JSON-ready coverage: per hypercall, arity/availability/registers and sources."""
        hcs: dict[str, Any] = {}
        for h in self.hypercalls:
            hcs[h.name] = self._coverage_one(h)
        done = sum(1 for v in hcs.values() if v["annotated"])
        return {"variants": [v.name for v in self.variants], "hypercall_defs": self.has_defs,
                "summary": {"hypercalls": len(hcs), "annotated": done},
                "hypercalls": hcs}

    def _coverage_one(self, h: HypercallSummary) -> dict[str, Any]:
        avail = {v.name: h.available[v.name].value if v.name in h.available else None
                 for v in self.variants}
        arity = {v.name: h.arity[v.name].value if v.name in h.arity else None
                 for v in self.variants}
        regs: dict[str, Any] = {}
        for v in self.variants:
            n = arity[v.name]
            regs[v.name] = None if n is None or n > len(v.arg_registers) or \
                v.index_register is None else [v.index_register, *v.arg_registers[:n]]
        subops = {}
        for b in self.subops_of(h.alias_of or h.name):
            subops[b.subop] = {"takes": b.takes, "position": b.position, "source": str(b.source)}
        for m in self.unbound(h.alias_of or h.name):
            subops[m] = {"takes": None, "position": None, "source": None}
        missing = h.missing(self.variants) + [f"argument of {m}"
                                              for m in self.unbound(h.alias_of or h.name)]
        return {
            "number": h.number, "macro": h.macro, "alias_of": h.alias_of,
            "annotated": not missing, "missing": missing,
            "available": avail, "arity": arity, "registers": regs,
            "sources": {
                "available": {v: [str(s) for s in k.sources] for v, k in h.available.items()},
                "arity": {v: [str(s) for s in k.sources] for v, k in h.arity.items()},
            },
            "op_groups": list(h.groups), "subops": subops,
        }


def _source_rank(source: Source) -> int:
    if source.kind == "hand-written":
        return 3
    return 2 if source.basis.startswith("hypercall-defs.c") else 1


def _condition(condition: Condition | str | None) -> Condition | None:
    if condition is None or isinstance(condition, Condition):
        return condition
    parsed = Condition.parse(condition)
    if parsed is None:
        raise ValueError(f"not a condition: {condition!r} (expected 'lhs == rhs')")
    return parsed
