"""Every generated page of the site: its data, its template, its docname.

:func:`generate` renders the whole site into a dict docname -> reST; the build
writes it to the staging dir with :func:`headerparse.site.render.sync_tree`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jinja2

from headerparse.annotations.subops import catalog
from headerparse.model import Diagnostic, Header, Hypercall, Macro, Model, Record
from headerparse.parallel import can_fork, deal, fork_map
from headerparse.site import archdiff, layoutdata
from headerparse.site.facts import ArgTable, SiteFacts
from headerparse.site.pagestore import PageStore, Texts, recorded
from headerparse.site.plan import (
    ARCH_DIFF_DOC,
    HANDLES_DOC,
    Plan,
    c_ident,
    enum_ident,
    is_handle,
    valid_c_name,
)
from headerparse.site.render import environment, render_page
from headerparse.site.subopdata import hypercall_ops


@dataclass(frozen=True)
class Item:
    """One definition of a header page, in source order."""

    line: int
    kind: str          # "macro" | "typedef" | "enum" | "record" | "group" | "prototype"
    obj: Any
    canonical: bool = False


def generate(model: Model, facts: SiteFacts, texts: Mapping[str, str],
             env: jinja2.Environment | None = None, jobs: int = 1) -> dict[str, str]:
    """All generated pages: docname -> reST, rendered by up to ``jobs`` processes."""
    return site_of(model, facts, texts, env).pages(jobs)


# The pages a forked worker renders: set before the fork, so workers inherit the
# renderers (closures over the model and plan, which could not be pickled).
_TODO: list[tuple[str, int, Callable[[], Any]]] = []
# Below this much rendering (in page_jobs' cost units, about half a millisecond
# each), forking workers costs more than it saves.
FORK_COST = 40


def _render_share(indices: list[int]) -> dict[str, Any]:
    return {_TODO[i][0]: _TODO[i][2]() for i in indices}


def _render_in_workers(env: jinja2.Environment, todo: list[tuple[str, int, Callable[[], Any]]],
                       jobs: int) -> dict[str, Any]:
    """Deal the pages, dearest first, to whichever share is cheapest so far."""
    global _TODO
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)          # compiled once, before the fork
    shares = deal([cost for _doc, cost, _render in todo], jobs)
    _TODO = todo
    try:
        parts = fork_map(_render_share, shares)
    finally:
        _TODO = []
    done: dict[str, str] = {}
    for part in parts:
        done.update(part)
    return {doc: done[doc] for doc, _cost, _render in todo}


def site_of(model: Model, facts: SiteFacts, texts: Mapping[str, str],
            env: jinja2.Environment | None = None) -> _Site:
    if facts.subops is None:
        facts = dataclasses.replace(facts, subops=catalog(model, texts))
    return _Site(model, facts, Plan(model, facts.subops), texts, env or environment())


class _Site:
    def __init__(self, model: Model, facts: SiteFacts, plan: Plan, texts: Mapping[str, str],
                 env: jinja2.Environment) -> None:
        self.model, self.facts, self.plan, self.env = model, facts, plan, env
        # Reads of it are noted while pagestore.noting() is on: which headers a page shows.
        self.texts = texts if isinstance(texts, Texts) else Texts(texts)
        self.findings = _findings_by_doc(plan, facts.findings)
        self.users = _type_users(model)
        self.variants = facts.variants

    def render(self, template: str, docname: str, **ctx: Any) -> str:
        return render_page(self.env, self.plan, template, docname, model=self.model,
                           facts=self.facts, variants=self.variants,
                           findings=self.findings.get(docname, []),
                           member_type=self.member_type, **ctx)

    def pages(self, jobs: int = 1) -> dict[str, str]:
        return self.run_jobs(self.page_jobs(), jobs)

    def pages_since(self, store: PageStore, todo: list[tuple[str, int, Callable[[], str]]],
                    jobs: int = 1) -> tuple[dict[str, str], set[str]]:
        """Of ``todo`` (:meth:`page_jobs`), the pages whose staged text ``store`` cannot
        vouch for, rendered (each noting what it read into ``store``), and the docnames
        of the others, kept as staged."""
        stale = [(doc, cost, recorded(render)) for doc, cost, render in todo
                 if not store.fresh(doc)]
        pages = {}
        for doc, (text, reads) in self.run_jobs(stale, jobs).items():
            store.put(doc, reads)
            pages[doc] = text
        return pages, {doc for doc, _cost, _render in todo} - pages.keys()

    def run_jobs(self, todo: list[tuple[str, int, Callable[[], Any]]],
                 jobs: int) -> dict[str, Any]:
        if (jobs < 2 or len(todo) < 2 or sum(cost for _d, cost, _r in todo) < FORK_COST
                or not can_fork()):
            return {doc: render() for doc, _cost, render in todo}
        return _render_in_workers(self.env, todo, jobs)

    def page_jobs(self) -> list[tuple[str, int, Callable[[], str]]]:
        """Each page: (docname, a rough cost to balance workers by, its renderer)."""
        p = self.plan
        out: list[tuple[str, int, Callable[[], str]]] = []

        def add(doc: str, cost: int, template: str, **ctx: Any) -> None:
            out.append((doc, cost, lambda: self.render(template, doc, **ctx)))

        # A page's context is made when it renders: what making it reads is its own.
        out.append(("overview", 1, lambda: self.render("overview.rst.j2", "overview",
                                                       rows=self.hypercall_rows())))
        add("hypercalls/index", 1, "hypercalls_index.rst.j2",
            docs=[p.hypercall_doc[h.name] for h in self.model.hypercalls])
        for h in self.model.hypercalls:
            doc = p.hypercall_doc[h.name]
            out.append((doc, 10, lambda h=h, doc=doc: self.render(
                "hypercall.rst.j2", doc, **self.hypercall_ctx(h))))
        add("headers/index", 1, "headers_index.rst.j2", headers=p.headers)
        for h in p.headers:
            doc = p.header_doc[h.path]
            out.append((doc, 1 + self.texts.size(h.path) // 1000,
                        lambda h=h, doc=doc: self.header_page(h, doc)))
        keys = sorted(k for k, rs in p.records_by_key.items()
                      if not is_handle(rs[0]) and p.record_doc[k])
        add("types/index", 100, "types_index.rst.j2", keys=keys, records=p.records_by_key,
            has_handles=any(is_handle(rs[0]) for rs in p.records_by_key.values()))
        handles = [rs for rs in p.records_by_key.values() if is_handle(rs[0])]
        if handles:
            add(HANDLES_DOC, 100, "handles.rst.j2",
                handles=sorted(handles, key=lambda rs: rs[0].key))
        # The pairs are computed by the worker that renders the page.
        out.append((ARCH_DIFF_DOC, 20, lambda: self.render(
            "arch_differences.rst.j2", ARCH_DIFF_DOC, pairs=archdiff.arch_pairs(
                [r for r in self.model.records if not is_handle(r)], self.model.archs))))
        add("constants", 20, "constants.rst.j2", macros=_differing_constants(self.model))
        add("findings", 10, "findings.rst.j2",
            all_findings=_sorted_findings(self.facts.findings),
            where=lambda d: _finding_doc(p, d))
        return out

    def one(self, kind: str, name: str, docname: str) -> str | None:
        """One page's reST, for the directives other Sphinx projects use."""
        p = self.plan
        if kind == "hypercall":
            h = self.model.hypercall(name)
            return self.render("hypercall.rst.j2", docname, **self.hypercall_ctx(h)) if h else None
        if kind == "type":
            key = next((k for k, rs in p.records_by_key.items()
                        if name == k or name in rs[0].typedefs or name == rs[0].tag), None)
            if key is None:
                return None
            defs = [self.record_ctx(r) for r in p.records_by_key[key]]
            return self.render("record.rst.j2", docname, key=key, defs=defs)
        if kind == "header":
            h = next((h for h in p.headers if h.path == name), None)
            return self.header_page(h, docname) if h else None
        if kind == "overview":
            return self.render("overview.rst.j2", docname, rows=self.hypercall_rows())
        return None

    # ------------------------------------------------------------ hypercalls

    def hypercall_rows(self) -> list[dict[str, Any]]:
        rows = []
        for h in self.model.hypercalls:
            avail = self.facts.availability.get(h.name, {})
            arity = self.facts.arity.get(h.name, {})
            cells = {}
            for v in self.variants:
                if not avail.get(v.name, False):
                    cells[v.name] = "—"
                else:
                    cells[v.name] = str(arity.get(v.name, "?"))
            rows.append({"h": h, "cells": cells})
        return rows

    def hypercall_ctx(self, h: Hypercall) -> dict[str, Any]:
        p = self.plan
        homed = [g for g in self.model.groups if p.group_hypercall.get(g.name) == h.name]
        elsewhere = [g for g in self.model.groups if g.name in h.groups and g not in homed]
        return {"h": h, "homed": homed, "elsewhere": elsewhere,
                **hypercall_ops(self.model, self.facts, p, h.name),
                "tables": self.facts.hypercall_tables.get(h.name, ()),
                "avail": self.facts.availability.get(h.name, {}),
                "avail_source": self.facts.availability_source.get(h.name, ""),
                "table_rows": _table_rows}

    # ------------------------------------------------------------ headers

    def header_page(self, h: Header, docname: str) -> str:
        return self.render("header.rst.j2", docname, h=h, items=self.header_items(h),
                           text=self.texts.get(h.path), record_ctx=self.record_ctx)

    def header_items(self, h: Header) -> list[Item]:
        """The definitions of one header, in source order."""
        return sorted(self._items_by_file.get(h.path, []), key=lambda i: (i.line, i.kind))

    @cached_property
    def _items_by_file(self) -> dict[str, list[Item]]:
        out: dict[str, list[Item]] = {}
        for it in self._all_items():
            out.setdefault(it.obj.loc.file, []).append(it)
        return out

    def _all_items(self) -> Iterator[Item]:
        m, p = self.model, self.plan
        for mac in m.macros:
            yield Item(mac.loc.line, "macro", mac,
                       p.is_canonical("macro", mac.name, mac.loc.file, mac.loc.line))
        for t in m.typedefs:
            if not p.typedef_is_alias(t):
                yield Item(t.loc.line, "typedef", t,
                           p.is_canonical("type", t.name, t.loc.file, t.loc.line))
        for e in m.enums:
            ident = enum_ident(e)
            canon = bool(ident) and p.is_canonical(ident[0], ident[1], e.loc.file, e.loc.line)
            yield Item(e.loc.line, "enum", e, canon)
        for rs in p.records_by_key.values():
            for r in rs:
                if not is_handle(r):
                    yield Item(r.loc.line, "record", r)
        for g in m.groups:
            yield Item(g.loc.line, "group", g,
                       p.group_home[g.name] == p.header_doc.get(g.loc.file))
        for proto in m.prototypes:
            yield Item(proto.loc.line, "prototype", proto)

    # ------------------------------------------------------------ records

    def record_ctx(self, r: Record) -> dict[str, Any]:
        """One definition of a struct or union, as its header page shows it; the first
        definition of a name also declares its typedefs."""
        p = self.plan
        rs = p.records_by_key[r.key]
        kind, name = c_ident(rs[0])
        typedefs = sorted({t for x in rs for t in x.typedefs})
        first = r is rs[0]
        canonical = p.is_canonical(kind, name, r.loc.file, r.loc.line)
        table = layoutdata.table(r, self.model.archs, self.source_line,
                                 f"c.{name}" if canonical else None)
        return {"r": r, "key": r.key, "kind": kind, "name": name, "partial": len(rs) > 1,
                "canonical": canonical,
                "table": table, "texts": layoutdata.texts(r, table),
                "diagrams": layoutdata.diagrams(r),
                "typedefs": [(t, p.typedef_owner.get(t) == r.key) for t in typedefs]
                if first else [],
                **self.users_of(r.key, typedefs)}

    def member_type(self, r: Record, path: str) -> str:
        """A member's type for a page: as the header writes it (``blkif_vdev_t``,
        ``XEN_GUEST_HANDLE(evtchn_port_t)``), else the first arch's spelling."""
        f = next((f for f in r.fields if f.path == path), None)
        spelled = [lay.member(path) for lay in r.layouts.values()]
        first = next((m.type for m in spelled if m is not None), "")
        written = layoutdata.as_written(f, first, self.source_line) if f else None
        return written or first

    def source_line(self, file: str, line: int) -> str | None:
        """Line ``line`` of header ``file`` (for the types members are written with)."""
        lines = self.texts.lines(file)
        return lines[line - 1] if 0 < line <= len(lines) else None

    def users_of(self, key: str, typedefs: list[str]) -> dict[str, list]:
        return {"used_ops": self.ops_taking(key, typedefs),
                "used_records": sorted(self.users.get(key, set()) | {
                    u for t in typedefs for u in self.users.get(t, set())} - {key}),
                "used_protos": [h for h in self.model.hypercalls if h.prototype and any(
                    key in prm.type or any(t in prm.type.split() for t in typedefs)
                    for prm in h.prototype.params)]}

    def ops_taking(self, key: str, typedefs: list[str]) -> list[str]:
        names = {key, *typedefs}
        targets, args = self._op_arguments
        out = [op for op, target in targets if target in names]
        for op, texts in args:
            if op not in out and any(n in t for t in texts for n in names if n.split()[-1]):
                out.append(op)
        return out

    @cached_property
    def _op_arguments(self) -> tuple[list[tuple[str, str | None]], list[tuple[str, list[str]]]]:
        """Each sub-op's argument type, and its ``@arg`` texts: asked for each of some
        600 records, so computed once."""
        ops = self.facts.subops.by_name if self.facts.subops else {}
        targets = [(name, op.takes) for name, op in ops.items()]
        args = [(mac.name, [a.text for a in mac.args]) for mac in self.model.macros
                if mac.name in ops and mac.args]
        return targets, args


