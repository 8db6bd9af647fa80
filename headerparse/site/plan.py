"""The site plan: which page declares each symbol, and where a name in text links to.

Sphinx's C domain has one namespace for every declaration and no way to declare a
name twice, so each identifier gets exactly one *canonical* C declaration (records
first, then enums, typedefs, enumerators, macros; source order within a kind);
other definitions of the same name are shown without registering a target.

Links are decided here, at generation time, not by Sphinx at read time: the set of
names a page links and the pages they live on end up in the page's own text, so a
page whose rendering would change is a page whose source changes, which is what
lets Sphinx rebuild only the pages an edit affects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from headerparse.model import Enum, Model, OpGroup, Record, Typedef

if TYPE_CHECKING:
    from headerparse.annotations.subops import Catalog

# C keywords (Sphinx's C domain refuses them as names, conf.py clears
# c_extra_keywords so that only these remain).
C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Decimal32
_Decimal64 _Decimal128 _Generic _Imaginary _Noreturn _Static_assert _Thread_local
""".split())

_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
HANDLE_MACROS = frozenset({"DEFINE_XEN_GUEST_HANDLE", "__DEFINE_XEN_GUEST_HANDLE",
                           "___DEFINE_XEN_GUEST_HANDLE"})
HANDLES_DOC = "types/guest-handles"
#: Structs and unions laid out differently, per pair of arches.
ARCH_DIFF_DOC = "types/arch-differences"


@dataclass(frozen=True)
class Link:
    """How text links to a symbol: a role, its target, the text shown, the page."""

    role: str          # "c:struct", "c:macro", "xen:hypercall", ...
    target: str
    text: str
    docname: str

    def rst(self, shown: str | None = None) -> str:
        shown = shown or self.text
        # C names are declared by the xen domain's C directives, which also resolve
        # them (see headerparse.sphinxext.decl): same anchors, no per-link C parse.
        role = "xen:c" if self.role.startswith("c:") else self.role
        if shown == self.target:
            return f":{role}:`{self.target}`"
        return f":{role}:`{shown} <{self.target}>`"

    def spec(self) -> str:
        """The one-line form pages carry in their link tables."""
        return f"{self.role} {self.target} {self.docname}"


def valid_c_name(name: str) -> bool:
    return bool(_IDENT.match(name)) and name not in C_KEYWORDS


def slug(text: str) -> str:
    """A docname component: spaces become dashes, anything odd an underscore."""
    return re.sub(r"[^\w.+-]", "_", text.replace(" ", "-"))


def is_handle(r: Record) -> bool:
    return r.expanded_from in HANDLE_MACROS or r.key.startswith("__guest_handle_")


def c_ident(r: Record) -> tuple[str, str]:
    """(C domain kind, name) of a record's declaration."""
    if r.tag and r.key == f"{r.kind} {r.tag}":
        return r.kind, r.tag
    return "type", r.key


def enum_ident(e: Enum) -> tuple[str, str] | None:
    if e.key.startswith("enum ") and _IDENT.match(e.key[5:]):
        return "enum", e.key[5:]
    if _IDENT.match(e.key):
        return "enum", e.key
    return None        # anonymous: its enumerators stand alone


