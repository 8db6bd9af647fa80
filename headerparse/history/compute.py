"""since, backports, removed and changed for every symbol, from release summaries.

Definitions (issue 13), over the releases read, in version order:

- ``since``: the first feature release (``X.Y.0``) whose headers define the symbol;
  the oldest release read when that one has it already; None when only point
  releases have it (a backport whose feature release is not in the range).
- ``backports``: for each branch older than ``since``'s, the first point release
  of that branch that has it (``BHI_NO``: 4.14.6, 4.15.5, 4.16.5, 4.17.2).
- ``removed``: the feature release after the last feature release that has it
  (None while the newest feature release has it).
- ``changed``: the feature releases whose value or layout of it differs from the
  previous feature release's, on the arches both have and both compiled, with
  what changed: ``{"release": "4.5.0", "archs": [...], "what": "size 16 -> 24"}``;
  ``"what": "added"`` or ``"removed"`` when it appeared on or went from those
  arches only (a constant of Arm's from 4.5 on, a struct x86_32 no longer has).
- ``since_archs``: the arches that compiled it in ``since``'s release (the first
  backport's when ``since`` is None); ``removed_archs``: those of the last
  feature release having it, when ``removed`` (``[]`` otherwise).
- ``compiled`` ``false`` and ``why``, only on a symbol no compiled arch saw in
  any release read, which the text defines all the same: ``"ia64 only"``,
  ``"__XEN__ only (the hypervisor's view)"``, ``"dom0_ops.h only (...)"``.  Its
  ``since`` and ``removed`` are those of the text; a symbol some arch compiled
  has no ``compiled`` key.  A struct or union that some arch compiled and a later
  release keeps in the text only (for an old interface version) is removed then,
  as it was before the text counted.

:class:`Builder` reads the releases one at a time, oldest first, and keeps only
the previous feature release's summary: memory stays that of two summaries
whatever the number of releases.  Its state is plain JSON, so a later run adds a
new release to it instead of reading every release again.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cache
from typing import Any

from headerparse.history.summary import Summary, broken, expand
from headerparse.history.versions import Version, parse_version

FORMAT = "headerparse-history/1"
_MORE = 4      # member changes listed in a record's change before "and N more"


@cache
def _version(name: str) -> Version:
    v = parse_version(name)
    assert v is not None, name
    return v


class Builder:
    """The history of the releases given to :meth:`add`, as plain data."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        state = state or {"releases": [], "symbols": {}, "previous": None}
        self.releases: list[str] = state["releases"]           # version order
        # name -> [kind, since, {branch: first point release}, last feature release, changed,
        #          compiled in some release, why unseen (the newest reason), arches at since,
        #          arches at the last feature release]
        self.symbols: dict[str, list[Any]] = state["symbols"]
        self.previous: str | None = state["previous"]          # newest feature release's tree

    def state(self) -> dict[str, Any]:
        return {"releases": self.releases, "symbols": self.symbols, "previous": self.previous}

    def accepts(self, version: Version) -> bool:
        """Whether ``version`` can be added: newer than all, or a point release not oldest."""
        if not self.releases:
            return True
        newest, oldest = _version(self.releases[-1]), _version(self.releases[0])
        return version > newest or (not version.feature and version > oldest)

    def add(self, version: Version, summary: Summary, previous: Summary | None) -> None:
        """Read one release; ``previous`` is the summary of tree :attr:`previous`."""
        if not self.accepts(version):
            raise ValueError(f"{version} cannot be added after {self.releases[-1]}")
        name = str(version)
        in_order = not self.releases or version > _version(self.releases[-1])
        if version.feature or not self.releases:
            self._feature(name, summary, previous)
            self.previous = summary["tree"]
        else:
            self._point(version, summary, in_order)
        self.releases.append(name)
        if not in_order:
            self.releases.sort(key=_version)

    def _feature(self, name: str, summary: Summary, previous: Summary | None) -> None:
        """A feature release, or the first release read (which sets ``since`` too)."""
        changes = _changes(previous, summary, name) if previous is not None else {}
        feature = _version(name).feature
        unseen = summary.get("unseen", {})
        for sym, (kind, _file, values) in summary["symbols"].items():
            archs = _archs(values, summary)
            st = self.symbols.get(sym)
            if st is None:
                self.symbols[sym] = [kind, name, {}, name if feature else None,
                                     changes.get(sym, []), sym not in unseen,
                                     unseen.get(sym, ""), archs, archs]
                continue
            if _kept_in_text_only(st, sym, unseen):
                continue
            st[0] = kind
            if st[1] is None:
                st[1], st[7] = name, archs
            if feature:
                st[3], st[8] = name, archs
            if sym in changes:
                st[4].extend(changes[sym])
            _seen(st, sym, unseen)

    def _point(self, version: Version, summary: Summary, in_order: bool) -> None:
        name, branch = str(version), f"{version.branch[0]}.{version.branch[1]}"
        unseen = summary.get("unseen", {})
        for sym, (kind, _file, values) in summary["symbols"].items():
            st = self.symbols.get(sym)
            if st is None:
                archs = _archs(values, summary)
                self.symbols[sym] = [kind, None, {branch: name}, None, [], sym not in unseen,
                                     unseen.get(sym, ""), archs, []]
                continue
            if _kept_in_text_only(st, sym, unseen):
                continue
            if in_order:
                st[0] = kind
            _seen(st, sym, unseen)
            since = st[1]
            if since is not None and _version(since).branch <= version.branch:
                continue
            got = st[2].get(branch)
            if got is None or version < _version(got):
                st[2][branch] = name

    def result(self) -> dict[str, Any]:
        """The history in the JSON shape of issue 13, plus its ``"version"``."""
        features = [r for r in self.releases if _version(r).feature]
        keys = [_version(r) for r in features]
        # The feature release after each release: what removes a symbol last seen there.
        after = {r: features[at] if at < len(features) else None
                 for r in self.releases for at in (bisect_right(keys, _version(r)),)}
        symbols = {}
        for sym in sorted(self.symbols):
            kind, since, backports, last, changed, compiled, why, first, final = \
                self.symbols[sym]
            removed = None if since is None else after[last or since]
            entry = {"kind": kind, "since": since, "since_archs": first,
                     "backports": sorted(backports.values(), key=_version) if backports else [],
                     "removed": removed, "removed_archs": final if removed else []}
            if not compiled:
                entry.update(compiled=False, why=why)
            entry["changed"] = changed
            symbols[sym] = entry
        return {"version": FORMAT, "releases": list(self.releases), "symbols": symbols}


