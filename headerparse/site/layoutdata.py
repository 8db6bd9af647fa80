"""The data behind a record's layout table and diagrams, as plain JSON values.

The table puts every arch side by side: one row per member with offset and size per
arch, a row per padding hole, and a size row. A cell that differs from the row's
most common value is marked ``odd``; the directive highlights those cells and rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from headerparse.model import Field, Layout, Record
from headerparse.site.text import first_sentence


def _present(r: Record, archs: tuple[str, ...]) -> list[str]:
    return [a for a in archs if a in r.layouts] + [a for a in r.layouts if a not in archs]


def _odd(cells: dict[str, Any]) -> list[str]:
    values = {a: (tuple(c) if c is not None else None) for a, c in cells.items()}
    common = Counter(values.values()).most_common(1)[0][0]
    return [a for a, v in values.items() if v != common]


# What a member's declaration says before its name, when it is one type: a name
# (a typedef, or a macro such as ``blkif_vdev_t``), ``struct x``, a macro call
# (``XEN_GUEST_HANDLE(char)``), with ``const`` and pointers. Anything else (a second
# declarator, a macro-generated record) keeps the compiler's spelling.
_WRITTEN = re.compile(r"(?:const\s+)?(?:(?:struct|union|enum)\s+)?[A-Za-z_]\w*"
                      r"(?:\s*\(\s*[A-Za-z_]\w*\s*\))?(?:\s*\*+)?")

SourceLine = Callable[[str, int], "str | None"]


def written_type(f: Field, source_line: SourceLine) -> str | None:
    """The member's type as the header spells it (``blkif_vdev_t``, where the
    compiler says ``uint16_t``), or None when it cannot be read off the line."""
    text = source_line(f.loc.file, f.loc.line)
    col = f.loc.col - 1
    if text is None or col < 0 or not text[col:].startswith(f.name):
        return None
    before = re.split(r"[;{}]", text[:col])[-1].strip()
    return " ".join(before.split()) if _WRITTEN.fullmatch(before) else None


def as_written(f: Field, spelled: str, source_line: SourceLine) -> str | None:
    """The header's spelling with the compiler's array dimensions (the line says
    ``seg[BLKIF_MAX_SEGMENTS_PER_REQUEST]``, the compiler ``[11]``)."""
    written = written_type(f, source_line)
    if written is None:
        return None
    return written + (spelled[spelled.index("["):] if "[" in spelled else "")


def _shown_types(f: Field | None, spelled: list[str], source_line: SourceLine | None
                 ) -> tuple[list[str], list[str]]:
    """(types to show, what they expand to): the header's spelling first; the
    compiler's per-arch spelling only where it says more than a name the reader
    can follow (a macro like ``blkif_vdev_t``), never a guest handle's internal
    ``__guest_handle_64_x``."""
    shown = as_written(f, spelled[0], source_line) if f and source_line and spelled else None
    if shown is None:
        return spelled, []
    plain = [t.replace(" ", "") for t in spelled]
    if [shown.replace(" ", "")] == plain or f.guest_handle:
        return [shown], []
    return [shown], spelled


def table(r: Record, archs: tuple[str, ...], source_line: SourceLine | None = None,
          anchor: str | None = None) -> dict[str, Any]:
    """The layout table; ``anchor`` (the record's declaration, ``c.NAME``) gives
    each member row an id of its own, ``c.NAME.member`` as Sphinx's C domain names it."""
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
        types, expands = _shown_types(f, types, source_line)
        rows.append({"kind": "member", "path": path, "types": types, "cells": cells,
                     **({"expands": expands} if expands else {}),
                     "odd": _odd(cells),
                     "doc": first_sentence(f.doc.text, 200) if f and f.doc else "",
                     "dir": (f.direction or "") if f else "",
                     "note": _field_note(f)})
        rows += _hole_rows(r, present, path)
    sizes = {a: [r.layouts[a].size, r.layouts[a].align] for a in present}
    rows.append({"kind": "size", "cells": sizes, "odd": _odd(sizes)})
    out: dict[str, Any] = {"archs": present, "rows": rows}
    if anchor:
        out["anchor"] = anchor
    return out


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


def texts(r: Record, data: dict[str, Any] | None = None) -> list[str]:
    """Every text the table shows, for the page's link table."""
    out = [f.doc.text for f in r.fields if f.doc]
    out += [f.heading.text for f in r.fields if f.heading is not None]
    out += [m.type for lay in r.layouts.values() for m in lay.members]
    if data is not None:
        out += [t for row in data["rows"] for t in row.get("types", ())]
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
