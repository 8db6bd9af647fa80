"""The ``xen`` domain: hypercalls, sub-ops, op groups, ABI variants, headers.

C types, macros and constants live in Sphinx's own C domain; this small domain
holds what C has no notion of. Modelled on Sphinx's ``math`` domain: one dict of
objects, cleared per document and merged per document, so reading in parallel
processes is safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Set
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.directives import ObjectDescription
from sphinx.domains import Domain, ObjType
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from headerparse.sphinxext.decl import C_DIRECTIVES, FastBody
from headerparse.sphinxext.links import linked_nodes

logger = logging.getLogger(__name__)

OBJTYPES = {"hypercall": "hypercall", "op": "sub-op", "group": "op group",
            "variant": "ABI variant", "header": "header"}


def anchor(objtype: str, name: str) -> str:
    """The HTML id of an object: stable and case-preserving, so other sites can deep-link."""
    return "xen-" + objtype + "-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def line_anchor(line: int) -> str:
    return f"L{line}"


class XenObject(ObjectDescription[str]):
    """``.. xen:hypercall:: long HYPERVISOR_sched_op(...)`` and friends."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "name": directives.unchanged, "number": directives.unchanged,
        "group": directives.unchanged, "pattern": directives.unchanged,
        "title": directives.unchanged, "arch": directives.unchanged,
        "index": directives.unchanged, "args": directives.unchanged,
    }

    def handle_signature(self, sig: str, signode: addnodes.desc_signature) -> str:
        objtype = self.objtype
        name = self.options.get("name") or sig.split("(")[0].split()[-1]
        label = OBJTYPES[objtype]
        if objtype == "hypercall" and self.options.get("number"):
            label = f"hypercall {self.options['number']}"
        signode += addnodes.desc_annotation(label, label + " ")
        if objtype == "hypercall" and "(" in sig:
            signode += addnodes.desc_sig_element("", "", *linked_nodes(self.env, sig),
                                                 classes=["hp-proto"])
        else:
            signode += addnodes.desc_name(sig, sig)
        extra = self._extra()
        if extra:
            signode += addnodes.desc_annotation(extra, " " + extra)
        return name

    def _extra(self) -> str:
        o = self.options
        if self.objtype == "variant":
            return f"— {o.get('title', '')} (index {o.get('index', '?')}; " \
                   f"arguments {o.get('args', '?')}; layouts of {o.get('arch', '?')})"
        if self.objtype == "group" and o.get("pattern"):
            return f"({o['pattern']})"
        if self.objtype == "op" and o.get("group"):
            return f"(sub-op of {o['group']})"
        return ""

    def add_target_and_index(self, name: str, sig: str, signode: addnodes.desc_signature) -> None:
        node_id = anchor(self.objtype, name)
        signode["ids"].append(node_id)
        self.state.document.note_explicit_target(signode)
        domain: XenDomain = self.env.domains["xen"]  # type: ignore[assignment]
        domain.note_object(self.objtype, name, node_id, signode)
        self.indexnode["entries"].append(
            ("single", f"{name} ({OBJTYPES[self.objtype]})", node_id, "", None))

    def _toc_entry_name(self, sig_node: addnodes.desc_signature) -> str:
        return ""


class XenAlias(FastBody, ObjectDescription[str]):
    """Another definition of a name declared elsewhere: shown, not registered."""

    has_content = True

    def handle_signature(self, sig: str, signode: addnodes.desc_signature) -> str:
        signode += addnodes.desc_annotation("also defined ", "also defined ")
        signode += addnodes.desc_name(sig, sig)
        return sig

    def _toc_entry_name(self, sig_node: addnodes.desc_signature) -> str:
        return ""


class HeaderDirective(SphinxDirective):
    """``.. xen:header:: io/blkif.h``: the page documents that header."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = self.arguments[0]
        node_id = anchor("header", path)
        target = nodes.target("", "", ids=[node_id])
        self.state.document.note_explicit_target(target)
        domain: XenDomain = self.env.domains["xen"]  # type: ignore[assignment]
        domain.note_object("header", path, node_id, target)
        index = addnodes.index(entries=[("single", f"{path} (header)", node_id, "", None)])
        return [index, target]


def severity_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
                  options: dict | None = None, content: list | None = None) -> tuple:
    node = nodes.inline(text, text, classes=["hp-severity", f"hp-{nodes.make_id(text)}"])
    return [node], []


def badge_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
               options: dict | None = None, content: list | None = None) -> tuple:
    """``since 4.9.0``, ``removed in 4.20.0``: the ABI history's marks (site.history)."""
    kind = nodes.make_id(text.split()[0]) if text.split() else "since"
    node = nodes.inline(text, text, classes=["hp-badge", f"hp-badge-{kind}"])
    return [node], []


