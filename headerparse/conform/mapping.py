"""Which Xen symbol each symbol of a copy stands for, and how that was decided.

In order: the consumer's aliases (profile, then ``--aliases`` file); the same name; a
``_t`` typedef for a struct tag or the other way round (``GUEST_HANDLE(x)`` is
``__guest_handle_x`` where Xen's ``XEN_GUEST_HANDLE(x_t)`` is ``__guest_handle_x_t``);
the same name ignoring case and underscores (EDK2's CamelCase). Inside a record, leaf
paths map by the profile's prefix aliases (Linux's ``u.rw.id`` is Xen's ``id``), the same
path, the same path ignoring case and underscores, then the same last component
(the first in declaration order when a union repeats it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from headerparse.conform.views import Leaf, RecordView, View


@dataclass(frozen=True)
class Aliases:
    names: Mapping[str, str] = field(default_factory=dict)                  # consumer -> Xen
    leaves: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    embedded: Mapping[str, tuple[str, str]] = field(default_factory=dict)


class AliasError(Exception):
    """An alias file that cannot be used; the message names the file."""


def load_aliases(path: Path) -> Aliases:
    """``aliases: {consumer: xen}`` and ``leaves: {record: {consumer_prefix: xen_prefix}}``."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise AliasError(f"cannot read alias file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise AliasError(f"alias file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"aliases", "leaves"}:
        raise AliasError(f"{path}: expected a mapping with 'aliases' and/or 'leaves'")
    names = data.get("aliases") or {}
    leaves = data.get("leaves") or {}
    if not isinstance(names, dict) or not isinstance(leaves, dict) or not all(
            isinstance(v, dict) for v in leaves.values()):
        raise AliasError(f"{path}: 'aliases' maps names to names; 'leaves' maps a record to "
                         "{consumer prefix: Xen prefix}")
    return Aliases({str(k): str(v) for k, v in names.items()},
                   {str(r): tuple((str(c or ""), str(x or "")) for c, x in v.items())
                    for r, v in leaves.items()})


def merged(profile: Aliases, extra: Aliases) -> Aliases:
    """The profile's aliases with the consumer's own file's on top."""
    leaves = dict(profile.leaves)
    for r, ps in extra.leaves.items():
        leaves[r] = ps + leaves.get(r, ())
    return Aliases({**profile.names, **extra.names}, leaves, profile.embedded)


def _bare(name: str) -> str:
    for kw in ("struct ", "union ", "enum "):
        name = name.removeprefix(kw)
    return name


def _fold(name: str) -> str:
    return _bare(name).lower().removesuffix("_t").replace("_", "")


class NameIndex:
    """Xen's names of one arch, looked up the ways the module docstring lists."""

    def __init__(self, xen: View) -> None:
        self.records: dict[str, str] = {}
        self.untyped: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        for key, r in xen.records.items():
            for n in r.names:
                self.records.setdefault(_bare(n), key)
                self.untyped.setdefault(_bare(n).removesuffix("_t"), key)
                self.folded.setdefault(_fold(n), key)
        # XEN_GUEST_HANDLE(x) is __guest_handle_64_x on Arm (__guest_handle_x there is
        # XEN_GUEST_HANDLE_PARAM's): a copy's GUEST_HANDLE(x) in a struct stands for it.
        self.handle = "__guest_handle_64_" if xen.arch.startswith("arm") else "__guest_handle_"
        self.consts = set(xen.consts)
        self.folded_consts = {_fold(n): n for n in xen.consts}

    def record(self, r: RecordView, aliases: Aliases, own_handles: bool = False
               ) -> tuple[str, str] | None:
        """(Xen record key, how) for the copy's record ``r``; ``own_handles``: the copy
        defines Xen's own guest-handle macros (so its names are Xen's)."""
        names = [_bare(n) for n in r.names]
        for n in names:
            if n in aliases.names and _bare(aliases.names[n]) in self.records:
                return self.records[_bare(aliases.names[n])], "alias"
        for n in names:
            if n.startswith("__guest_handle_") and not n.startswith("__guest_handle_64_") \
                    and not own_handles:
                want = self.handle + n[len("__guest_handle_"):]
                for cand in (want, want + "_t", want.removesuffix("_t")):
                    if cand in self.records:
                        return self.records[cand], "guest-handle"
        for n in names:
            if n in self.records:
                return self.records[n], "identity"
        for n in names:
            if n.removesuffix("_t") in self.untyped:
                how = "guest-handle" if n.startswith("__guest_handle_") else "typedef"
                return self.untyped[n.removesuffix("_t")], how
        for n in names:
            if _fold(n) in self.folded:
                return self.folded[_fold(n)], "case-insensitive"
        return None

    def const(self, name: str, aliases: Aliases) -> tuple[str, str] | None:
        if name in aliases.names and aliases.names[name] in self.consts:
            return aliases.names[name], "alias"
        if name in self.consts:
            return name, "identity"
        if _fold(name) in self.folded_consts:
            return self.folded_consts[_fold(name)], "case-insensitive"
        return None


def map_leaves(xen: RecordView, copy: RecordView, prefixes: tuple[tuple[str, str], ...]
               ) -> tuple[list[tuple[Leaf, Leaf, str]], list[Leaf], list[Leaf]]:
    """(Xen leaf, copy leaf, how) pairs; Xen leaves without a match; copy leaves unused."""
    by_path = {leaf.path: leaf for leaf in copy.leaves}
    folded = {_fold_path(leaf.path): leaf for leaf in copy.leaves}
    last: dict[str, list[Leaf]] = {}
    for leaf in copy.leaves:
        last.setdefault(_fold(leaf.path.rsplit(".", 1)[-1]), []).append(leaf)
    found: dict[str, tuple[Leaf, str]] = {}
    used: set[str] = set()
    for x in xen.leaves:
        hit = _find(x.path, by_path, folded, prefixes, used)
        if hit is not None:
            used.add(hit[0].path)
            found[x.path] = hit
    # Then by name, for restructured records: the same last component, one path's
    # components a subsequence of the other's (``id`` and ``u.rw.id``), the longest first.
    guesses = []
    for x in xen.leaves:
        if x.path in found:
            continue
        xs = [_fold(p) for p in x.path.split(".")]
        for leaf in last.get(xs[-1], ()):
            cs = [_fold(p) for p in leaf.path.split(".")]
            if leaf.path not in used and (_subsequence(xs, cs) or _subsequence(cs, xs)):
                guesses.append((-min(len(xs), len(cs)), x.path, leaf))
    for _score, xpath, leaf in sorted(guesses, key=lambda g: g[:2]):
        if xpath not in found and leaf.path not in used:
            used.add(leaf.path)
            found[xpath] = (leaf, "leaf-name")
    pairs = [(x, *found[x.path]) for x in xen.leaves if x.path in found]
    missing = [x for x in xen.leaves if x.path not in found]
    return pairs, missing, [leaf for leaf in copy.leaves if leaf.path not in used]


def _subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(p == q for q in it) for p in short)


def _fold_path(path: str) -> str:
    return ".".join(_fold(p) for p in path.split("."))


def _find(path: str, by_path: dict[str, Leaf], folded: dict[str, Leaf],
          prefixes: tuple[tuple[str, str], ...], used: set[str]) -> tuple[Leaf, str] | None:
    for ours, theirs in prefixes:
        if path.startswith(theirs) and ours + path[len(theirs):] in by_path:
            return by_path[ours + path[len(theirs):]], "alias"
    if path in by_path and path not in used:
        return by_path[path], "identity"
    if _fold_path(path) in folded and folded[_fold_path(path)].path not in used:
        return folded[_fold_path(path)], "case-insensitive"
    return None
