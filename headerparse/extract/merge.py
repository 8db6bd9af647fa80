"""Per-arch facts and per-file sources -> one Model, by definition site.

A struct defined once in a header has one Record with a Layout per arch that
compiles it; a struct defined differently per arch (``cpu_user_regs`` in
xen-x86_32.h and xen-x86_64.h) has one Record per definition.  The docs come
from the sources (comments), everything compiled from the facts: the facts
cache relies on that split.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from headerparse.extract.archfacts import ArchFacts
from headerparse.extract.fielddocs import FIELDS, FieldDocs
from headerparse.extract.frozen import maker
from headerparse.extract.lexer import Define
from headerparse.extract.markup import arg_lines
from headerparse.extract.source import HeaderSource, MacroDoc
from headerparse.model import (
    EMPTY_DOC,
    SCHEMA_VERSION,
    Diagnostic,
    Doc,
    Enum,
    EnumConst,
    Header,
    Hypercall,
    Loc,
    Macro,
    Model,
    OpGroup,
    Record,
    Typedef,
)
from headerparse.targets import OPTIONAL_ARCHS, TARGETS, header_status
from headerparse.tree import HeaderTree

if TYPE_CHECKING:
    from headerparse.extract.options import Options

__all__ = ["FIELDS", "Merger"]

_NOTE_HYPERCALL = re.compile(r"__HYPERVISOR_(\w+)\Z")
# The merge builds some 12,000 of these (4.17): at a third of their __init__'s cost.
_RECORD, _MACRO, _LOC = maker(Record), maker(Macro), maker(Loc)
_TYPEDEF, _ENUM, _ENUM_CONST = maker(Typedef), maker(Enum), maker(EnumConst)


class Merger:
    """The Model of one tree: what compiles from the facts, what is said from the sources."""

    def __init__(self, tree: HeaderTree, options: Options, archs: tuple[str, ...],
                 sources: dict[str, HeaderSource], facts: dict[str, ArchFacts],
                 tools_only: set[str]) -> None:
        self.tree, self.options, self.archs = tree, options, archs
        self.sources, self.facts = sources, facts
        self.tools_only = tools_only
        self.field_docs = FieldDocs(sources, options.docs, archs)

    def prepare(self, facts: ArchFacts) -> None:
        """Works out what of the model one arch's facts decide with the sources alone
        (:meth:`.FieldDocs.prepare`), while the other arches are still being parsed;
        ``self.facts`` may be filled in later, :meth:`model` gives the same model."""
        self.field_docs.prepare(facts)

    def model(self) -> Model:
        groups = tuple(g for s in self.sources.values() for g in s.markup.groups)
        prototypes = tuple(p for s in self.sources.values() for p in s.markup.prototypes)
        macros = self.macros(groups)
        return Model(
            schema=SCHEMA_VERSION, tree=self.tree.description, tree_hash=self.tree.content_hash(),
            archs=self.archs, options=self._options_json(),
            headers=self.headers(), records=self.records(), enums=self.enums(),
            typedefs=self.typedefs(), macros=macros, groups=groups, prototypes=prototypes,
            hypercalls=self.hypercalls(macros, prototypes, groups),
            diagnostics=self.diagnostics(),
        )

    def _options_json(self) -> dict[str, str]:
        out = {"tools": str(self.options.tools).lower(),
               "interface_version": self.options.interface_version or "latest"}
        if not self.options.docs:
            out["docs"] = "false"       # said only when asked: other models stay as they were
        return out

    # ------------------------------------------------------------ headers

    def headers(self) -> tuple[Header, ...]:
        out = []
        errors = {(d.loc.file, a) for f in self.facts.values() for d in f.diagnostics
                  if d.severity == "error" and d.loc for a in d.archs}
        for path, src in self.sources.items():
            status, notes = {}, []
            for arch in self.archs:
                st, why = header_status(path, TARGETS[arch])
                if st == "direct" and path in self.tools_only:
                    st, why = "tools-only", ("#errors unless __XEN_TOOLS__ is defined; "
                                             "left out of the guest view")
                if st == "direct":
                    st = "parsed"
                elif st == "fragment" and path not in self.facts[arch].files_seen:
                    st, why = "not-included", f"{why}, which does not include it on {arch}"
                if st in ("parsed", "fragment") and (path, arch) in errors:
                    st = "errors"
                    if arch in OPTIONAL_ARCHS:
                        st, why = "unsupported", f"does not compile for the {arch} port yet"
                status[arch] = st
                if why and why not in notes:
                    notes.append(why)
            includes = sorted({i for f in self.facts.values() for i in f.includes.get(path, ())})
            # The header's own doc is its banner: the first comment that is not a licence tag.
            banner = next((c.comment for c in src.comments if self.options.docs
                           and "SPDX-License-Identifier" not in c.comment.raw), None)
            doc = Doc(before=banner) if banner is not None else None
            out.append(Header(path, tuple(includes), src.markup.sections, status,
                              "; ".join(notes), doc or EMPTY_DOC))
        return tuple(out)

    # ------------------------------------------------------------ records

    def _by_location(self, facts_of: Callable[[Any], list]) -> dict[tuple, list[tuple[str, Any]]]:
        """One arch's raw items of a kind, grouped across arches by definition site."""
        by_loc: dict[tuple, list[tuple[str, Any]]] = {}
        for arch in self.archs:
            for item in facts_of(self.facts[arch]):
                name = getattr(item, "key", None) or item.name
                by_loc.setdefault((name, item.loc.file, item.loc.line), []).append((arch, item))
        return by_loc

    def _doc(self, file: str, line: int, end_line: int | None = None) -> Doc:
        src = self.sources.get(file) if self.options.docs else None
        return src.index.doc_for(line, end_line) if src else EMPTY_DOC

    def records(self) -> tuple[Record, ...]:
        typedefs: dict[str, set[str]] = {}
        for f in self.facts.values():
            for t in f.typedefs:
                if t.target:
                    typedefs.setdefault(t.target, set()).add(t.name)
        out = []
        fields = self.field_docs.fields
        for (key, file, _line), items in self._by_location(lambda f: f.records).items():
            raws = [raw for _arch, raw in items]
            first = raws[0]
            doc = self._doc(file, first.loc.line)
            names = typedefs.get(key)
            out.append(_RECORD(
                key, first.kind, first.tag, tuple(sorted(names - {key})) if names else (),
                first.loc, doc, fields(raws, doc), {r.layout.arch: r.layout for r in raws},
                first.expanded_from))
        return tuple(out)

    # ------------------------------------------------------------ typedefs, enums

    def typedefs(self) -> tuple[Typedef, ...]:
        out = []
        for (name, file, _line), items in self._by_location(lambda f: f.typedefs).items():
            t0 = items[0][1]
            out.append(_TYPEDEF(name, t0.loc, self._doc(file, t0.loc.line),
                                {a: t.underlying for a, t in items}, t0.target,
                                tuple(a for a, _ in items)))
        return tuple(out)

    def enums(self) -> tuple[Enum, ...]:
        out = []
        for (key, file, _line), items in self._by_location(lambda f: f.enums).items():
            e0 = items[0][1]
            consts = []
            for i, (name, _value, loc) in enumerate(e0.constants):
                values = {a: e.constants[i][1] for a, e in items if i < len(e.constants)}
                consts.append(_ENUM_CONST(name, values, loc, self._doc(file, loc.line)))
            out.append(_ENUM(key, e0.loc, self._doc(file, e0.loc.line),
                             tuple(consts), tuple(a for a, _ in items)))
        return tuple(out)

    # ------------------------------------------------------------ macros

    def macros(self, groups: tuple[OpGroup, ...]) -> tuple[Macro, ...]:
        active: dict[tuple[str, str, int], list[str]] = {}
        for arch in self.archs:
            for key in self.facts[arch].defines:
                archs = active.get(key)
                if archs is None:
                    active[key] = [arch]
                else:
                    archs.append(arch)
        last = _redefined(active)
        tables = {arch: (f.values, f.why_not) for arch, f in self.facts.items()}
        member_group = {(g.loc.file, m): g.name for g in groups for m in g.members}
        argument = self._argument_docs(groups)
        out = []
        for path, src in self.sources.items():
            for d, found in zip(src.defines, src.macro_docs, strict=True):
                if found is None:
                    continue    # include guard
                archs = tuple(active.get((d.name, path, d.line), ()))
                if not found[0] and (path, d.name) in argument:
                    doc = argument[(path, d.name)]
                    found = (doc, arg_lines(doc.before) if doc.before else ())
                out.append(self._macro(path, d, found, archs, member_group,
                                       last.get((d.name, path)), tables))
        return tuple(out)

    def _argument_docs(self, groups: tuple[OpGroup, ...]) -> dict[tuple[str, str], Doc]:
        """Rule 11 of :mod:`.attach`: an op of a group whose opener maps ops to their
        argument struct (``GNTTABOP_* => struct gnttab_*``) is described, when nothing
        else describes it, by the comment above its argument struct.  It reads other
        headers' records, so it is the merge's, not the lexing's."""
        if not self.options.docs:
            return {}
        where = {r.key: r.loc for f in self.facts.values() for r in f.records}
        out = {}
        for g in groups:
            for m in g.members:
                loc = where.get(g.target_for(m) or "")
                before = self._doc(loc.file, loc.line).before if loc else None
                if before is not None:
                    out[(g.loc.file, m)] = Doc(before, None)
        return out

    def _macro(self, path: str, d: Define, found: MacroDoc, archs: tuple[str, ...],
               member_group: dict[tuple[str, str], str], last: dict[str, int] | None,
               tables: dict[str, tuple[dict[str, int], dict[str, str]]]) -> Macro:
        """``last``: the last line defining the name in ``path``, by arch, where it is
        defined on more than one line; ``tables``: each arch's values and reasons."""
        values: dict[str, int] = {}
        why: dict[str, str] = {}
        name = d.name
        for arch in archs if d.params is None else ():
            later = last.get(arch, 0) if last is not None else 0
            if later > d.line:
                # #undef + #define (the compat aliases of xen.h): the value at the end
                # of the unit belongs to the later definition in the same file.
                why[arch] = f"redefined at {path}:{later}"
                continue
            known, reasons = tables[arch]
            value = known.get(name, _NONE)
            if value is not _NONE:
                values[arch] = value
            elif (reason := reasons.get(name, _NONE)) is not _NONE:
                why[arch] = reason
        doc, args = found
        return _MACRO(name, _LOC(path, d.line, d.col), doc, d.params, d.body, archs, values,
                      why, args, member_group.get((path, name)))

    # ------------------------------------------------------------ hypercalls

    def hypercalls(self, macros: Iterable[Macro], prototypes, groups) -> tuple[Hypercall, ...]:
        protos = {p.name.removeprefix("HYPERVISOR_"): p for p in prototypes}
        group_names = {g.name for g in groups}
        # The table is the `enum hypercall_num` group where the tree marks it up
        # (xen.h also has __HYPERVISOR_VIRT_START, which is no hypercall), plus
        # aliases defined elsewhere as another hypercall (__HYPERVISOR_mca).
        table = {m for g in groups if g.name == "hypercall_num" for m in g.members}
        seen: dict[str, Hypercall] = {}
        for m in macros:
            hit = _NOTE_HYPERCALL.match(m.name)
            if not hit or not m.values or m.params is not None or hit.group(1) in seen:
                continue
            if table and m.name not in table and m.body.strip("() ") not in table:
                continue
            name = hit.group(1)
            number = next(iter(m.values.values()))
            proto = protos.get(name)
            used = tuple(sorted({g for p in (proto.params if proto else ())
                                 for g in re.findall(r"\benum\s+(\w+)", p.type)
                                 if g in group_names}))
            note = m.doc.trailing.text if m.doc.trailing else ""
            seen[name] = Hypercall(name, number, m.name, m.loc, note, proto, used, m.archs)
        return tuple(sorted(seen.values(), key=lambda h: (h.number, h.name)))

    # ------------------------------------------------------------ diagnostics

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        merged: dict[tuple, list[str]] = {}
        protos: dict[tuple, Diagnostic] = {}
        for arch in self.archs:
            for d in self.facts[arch].diagnostics:
                k = (d.rule, d.severity, d.loc, d.message)
                merged.setdefault(k, []).extend(d.archs)
                protos.setdefault(k, d)
        out = [_demote_port_errors(Diagnostic(d.rule, d.severity, d.loc, d.message, d.why,
                                              tuple(merged[k]), d.symbol))
               for k, d in protos.items()]
        for src in self.sources.values():
            out.extend(src.diagnostics)
            out.extend(src.markup.diagnostics)
        return tuple(out)