class Plan:
    """Pages, canonical declarations and links of one model."""

    def __init__(self, model: Model, subops: Catalog | None = None) -> None:
        self.model = model
        self.subops = subops
        # Debian installs foreign/ and sys/ beside the public headers; they are not ABI.
        self.headers = [h for h in model.headers
                        if not set(h.status.values()) <= {"not-public"}]
        self.header_doc = {h.path: f"headers/{h.path}" for h in self.headers}
        self.hypercall_doc = {h.name: f"hypercalls/{slug(h.name)}" for h in model.hypercalls}
        self.records_by_key: dict[str, list[Record]] = {}
        for r in model.records:
            self.records_by_key.setdefault(r.key, []).append(r)
        # A struct or union is shown on the page of the header defining it (a page of
        # its own per type would triple the pages Sphinx builds for little gain).
        self.record_doc: dict[str, str | None] = {
            k: HANDLES_DOC if is_handle(rs[0]) else self.header_doc.get(rs[0].loc.file)
            for k, rs in self.records_by_key.items()}
        self._plan_groups()
        self.canonical: set[tuple[str, str, str, int]] = set()
        self.decl_doc: dict[str, tuple[str, str]] = {}      # name -> (kind, docname)
        self._plan_declarations()
        self.links: dict[str, Link] = {}
        self._plan_links()

    # ------------------------------------------------------------ groups and ops

    def _plan_groups(self) -> None:
        m = self.model
        hc_macros = {h.macro for h in m.hypercalls}
        self.group_home: dict[str, str] = {}
        self.group_hypercall: dict[str, str | None] = {}
        self.op_group: dict[str, OpGroup] = {}
        # sub-op -> the hypercall whose page declares it (from the catalog, when there is one)
        self.op_home: dict[str, str] = {}
        homes = self.subops.group_home() if self.subops else {}
        for g in m.groups:
            users = m.hypercalls_for_group(g.name)
            home = homes.get(g.name) or _home_hypercall(g.name, users)
            self.group_hypercall[g.name] = home
            self.group_home[g.name] = (self.hypercall_doc[home] if home
                                       else self.header_doc.get(g.loc.file, "index"))
            if home is None:
                continue
            for member in g.members:
                if member not in hc_macros and member not in self.op_group:
                    self.op_group[member] = g
                    if self.subops is None:
                        self.op_home[member] = home
        if self.subops is not None:
            for name, hc in self.subops.by_hypercall.items():
                for op in hc.ops:
                    self.op_home.setdefault(op.name, name)

    # ------------------------------------------------------------ declarations

    def _claim(self, kind: str, name: str, doc: str | None, file: str, line: int) -> bool:
        if doc is None or not valid_c_name(name) or name in self.decl_doc:
            return False
        self.decl_doc[name] = (kind, doc)
        self.canonical.add((kind, name, file, line))
        return True

    def is_canonical(self, kind: str, name: str, file: str, line: int) -> bool:
        return (kind, name, file, line) in self.canonical

    def _plan_declarations(self) -> None:
        m = self.model
        for key, rs in self.records_by_key.items():
            kind, name = c_ident(rs[0])
            self._claim(kind, name, self.record_doc[key], rs[0].loc.file, rs[0].loc.line)
        for e in m.enums:
            ident = enum_ident(e)
            if ident:
                self._claim(ident[0], ident[1], self.header_doc.get(e.loc.file), e.loc.file,
                            e.loc.line)
        self.typedef_owner: dict[str, str] = {}     # record typedef -> the record key
        for key, rs in self.records_by_key.items():
            for t in sorted({t for r in rs for t in r.typedefs}):
                if self._claim("type", t, self.record_doc[key], rs[0].loc.file, rs[0].loc.line):
                    self.typedef_owner[t] = key
        for t in m.typedefs:
            if not self.typedef_is_alias(t):
                self._claim("type", t.name, self.header_doc.get(t.loc.file), t.loc.file,
                            t.loc.line)
        for e in m.enums:
            for c in e.constants:
                self._claim("enumerator", c.name, self.header_doc.get(e.loc.file), c.loc.file,
                            c.loc.line)
        for mac in m.macros:
            self._claim("macro", mac.name, self.header_doc.get(mac.loc.file), mac.loc.file,
                        mac.loc.line)

    def typedef_is_alias(self, t: Typedef) -> bool:
        """A typedef declared elsewhere: the name of an anonymous record or enum, or a
        record's typedef (which its record's page declares)."""
        if t.target == t.name:
            return True
        rs = self.records_by_key.get(t.target or "")
        return bool(rs) and any(t.name in r.typedefs for r in rs)

    # ------------------------------------------------------------ links

    def _plan_links(self) -> None:
        m = self.model
        links = self.links
        for name, (kind, doc) in self.decl_doc.items():
            links[name] = Link(f"c:{kind}", name, name, doc)
        for key, rs in self.records_by_key.items():
            kind, name = c_ident(rs[0])
            link = links.get(name)
            if link is None or link.role != f"c:{kind}":
                continue
            if kind != "type":
                links[key] = Link(link.role, name, key, link.docname)
                if "_" not in name or _is_member_name(m, name):
                    del links[name]        # a bare tag only links when unambiguous
        for e in m.enums:
            ident = enum_ident(e)
            if ident and e.key.startswith("enum ") and ident[1] in links:
                links[e.key] = Link("c:enum", ident[1], e.key, links[ident[1]].docname)
        for g in m.groups:
            self._group_links(g)
        for h in m.hypercalls:
            doc = self.hypercall_doc[h.name]
            for alias in (h.macro, f"HYPERVISOR_{h.name}"):
                links[alias] = Link("xen:hypercall", h.name, alias, doc)
        for op, hc in self.op_home.items():
            links[op] = Link("xen:op", op, op, self.hypercall_doc[hc])

    def _group_links(self, g: OpGroup) -> None:
        doc = self.group_home[g.name]
        key = f"enum {g.name}"
        if key not in self.links:
            self.links[key] = Link("xen:group", g.name, key, doc)
        if g.pattern and g.pattern.endswith("*") and g.pattern not in self.links:
            self.links[g.pattern] = Link("xen:group", g.name, g.pattern, doc)

    def known(self, key: str) -> bool:
        return key in self.links

    def link(self, key: str | None) -> Link | None:
        return self.links.get(key) if key else None

    def role(self, key: str | None) -> str | None:
        link = self.link(key)
        return link.rst(key) if link else None

    # ------------------------------------------------------------ pages

    def docnames(self) -> list[str]:
        docs = {"overview", "findings", "constants", "headers/index", "types/index",
                "hypercalls/index", ARCH_DIFF_DOC}
        docs.update(self.header_doc.values())
        docs.update(self.hypercall_doc.values())
        docs.update(d for d in self.record_doc.values() if d)
        return sorted(docs)

def _home_hypercall(group: str, users: Iterable) -> str | None:
    """The hypercall page that hosts a group: the same-named one, else a non-compat one."""
    users = list(users)
    for h in users:
        if h.name == group:
            return h.name
    for h in users:
        if "compat" not in h.note and not h.name.endswith("_compat"):
            return h.name
    return users[0].name if users else None


def _is_member_name(model: Model, name: str) -> bool:
    # Tags that are also field names ("vcpu_info" inside struct shared_info) would
    # link every mention of the field; only the "struct x" form links then.
    return name in _field_names(model)


_FIELD_CACHE: dict[int, frozenset[str]] = {}


def _field_names(model: Model) -> frozenset[str]:
    key = id(model)
    if key not in _FIELD_CACHE:
        _FIELD_CACHE.clear()
        _FIELD_CACHE[key] = frozenset(f.name for r in model.records for f in r.fields)
    return _FIELD_CACHE[key]

