"""What the checks take as true about hypercall arguments: the annotation layer, flattened.

The checks need only a few facts per (hypercall, op, condition, argument, variant):
the constraint on the value and who reads it.  This module is the one place that
knows how those facts are obtained: from :mod:`headerparse.annotations.types` when it
is installed, or from a small YAML file in the format below (tests, and trees the
annotations do not cover yet)::

    facts:
      - hypercall: sched_op
        op: SCHEDOP_shutdown
        when: SHUTDOWN_suspend       # optional: only when this value is passed
        arg: 3                       # 1-based position in the hypercall
        variants: [x86-pv32, x86-pv64]   # variants or groups (pv, hvm, arm, all...)
        constraint: must-be          # any | must-be | zero | reserved | free
        value: MFN of the start info page
        readers: [tools]             # who reads it: xen, tools, guest; [] for nobody
    symbols:
      - {name: __HYPERVISOR_sched_op, value: 29}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headerparse.checks.shared import Translation
from headerparse.model import Diagnostic, Loc
from headerparse.variants import BY_NAME, VARIANTS, UnknownVariant, names, resolve

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet

VARIANT_NAMES = tuple(BY_NAME)
CONSTRAINTS = ("any", "must-be", "zero", "reserved", "free")
REQUIRED = ("must-be", "zero", "reserved")      # the guest must put a particular value there


@dataclass(frozen=True)
class ArgExpectation:
    hypercall: str
    op: str | None
    when: str | None
    arg: int
    variant: str
    constraint: str
    value: str = ""
    readers: tuple[str, ...] = ()
    loc: Loc | None = None

    @property
    def used(self) -> bool:
        """Somebody else depends on the value: Xen or the tools read it, or it must be set.

        A guest "reading" its own register is the VM using a free value, not a use.
        """
        return any(r != "guest" for r in self.readers) or self.constraint == "must-be"


@dataclass(frozen=True)
class SymbolFact:
    name: str
    value: int | None
    loc: Loc | None = None


@dataclass(frozen=True)
class Reference:
    facts: tuple[ArgExpectation, ...] = ()
    symbols: tuple[SymbolFact, ...] = ()
    source: str = ""

    def __bool__(self) -> bool:
        return bool(self.facts or self.symbols)

    def facts_for(self, hypercall: str, op: str | None, arg: int) -> list[ArgExpectation]:
        return [f for f in self.facts if f.hypercall == hypercall and f.arg == arg
                and (f.op is None or op is None or f.op == op)]

    def hypercalls(self) -> set[str]:
        return {f.hypercall for f in self.facts}


class ReferenceError(Exception):
    """A reference file that cannot be read; the message names the entry."""


def normalize_variant(name: str) -> list[str]:
    """Variant names for a selector (``x86-pv64``, ``pv``, ``arm``, ``all``).

    Raises :class:`UnknownVariant` for a name that is neither a variant nor a group.
    """
    return [v.name for v in resolve(str(name), VARIANTS)]


def normalize_readers(readers: Iterable[str]) -> tuple[str, ...]:
    out = []
    for r in readers:
        low = str(r).lower()
        if low in ("nobody", "none", "-", ""):
            continue
        if "xen" in low or "hypervisor" in low:
            out.append("xen")
        elif any(w in low for w in ("tool", "migrat", "libx", "dom0", "control")):
            out.append("tools")
        else:
            out.append(low)
    return tuple(sorted(set(out)))


# --------------------------------------------------------------------------- loading


def load_yaml(path: Path) -> Reference:
    import yaml

    from headerparse.annotations.yamlnodes import MAX_BYTES, load_plain
    from headerparse.safeio import InputTooLarge, read_file_capped

    try:
        data = load_plain(read_file_capped(path, MAX_BYTES).decode("utf-8")) or {}
    except OSError as exc:
        raise ReferenceError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, InputTooLarge) as exc:
        raise ReferenceError(f"{path} is not a UTF-8 text of at most {MAX_BYTES} bytes") \
            from exc
    except yaml.YAMLError as exc:
        raise ReferenceError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ReferenceError(f"{path}: expected a mapping with 'facts' and 'symbols'")
    try:
        facts = [f for n, e in enumerate(data.get("facts") or [], 1)
                 for f in _facts(e, Loc(path.name, n))]
    except (TypeError, ValueError, UnknownVariant) as exc:  # e.g. arg: x, variants: 3
        raise ReferenceError(f"{path}: a fact is malformed: {exc}") from exc
    entries = data.get("symbols") or []
    if not isinstance(entries, list):
        raise ReferenceError(f"{path}: 'symbols' must be a list")
    for n, e in enumerate(entries, 1):
        if isinstance(e, dict) and not e.get("name"):
            raise ReferenceError(f"{path} symbol {n}: needs a name")
    symbols = [SymbolFact(str(e["name"]), _int(e.get("value")), Loc(path.name, n))
               for n, e in enumerate(entries, 1) if isinstance(e, dict)]
    return Reference(tuple(facts), tuple(symbols), str(path))


def _int(v: Any) -> int | None:
    if v is None:
        return None
    try:
        return int(str(v), 0)
    except ValueError:
        return None


def _facts(e: Any, loc: Loc) -> list[ArgExpectation]:
    if not isinstance(e, dict) or "hypercall" not in e or "arg" not in e:
        raise ReferenceError(f"{loc.file} fact {loc.line}: needs hypercall and arg")
    constraint = str(e.get("constraint", "any"))
    if constraint not in CONSTRAINTS:
        raise ReferenceError(f"{loc.file} fact {loc.line}: constraint {constraint!r} is not "
                             f"one of {', '.join(CONSTRAINTS)}")
    try:
        variants = [v for name in e.get("variants") or ["all"] for v in normalize_variant(name)]
    except UnknownVariant as exc:
        raise ReferenceError(f"{loc.file} fact {loc.line}: unknown variant {exc} (one of "
                             f"{', '.join(names())})") from None
    return [ArgExpectation(str(e["hypercall"]), e.get("op"), e.get("when"), int(e["arg"]), v,
                    constraint, str(e.get("value") or ""),
                    normalize_readers(e.get("readers") or ()), loc) for v in variants]


@dataclass(frozen=True)
class Loaded:
    """The reference and what else the annotation layer says that the checks use."""

    reference: Reference
    invariant: tuple[str, ...] = ()          # records declared to have one layout everywhere
    arity: dict[str, dict[str, int]] | None = None   # hypercall -> variant -> arity
    problems: tuple[str, ...] = ()           # the annotation layer's own errors, one line each
    # The structs Xen's compat layer handles: the tree's xlat.lst, None for the recorded one.
    translation: Translation | None = None
    # (hypercall, register position, variant) -> (hand-written C type, where it is written)
    arg_types: Mapping[tuple[str, int, str], tuple[str, Loc | None]] | None = None


def from_annotations(aset: AnnotationSet, diags: Iterable[Diagnostic],
                     source: str = "") -> Loaded:
    """The annotation layer's hand-written statements, flattened.

    Derived statements (from the prototypes themselves) are left out on purpose: the
    prose is compared with what a person established, not with the header it sits in.
    """
    facts = [f for a in aset.args for f in _from_statement(a)]
    invariant = tuple(li.struct for li in aset.layouts if li.intent == "same")
    arity = {h.name: {v: int(k.value) for v, k in h.arity.items()} for h in aset.hypercalls
             if any(s.kind == "hand-written" for k in h.arity.values() for s in k.sources)}
    problems = tuple(d.render() for d in diags if d.severity == "error")
    types = {(a.scope.hypercall, a.position, v): (a.ctype, a.source.loc) for a in aset.args
             if a.source.kind == "hand-written" and a.scope.subop is None and a.ctype
             for v in a.variants if _may_call(aset, a.scope.hypercall, v)}
    return Loaded(Reference(tuple(facts), (), source), invariant, arity, problems,
                  arg_types=types)


def _may_call(aset: AnnotationSet, hypercall: str, variant: str) -> bool:
    known = aset.available(hypercall, variant=variant)
    return known is None or bool(known.value)


def _from_statement(a: Any) -> list[ArgExpectation]:
    if a.source.kind != "hand-written":
        return []
    readers = normalize_readers(a.readers)
    if a.constraint is None and not a.readers:
        return []
    kind = a.constraint.kind if a.constraint is not None else "any"
    if kind == "any" and not readers:
        kind = "free"
    cond = a.scope.condition
    when = cond.rhs if cond is not None and cond.op == "==" else None
    if cond is not None and when is None:
        return []           # "!=" conditions are not something prose names
    return [ArgExpectation(a.scope.hypercall, a.scope.subop, when, a.position, v, kind,
                    a.constraint.text if a.constraint is not None else "", readers,
                    a.source.loc) for v in a.variants if v in VARIANT_NAMES]
