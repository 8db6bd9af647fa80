"""The structs and unions whose layout differs between two arches.

A guest or toolstack that shares a struct across an ABI boundary (a 32-bit guest
on a 64-bit hypervisor, a compat layer) needs exactly this list: for each pair of
arches, every record whose size or the offset or size of any member differs, with
the first member where the two part ways.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from headerparse.model import Layout, Record


def _first_difference(a: Layout, b: Layout) -> tuple[str, str, str] | None:
    """(member, where on a, where on b) of the first member laid out differently."""
    theirs = {m.path: m for m in b.members}
    for m in a.members:
        o = theirs.get(m.path)
        if o is None:
            return m.path, f"{m.offset}+{m.size}", "absent"
        if (m.offset, m.size, m.bit_offset, m.bit_size) != (o.offset, o.size, o.bit_offset,
                                                            o.bit_size):
            return m.path, f"{m.offset}+{m.size}", f"{o.offset}+{o.size}"
    ours = {m.path for m in a.members}
    for o in b.members:
        if o.path not in ours:
            return o.path, "absent", f"{o.offset}+{o.size}"
    return None


def _differing_members(a: Layout, b: Layout) -> int:
    theirs = {m.path: (m.offset, m.size, m.bit_offset, m.bit_size) for m in b.members}
    ours = {m.path: (m.offset, m.size, m.bit_offset, m.bit_size) for m in a.members}
    return sum(1 for p in ours.keys() | theirs.keys() if ours.get(p) != theirs.get(p))


def pair_rows(records: list[Record], a: str, b: str) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        la, lb = r.layouts.get(a), r.layouts.get(b)
        if la is None or lb is None:
            continue
        first = _first_difference(la, lb)
        if la.size == lb.size and first is None:
            continue
        rows.append({"key": r.key, "file": r.loc.file, "line": r.loc.line,
                     "sizes": (la.size, lb.size),
                     "first": first, "count": _differing_members(la, lb)})
    return sorted(rows, key=lambda row: (row["key"], row["file"], row["line"]))


def arch_pairs(records: list[Record], archs: tuple[str, ...]) -> list[dict[str, Any]]:
    """One entry per pair of arches: the records laid out differently on the two."""
    return [{"a": a, "b": b, "rows": pair_rows(records, a, b)}
            for a, b in combinations(archs, 2)]