_NONE: Any = object()


def _redefined(active: dict[tuple[str, str, int], list[str]]
               ) -> dict[tuple[str, str], dict[str, int]]:
    """(name, file) -> arch -> the last line defining it, for the names a file defines
    on more than one line (most are defined once: nothing later to look for)."""
    lines: dict[tuple[str, str], int] = {}
    again: set[tuple[str, str]] = set()
    for name, file, line in active:
        if lines.setdefault((name, file), line) != line:
            again.add((name, file))
    out: dict[tuple[str, str], dict[str, int]] = {}
    for (name, file, line), archs in active.items():
        if (name, file) in again:
            last = out.setdefault((name, file), {})
            for arch in archs:
                if line > last.get(arch, 0):
                    last[arch] = line
    return out


def _demote_port_errors(d: Diagnostic) -> Diagnostic:
    """Errors seen only on the optional ports (riscv64, ppc64) are warnings.

    Xen's RISC-V and PowerPC ports are young: several common headers do not
    compile for them yet (io/protocols.h #errors, callback.h lacks
    xen_callback_t). That is the tree's state, said in the output, and not a
    reason to fail a run over the established arches.
    """
    if d.severity != "error" or not d.archs or not set(d.archs) <= set(OPTIONAL_ARCHS):
        return d
    return Diagnostic("XC003", "warning", d.loc, d.message,
                      "the header does not compile for this port of Xen yet", d.archs, d.symbol)
