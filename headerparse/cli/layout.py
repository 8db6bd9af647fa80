"""``headerparse layout``: pahole-style per-arch layouts, as text or as JSON.

The JSON shape is a contract other tools script against (see README):
``{"arch": A, "types": {KEY: {"kind", "size", "align", "file", "line", "members": [...]}}}``.
"""

from __future__ import annotations

from typing import Any

from headerparse.model import Layout, Model, Record


def layout_json(model: Model, records: list[Record], arch: str) -> dict[str, Any]:
    types: dict[str, Any] = {}
    for r in records:
        lay = r.layout(arch)
        if lay is None or r.key in types:
            continue
        types[r.key] = {
            "kind": r.kind, "size": lay.size, "align": lay.align,
            "file": r.loc.file, "line": r.loc.line,
            "members": [{"path": m.path, "offset": m.offset, "size": m.size,
                         "bit_offset": m.bit_offset, "bit_size": m.bit_size, "type": m.type}
                        for m in lay.members],
            "holes": [{"offset": h.offset, "size": h.size, "after": h.after, "scope": h.scope}
                      for h in lay.holes],
        }
    return {"arch": arch, "types": types}


def layout_text(record: Record, lay: Layout) -> str:
    """One type on one arch, in the spirit of pahole's output."""
    out = [f"{record.key} {{  /* {record.loc.file}:{record.loc.line}, {lay.arch} */"]
    holes_after: dict[str | None, list] = {}
    for h in lay.holes:
        holes_after.setdefault(h.after, []).append(h)
    for h in holes_after.get(None, []):
        out.append(f"    /* XXX {h.size} byte hole at {h.offset} */")
    for m in lay.members:
        depth = m.path.count(".")
        base, bracket, dims = m.type.partition("[")
        name = m.path.rsplit(".", 1)[-1] + (bracket + dims if bracket else "")
        decl = f"{'    ' * (depth + 1)}{base.rstrip()} {name}"
        if m.bit_size is not None:
            decl += f":{m.bit_size}"
            where = f"/* {m.offset:5d} {m.size:5d} bit {m.bit_offset} */"
        else:
            where = f"/* {m.offset:5d} {m.size:5d} */"
        out.append(f"{decl + ';':<52} {where}")
        for h in holes_after.get(m.path, []):
            out.append(f"{'    ' * (depth + 1)}/* XXX {h.size} byte hole at {h.offset} */")
    out.append(f"}};  /* size: {lay.size}, align: {lay.align}, "
               f"holes: {len(lay.holes)}, padding bytes: {sum(h.size for h in lay.holes)} */")
    return "\n".join(out)