# ---------------------------------------------------------------- helpers


def _table_rows(t: ArgTable) -> list[dict[str, Any]]:
    """Rows per argument position; variants with the same facts share a row, each
    variant shown with its own register."""
    grouped: dict[tuple, list[tuple[str, str]]] = {}
    for r in t.rows:
        k = (r.position, r.ctype, r.meaning, r.constraint, r.readers, r.direction)
        grouped.setdefault(k, []).append((r.variant, r.register))
    rows = []
    for k, regs in grouped.items():
        rows.append({"regs": regs, "position": k[0], "ctype": k[1], "meaning": k[2],
                     "constraint": k[3], "readers": k[4], "direction": k[5]})
    return sorted(rows, key=lambda r: r["position"])


def _differing_constants(model: Model) -> list[Macro]:
    out = []
    for mac in model.macros:
        if mac.params is None and len(set(mac.values.values())) > 1:
            out.append(mac)
    return out


def _type_users(model: Model) -> dict[str, set[str]]:
    """Type name -> keys of the records with a member of that type."""
    users: dict[str, set[str]] = {}
    for r in model.records:
        if is_handle(r):
            continue
        for lay in r.layouts.values():
            for m in lay.members:
                base = m.type.split("[")[0].replace("const ", "").replace("*", "").strip()
                users.setdefault(base, set()).add(r.key)
    return users


def _finding_doc(plan: Plan, d: Diagnostic) -> str | None:
    link = plan.link(d.symbol) if d.symbol else None
    if link is not None:
        return link.docname
    if d.loc is not None:
        return plan.header_doc.get(d.loc.file)
    return None


def _findings_by_doc(plan: Plan, findings: tuple[Diagnostic, ...]) -> dict[str, list]:
    out: dict[str, list] = {}
    for d in _sorted_findings(findings):
        doc = _finding_doc(plan, d)
        if doc:
            out.setdefault(doc, []).append(d)
    return out


_SEVERITY = {"error": 0, "warning": 1, "note": 2}


def _sorted_findings(findings: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    return sorted(findings, key=lambda d: (_SEVERITY.get(d.severity, 3),
                                           d.loc.file if d.loc else "",
                                           d.loc.line if d.loc else 0, d.rule))


__all__ = ["generate", "Item", "valid_c_name", "Record"]
