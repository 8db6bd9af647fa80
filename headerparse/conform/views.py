"""One arch's ABI as conformance compares it, from Xen's model or from a copy's facts:
records with their flattened leaves, integer constants (macros and enumerators), and
what each scalar type name resolves to (for signedness)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from headerparse.diagnostics import Loc
from headerparse.extract.archfacts import ArchFacts
from headerparse.model import Member, Model

_TYPEDEF = re.compile(r"typedef\s+([\w\s]+?)\s+(\w+)\s*;")
_STD = re.compile(r"(__)?(u?)int(8|16|32|64|ptr|max)_t")


@dataclass(frozen=True)
class Leaf:
    path: str
    offset: int
    size: int
    bit_offset: int | None
    bit_size: int | None
    type: str
    signed: bool | None       # None: not an integer, or plain char
    loc: Loc | None = None    # the copy's declaration of the member


@dataclass(frozen=True)
class RecordView:
    key: str
    kind: str
    names: tuple[str, ...]    # tag, typedef names, key
    size: int
    align: int
    leaves: tuple[Leaf, ...]
    loc: Loc | None


@dataclass(frozen=True)
class Const:
    name: str
    value: int
    loc: Loc | None


@dataclass
class View:
    arch: str
    records: dict[str, RecordView] = field(default_factory=dict)
    consts: dict[str, Const] = field(default_factory=dict)
    hypercalls: set[str] = field(default_factory=set)
    subops: set[str] = field(default_factory=set)


def signedness(spelled: str, typedefs: dict[str, str]) -> bool | None:
    """True for a signed integer type, False for an unsigned one, None otherwise."""
    t = re.sub(r"\b(const|volatile)\b", "", spelled.split("[")[0]).strip()
    for _ in range(8):          # follow typedef chains
        if "*" in t or "(" in t:
            return None
        nxt = typedefs.get(t)
        if nxt is None or nxt == t:
            break
        t = re.sub(r"\b(const|volatile)\b", "", nxt).strip()
    m = _STD.fullmatch(t)
    if m:
        return m.group(2) != "u"
    words = set(t.split())
    if "unsigned" in words or "_Bool" in words or t == "bool":
        return False
    if "signed" in words or words & {"int", "short", "long"}:
        return True
    return None     # plain char (signed on x86, unsigned on arm), records, enums


def prelude_typedefs(prelude: str) -> dict[str, str]:
    return {m.group(2): " ".join(m.group(1).split()) for m in _TYPEDEF.finditer(prelude)}


def _leaves(members: tuple[Member, ...], typedefs: dict[str, str],
            locs: dict[str, Loc] | None = None) -> tuple[Leaf, ...]:
    paths = {m.path for m in members}
    parents = {p.rsplit(".", 1)[0] for p in paths if "." in p}
    where = locs or {}
    return tuple(Leaf(m.path, m.offset, m.size, m.bit_offset, m.bit_size, m.type,
                      signedness(m.type, typedefs), where.get(m.path))
                 for m in members if m.path not in parents)


def _names(tag: str | None, typedefs: tuple[str, ...], key: str) -> tuple[str, ...]:
    """The record's names, the one to show first: its tag, else its key (an anonymous
    record is keyed by its first typedef: ``__guest_handle_64_char``, not a later
    ``tmem_cli_va_t``)."""
    return tuple(dict.fromkeys(n for n in (tag or key, *typedefs, key) if n))


def xen_view(model: Model, arch: str) -> View:
    typedefs = {t.name: t.underlying[arch] for t in model.typedefs if arch in t.underlying}
    view = View(arch)
    for r in model.records:
        layout = r.layouts.get(arch)
        if layout is None:
            continue
        names = _names(r.tag, r.typedefs, r.key)
        view.records[r.key] = RecordView(r.key, r.kind, names, layout.size, layout.align,
                                         _leaves(layout.members, typedefs), r.loc)
    for m in model.macros:
        if arch in m.values:
            view.consts.setdefault(m.name, Const(m.name, m.values[arch], m.loc))
    for e in model.enums:
        for c in e.constants:
            if arch in c.values:
                view.consts.setdefault(c.name, Const(c.name, c.values[arch], c.loc))
    view.hypercalls = {h.macro for h in model.hypercalls}
    view.subops = {name for g in model.groups for name in g.members}
    return view


def copy_view(facts: ArchFacts, files: set[str], prelude: str) -> View:
    """The records and constants ``facts`` has in ``files`` (the copy, not the consumer's
    other headers)."""
    typedefs = prelude_typedefs(prelude)
    typedefs.update({t.name: t.underlying for t in facts.typedefs})
    names: dict[str, list[str]] = {}
    for t in facts.typedefs:
        if t.target:
            names.setdefault(t.target, []).append(t.name)
    view = View(facts.arch)
    for r in facts.records:
        if r.loc.file not in files:
            continue
        own = _names(r.tag, tuple(names.get(r.key, ())), r.key)
        locs = {path: Loc(file or r.loc.file, line, col)
                for path, _name, line, col, _bits, _flex, _handle, file in r.fields}
        view.records[r.key] = RecordView(r.key, r.kind, own, r.layout.size, r.layout.align,
                                         _leaves(r.layout.members, typedefs, locs), r.loc)
    where = {name: Loc(file, line) for name, file, line in facts.defines}
    for name, value in facts.values.items():
        loc = where.get(name)
        if loc is not None and loc.file in files:
            view.consts[name] = Const(name, value, loc)
    for e in facts.enums:
        for name, value, loc in e.constants:
            if loc.file in files:
                view.consts.setdefault(name, Const(name, value, loc))
    return view
