"""Arch-against-arch layout checks and documentation hygiene.

Layout: a struct the annotations declare arch-invariant must have one layout on
every arch (XC301); a struct whose members are the same size on x86_32 and
x86_64 but land at different offsets is the classic ``uint64_t`` trap (XC302), a
warning where two parties of different widths share its bytes untranslated
(:mod:`shared`), a note elsewhere.
Hygiene: new undocumented symbols (XC501), identifiers in prose that name
nothing (XC502), ``=>`` mappings to nothing (XC503).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache

from headerparse.checks import shared, stale
from headerparse.checks.rules import Finding
from headerparse.model import Comment, Layout, Loc, Model, Record

_ARCH_SPECIFIC = ("arch-", "foreign/", "sys/")
_INVARIANT_PROSE = re.compile(
    r"\b(?:same|identical)\s+(?:layout|size)\s+(?:on|for|across)\s+(?:all|every)\s+arch|"
    r"\barch(?:itecture)?[- ](?:independent|invariant|neutral)\s+(?:layout|struct)", re.I)


# --------------------------------------------------------------------------- layout


def layout_findings(model: Model, invariant: Iterable[str] = (),
                    translation: shared.Translation | None = None,
                    only: frozenset[str] | None = None) -> list[Finding]:
    """``translation``: the structs Xen's compat layer handles (default: the list
    recorded from Xen, see :func:`shared.for_tree`); ``only``: the headers looked at."""
    declared = set(invariant)
    out: list[Finding] = []
    traps: list[tuple[Record, Finding]] = []
    for r in model.records:
        if r.loc.file.startswith(_ARCH_SPECIFIC) or r.expanded_from:
            continue
        if only is not None and r.loc.file not in only:
            continue
        names = {r.key, *r.typedefs}
        if names & declared or _INVARIANT_PROSE.search(r.doc.text):
            out += _invariant(r)
        else:
            traps += [(r, f) for f in _uint64_trap(r)]
    if traps:
        places = shared.shared_places(model)
        xlat = translation if translation is not None else shared.bundled()
        out += [_graded(f, r, places, xlat) for r, f in traps]
    return out


def _graded(f: Finding, r: Record, places: dict[str, list[shared.Place]],
            xlat: shared.Translation) -> Finding:
    """A warning where a 32- and a 64-bit party share the bytes and nobody translates."""
    row = xlat.of(r)
    if row is not None:
        return replace(f, severity="note", message=f"{f.message}; Xen's compat layer handles "
                       f"it for 32-bit guests ({xlat.source}: {row})")
    a, b = r.layouts["x86_32"], r.layouts["x86_64"]
    where = places.get(r.key, [])
    hit = next((p for p in where if shared.bytes_differ(p, a.size, b.size)), None)
    if hit is not None:
        at = f"{hit.root.key}.{hit.path}" if hit.path else hit.root.key
        return replace(f, message=f"{f.message}; it is shared memory ({at}) that no compat "
                       "layer translates")
    if where:
        at = ", ".join(sorted({p.root.key for p in where}))
        return replace(f, severity="note", message=f"{f.message}; where it is shared "
                       f"({at}) its bytes lie alike on x86_32 and x86_64")
    return replace(f, severity="note", message=f"{f.message}; it is not reached from a ring "
                   "entry, shared_info or vcpu_info, where a 32-bit and a 64-bit party read "
                   "the same bytes")


def _shape(lay: Layout) -> tuple:
    return (lay.size, lay.align, tuple((m.path, m.offset, m.size) for m in lay.members))


def _invariant(r: Record) -> list[Finding]:
    shapes: dict[tuple, list[str]] = {}
    for arch, lay in r.layouts.items():
        shapes.setdefault(_shape(lay), []).append(arch)
    if len(shapes) <= 1:
        return []
    desc = "; ".join(f"{','.join(archs)}: size {s[0]}, align {s[1]}"
                     for s, archs in shapes.items())
    # The arches are not part of the key: a new port joining must not make it new.
    bytes_differ = len({(s[0], s[2]) for s in shapes}) > 1
    if bytes_differ:
        return [Finding("XC301", r.loc, f"{r.key} is declared arch-invariant but its layout "
                        f"differs ({desc})", r.key, archs=tuple(r.layouts),
                        key=f"{r.key}|bytes")]
    # Same size and offsets everywhere: the bytes a guest shares agree; only embedding
    # the struct in another, or an array of it, can place it differently.
    return [Finding("XC301", r.loc, f"{r.key} is declared arch-invariant: same size and "
                    f"offsets on every arch, but its alignment differs ({desc})", r.key,
                    archs=tuple(r.layouts), severity="note", key=f"{r.key}|align")]


def _uint64_trap(r: Record) -> list[Finding]:
    a, b = r.layouts.get("x86_32"), r.layouts.get("x86_64")
    if a is None or b is None or _shape(a) == _shape(b):
        return []
    sizes32 = {m.path: m.size for m in a.members}
    sizes64 = {m.path: m.size for m in b.members}
    if sizes32 != sizes64:
        return []           # pointers, longs or handles: a per-arch layout by design
    at32 = {m.path: m.offset for m in a.members}
    for m in sorted(b.members, key=lambda m: (m.offset, m.path)):
        if at32.get(m.path) != m.offset and m.size == 8 and at32.get(m.path, 0) % 8 == 4:
            msg = (f"{r.key}.{m.path} ({m.type}) is at offset {at32[m.path]} on x86_32 and "
                   f"{m.offset} on x86_64: x86_32 aligns it to 4")
            return [Finding("XC302", _member_loc(r, m.path), msg, f"{r.key}.{m.path}",
                            archs=("x86_32", "x86_64"), key=f"{r.key}.{m.path}")]
    if a.size != b.size:
        msg = (f"{r.key} is {a.size} bytes on x86_32 and {b.size} on x86_64: its 64-bit "
               "members align it to 4 on x86_32, so arrays of it differ")
        return [Finding("XC302", r.loc, msg, r.key, archs=("x86_32", "x86_64"),
                        key=f"{r.key}|size")]
    return []


def _member_loc(r: Record, path: str) -> Loc:
    for f in r.fields:
        if f.path == path:
            return f.loc
    return r.loc


# --------------------------------------------------------------------------- hygiene


def code_identifiers(files: Mapping[str, bytes]) -> set[str]:
    """Every identifier the headers' code (comments removed) mentions: what "exists"."""
    out: set[str] = set()
    for data in files.values():
        out |= _identifiers(data)
    return out


