"""Per-arch facts and per-file sources -> one Model, by definition site.

A struct defined once in a header has one Record with a Layout per arch that
compiles it; a struct defined differently per arch (``cpu_user_regs`` in
xen-x86_32.h and xen-x86_64.h) has one Record per definition.  The docs come
from the sources (comments), everything compiled from the facts: the facts
cache relies on that split.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from headerparse.extract.archfacts import ArchFacts, RawField
from headerparse.extract.attach import MemberDoc, code_lines, member_doc
from headerparse.extract.lexer import Define
from headerparse.extract.markup import arg_lines, direction_of, field_directions
from headerparse.extract.reuse import Memo
from headerparse.extract.source import HeaderSource, MacroDoc
from headerparse.model import (
    EMPTY_DOC,
    SCHEMA_VERSION,
    Diagnostic,
    Doc,
    Enum,
    EnumConst,
    Field,
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

_NOTE_HYPERCALL = re.compile(r"__HYPERVISOR_(\w+)\Z")
# A record's documented members, by what they are made of (see :mod:`.reuse`):
# 4.17 and 4.20 have some 1,300 records each, so a review's two merges fit, and a
# process merging many releases (a site build) keeps no more than about four.
FIELDS: Memo[tuple[Field, ...]] = Memo(6_000)
# A raw member as the tuple of its fields (from C: 27,000 of them on 4.17).
_RAW_FIELD = operator.attrgetter(*(f.name for f in dataclasses.fields(RawField)))


class Merger:
    """The Model of one tree: what compiles from the facts, what is said from the sources."""

    def __init__(self, tree: HeaderTree, options: Options, archs: tuple[str, ...],
                 sources: dict[str, HeaderSource], facts: dict[str, ArchFacts],
                 tools_only: set[str]) -> None:
        self.tree, self.options, self.archs = tree, options, archs
        self.sources, self.facts = sources, facts
        self.tools_only = tools_only
        self._code_cache: dict[str, list[str]] = {}

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
        for (key, file, _line), items in self._by_location(lambda f: f.records).items():
            raws = [raw for _arch, raw in items]
            first = raws[0]
            doc = self._doc(file, first.loc.line)
            out.append(Record(
                key=key, kind=first.kind, tag=first.tag,
                typedefs=tuple(sorted(typedefs.get(key, set()) - {key})),
                loc=first.loc, doc=doc, fields=self._fields(raws, doc),
                layouts={r.layout.arch: r.layout for r in raws},
                expanded_from=first.expanded_from))
        return tuple(out)

    def _fields(self, raws: list, record_doc: Doc) -> tuple[Field, ...]:
        """Each member once, documented by the rules of :mod:`.attach`; the same
        members in the same header texts as an earlier merge's are that merge's."""
        # The arches mostly agree on a record's members (x86_32 and x86_64 declare
        # the same lines): each distinct member list is read once, not once an arch.
        distinct: dict[tuple, Any] = {}
        for r in raws:
            distinct.setdefault((r.loc.file, tuple(map(_RAW_FIELD, r.fields))), r)
        files = {f.file or r.loc.file for r in distinct.values() for f in r.fields}
        files.add(raws[0].loc.file)     # whose text gave ``record_doc``
        docs = self.options.docs
        key = (docs, raws[0].loc.line, tuple(distinct),
               tuple((file, src.text if docs and (src := self.sources.get(file)) else None)
                     for file in sorted(files)))
        return FIELDS.get(key, lambda: self._document_fields(list(distinct.values()),
                                                             record_doc))

    def _document_fields(self, raws: list, record_doc: Doc) -> tuple[Field, ...]:
        """``raws`` are the distinct member lists of the record (a duplicate would add
        no member and no line)."""
        lines: dict[str, set[int]] = {}
        first: dict[str, tuple[Any, str]] = {}      # path -> (its first raw field, file)
        # The members declared beside each one: same file, same enclosing body.
        beside: dict[tuple[str, str], set[int]] = {}
        for r in raws:
            for f in r.fields:
                file = f.file or r.loc.file
                lines.setdefault(file, set()).add(f.line)
                beside.setdefault((file, f.path.rpartition(".")[0]), set()).add(f.line)
                if f.path not in first:
                    first[f.path] = (f, file)
        docs = self.options.docs
        sections = {file: field_directions(src.comments, sorted(lines[file]))
                    for file in lines if docs and (src := self.sources.get(file))}
        out = []
        undocumented = MemberDoc(EMPTY_DOC, None)
        for f, file in first.values():
            src = self.sources.get(file) if docs else None
            if src is not None:
                found = member_doc(src.index, f.line, f.name, record_doc,
                                   beside[(file, f.path.rpartition(".")[0])], self._code(file))
                direction = (direction_of(src.index.doc_for(f.line))
                             or sections[file].get(f.line))
            else:
                found, direction = undocumented, None
            out.append(Field(
                path=f.path, name=f.name, loc=Loc(file, f.line, f.col), doc=found.doc,
                direction=direction, flexible=f.flexible, guest_handle=f.guest_handle,
                bitfield=f.bitfield, heading=found.heading))
        return tuple(out)

    def _code(self, file: str) -> list[str]:
        """``file``'s lines without comments, once per file: where member bodies start."""
        if file not in self._code_cache:
            self._code_cache[file] = code_lines(self.sources[file].text)
        return self._code_cache[file]

    # ------------------------------------------------------------ typedefs, enums

    def typedefs(self) -> tuple[Typedef, ...]:
        out = []
        for (name, file, _line), items in self._by_location(lambda f: f.typedefs).items():
            t0 = items[0][1]
            out.append(Typedef(name, t0.loc, self._doc(file, t0.loc.line),
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
                consts.append(EnumConst(name, values, loc, self._doc(file, loc.line)))
            out.append(Enum(key, e0.loc, self._doc(file, e0.loc.line),
                            tuple(consts), tuple(a for a, _ in items)))
        return tuple(out)

    # ------------------------------------------------------------ macros

    def macros(self, groups: tuple[OpGroup, ...]) -> tuple[Macro, ...]:
        active: dict[tuple[str, str, int], list[str]] = {}
        last: dict[tuple[str, str, str], int] = {}   # (arch, name, file) -> last line defining it
        for arch in self.archs:
            for name, file, line in self.facts[arch].defines:
                active.setdefault((name, file, line), []).append(arch)
                if line > last.get((arch, name, file), 0):
                    last[(arch, name, file)] = line
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
                out.append(self._macro(path, d, found, archs, member_group, last))
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
               member_group: dict[tuple[str, str], str],
               last: dict[tuple[str, str, str], int]) -> Macro:
        values: dict[str, int] = {}
        why: dict[str, str] = {}
        for arch in archs if d.params is None else ():
            later = last[(arch, d.name, path)]
            f = self.facts[arch]
            if later > d.line:
                # #undef + #define (the compat aliases of xen.h): the value at the end
                # of the unit belongs to the later definition in the same file.
                why[arch] = f"redefined at {path}:{later}"
            elif d.name in f.values:
                values[arch] = f.values[d.name]
            elif d.name in f.why_not:
                why[arch] = f.why_not[d.name]
        doc, args = found
        return Macro(name=d.name, loc=Loc(path, d.line, d.col), doc=doc, params=d.params,
                     body=d.body, archs=archs, values=values, why_not=why, args=args,
                     group=member_group.get((path, d.name)))

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