def _kept_in_text_only(st: list[Any], sym: str, unseen: dict[str, str]) -> bool:
    """A struct some arch compiled, now only in the text: gone, as before the text counted.

    Xen keeps a retired struct for old interface versions (``xen_hvm_set_pci_intx_level``
    under ``__XEN_INTERFACE_VERSION__ < 0x00040900``): its removal is when the
    compiled view lost it.  (Macros have always counted by the text.)
    """
    return sym in unseen and st[5] and st[0] in ("struct", "union")


def _seen(st: list[Any], sym: str, unseen: dict[str, str]) -> None:
    """Note one more release having ``sym``: compiled there, or why not."""
    if sym in unseen:
        st[6] = unseen[sym]
    else:
        st[5] = True


def _archs(values: dict[str, Any], summary: Summary) -> list[str]:
    """The arches of ``summary`` that compiled a symbol of these values, in its order."""
    if "*" in values:
        return list(summary["archs"])
    return [a for a in summary["archs"] if a in values]


# --------------------------------------------------------------------------- changes


def _changes(old: Summary, new: Summary, release: str) -> dict[str, list[dict[str, Any]]]:
    """Symbol -> its change entries between two consecutive feature releases."""
    olds, news = old["symbols"], new["symbols"]
    per_arch: dict[str, dict[str, list[str]]] = {}      # symbol -> arch -> what changed
    for sym, (kind, file_index, values) in news.items():
        before = olds.get(sym)
        # A name can change what it is (Xen 2.0's anonymous blkif_request_t record is a
        # typedef of struct blkif_request from 3.0): no value to compare then.
        if before is None or before[2] == values or _family(before[0]) != _family(kind):
            continue
        file = new["files"][file_index]
        ov, nv = expand(before[2], old["archs"]), expand(values, new["archs"])
        for arch in _both(old, new):
            if (arch in ov or arch in nv) and ov.get(arch) != nv.get(arch) \
                    and not broken(old, arch, file) and not broken(new, arch, file):
                # On an arch both releases compile: there on one side only is added or removed.
                text = ("added" if arch not in ov else "removed" if arch not in nv
                        else _what(kind, ov[arch], nv[arch]))
                per_arch.setdefault(sym, {}).setdefault(arch, []).append(text)
                if kind == "member":
                    _note_member(per_arch, sym, arch, text)
    _members_in_and_out(per_arch, old, new)
    out: dict[str, list[dict[str, Any]]] = {}
    for sym, archs in per_arch.items():
        grouped: dict[str, list[str]] = {}
        for arch in new["archs"]:
            if arch in archs:
                grouped.setdefault(_joined(archs[arch]), []).append(arch)
        out[sym] = [{"release": release, "archs": a, "what": w} for w, a in grouped.items()]
    return out


