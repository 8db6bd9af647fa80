"""What one arch's translation unit yields (:class:`ArchFacts`), and its compact cache form.

The classes live here rather than in :mod:`clangparse` so that a run served
from the facts cache neither imports libclang nor needs it.  The cache form is
plain tuples, lists and dicts, which :mod:`marshal` reads several times faster
than :mod:`pickle` reads the dataclasses (4.17's four arches: 0.07 s against
0.3 s): with ~7000 members per arch, object construction is the cost that
matters.  Parsing workers send their facts back in this form too.
"""

from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from typing import Any

from headerparse.extract.frozen import maker
from headerparse.model import Diagnostic, Hole, Layout, Loc, Member

# Bump when encode/decode change shape (the code hash also covers this module).
FORMAT = 2


# A member as declared: ``(path, name, line, col, bitfield, flexible, guest_handle,
# file)``, ``file`` the declaring header when not the record's (nested records), else
# None.  A plain tuple, the form the facts are sent and cached in: some 7000 an arch are
# made by the walk, and the merge compares and reads them as tuples (a class of them
# cost a fortieth of a cold run, in making them and turning them back into tuples).
RawField = tuple[str, str, int, int, bool, bool, str | None, str | None]


@dataclass
class RawRecord:
    kind: str
    tag: str | None
    key: str
    loc: Loc
    expanded_from: str | None
    layout: Layout
    fields: tuple[RawField, ...]


@dataclass
class RawTypedef:
    name: str
    loc: Loc
    underlying: str
    target: str | None


@dataclass
class RawEnum:
    key: str
    loc: Loc
    constants: list[tuple[str, int, Loc]]


@dataclass
class ArchFacts:
    arch: str
    records: list[RawRecord] = field(default_factory=list)
    typedefs: list[RawTypedef] = field(default_factory=list)
    enums: list[RawEnum] = field(default_factory=list)
    defines: set[tuple[str, str, int]] = field(default_factory=set)   # (name, file, line)
    includes: dict[str, set[str]] = field(default_factory=dict)
    files_seen: set[str] = field(default_factory=set)
    values: dict[str, int] = field(default_factory=dict)
    why_not: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


# ``Member(path, type, offset, size, bit_offset, bit_size)`` at a third of its cost:
# ~7000 members an arch are made by the walk and again by :func:`decode`.
member = maker(Member)
# And the decoding's Loc, Hole and Layout: some 2000, 2500 and 1000 an arch.
_LOC, _HOLE, _LAYOUT = maker(Loc), maker(Hole), maker(Layout)


def _loc(loc: Loc) -> tuple[str, int, int]:
    return (loc.file, loc.line, loc.col)


def encode(facts: ArchFacts) -> tuple:
    """``facts`` as marshal-able data; :func:`decode` gives back an equal ArchFacts."""
    records = [
        (r.kind, r.tag, r.key, _loc(r.loc), r.expanded_from,
         (r.layout.arch, r.layout.size, r.layout.align,
          [(m.path, m.type, m.offset, m.size, m.bit_offset, m.bit_size) for m in r.layout.members],
          [(h.offset, h.size, h.after, h.scope) for h in r.layout.holes]),
         r.fields)
        for r in facts.records]
    return (
        FORMAT, facts.arch, records,
        [(t.name, _loc(t.loc), t.underlying, t.target) for t in facts.typedefs],
        [(e.key, _loc(e.loc), [(n, v, _loc(at)) for n, v, at in e.constants])
         for e in facts.enums],
        # Sets are stored sorted so that equal facts always give the same bytes.
        sorted(facts.defines), {k: sorted(v) for k, v in facts.includes.items()},
        sorted(facts.files_seen), dict(facts.values), dict(facts.why_not),
        [(d.rule, d.severity, _loc(d.loc) if d.loc else None, d.message, d.why,
          list(d.archs), d.symbol) for d in facts.diagnostics],
    )