@lru_cache(maxsize=512)
def _identifiers(data: bytes) -> frozenset[str]:
    # Per header's bytes: review asks for the parent and the patched tree, which share
    # all but the touched headers.
    code = re.sub(r"/\*.*?(?:\*/|\Z)|//[^\n]*", " ", data.decode("utf-8", "replace"),
                  flags=re.S)
    return frozenset(re.findall(r"[A-Za-z_]\w*", code))


def hygiene_findings(model: Model, baseline: Model | None,
                     files: Mapping[str, bytes] | None = None,
                     only: frozenset[str] | None = None) -> list[Finding]:
    """``only``: the headers whose comments are checked (names exist in any header)."""
    declared = code_identifiers(files) if files is not None else set()
    out = _mapping_targets(model) + _unknown_identifiers(model, declared, only)
    names = _type_names(model) | {c.name for e in model.enums for c in e.constants}
    names |= {p.name for p in model.prototypes} | declared
    out += stale.stale_findings(model, names, _docs(model, only), files or {}, only)
    if baseline is not None:
        out += _undocumented_new(model, baseline, files or {})
    return out


def _type_names(model: Model) -> set[str]:
    names = {k for r in model.records for k in (r.key, *r.typedefs)}
    names |= {e.key for e in model.enums} | {t.name for t in model.typedefs}
    names |= {f"enum {g.name}" for g in model.groups}
    names |= {m.name for m in model.macros}     # uint64_aligned_t and friends are macros
    return names


_TARGET = re.compile(r"=>\s*((?:struct|union|enum)\s+\w+|\w+_t\b|HYPERVISOR_\w+\(\))")


def _mapping_targets(model: Model) -> list[Finding]:
    names = _type_names(model)
    protos = {p.name for p in model.prototypes}
    out = []
    for g in model.groups:
        if not g.target or "*" not in g.target or g.target.endswith("()"):
            continue
        targets = [g.target_for(m) for m in g.members]
        if not any(t in names for t in targets if t):
            out.append(Finding("XC503", g.loc, f"the mapping '{g.pattern} => {g.target}' of "
                               f"{g.name} names no existing type for any of its members",
                               g.name, key=f"{g.name}|{g.target}"))
    for r in model.records:
        for f in r.fields:
            for m in _TARGET.finditer(f.doc.text):
                t = " ".join(m.group(1).split())
                ok = t in names or (t.endswith("()") and t[:-2] in protos)
                if not ok:
                    out.append(Finding("XC503", f.loc, f"{r.key}.{f.path} maps to {t}, "
                                       "which does not exist", f"{r.key}.{f.path}",
                                       key=f"{r.key}.{f.path}|{t}"))
    return out


_PLACEHOLDER = re.compile(r"XXX|xxx|FOO|foo|YYY|NNN")
_STD = re.compile(r"u?int(?:8|16|32|64|ptr|max)_t|s?size_t|off_t|ptrdiff_t|wchar_t|time_t|"
                  r"pid_t|va_list|bool_t")
_IDENT = re.compile(r"(?<![\w*?.-])(?:struct|union)\s+([a-z_]\w*)|"
                    r"(?<![\w*?.-])([a-z]\w*_t)\b|"
                    r"(?<![\w*?.-])([A-Z][A-Z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9])(?![\w*?(])")