def _note_member(per_arch: dict[str, dict[str, list[str]]], sym: str, arch: str,
                 text: str) -> None:
    record, _, path = sym.partition(".")
    per_arch.setdefault(record, {}).setdefault(arch, []).append(f"member {path} {text}")


def _members_in_and_out(per_arch: dict[str, dict[str, list[str]]], old: Summary,
                        new: Summary) -> None:
    """A member added to or removed from a record both releases have changes the record."""
    olds, news = old["symbols"], new["symbols"]
    for syms, verb, side in ((news.keys() - olds.keys(), "added", new),
                             (olds.keys() - news.keys(), "removed", old)):
        for sym in syms:
            kind, file_index, values = side["symbols"][sym]
            record, _, path = sym.partition(".")
            if kind != "member" or not (_compiled_record(olds.get(record))
                                        and _compiled_record(news.get(record))):
                continue
            file = side["files"][file_index]
            for arch in expand(values, side["archs"]):
                if arch in old["archs"] and arch in new["archs"] \
                        and not broken(old, arch, file) and not broken(new, arch, file):
                    per_arch.setdefault(record, {}).setdefault(arch, []).append(
                        f"member {path} {verb}")


def _both(old: Summary, new: Summary) -> list[str]:
    return [a for a in new["archs"] if a in old["archs"]]


def _compiled_record(entry: list[Any] | None) -> bool:
    """A record some arch compiled: one only in the text (ia64's) has no members to compare."""
    return entry is not None and _family(entry[0]) == "record" and bool(entry[2])


def _family(kind: str) -> str:
    return {"struct": "record", "union": "record", "member": "member"}.get(kind, "value")


def _what(kind: str, before: Any, after: Any) -> str:
    if not (isinstance(before, list) and isinstance(after, list)):
        return f"{'type' if kind == 'typedef' else 'value'} {before} -> {after}"
    if kind in ("struct", "union"):
        parts = [f"{label} {b} -> {a}" for label, b, a in zip(("size", "align"), before, after,
                                                                strict=False) if b != a]
        return ", ".join(parts)
    if kind == "member":
        labels = ("offset", "size", "bit offset", "bits")
        b, a = list(before) + [None] * (4 - len(before)), list(after) + [None] * (4 - len(after))
        return ", ".join(f"{label} {x} -> {y}" for label, x, y in zip(labels, b, a, strict=True)
                         if x != y)
    return f"value {before} -> {after}"


def _joined(items: list[str]) -> str:
    items = [i for i in items if i]
    record = [i for i in items if not i.startswith("member ")]
    members = sorted(i for i in items if i.startswith("member "))
    shown = record + members[:_MORE]
    more = f"; and {len(members) - _MORE} more member changes" if len(members) > _MORE else ""
    return "; ".join(shown) + more