class XenDomain(Domain):
    name = "xen"
    label = "Xen ABI"
    object_types: ClassVar[dict[str, ObjType]] = {
        t: ObjType(label, t) for t, label in OBJTYPES.items()}
    directives: ClassVar[dict[str, type]] = {
        "hypercall": XenObject, "op": XenObject, "group": XenObject, "variant": XenObject,
        "header": HeaderDirective, "alias": XenAlias, **C_DIRECTIVES,
    }
    roles: ClassVar[dict[str, Any]] = {
        **{t: XRefRole() for t in OBJTYPES}, "line": XRefRole(), "c": XRefRole(),
        "severity": severity_role, "badge": badge_role}
    # objects: (type, name) -> (doc, id); cnames: C name -> (doc, id) of the
    # declarations generated pages make (see headerparse.sphinxext.decl).
    initial_data: ClassVar[dict[str, Any]] = {"objects": {}, "cnames": {}}
    dangling_warnings: ClassVar[dict[str, str]] = {
        **{t: f"{label} not found: %(target)s" for t, label in OBJTYPES.items()},
        "c": "C declaration not found: %(target)s"}

    @property
    def objects(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self.data.setdefault("objects", {})

    def note_object(self, objtype: str, name: str, node_id: str, location: Any) -> None:
        key = (objtype, name)
        if key in self.objects and self.objects[key][0] != self.env.docname:
            logger.warning("duplicate %s %s, also in %s", OBJTYPES[objtype], name,
                           self.objects[key][0], location=location, type="xen",
                           subtype="duplicate")
        self.objects[key] = (self.env.docname, node_id)

    @property
    def cnames(self) -> dict[str, tuple[str, str, str]]:
        """C name -> (docname, anchor, C object type)."""
        return self.data.setdefault("cnames", {})

    def note_c_name(self, name: str, node_id: str, objtype: str, location: Any) -> None:
        old = self.cnames.get(name)
        if old is not None and (old[0], old[1]) != (self.env.docname, node_id):
            logger.warning("duplicate C declaration %s, also in %s", name, old[0],
                           location=location, type="duplicate_declaration", subtype="c")
        self.cnames[name] = (self.env.docname, node_id, objtype)

    def clear_doc(self, docname: str) -> None:
        for table in (self.objects, self.cnames):
            for key, entry in list(table.items()):
                if entry[0] == docname:
                    del table[key]

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        for name in ("objects", "cnames"):
            table = self.data.setdefault(name, {})
            for key, entry in otherdata.get(name, {}).items():
                if entry[0] in docnames:
                    table[key] = entry

    def locate(self, typ: str, target: str) -> tuple[str, str] | None:
        """(docname, anchor) of a link of role ``xen:typ`` to ``target``."""
        if typ == "line":
            path, _, line = target.rpartition(":")
            hit = self.objects.get(("header", path))
            if hit is None or not line.isdigit():
                return None
            return hit[0], line_anchor(int(line))
        hit = self.cnames.get(target) if typ == "c" else self.objects.get((typ, target))
        return None if hit is None else (hit[0], hit[1])

    def resolve_xref(self, env: Any, fromdocname: str, builder: Any, typ: str, target: str,
                     node: addnodes.pending_xref, contnode: nodes.Element) -> nodes.Element | None:
        hit = self.locate(typ, target)
        if hit is None:
            return None
        return make_refnode(builder, fromdocname, hit[0], hit[1], contnode, target)

    def resolve_any_xref(self, env: Any, fromdocname: str, builder: Any, target: str,
                         node: addnodes.pending_xref,
                         contnode: nodes.Element) -> list[tuple[str, nodes.Element]]:
        out = []
        for objtype in OBJTYPES:
            ref = self.resolve_xref(env, fromdocname, builder, objtype, target, node, contnode)
            if ref is not None:
                out.append((f"xen:{objtype}", ref))
        return out

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for (objtype, name), (doc, node_id) in sorted(self.objects.items()):
            yield name, name, objtype, doc, node_id, 1

    def get_full_qualified_name(self, node: nodes.Element) -> str | None:
        return node.get("reftarget")