def _unknown_identifiers(model: Model, declared: set[str],
                         only: frozenset[str] | None = None) -> list[Finding]:
    """Identifiers of Xen's own families (struct tags, *_t, PREFIX_*) that name nothing.

    Precision first: a struct tag must look like one (an underscore), a *_t name must
    be a xen one, and a MACRO_name must share two components with a real name (so
    ``XENMEM_access_op_foo`` is checked but ``GUEST_OS``, a string key, is not). A
    commented-out ``#define NAME`` records a retired name and is not prose. One finding
    per comment and name, at the name's own line and column.
    """
    names = _type_names(model) | {c.name for e in model.enums for c in e.constants}
    names |= {g.name for g in model.groups} | {p.name for p in model.prototypes}
    names |= {m for g in model.groups for m in g.members} | declared
    tags = {n.split(" ", 1)[1] for n in names if n.startswith(("struct ", "union "))} | declared
    lower: dict[str, list[str]] = {}
    stems = {"_".join(n.split("_")[:2]) + "_" for n in names
             if re.match(r"[A-Z][A-Z0-9]*_[A-Za-z0-9]+_", n)}
    out, seen = [], set()
    for sym, comment in _docs(model, only):
        for m in _IDENT.finditer(comment.text):
            bad = _unknown(m.groups(), names, tags, stems)
            if bad is None or _RETIRED.search(comment.text[:m.start()]):
                continue
            if (comment.loc, bad) in seen:
                continue
            seen.add((comment.loc, bad))
            if not lower:       # only when a name is unknown: most comments have none
                for n in sorted(names):
                    lower.setdefault(n.lower(), []).append(n)
            hints = lower.get(bad.lower(), [])
            hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
            where = stale.name_loc(comment, m.group(0))
            out.append(Finding("XC502", where, f"the comment of {sym} "
                               f"names {bad}, which the headers do not define{hint}", sym,
                               key=f"{sym}|{bad}"))
    return out


# "#define NAME" right before the name: a commented-out definition, kept as a record.
_RETIRED = re.compile(r"#\s*define\s+$")


def _unknown(groups: tuple, names: set[str], tags: set[str], stems: set[str]) -> str | None:
    tag, typ, macro = groups
    if tag:
        ok = tag in tags or "_" not in tag or tag.startswith("__")
        return None if ok else f"struct {tag}"
    if typ:
        ok = typ in names or _STD.fullmatch(typ) or "xen" not in typ
        return None if ok else typ
    if not macro or macro in names or macro.startswith("__") or _PLACEHOLDER.search(macro):
        return None
    stem = "_".join(macro.split("_")[:2]) + "_"
    return macro if stem in stems else None


def _docs(model: Model, only: frozenset[str] | None = None
          ) -> Iterable[tuple[str, Comment]]:
    """(symbol, comment) for every documenting comment, each field once where declared;
    ``only``: the comments of these headers.

    Records expanded from a macro (guest handles, ring types) share the macro's
    comments: reporting them per expansion repeats one comment dozens of times.
    """
    for sym, c in _all_docs(model):
        if only is None or c.loc.file in only:
            yield sym, c


def _all_docs(model: Model) -> Iterable[tuple[str, Comment]]:
    for m in model.macros:
        if m.doc.before is not None:
            yield m.name, m.doc.before
    for r in model.records:
        if r.expanded_from:
            continue
        if r.doc.before is not None:
            yield r.key, r.doc.before
        for f in r.fields:
            for c in (f.doc.before, f.doc.trailing):
                if c is not None:
                    yield f"{r.key}.{f.path}", c


def _undocumented_new(model: Model, baseline: Model,
                      files: Mapping[str, bytes]) -> list[Finding]:
    old_records = {r.key for r in baseline.records}
    old_macros = {m.name for m in baseline.macros}
    out = []
    for r in model.records:
        if r.key in old_records or r.expanded_from or r.key.startswith("_"):
            continue
        if not r.doc and not any(f.doc for f in r.fields):
            out.append(Finding("XC501", r.loc, f"new {r.key} has no documentation", r.key,
                               key=r.key))
    lines: dict[str, list[str]] = {}
    for m in model.macros:
        if m.name in old_macros or m.name.startswith("_") or m.doc:
            continue
        if m.loc.file not in lines:
            lines[m.loc.file] = files.get(m.loc.file, b"").decode("utf-8", "replace").split("\n")
        if _group_documented(lines[m.loc.file], m.loc.line):
            continue
        out.append(Finding("XC501", m.loc, f"new macro {m.name} has no documentation",
                           m.name, key=m.name))
    return out


_DEFINE = re.compile(r"\s*#\s*define\s")
_OPEN_RECORD = re.compile(r"\s*(?:typedef\s+)?(?:struct|union)\b[^;]*\{\s*$")


def _group_documented(lines: list[str], line: int) -> bool:
    """Whether the define at ``line`` (1-based) sits in a run of defines under a comment.

    Xen documents groups of defines with one block comment above the run (blank
    lines allowed), or with the comment of the struct whose body holds them.
    """
    i, opened = line - 2, False
    while i >= 0:
        text = lines[i]
        continued = i > 0 and lines[i - 1].rstrip().endswith("\\")
        if not text.strip() or _DEFINE.match(text) or continued:
            i -= 1      # a sibling's trailing comment documents the sibling, not the run
        elif text.rstrip().endswith("*/"):
            return True
        elif not opened and _OPEN_RECORD.match(text):
            opened, i = True, i - 1
        else:
            return False
    return False
