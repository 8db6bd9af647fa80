"""Tree -> model: parse every arch, read comments and markup, merge into one Model.

The merge is by source location: a struct defined once in a header has one
Record with a Layout per arch that compiles it; a struct defined differently
per arch (``cpu_user_regs`` in xen-x86_32.h and xen-x86_64.h) has one Record
per definition.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib.metadata
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headerparse import __version__
from headerparse.lexer import CommentIndex, Define, LexComment, scan_comments, scan_defines
from headerparse.markup import FileMarkup, arg_lines, direction_of, field_directions, parse_markup
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
    diagnostics_from_json,
    model_from_json,
    model_to_json,
    to_json,
)
from headerparse.targets import (
    OPTIONAL_ARCHS,
    TARGETS,
    available_archs,
    header_status,
    translation_unit_headers,
)
from headerparse.tree import HeaderTree

Progress = Callable[[str], None]
_GUARD = re.compile(r"_H_*\Z|_H_[A-Z0-9_]*\Z")
_NOTE_HYPERCALL = re.compile(r"__HYPERVISOR_(\w+)\Z")
_TOOLS_ONLY = re.compile(r"^#\s*if\s+!\s*defined\s*\(?\s*__XEN__\s*\)?\s*&&\s*"
                         r"!\s*defined\s*\(?\s*__XEN_TOOLS__\s*\)?\s*\n\s*#\s*error", re.M)


@dataclass(frozen=True)
class Options:
    archs: tuple[str, ...] | None = None     # None: the default four plus those the tree has
    tools: bool = True                        # define __XEN_TOOLS__ (the toolstack's view)
    interface_version: str | None = None      # None: the tree's latest
    extra_defines: tuple[tuple[str, str | None], ...] = ()

    def key(self) -> str:
        return json.dumps([self.archs, self.tools, self.interface_version, self.extra_defines])


class ExtractError(Exception):
    """The tree cannot be extracted at all (bad arch name, libclang missing...)."""


@dataclass
class _Source:
    """One header's text and what the lexer and markup parser made of it."""

    path: str
    text: str
    comments: list[LexComment]
    index: CommentIndex
    defines: list[Define]
    markup: FileMarkup
    diagnostics: list[Diagnostic] = field(default_factory=list)


def extract(tree: HeaderTree, options: Options | None = None, *, progress: Progress | None = None,
            cache: Path | None = None) -> Model:
    """Build the model of ``tree``; served from the content-hash cache when unchanged."""
    options = options or Options()
    say = progress or (lambda _msg: None)
    archs = _archs(tree, options)
    cached = _cache_path(tree, options, archs, cache)
    if cached is not None and cached.exists():
        try:
            model = model_from_json(json.loads(cached.read_text()))
            say(f"model served from cache {cached.name}")
            return model
        except (ValueError, KeyError, TypeError):
            pass    # a stale or damaged cache entry is rebuilt below
    model = _extract(tree, options, archs, say, cache)
    if cached is not None:
        _store(cached, model)
    return model


