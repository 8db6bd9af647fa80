"""Version against version: what changed in the ABI between two models.

Records are compared by key per arch (size, alignment, member offsets, sizes and
types); macros by name per arch (integer values); hypercalls by name (numbers);
backtick prototypes by name.  Each change is guarded by an interface version
(:mod:`guards`: ``XEN_DOMCTL_INTERFACE_VERSION`` for domctl.h and the structs only its
payloads use, ... ``__XEN_LATEST_INTERFACE_VERSION__`` for the rest): an incompatible
change whose guard did not move is reported as unguarded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from headerparse.checks import conditions
from headerparse.checks.guards import RUNTIME_CHECKED, guard_of, record_guards
from headerparse.checks.knockon import reachable
from headerparse.checks.rules import Finding
from headerparse.model import Layout, Loc, Member, Model, Record

_SKIP_PREFIXES = ("foreign/", "sys/")       # not public headers: generated or Linux's


@dataclass(frozen=True)
class Change:
    """One ABI change; ``kind`` is layout|constant|removed|added|hypercall|prototype|version."""

    kind: str
    symbol: str
    file: str
    line: int
    archs: tuple[str, ...]
    before: Any
    after: Any
    detail: str
    incompatible: bool
    tools_only: bool = False      # under __XEN_TOOLS__: Xen and its tools, built together
    versioned: str = ""           # the runtime-checked interface version that moved with it

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "symbol": self.symbol, "file": self.file, "line": self.line,
                "archs": list(self.archs), "before": self.before, "after": self.after,
                "detail": self.detail, "incompatible": self.incompatible,
                "tools_only": self.tools_only, "versioned": self.versioned}


@dataclass
class _Collector:
    items: dict[tuple, list[str]] = field(default_factory=dict)
    proto: dict[tuple, Change] = field(default_factory=dict)

    def add(self, c: Change, arch: str | None = None) -> None:
        k = (c.kind, c.symbol, c.detail, repr(c.before), repr(c.after))
        self.proto.setdefault(k, c)
        if arch is not None:
            self.items.setdefault(k, []).append(arch)
        else:
            self.items.setdefault(k, [])

    def changes(self) -> list[Change]:
        out = []
        for k, c in self.proto.items():
            archs = tuple(dict.fromkeys(self.items[k])) or c.archs
            out.append(Change(c.kind, c.symbol, c.file, c.line, archs, c.before, c.after,
                              c.detail, c.incompatible, c.tools_only))
        return out


def diff(old: Model, new: Model, files: Mapping[str, bytes] | None = None,
         moved: Iterable[str] = ()) -> list[Change]:
    """The ABI changes from ``old`` to ``new``; ``files`` (the new headers' bytes) tell
    which constants are tools-only; ``moved`` names the interface versions that already
    changed since the last release (Xen bumps them once per release cycle)."""
    col = _Collector()
    tools = conditions.tools_only(files) if files is not None else {}
    archs = [a for a in new.archs if a in old.archs]
    uncompared: dict[str, list[str]] = {}
    for arch in archs:
        # A header that fails to compile has no layout to compare (clang gives its
        # records size 1): leave it out on that arch rather than invent changes.
        broken = not_compiling(old, arch) | not_compiling(new, arch)
        for path in broken:
            uncompared.setdefault(path, []).append(arch)
        _records(col, _by_key(old, arch, broken), _by_key(new, arch, broken), arch, tools)
        _macros(col, _macro_values(old, arch, broken), _macro_values(new, arch, broken), new,
                arch, tools)
    _hypercalls(col, old, new)
    _prototypes(col, old, new)
    guards = _Guards({**record_guards(old), **record_guards(new)}, files)
    changes = _versioned(col.changes(), set(moved), guards)
    return changes + _guards(changes, old, guards) + _uncompared(uncompared)


_BROKEN = ("errors", "unsupported")


def not_compiling(model: Model, arch: str) -> set[str]:
    """Headers that fail on ``arch``, and every header that includes one of them."""
    broken = {h.path for h in model.headers if h.status.get(arch) in _BROKEN}
    includers: dict[str, set[str]] = {}
    for h in model.headers:
        for included in h.includes:
            includers.setdefault(included, set()).add(h.path)
    return broken | reachable(includers, broken)


def _uncompared(uncompared: dict[str, list[str]]) -> list[Change]:
    """One ``not-compared`` entry per arch set: what the diff could not see, said once."""
    by_archs: dict[tuple[str, ...], list[str]] = {}
    for path, archs in sorted(uncompared.items()):
        by_archs.setdefault(tuple(archs), []).append(path)
    out = []
    for archs, paths in sorted(by_archs.items()):
        shown = ", ".join(paths[:6]) + (f" and {len(paths) - 6} more" if len(paths) > 6 else "")
        out.append(Change("not-compared", paths[0], paths[0], 1, archs, None, None,
                          f"not compared on {', '.join(archs)}, where the header does not "
                          f"compile before or after the change (or includes one that does "
                          f"not): {shown}", False))
    return out


# --------------------------------------------------------------------------- records


def _public(path: str) -> bool:
    return not path.startswith(_SKIP_PREFIXES)


def _by_key(model: Model, arch: str, skip: set[str]) -> dict[str, tuple[Record, Layout]]:
    out: dict[str, tuple[Record, Layout]] = {}
    for r in model.records:
        lay = r.layout(arch)
        if lay is not None and _public(r.loc.file) and r.loc.file not in skip:
            out.setdefault(r.key, (r, lay))
    return out


def _records(col: _Collector, old: dict, new: dict, arch: str,
             tools: Mapping[str, set[int]]) -> None:
    for key, (r_old, a) in old.items():
        if key not in new:
            col.add(Change("removed", key, r_old.loc.file, r_old.loc.line, (), None, None,
                           f"{key} is gone", True, _tools_record(r_old, tools)), arch)
            continue
        r_new, b = new[key]
        for detail, before, after, incompatible in _layout_changes(a, b, r_new.kind == "union"):
            col.add(Change("layout", key, r_new.loc.file, r_new.loc.line, (), before, after,
                           detail, incompatible, _tools_record(r_new, tools)), arch)
    for key, (r_new, b) in new.items():
        if key not in old:
            col.add(Change("added", key, r_new.loc.file, r_new.loc.line, (), None, b.size,
                           f"new {key} ({b.size} bytes)", False), arch)


def _tools_record(r: Record, tools: Mapping[str, set[int]]) -> bool:
    """A record only Xen and its tools see, in a header guests include: no guest-visible
    interface version guards it (domctl.h's payloads keep their runtime-checked one)."""
    return _in_tools(r.loc, tools) and guard_of(r.loc.file) not in RUNTIME_CHECKED


def _layout_changes(a: Layout, b: Layout,
                    union: bool = False) -> Iterable[tuple[str, Any, Any, bool]]:
    """What changed between two layouts of one record, matching members by their bytes.

    A member whose path is gone is renamed when a new member has its exact bytes
    (offset, size, bit-field): renames and re-nesting keep the ABI. Padding whose
    bytes new members now use is reused, not removed. A container (a nested struct
    or union) that moves or grows is incompatible only when one of its own members is.
    """
    if a == b:      # most records of a patched tree: nothing to match
        return
    if a.size != b.size:
        yield "size", a.size, b.size, True
    if a.align != b.align:
        yield "align", a.align, b.align, True
    members = list(_member_changes(a, b, union))
    containers = _containers(a) & _containers(b)
    broken = [p for p, c in members if p not in containers and c[3]]
    for path, change in members:
        if path in containers:
            detail, before, after, _bad = change
            yield detail, before, after, any(p.startswith(path + ".") for p in broken)
        else:
            yield change


def _member_changes(a: Layout, b: Layout, union: bool) -> Iterable[tuple[str, tuple]]:
    """(member path, change) for every member change; ``union``: the record is one."""
    new_members = {m.path: m for m in b.members}
    old_paths = {m.path for m in a.members}
    pool: dict[tuple, list[Member]] = {}
    for n in sorted(b.members, key=lambda n: n.path):
        if n.path not in old_paths:
            pool.setdefault(_bytes(n), []).append(n)
    renamed: set[str] = set()
    for m in sorted(a.members, key=lambda m: m.path):
        n = new_members.get(m.path)
        if n is None:
            for change in _gone(m, pool, renamed, b):
                yield m.path, change
            continue
        if _is_padding(m.path) and _bytes(m) != _bytes(n) and _within(n, m) and _covered(m, b):
            yield m.path, (f"member {m.path} partly reused (padding)", m.size, n.size,
                                   False)
            continue
        if (m.offset, m.bit_offset) != (n.offset, n.bit_offset):
            yield m.path, (f"member {m.path} offset", m.offset, n.offset, True)
        if (m.size, m.bit_size) != (n.size, n.bit_size):
            yield m.path, (f"member {m.path} size", m.size, n.size, True)
        elif _type_class(m.type) != _type_class(n.type):
            yield m.path, (f"member {m.path} type", m.type, n.type, False)
    for n in b.members:
        if n.path not in old_paths and n.path not in renamed:
            yield n.path, (f"member {n.path} added{_in_union(n.path, a, b, union)}", None,
                           n.offset, False)


UNION_ADDITION = " to a union of unchanged size"


def _in_union(path: str, a: Layout, b: Layout, union: bool) -> str:
    """UNION_ADDITION when ``path`` is a new arm of a union that kept its size.

    Such a member is a new way to read bytes every caller already passes: compatible,
    but a new meaning a reviewer should see (a struct that grows is XC401 instead).
    """
    if "." not in path:
        return UNION_ADDITION if union and a.size == b.size else ""
    parent = path.rsplit(".", 1)[0]
    old, new = a.member(parent), b.member(parent)
    if old is None or new is None or not new.type.startswith("union"):
        return ""
    return UNION_ADDITION if (old.offset, old.size) == (new.offset, new.size) else ""


def _containers(lay: Layout) -> set[str]:
    paths = [m.path for m in lay.members]
    return {p.rsplit(".", 1)[0] for p in paths if "." in p} & set(paths)


def _bytes(m: Member) -> tuple:
    return (m.offset, m.size, m.bit_offset, m.bit_size)


def _gone(m: Member, pool: dict[tuple, list[Member]], renamed: set[str],
          b: Layout) -> Iterable[tuple[str, Any, Any, bool]]:
    # Padding taken by new fields is reuse, and those fields are added; any other
    # member whose bytes a new member has is a rename.
    if _is_padding(m.path) and _covered(m, b):
        yield f"member {m.path} reused (padding)", m.offset, None, False
        return
    candidates = pool.get(_bytes(m))
    if candidates:
        n = candidates.pop(0)
        renamed.add(n.path)
        yield f"member {m.path} renamed to {n.path} (same bytes)", m.path, n.path, False
        if _type_class(m.type) != _type_class(n.type):
            yield f"member {m.path} type", m.type, n.type, False
    else:
        yield f"member {m.path} removed", m.offset, None, True


_PADDING = re.compile(r"_*(?:pad|padding|rsvd|reserved|spare|unused)\w*", re.I)


def _is_padding(path: str) -> bool:
    return _PADDING.fullmatch(path.rsplit(".", 1)[-1]) is not None


def _within(n: Member, m: Member) -> bool:
    return m.offset <= n.offset and n.offset + n.size <= m.offset + m.size


def _covered(m: Member, b: Layout) -> bool:
    """Whether members of ``b`` (leaves) lay over every byte of ``m``."""
    paths = [n.path for n in b.members]
    leaves = [n for n in b.members if not any(p.startswith(n.path + ".") for p in paths)]
    want = set(range(m.offset, m.offset + m.size))
    for n in leaves:
        want -= set(range(n.offset, n.offset + max(n.size, 1)))
    return not want


def _norm(t: str) -> str:
    return " ".join(t.replace("struct ", "").split())


def _type_class(t: str) -> str:
    """What of a member's type survives typedef renames: pointer, signedness, or nothing.

    Member types are spelled as written (``uint32_t`` vs ``unsigned int``, a typedef vs
    its struct), so only a change of class is a change of meaning we can see.
    """
    t = re.sub(r"\((?:unnamed|anonymous)[^)]*\)", "", t)
    if "*" in t:
        return "pointer"
    words = set(re.findall(r"\w+", t))
    if words & {"float", "double"}:
        return "float"
    if words & {"unsigned", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "uint64_aligned_t",
                "xen_ulong_t", "size_t", "uintptr_t"}:
        return "unsigned"
    if words & {"int", "long", "short", "int8_t", "int16_t", "int32_t", "int64_t", "signed",
                "int64_aligned_t", "xen_long_t"}:
        return "signed"
    return ""


# --------------------------------------------------------------------------- macros


def _macro_values(model: Model, arch: str, skip: set[str]) -> dict[str, tuple[int, Loc]]:
    """Integer constants by name: macros, then enumerators (compiled into callers alike)."""
    out: dict[str, tuple[int, Loc]] = {}
    for m in model.macros:
        if arch in m.values and _public(m.loc.file) and m.loc.file not in skip:
            out.setdefault(m.name, (m.values[arch], m.loc))
    for e in model.enums:
        for c in e.constants:
            if arch in c.values and _public(c.loc.file) and c.loc.file not in skip:
                out.setdefault(c.name, (c.values[arch], c.loc))
    return out


def _defined(model: Model, arch: str) -> set[str]:
    """Names a model defines on ``arch``, valued or not."""
    names = {m.name for m in model.macros if arch in m.archs}
    for e in model.enums:
        if arch in e.archs:
            names.update(c.name for c in e.constants)
    return names


def _macros(col: _Collector, old: dict, new: dict, new_model: Model, arch: str,
            tools: Mapping[str, set[int]]) -> None:
    defined = _defined(new_model, arch)
    added = [name for name in new if name not in old]
    for name, (v, loc) in old.items():
        if name in new:
            w, nloc = new[name]
            if v != w:
                col.add(_constant(name, v, w, nloc, added, tools), arch)
        elif name not in defined:
            col.add(Change("removed", name, loc.file, loc.line, (), v, None,
                           f"{name} is gone", True, _in_tools(loc, tools)), arch)
    for name in added:
        w, loc = new[name]
        col.add(Change("added", name, loc.file, loc.line, (), None, w,
                       f"new {name} = {w}", False), arch)


_SENTINEL = re.compile(r"(.+_)(?:MAX|COUNT|NR|NUM|LAST|END|MASK)")


def _constant(name: str, v: int, w: int, loc: Loc, added: list[str],
              tools: Mapping[str, set[int]]) -> Change:
    if name.endswith("INTERFACE_VERSION__") or name.endswith("_INTERFACE_VERSION"):
        return Change("version", name, loc.file, loc.line, (), v, w, f"{name} {v:#x} -> {w:#x}",
                      False)
    # A *_MAX/*_COUNT/*_MASK that grows as a sibling is added counts the new member.
    m = _SENTINEL.fullmatch(name)
    grows = m is not None and w > v and any(a.startswith(m.group(1)) for a in added)
    detail = f"{name} {v} -> {w}" + (" (a sentinel, grown with a new member)" if grows else "")
    return Change("constant", name, loc.file, loc.line, (), v, w, detail, not grows,
                  _in_tools(loc, tools))


def _in_tools(loc: Loc, tools: Mapping[str, set[int]]) -> bool:
    return loc.line in tools.get(loc.file, ())


# --------------------------------------------------------------------------- calls


def _hypercalls(col: _Collector, old: Model, new: Model) -> None:
    for h in old.hypercalls:
        n = new.hypercall(h.name)
        if n is None:
            col.add(Change("removed", h.macro, h.loc.file, h.loc.line, h.archs, h.number,
                           None, f"hypercall {h.name} is gone", True))
        elif n.number != h.number:
            col.add(Change("hypercall", h.macro, n.loc.file, n.loc.line, n.archs, h.number,
                           n.number, f"hypercall {h.name} number {h.number} -> {n.number}",
                           True))


def _prototypes(col: _Collector, old: Model, new: Model) -> None:
    new_protos = {p.name: p for p in new.prototypes}
    for p in old.prototypes:
        n = new_protos.get(p.name)
        if n is None:
            continue
        old_params = tuple(_norm(x.type) for x in p.params)
        new_params = tuple(_norm(x.type) for x in n.params)
        if (old_params, p.variadic, _norm(p.return_type)) == \
                (new_params, n.variadic, _norm(n.return_type)):
            continue
        # Adding '...' documents arguments that were always passed: not incompatible.
        compatible = old_params == new_params and not p.variadic and n.variadic
        col.add(Change("prototype", p.name, n.loc.file, n.loc.line, (), p.text, n.text,
                       f"{p.name}: {p.text} -> {n.text}", not compatible))


# --------------------------------------------------------------------------- guards

@dataclass(frozen=True)
class _Guards:
    """Which version guards a change: its record's (where payloads use it), else its file's."""

    records: Mapping[str, str]
    files: Mapping[str, bytes] | None

    def of(self, c: Change) -> str | None:
        if c.kind in ("layout", "removed", "added") and c.symbol in self.records:
            return self.records[c.symbol]
        return guard_of(c.file, self.files)


def _versioned(changes: list[Change], moved: set[str], guards: _Guards) -> list[Change]:
    """Mark incompatible changes that a runtime-checked version bump covers."""
    bumped = moved | {c.symbol for c in changes if c.kind == "version"}
    out = []
    for c in changes:
        guard = guards.of(c)
        if c.incompatible and c.kind != "version" and guard in bumped \
                and guard in RUNTIME_CHECKED:
            c = replace(c, versioned=guard)
        out.append(c)
    return out


def _guards(changes: list[Change], old: Model, guards: _Guards) -> list[Change]:
    """An ``unguarded`` pseudo-change per header and guard whose incompatible changes no
    bump covers."""
    bumped = {c.symbol for c in changes if c.kind == "version"}
    per_file: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        guard = guards.of(c)
        if c.incompatible and c.kind != "version" and not c.tools_only and not c.versioned \
                and guard is not None:
            per_file.setdefault((c.file, guard), []).append(c)
    out = []
    for (path, guard), items in sorted(per_file.items()):
        if guard in bumped or not _defines(old, guard):
            continue
        names = sorted({c.symbol for c in items})
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        out.append(Change("unguarded", guard, path, min(c.line for c in items), (), None, None,
                          f"{len(items)} incompatible change(s) in {path} ({shown}) without a "
                          f"change of {guard}", True))
    return out


def _defines(model: Model, name: str) -> bool:
    return any(m.name == name for m in model.macros)


# --------------------------------------------------------------------------- findings

_RULE = {"layout": "XC401", "constant": "XC402", "removed": "XC403", "hypercall": "XC404",
         "prototype": "XC405", "unguarded": "XC406", "version": "XC407"}


def diff_findings(changes: Iterable[Change]) -> list[Finding]:
    """One finding per changed symbol and arch set; layout details are summarised."""
    out = []
    layouts: dict[tuple[str, tuple[str, ...]], list[Change]] = {}
    for c in changes:
        rule = _RULE.get(c.kind)
        if c.kind == "layout":
            layouts.setdefault((c.symbol, c.archs), []).append(c)
            continue
        if rule is None or (c.kind == "prototype" and not c.incompatible):
            continue
        # Xen and its tools are built together: a tools-only constant is worth a look.
        severity = "warning" if c.tools_only and rule in ("XC402", "XC403") else ""
        # A grown sentinel counts what was added: compatible, still shown.
        severity = "note" if c.versioned or not c.incompatible else severity
        out.append(Finding(rule, Loc(c.file, c.line), _message(c), c.symbol, archs=c.archs,
                           severity=severity, key=f"{c.kind}|{c.symbol}|{c.detail}"))
    echoes = _echoes([c for items in layouts.values() for c in items])
    for (symbol, archs), items in layouts.items():
        out.extend(_renames(symbol, archs, items, echoes))
        bad = [c for c in items if c.incompatible]
        shown = bad or [c for c in items if c.detail.endswith(" type")]
        if not shown:
            out.extend(_union_additions(symbol, archs, items))
            continue
        rule = "XC401" if bad else "XC408"
        text = "; ".join(f"{c.detail} {c.before} -> {c.after}" for c in shown[:3])
        more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
        guard = bad[0].versioned if bad and all(c.versioned for c in bad) else ""
        note = f" (versioned by {guard})" if guard else ""
        out.append(Finding(rule, Loc(items[0].file, items[0].line),
                           f"{symbol}: {text}{more}{note}", symbol, archs=archs,
                           severity="note" if guard else "",
                           key=f"layout|{symbol}|{text}{more}"))
    return out


def _union_additions(symbol: str, archs: tuple[str, ...], items: list[Change]) -> list[Finding]:
    """One XC409 note per record whose unions gained members and nothing else changed badly."""
    added = [c for c in items if c.detail.endswith(UNION_ADDITION)]
    if not added:
        return []
    names = [c.detail.split()[1] for c in added]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return [Finding("XC409", Loc(added[0].file, added[0].line),
                    f"{symbol}: new union member(s) {shown}; the size is unchanged",
                    symbol, archs=archs, severity="note",
                    key=f"union|{symbol}|{', '.join(names)}")]


def _renames(symbol: str, archs: tuple[str, ...], items: list[Change],
             echoes: set[tuple[str, str]]) -> list[Finding]:
    """One XC410 note per record whose members were renamed, re-nested or whose padding
    got a name at the same bytes: the ABI holds, the source that names them does not."""
    hits = [c for c in items if _renamed(c) and (symbol, _renamed(c)[0]) not in echoes]
    if not hits:
        return []
    parts = [c.detail.removeprefix("member ") for c in hits]
    shown = "; ".join(parts[:4]) + (f" (and {len(parts) - 4} more)" if len(parts) > 4 else "")
    return [Finding("XC410", Loc(hits[0].file, hits[0].line), f"{symbol}: {shown}", symbol,
                    archs=archs, severity="note", key=f"renamed|{symbol}|{'; '.join(parts)}")]


def _renamed(c: Change) -> tuple[str, str] | None:
    """(old path, new path) of a rename, (path, "") of reused padding; else None."""
    if c.incompatible or not c.detail.endswith(_SAME_BYTES):
        return None
    if isinstance(c.before, str):
        return c.before, str(c.after)
    return c.detail.split()[1], ""


def _echoes(changes: list[Change]) -> set[tuple[str, str]]:
    """(record, old path) of renames that another note already says: the members of a
    renamed container, and the same rename seen again through a record that embeds
    the renamed one (xen_domctl's u.cpu_policy.leaves is xen_domctl_cpu_policy's)."""
    found = [(c.symbol, *r) for c in changes if (r := _renamed(c))]
    olds = {(sym, old) for sym, old, _ in found}
    out = set()
    for sym, old, new in found:
        if "." in old and (sym, old.rsplit(".", 1)[0]) in olds:
            out.add((sym, old))
        for other, o2, n2 in found:
            if other == sym or not old.endswith("." + o2) or bool(new) != bool(n2):
                continue
            if not n2 or (new.endswith("." + n2) and old[:-len(o2)] == new[:-len(n2)]):
                out.add((sym, old))
    return out


_SAME_BYTES = ("(same bytes)", "reused (padding)")


def _message(c: Change) -> str:
    if c.kind == "layout":
        return f"{c.symbol}: {c.detail} {c.before} -> {c.after}"
    if c.versioned:
        return f"{c.detail} (versioned by {c.versioned})"
    return c.detail


def summarize(changes: Iterable[Change]) -> dict[str, list[str]]:
    """Per arch, one line per change: what a reviewer reads first."""
    out: dict[str, list[str]] = {}
    for c in changes:
        line = _message(c)
        for arch in c.archs or ("all",):
            out.setdefault(arch, []).append(line)
    return out
