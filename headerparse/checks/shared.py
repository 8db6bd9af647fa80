"""Where a 32/64-bit layout difference reaches another party's bytes (XC302's severity).

A struct whose ``uint64_t`` lands at other offsets on x86_32 and x86_64 matters when
a 32-bit and a 64-bit party read the same bytes without anyone in between:

* shared memory: the entries of the rings ``DEFINE_RING_TYPES`` declares (front end
  and back end may be of different widths), ``shared_info`` and ``vcpu_info``, a
  struct a comment says is cast onto one of those (``blkif_request_discard``), and
  every struct they embed;
* and nobody translates it: Xen's compat layer converts or checks the hypercall
  argument structs listed in its ``xen/include/xlat.lst`` for 32-bit guests.

Hypercall arguments Xen does not list still reach Xen's compat entry points, which
are compiled with the 32-bit layout; a difference there is a fact, not a hazard.
Inside a shared struct, only the bytes the parties read count: a struct whose size
differs only by tail padding inside a fixed-size union (displif's requests) is laid
out the same in the ring.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from headerparse.model import Layout, Model, Record
from headerparse.paths import SOURCE, XLAT_LST

#: The list recorded from Xen (provenance in the file), for trees without their own.
BUNDLED = SOURCE / "annotations" / "compat" / "xlat.tsv"
#: The pages Xen shares with every guest; what they embed is shared too.
SHARED_PAGES = ("struct shared_info", "struct vcpu_info")
_RING_MACRO = "DEFINE_RING_TYPES"
_CAST = re.compile(r"\bcast\b", re.I)
_ARRAY = re.compile(r"\[(\d*)\]$")


@dataclass(frozen=True)
class Translation:
    """The rows of an xlat.lst: struct name -> (mark, header)."""

    rows: Mapping[str, tuple[str, str]]
    source: str

    def of(self, r: Record) -> str | None:
        """``"! pod_target"`` when Xen's compat layer handles ``r``, else None."""
        for name in _names(r):
            row = self.rows.get(name)
            if row is not None and _same_header(row[1], r.loc.file):
                return f"{row[0]} {name}"
        return None


def _names(r: Record) -> Iterable[str]:
    for n in (r.tag, *r.typedefs):
        if n:
            yield n
            if n.startswith("xen_"):
                yield n[4:]


def _same_header(listed: str, actual: str) -> bool:
    if "@arch@" in listed:
        return actual in (listed.replace("@arch@", a) for a in ("x86_32", "x86_64"))
    return listed == actual


def parse_xlat(text: str, source: str) -> Translation:
    """Rows ``MARK NAME HEADER`` (tabs or spaces); ``#`` lines and others are skipped."""
    rows: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in ("!", "?"):
            rows[parts[1]] = (parts[0], parts[2])
    return Translation(rows, source)


@lru_cache(maxsize=1)
def bundled() -> Translation:
    try:
        return parse_xlat(BUNDLED.read_text(encoding="utf-8"), BUNDLED.name)
    except OSError:
        return Translation({}, "")


def for_tree(extra: Mapping[str, bytes] | None) -> Translation:
    """The tree's own xlat.lst when it is a Xen checkout that has one, else the bundled."""
    data = (extra or {}).get(XLAT_LST)
    if data is None:
        return bundled()
    return parse_xlat(data.decode("utf-8", "replace"), XLAT_LST)


# --------------------------------------------------------------------------- shared memory


@dataclass(frozen=True)
class Place:
    """``record`` sits in ``root`` at ``path`` ("" for the root itself)."""

    root: Record
    path: str
    array: bool = False


def shared_places(model: Model) -> dict[str, list[Place]]:
    """Record key -> where it sits in shared memory; absent for records never shared."""
    roots = [r for r in model.records if r.key in SHARED_PAGES
             or (r.expanded_from == _RING_MACRO and r.kind == "union")]
    roots += _cast_overlays(model, roots)
    out: dict[str, list[Place]] = {}
    for root in roots:
        out.setdefault(root.key, []).append(Place(root, ""))
        lay = root.layout("x86_64") or next(iter(root.layouts.values()), None)
        for m in lay.members if lay is not None else ():
            for r in _records_of(model, m.type):
                array = _ARRAY.search(m.type) is not None
                out.setdefault(r.key, []).append(Place(root, m.path, array))
    return out


def _records_of(model: Model, type_: str) -> list[Record]:
    name = _ARRAY.sub("", type_).replace("const ", "").strip()
    return [] if "*" in name or "(unnamed" in name else model.records_named(name)


def _cast_overlays(model: Model, roots: list[Record]) -> list[Record]:
    """Records whose comment says they are cast onto a shared struct (blkif's discard
    request is read from the ring slot of a ``struct blkif_request``)."""
    shared = {n for root in roots for m in _top_members(root)
              for r in _records_of(model, m) for n in _names(r)}
    if not shared:
        return []
    word = re.compile(r"\b(" + "|".join(sorted(map(re.escape, shared))) + r")\b")
    taken = {r.key for r in roots}
    return [r for r in model.records if r.key not in taken and _CAST.search(r.doc.text)
            and word.search(r.doc.text)]


def _top_members(root: Record) -> list[str]:
    lay = root.layout("x86_64") or next(iter(root.layouts.values()), None)
    return [m.type for m in lay.members if "." not in m.path] if lay is not None else []


def bytes_differ(place: Place, size32: int, size64: int) -> bool:
    """Whether x86_32 and x86_64 lay out the bytes at ``place`` differently: a member
    below it at another offset relative to it, or an array of it of another stride."""
    a, b = place.root.layout("x86_32"), place.root.layout("x86_64")
    if a is None or b is None:
        return False
    if place.array and size32 != size64:
        return True
    return _relative(a, place.path) != _relative(b, place.path)


def _relative(lay: Layout, path: str) -> dict[str, tuple[int, int]]:
    """Leaves below ``path``, at offsets from it: a nested struct's own size may differ
    by tail padding that no party reads."""
    top = lay.member(path) if path else None
    base = top.offset if top is not None else 0
    prefix = path + "." if path else ""
    below = [m for m in lay.members if m.path.startswith(prefix)]
    inner = {m.path.rsplit(".", 1)[0] for m in below if "." in m.path}
    return {m.path: (m.offset - base, m.size) for m in below if m.path not in inner}