def cached_json(tree: HeaderTree, options: Options | None, cache: Path | None
                ) -> tuple[Path, tuple[Diagnostic, ...]] | None:
    """The cached model JSON file of ``tree`` and its diagnostics, without loading the model.

    ``extract --json`` on an unchanged tree only copies this file: the point of
    the cache is that a no-change re-run costs a small fraction of a parse.
    """
    options = options or Options()
    path = _cache_path(tree, options, _archs(tree, options), cache)
    if path is None or not path.exists():
        return None
    try:
        diags = diagnostics_from_json(json.loads(path.with_suffix(".diags").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path, diags


def _store(path: Path, model: Model) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, data in ((path.with_suffix(".diags"), [to_json(d) for d in model.diagnostics]),
                         (path, model_to_json(model))):
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(target)


def _archs(tree: HeaderTree, options: Options) -> tuple[str, ...]:
    if not options.archs:
        return available_archs(tree.files)
    unknown = [a for a in options.archs if a not in TARGETS]
    if unknown:
        raise ExtractError(f"unknown arch {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    return tuple(options.archs)


def _cache_path(tree: HeaderTree, options: Options, archs: tuple[str, ...],
                cache: Path | None) -> Path | None:
    if cache is None:
        return None
    try:
        clang_id = importlib.metadata.version("libclang")
    except importlib.metadata.PackageNotFoundError:
        clang_id = "libclang"
    # The description is part of the key because the model records it: two
    # copies of the same headers are still two trees to the user.
    h = hashlib.sha256("\0".join([tree.content_hash(), tree.description, options.key(),
                                  ",".join(archs),
                                  __version__, str(SCHEMA_VERSION), clang_id,
                                  _code_hash()]).encode()).hexdigest()[:24]
    return cache / "models" / f"{h}.json"


_EXTRACTION_MODULES = ("model.py", "tree.py", "targets.py", "lexer.py", "markup.py",
                       "clangparse.py", "extract.py", "__init__.py")


def _code_hash() -> str:
    # A change to headerparse itself must not serve a model built by older code.
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _EXTRACTION_MODULES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _extract(tree: HeaderTree, options: Options, archs: tuple[str, ...], say: Progress,
             cache: Path | None) -> Model:
    from headerparse import clangparse

    sources = {p: _read_source(p, data) for p, data in sorted(tree.files.items())}
    include_dir = tree.materialize(cache)
    defines = _defines(options, sources)
    probes = sorted({d.name for s in sources.values() for d in s.defines if d.params is None})
    # domctl.h and sysctl.h #error unless the toolstack's view is asked for:
    # in the guest view they are left out, and said to be.
    tools_only = set() if options.tools else {p for p, s in sources.items()
                                              if _TOOLS_ONLY.search(s.text)}
    jobs = {arch: (include_dir, TARGETS[arch],
                   [h for h in translation_unit_headers(sources, TARGETS[arch])
                    if h not in tools_only], probes, defines) for arch in archs}
    say(f"parsing {len(sources)} headers for {', '.join(archs)}")
    try:
        facts = _parse_all(jobs, say)
    except clangparse.ClangUnavailable as exc:
        raise ExtractError(str(exc)) from exc
    say("merging arches")
    return _Merger(tree, options, archs, sources, facts, tools_only).model()


def _parse_all(jobs: dict[str, tuple], say: Progress) -> dict:
    """Parse the arches, in parallel processes when there is more than one core."""
    from headerparse import clangparse

    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        out = {}
        for n, (arch, job) in enumerate(jobs.items(), 1):
            out[arch] = clangparse.parse_arch(*job)
            say(f"[{n}/{len(jobs)}] parsed {arch}")
        return out
    # fork: the workers inherit the loaded modules, and nothing but the facts comes back.
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = {pool.submit(clangparse.parse_arch, *job): arch for arch, job in jobs.items()}
        out = {}
        for n, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            out[futures[fut]] = fut.result()
            say(f"[{n}/{len(jobs)}] parsed {futures[fut]}")
    return {arch: out[arch] for arch in jobs}


def _read_source(path: str, data: bytes) -> _Source:
    diags = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        text = data.decode("utf-8", errors="replace")
        diags.append(Diagnostic(
            "XE002", "warning", Loc(path, line, 1),
            f"bytes that are not UTF-8 (first at byte {exc.start}); shown as U+FFFD",
            why="Xen headers are expected to be UTF-8 (mostly ASCII) text"))
    comments = scan_comments(text, path)
    defines = scan_defines(text, path)
    markup = parse_markup(path, comments, defines)
    return _Source(path, text, comments, CommentIndex(comments), defines, markup, diags)


def _defines(options: Options, sources: dict[str, _Source]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    if options.tools:
        out["__XEN_TOOLS__"] = None
    version = options.interface_version
    if version is None and not options.tools:
        compat = sources.get("xen-compat.h")
        for d in compat.defines if compat else ():
            if d.name == "__XEN_LATEST_INTERFACE_VERSION__":
                version = d.body
    if version is not None:
        out["__XEN_INTERFACE_VERSION__"] = version
    out.update(dict(options.extra_defines))
    return out


class _Merger:
    def __init__(self, tree: HeaderTree, options: Options, archs: tuple[str, ...],
                 sources: dict[str, _Source], facts: dict, tools_only: set[str]) -> None:
        self.tree, self.options, self.archs = tree, options, archs
        self.sources, self.facts = sources, facts
        self.tools_only = tools_only

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
        return {"tools": str(self.options.tools).lower(),
                "interface_version": self.options.interface_version or "latest"}

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
            banner = next((c.comment for c in src.comments
                           if "SPDX-License-Identifier" not in c.comment.raw), None)
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
        src = self.sources.get(file)
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
            out.append(Record(
                key=key, kind=first.kind, tag=first.tag,
                typedefs=tuple(sorted(typedefs.get(key, set()) - {key})),
                loc=first.loc, doc=self._doc(file, first.loc.line),
                fields=self._fields(self.sources.get(file), raws),
                layouts={r.layout.arch: r.layout for r in raws},
                expanded_from=first.expanded_from))
        return tuple(out)

    def _fields(self, src: _Source | None, raws: list) -> tuple[Field, ...]:
        seen: dict[str, Field] = {}
        lines = sorted({f.line for r in raws for f in r.fields})
        sections = field_directions(src.comments, lines) if src else {}
        for raw in raws:
            for f in raw.fields:
                if f.path in seen:
                    continue
                doc = self._doc(raw.loc.file, f.line)
                seen[f.path] = Field(
                    path=f.path, name=f.name, loc=Loc(raw.loc.file, f.line, f.col), doc=doc,
                    direction=direction_of(doc) or sections.get(f.line), flexible=f.flexible,
                    guest_handle=f.guest_handle, bitfield=f.bitfield)
        return tuple(seen.values())

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
        seen: dict[tuple[str, str], list[tuple[str, int]]] = {}   # (arch, name) -> locations
        for arch in self.archs:
            for name, file, line in self.facts[arch].defines:
                active.setdefault((name, file, line), []).append(arch)
                seen.setdefault((arch, name), []).append((file, line))
        member_group = {(g.loc.file, m): g.name for g in groups for m in g.members}
        out = []
        for path, src in self.sources.items():
            for d in src.defines:
                if not d.body and d.params is None and _GUARD.search(d.name):
                    continue    # include guard
                archs = tuple(active.get((d.name, path, d.line), ()))
                out.append(self._macro(path, src, d, archs, member_group, seen))
        return tuple(out)

    def _macro(self, path: str, src: _Source, d: Define, archs: tuple[str, ...],
               member_group: dict[tuple[str, str], str],
               seen: dict[tuple[str, str], list[tuple[str, int]]]) -> Macro:
        values: dict[str, int] = {}
        why: dict[str, str] = {}
        for arch in archs if d.params is None else ():
            later = _superseded_by(seen[(arch, d.name)], path, d.line)
            f = self.facts[arch]
            if later is not None:
                # #undef + #define (the compat aliases of xen.h): the value at the end
                # of the unit belongs to the later definition.
                why[arch] = f"redefined at {later[0]}:{later[1]}"
            elif d.name in f.values:
                values[arch] = f.values[d.name]
            elif d.name in f.why_not:
                why[arch] = f.why_not[d.name]
        doc = src.index.doc_for(d.line, d.end_line)
        args = arg_lines(doc.before) if doc.before else ()
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


def _superseded_by(locations: list[tuple[str, int]], file: str, line: int
                   ) -> tuple[str, int] | None:
    """A later definition of the same macro in the same file, seen on the same arch."""
    later = [loc for loc in locations if loc[0] == file and loc[1] > line]
    return max(later) if later else None
