"""Layout diagrams: one SVG per distinct layout of a struct or union.

A struct is drawn on a byte grid, 8 bytes a row, members as boxes, padding holes
hatched; runs of rows that one large member fills are folded into a single row so
that a 4 KiB array does not make a 4 KiB-tall picture. A union is drawn as its
alternatives stacked, each from offset 0. Every text is XML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

ROW_BYTES = 8
CELL = 64           # pixels per byte
ROW_H = 26
LEFT = 56           # room for the offset labels
TOP = 22


@dataclass(frozen=True)
class Box:
    start: int      # byte offset
    end: int        # exclusive
    label: str
    kind: str       # "member" | "hole" | "bits"


def boxes(data: dict[str, Any]) -> list[Box]:
    """Top-level members (bitfields sharing bytes merged) and holes, in offset order."""
    out: list[Box] = []
    members = [m for m in data["members"] if "." not in m["path"]]
    for m in members:
        start, end = m["offset"], m["offset"] + max(m["size"], 0)
        name = m["path"]
        if m.get("bit_size") is not None:
            # A bitfield's size is its storage unit's; boxes sharing it merge.
            label = f"{name}:{m['bit_size']}"
            if out and out[-1].kind == "bits" and out[-1].start == start:
                prev = out.pop()
                out.append(Box(start, max(prev.end, end), f"{prev.label} {label}", "bits"))
                continue
            out.append(Box(start, end, label, "bits"))
            continue
        out.append(Box(start, end, name, "member"))
    for h in data.get("holes", []):
        if not h.get("scope"):
            out.append(Box(h["offset"], h["offset"] + h["size"], f"pad {h['size']}", "hole"))
    size = data["size"]
    return sorted((b for b in out if b.end > b.start or b.start < size), key=lambda b: b.start)


def _rows(bxs: list[Box], size: int) -> list[tuple[int, int]]:
    """(first byte, last byte+1) of each drawn row, long single-member runs folded."""
    rows: list[tuple[int, int]] = []
    pos = 0
    total = max(size, max((b.end for b in bxs), default=0))
    while pos < total:
        span = next((b for b in bxs if b.start <= pos and b.end - pos > 2 * ROW_BYTES
                     and pos % ROW_BYTES == 0), None)
        if span is not None:
            end = span.end - span.end % ROW_BYTES if span.end % ROW_BYTES else span.end
            end = max(end - ROW_BYTES, pos + ROW_BYTES)
            rows.append((pos, end))
            pos = end
            continue
        rows.append((pos, min(pos + ROW_BYTES - pos % ROW_BYTES, total)))
        pos = rows[-1][1]
    return rows


def struct_svg(data: dict[str, Any], caption: str) -> str:
    bxs = boxes(data)
    rows = _rows(bxs, data["size"])
    width = LEFT + ROW_BYTES * CELL + 8
    height = TOP + len(rows) * ROW_H + 8
    parts = [_head(width, height, caption)]
    for i, (a, b) in enumerate(rows):
        y = TOP + i * ROW_H
        folded = b - a > ROW_BYTES
        parts.append(f'<text class="off" x="{LEFT - 6}" y="{y + 17}" text-anchor="end">{a}</text>')
        for bx in bxs:
            lo, hi = max(bx.start, a), min(bx.end, b)
            if hi <= lo:
                continue
            x0 = LEFT + ((lo - a) % ROW_BYTES if not folded else 0) * CELL
            x1 = x0 + ((hi - lo) if not folded else ROW_BYTES) * CELL
            label = bx.label if lo == bx.start or folded else ""
            if folded:
                label = f"{bx.label} … {bx.end - bx.start} bytes"
            parts.append(_box(x0, y, x1 - x0, bx.kind, label, folded))
    parts.append("</svg>")
    return "".join(parts)


def union_svg(data: dict[str, Any], caption: str) -> str:
    members = [m for m in data["members"] if "." not in m["path"]]
    size = max(data["size"], 1)
    width = LEFT + ROW_BYTES * CELL + 8
    height = TOP + len(members) * ROW_H + 8
    parts = [_head(width, height, caption)]
    scale = ROW_BYTES * CELL / size
    for i, m in enumerate(members):
        y = TOP + i * ROW_H
        w = max(m["size"] * scale, 6)
        parts.append(f'<text class="off" x="{LEFT - 6}" y="{y + 17}" text-anchor="end">0</text>')
        parts.append(_box(LEFT, y, w, "member", f"{m['path']} ({m['size']})", False))
    parts.append("</svg>")
    return "".join(parts)


def _head(width: int, height: int, caption: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="hp-layout" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(caption)}"><title>{escape(caption)}</title>'
            f'<text class="cap" x="{LEFT}" y="14">{escape(caption)}</text>')


def _box(x: float, y: int, w: float, kind: str, label: str, folded: bool) -> str:
    cls = {"member": "m", "hole": "h", "bits": "b"}[kind] + (" f" if folded else "")
    chars = max(int((w - 6) / 7), 0)
    text = label if len(label) <= chars else (label[:max(chars - 1, 0)] + "…" if chars > 1
                                              else "")
    out = (f'<rect class="{cls}" x="{x:.0f}" y="{y}" width="{w:.0f}" height="{ROW_H - 4}">'
           f'<title>{escape(label)}</title></rect>')
    if text:
        out += f'<text x="{x + 4:.0f}" y="{y + 15}">{escape(text)}</text>'
    return out


def render(data: dict[str, Any], caption: str) -> str:
    return (union_svg if data.get("kind") == "union" else struct_svg)(data, caption)
