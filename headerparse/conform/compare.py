"""One arch of a copy against Xen: records (size, alignment, every leaf), constants,
hypercall and sub-op numbers; what the copy trims and adds. Findings are merged across
arches afterwards (:func:`merge`), so that one drift on four arches is one finding."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from headerparse.checks.rules import Finding
from headerparse.conform.mapping import Aliases, NameIndex, map_leaves
from headerparse.conform.views import Leaf, RecordView, View
from headerparse.diagnostics import Loc

_LIST = 12      # names listed in a trimmed/copy-only note
_PAD = re.compile(r"_*pad\w*")


@dataclass(frozen=True)
class Drift:
    """A finding with the Xen symbol it was compared with (the JSON report's xen_symbol)."""

    finding: Finding
    xen_symbol: str | None = None


@dataclass
class Mapping:
    """The mapping used, for the report: copy symbol -> (Xen symbol, how)."""

    records: dict[str, tuple[str, str]] = field(default_factory=dict)
    leaves: dict[str, tuple[str, str]] = field(default_factory=dict)
    consts: dict[str, tuple[str, str]] = field(default_factory=dict)
    embedded: set[str] = field(default_factory=set)     # compared inside their container


def compare_arch(xen: View, copy: View, aliases: Aliases, xen_files: dict[str, str],
                 mapping: Mapping, broken: set[str] = frozenset()) -> list[Drift]:  # type: ignore[assignment]
    """Findings of one arch; ``xen_files`` maps each copy file to the Xen header it copies;
    records of the ``broken`` files (which did not compile) are left out."""
    index = NameIndex(xen)
    out: list[Drift] = []
    matched_xen: set[str] = set()
    unmatched: list[tuple[str, Loc | None]] = []
    out += _embedded(xen, copy, aliases, mapping, matched_xen)
    own_handles = any(k.startswith("__guest_handle_64_") for k in copy.records)
    for r in copy.records.values():
        if (r.loc and r.loc.file in broken) or _name(r) in mapping.embedded:
            continue
        hit = index.record(r, aliases, own_handles)
        if hit is None:
            unmatched.append((_name(r), r.loc))
            continue
        xkey, how = hit
        matched_xen.add(xkey)
        mapping.records[_name(r)] = (_name(xen.records[xkey]), how)
        out += _record(xen.records[xkey], r, aliases, xen.arch, mapping)
    for name, c in copy.consts.items():
        hit = index.const(name, aliases)
        if hit is None:
            unmatched.append((name, c.loc))
            continue
        xname, how = hit
        matched_xen.add(xname)
        if how != "identity":
            mapping.consts[name] = (xname, how)
        out += _const(xen, name, c.value, xname, c.loc)
    out += _trimmed(xen, matched_xen, set(xen_files.values()), copy.arch)
    out += _copy_only(unmatched, copy.arch)
    return out


def _embedded(xen: View, copy: View, aliases: Aliases, mapping: Mapping,
              matched: set[str]) -> list[Drift]:
    """Xen's records that the copy folds into another, against the members there."""
    out: list[Drift] = []
    by_name = {n: r for r in copy.records.values() for n in r.names}
    for xname, (container, prefix) in aliases.embedded.items():
        xrec = next((r for r in xen.records.values() if xname in r.names), None)
        crec = by_name.get(container)
        if xrec is None or crec is None or not any(leaf.path.startswith(prefix)
                                                   for leaf in crec.leaves):
            continue
        matched.add(xrec.key)
        mapping.embedded.add(xname)
        mapping.records[xname] = (xname, f"embedded in {container}.{prefix.rstrip('.')}")
        leaves = tuple(replace(leaf, path=leaf.path[len(prefix):]) for leaf in crec.leaves
                       if leaf.path.startswith(prefix)) + tuple(
            leaf for leaf in crec.leaves if "." not in leaf.path)
        part = replace(crec, names=(xname,), leaves=leaves)
        pairs, _missing, _extra = map_leaves(xrec, part, ())
        for xl, cl, _how in pairs:
            out += _leaf(xl, cl, f"{container}.{prefix.rstrip('.')}", xname, crec.loc, xen.arch)
    return out


def _name(r: RecordView) -> str:
    return r.names[0]


def _finding(rule: str, loc: Loc | None, message: str, symbol: str, arch: str,
             xen_symbol: str | None, severity: str = "") -> Drift:
    return Drift(Finding(rule, loc, message, symbol, archs=(arch,),
                         severity=severity), xen_symbol)  # type: ignore[arg-type]


def _record(x: RecordView, c: RecordView, aliases: Aliases, arch: str,
            mapping: Mapping) -> list[Drift]:
    name, xname = _name(c), _name(x)
    out = []
    prefixes = tuple(p for n in c.names for p in aliases.leaves.get(n, ()))
    pairs, missing, extra = map_leaves(x, c, prefixes)
    for xl, cl, how in pairs:
        if how != "identity":
            mapping.leaves[f"{name}.{cl.path}"] = (f"{xname}.{xl.path}", how)
        out += _leaf(xl, cl, name, xname, c.loc, arch)
    if x.size != c.size:
        # Members appended by a later Xen (a versioned or size-negotiated record).
        end = max((leaf.offset + leaf.size for leaf in c.leaves), default=0)
        extended = (not out and not extra and x.size > c.size and missing
                    and all(m.offset >= end for m in missing))
        out.append(_finding("XK009" if extended else "XK001", c.loc,
                            f"{name} is {c.size} bytes, Xen's {xname} is {x.size}"
                            + (f" (it adds {_listed(m.path for m in missing)})"
                               if extended else ""), name, arch, xname))
    if x.align != c.align:
        out.append(_finding("XK002", c.loc, f"{name} is aligned to {c.align}, Xen's {xname} "
                            f"to {x.align}", name, arch, xname))
    if missing:
        out.append(_finding("XK007", c.loc, f"{name} has no member for Xen's "
                            f"{_listed(xname + '.' + m.path for m in missing)}",
                            name, arch, xname))
    for leaf in extra:
        out.append(_finding("XK008", leaf.loc or c.loc, f"{name}.{leaf.path} (offset "
                            f"{leaf.offset}, {leaf.size} bytes) has no counterpart in Xen's "
                            f"{xname}", f"{name}.{leaf.path}", arch, xname))
    return out


def _leaf(x: Leaf, c: Leaf, name: str, xname: str, rec_loc: Loc | None,
          arch: str) -> list[Drift]:
    loc = c.loc or rec_loc
    # Padding that moves or changes size while the members around it do not is harmless
    # (those members' own findings say when it is not).
    padding = "note" if _PAD.fullmatch(c.path.rsplit(".", 1)[-1]) and \
        _PAD.fullmatch(x.path.rsplit(".", 1)[-1]) else ""
    sym, xsym = f"{name}.{c.path}", f"{xname}.{x.path}"
    if x.bit_size is not None or c.bit_size is not None:
        if (x.bit_offset, x.bit_size) != (c.bit_offset, c.bit_size):
            return [_finding("XK005", loc, f"bit-field {sym} is at bit {c.bit_offset} width "
                             f"{c.bit_size}, Xen's {xsym} at bit {x.bit_offset} width "
                             f"{x.bit_size}", sym, arch, xsym)]
        return []
    out = []
    if x.offset != c.offset:
        out.append(_finding("XK003", loc, f"{sym} is at offset {c.offset}, Xen's {xsym} at "
                            f"{x.offset}", sym, arch, xsym, padding))
    if x.size != c.size:
        out.append(_finding("XK004", loc, f"{sym} is {c.size} bytes ({c.type}), Xen's {xsym} "
                            f"is {x.size} ({x.type})", sym, arch, xsym, padding))
    if None not in (x.signed, c.signed) and x.signed != c.signed:
        out.append(_finding("XK006", loc, f"{sym} is {_sign(c.signed)} ({c.type}), Xen's "
                            f"{xsym} is {_sign(x.signed)} ({x.type})", sym, arch, xsym, padding))
    return out


def _sign(signed: bool | None) -> str:
    return "signed" if signed else "unsigned"


def _const(xen: View, name: str, value: int, xname: str, loc: Loc | None) -> list[Drift]:
    theirs = xen.consts[xname].value
    if theirs == value:
        return []
    if theirs % (1 << 64) == value % (1 << 64) or (
            abs(value) < 1 << 32 and abs(theirs) < 1 << 32
            and theirs % (1 << 32) == value % (1 << 32)):
        return [_finding("XK006", loc, f"{name} is {value}, Xen's {xname} is {theirs}: the "
                         "same bits with another signedness", name, xen.arch, xname)]
    rule = ("XK013" if xname == "__XEN_LATEST_INTERFACE_VERSION__" else "XK011"
            if xname in xen.hypercalls else "XK012" if xname in xen.subops else "XK010")
    return [_finding(rule, loc, f"{name} is {_num(value)}, Xen's {xname} is {_num(theirs)}",
                     name, xen.arch, xname)]


def _num(v: int) -> str:
    return str(v) if -256 < v < 256 else f"{v} ({v % (1 << 64):#x})"


def _listed(names: Iterable[str]) -> str:
    names = sorted(set(names))
    head = ", ".join(names[:_LIST])
    return head + (f" and {len(names) - _LIST} more" if len(names) > _LIST else "")


def _trimmed(xen: View, matched: set[str], copied: set[str], arch: str) -> list[Drift]:
    """One note per Xen header the copy copies: what of it the copy leaves out."""
    left: dict[str, list[str]] = {}
    for key, r in xen.records.items():
        if key not in matched and r.loc and r.loc.file in copied and not _handle(key):
            left.setdefault(r.loc.file, []).append(_name(r))
    for name, c in xen.consts.items():
        if name not in matched and c.loc and c.loc.file in copied:
            left.setdefault(c.loc.file, []).append(name)
    return [_finding("XK020", None, f"{len(names)} symbol(s) of Xen's {f} are not in the copy: "
                     f"{_listed(names)}", f, arch, f) for f, names in sorted(left.items())]


def _copy_only(unmatched: list[tuple[str, Loc | None]], arch: str) -> list[Drift]:
    by_file: dict[str, list[str]] = {}
    first: dict[str, Loc] = {}
    for name, loc in unmatched:
        if loc is not None and not _handle(name):
            by_file.setdefault(loc.file, []).append(name)
            first.setdefault(loc.file, loc)
    return [_finding("XK021", Loc(f, first[f].line), f"{len(names)} symbol(s) of the copy's "
                     f"{f} are not Xen's: {_listed(names)}", f, arch, None)
            for f, names in sorted(by_file.items())]


def _handle(name: str) -> bool:
    """A guest-handle type: one per handled type, listed with it, not on its own."""
    return name.startswith("__guest_handle_")


def merge(drifts: Iterable[Drift]) -> list[Drift]:
    """One finding per drift, with every arch it occurs on."""
    seen: dict[tuple, Drift] = {}
    for d in drifts:
        f = d.finding
        key = (f.rule, f.symbol, d.xen_symbol, f.message, f.loc)
        if key in seen:
            old = seen[key]
            archs = old.finding.archs + tuple(a for a in f.archs if a not in old.finding.archs)
            seen[key] = replace(old, finding=replace(old.finding, archs=archs))
        else:
            seen[key] = d
    return list(seen.values())
