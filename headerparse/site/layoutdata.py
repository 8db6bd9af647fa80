"""The data behind a record's layout table and diagrams, as plain JSON values.

The table puts every arch side by side: one row per member with offset and size per
arch, a row per padding hole, and a size row. A cell that differs from the row's
most common value is marked ``odd``; the directive highlights those cells and rows.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from headerparse.model import Layout, Record
from headerparse.site.text import first_sentence


def _present(r: Record, archs: tuple[str, ...]) -> list[str]:
    return [a for a in archs if a in r.layouts] + [a for a in r.layouts if a not in archs]


def _odd(cells: dict[str, Any]) -> list[str]:
    values = {a: (tuple(c) if c is not None else None) for a, c in cells.items()}
    common = Counter(values.values()).most_common(1)[0][0]
    return [a for a, v in values.items() if v != common]


def table(r: Record, archs: tuple[str, ...]) -> dict[str, Any]:
    present = _present(r, archs)
    by_arch = {a: {m.path: m for m in r.layouts[a].members} for a in present}
    paths: list[str] = []
    for a in present:
        for m in r.layouts[a].members:
            if m.path not in paths:
                paths.append(m.path)
    fields = {f.path: f for f in r.fields}
    rows: list[dict[str, Any]] = []
    rows += _hole_rows(r, present, None)
    heading = None
    for path in paths:
        f = fields.get(path)
        if f is not None and f.heading is not None and f.heading != heading:
            heading = f.heading
            rows.append({"kind": "heading", "doc": first_sentence(heading.text, 200)})
        cells: dict[str, Any] = {}
        types: list[str] = []
        for a in present:
            m = by_arch[a].get(path)
            cells[a] = None if m is None else (
                [m.offset, m.size] if m.bit_size is None else
                [m.offset, m.size, m.bit_offset, m.bit_size])
            if m is not None and m.type not in types:
                types.append(m.type)
        rows.append({"kind": "member", "path": path, "types": types, "cells": cells,
                     "odd": _odd(cells),
                     "doc": first_sentence(f.doc.text, 200) if f and f.doc else "",
                     "dir": (f.direction or "") if f else "",
                     "note": _field_note(f)})
        rows += _hole_rows(r, present, path)
    sizes = {a: [r.layouts[a].size, r.layouts[a].align] for a in present}
    rows.append({"kind": "size", "cells": sizes, "odd": _odd(sizes)})
    return {"archs": present, "rows": rows}


def _field_note(f: Any) -> str:
    if f is None:
        return ""
    notes = []
    if f.flexible:
        notes.append("flexible array")
    if f.guest_handle:
        notes.append(f"guest handle to {f.guest_handle}")
    return ", ".join(notes)


def _hole_rows(r: Record, present: list[str], after: str | None) -> list[dict[str, Any]]:
    cells: dict[str, Any] = {}
    for a in present:
        holes = [h for h in r.layouts[a].holes if h.after == after]
        cells[a] = [holes[0].offset, sum(h.size for h in holes)] if holes else None
    if all(c is None for c in cells.values()):
        return []
    return [{"kind": "hole", "after": after, "cells": cells, "odd": _odd(cells)}]


def texts(r: Record) -> list[str]:
    """Every text the table shows, for the page's link table."""
    out = [f.doc.text for f in r.fields if f.doc]
    out += [f.heading.text for f in r.fields if f.heading is not None]
    out += [m.type for lay in r.layouts.values() for m in lay.members]
    return out


def _signature(lay: Layout) -> tuple:
    return (lay.size, lay.align,
            tuple((m.path, m.offset, m.size, m.bit_offset, m.bit_size) for m in lay.members),
            tuple((h.offset, h.size, h.scope) for h in lay.holes))


def diagrams(r: Record) -> list[dict[str, Any]]:
    """One diagram per distinct layout, with the arches sharing it."""
    groups: dict[tuple, list[str]] = {}
    for a, lay in r.layouts.items():
        groups.setdefault(_signature(lay), []).append(a)
    out = []
    for archs in groups.values():
        lay = r.layouts[archs[0]]
        out.append({"archs": archs, "key": r.key, "kind": r.kind, "size": lay.size,
                    "members": [{"path": m.path, "offset": m.offset, "size": m.size,
                                 "bit_size": m.bit_size} for m in lay.members],
                    "holes": [{"offset": h.offset, "size": h.size, "scope": h.scope}
                              for h in lay.holes]})
    return out