class Interned:
    """One shared object per distinct location, member and member list: for the arches of
    one tree, which mostly agree (4.17: of 27,000 members, 7,700 are distinct)."""

    def __init__(self) -> None:
        self.locs: dict[tuple, Loc] = {}
        self.members: dict[tuple, Member] = {}
        self.lists: dict[tuple[RawField, ...], tuple[RawField, ...]] = {}

    def loc(self, t: tuple | list) -> Loc:
        t = tuple(t)        # a list when read back from JSON
        found = self.locs.get(t)
        if found is None:
            found = self.locs[t] = _LOC(*t)
        return found

    def member(self, t: tuple | list) -> Member:
        t = tuple(t)
        found = self.members.get(t)
        if found is None:
            found = self.members[t] = member(*t)
        return found

    def fields(self, members: list) -> tuple[RawField, ...]:
        """A record's member list, as the one tuple of its value: the merge tells the arches'
        equal lists apart from the others by identity (:meth:`.FieldDocs.fields`)."""
        t = tuple(members) if not members or type(members[0]) is tuple \
            else tuple(map(tuple, members))     # lists, when read back from JSON
        found = self.lists.get(t)
        if found is None:
            found = self.lists[t] = t
        return found


def decode(data: Any, shared: Interned | None = None) -> ArchFacts:
    """The ArchFacts that :func:`encode` gave ``data`` for; ValueError when it is not one.
    Its locations, members and member lists are ``shared``'s, where they are equal."""
    if not isinstance(data, (tuple, list)) or len(data) != 11 or data[0] != FORMAT:
        raise ValueError("not an encoded ArchFacts of this format")
    _fmt, arch, records, typedefs, enums, defines, includes, seen, values, why, diags = data
    shared = shared or Interned()
    loc, member = shared.loc, shared.member
    out = ArchFacts(arch)
    out.records = [
        RawRecord(kind, tag, key, loc(at), expanded,
                  _LAYOUT(larch, size, align, tuple(map(member, members)),
                         tuple([_HOLE(*h) for h in holes])),
                  shared.fields(fields))
        for kind, tag, key, at, expanded, (larch, size, align, members, holes), fields in records]
    out.typedefs = [RawTypedef(name, loc(at), under, target)
                    for name, at, under, target in typedefs]
    out.enums = [RawEnum(key, loc(at), [(n, v, loc(c)) for n, v, c in consts])
                 for key, at, consts in enums]
    out.defines = {tuple(d) for d in defines}
    out.includes = {k: set(v) for k, v in includes.items()}
    out.files_seen = set(seen)
    out.values, out.why_not = dict(values), dict(why)
    out.diagnostics = [Diagnostic(rule, sev, loc(at) if at else None, msg, whyd, tuple(archs), sym)
                       for rule, sev, at, msg, whyd, archs, sym in diags]
    return out


def dumps(facts: ArchFacts) -> bytes:
    """The bytes of the cache form; also what a parsing worker sends back."""
    return marshal.dumps(encode(facts))


def loads(blob: bytes, shared: Interned | None = None) -> ArchFacts:
    """The ArchFacts :func:`dumps` gave ``blob`` for (``shared`` as :func:`decode`'s);
    ValueError (or another exception from :mod:`marshal`) when it is not one."""
    return decode(marshal.loads(blob), shared)


# ------------------------------------------------------------ layouts


def holes(kind: str, size: int, members: list[Member]) -> list[Hole]:
    """Padding between the members of each struct scope, and at the end of the type."""
    if kind != "struct":
        return []
    # (start, end, path) of each member by scope, in one pass: ~7000 members an arch.
    scopes: dict[str, list[tuple[int, int, str]]] = {}
    for m in members:
        path, bit_size, bit_offset = m.path, m.bit_size, m.bit_offset
        if bit_size is not None and bit_offset is not None:
            span = (bit_offset // 8, (bit_offset + bit_size + 7) // 8, path)
        else:
            span = (m.offset, m.offset + m.size, path)
        scope = path.rpartition(".")[0] if "." in path else ""
        spans = scopes.get(scope)
        if spans is None:
            scopes[scope] = [span]
        else:
            spans.append(span)
    holes: list[Hole] = []
    for scope, spans in scopes.items():
        holes.extend(_scope_holes(scope, spans, size if scope == "" else None))
    # A lone scope's holes come in order already.
    return holes if len(scopes) == 1 else sorted(holes, key=_offset)


def _offset(h: Hole) -> int:
    return h.offset


def _scope_holes(scope: str, spans: list[tuple[int, int, str]], end: int | None
                 ) -> list[Hole]:
    spans.sort()
    holes = []
    cursor, last = spans[0][0], None
    for lo, hi, path in spans:
        if lo > cursor:
            holes.append(Hole(cursor, lo - cursor, last, scope))
        if hi >= cursor:
            cursor, last = hi, path
    if end is not None and end > cursor:
        holes.append(Hole(cursor, end - cursor, last, scope))
    return holes
