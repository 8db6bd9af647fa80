"""C declarations of generated pages as one node each, known to the C domain.

A header page declares hundreds of macros, types and enumerators. Through the C
domain's directives each is a symbol, a parsed signature and some eight nodes
(description, signature, signature line, name, its parts, content, index) that
every one of Sphinx's transforms walks: on the 4.17 site that was a third of
Sphinx's time. Generated declarations are always a bare identifier (a macro may
add a parameter list of identifiers), so they need none of that: ``hp_decl`` is
one node holding kind, name, parameters and anchor, its children the body, drawn
straight to the HTML the C domain's nodes would give.

The names are registered in the ``xen`` domain's table of C names (which page
links resolve through) and shown to the rest of Sphinx by :class:`XenCDomain`, the
C domain with that table added: ``:c:struct:`x``` roles, ``objects.inv`` and the
search index see them as C objects, with the C domain's own anchors
(``c.NAME``; ``c.ENUM.NAME`` for an enumerator inside its enum).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.domains.c import CDomain as SphinxCDomain
from sphinx.locale import _
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from headerparse.sphinxext.body import read_body

# NAME, or NAME(a, b, ...) for a macro: what generated pages declare.
_SIG = re.compile(r"\s*(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<params>[\w\s,.]*)\))?\s*\Z")
SCOPE = "headerparse:c-scope"       # the enum whose body is being read
HANDLE_PREFIX = "__guest_handle_"   # the structs DEFINE_XEN_GUEST_HANDLE declares
INDEX = "headerparse:c-index"       # the page's index node of declarations


class hp_decl(nodes.General, nodes.Element):
    """``objtype``, ``name``, ``params`` (None or a list) and ``anchor``; the
    children are a :class:`decl_name` and the declaration's body."""


class decl_name(nodes.Inline, nodes.TextElement):
    """The declared name as text, for search to index; the signature that
    :func:`visit_html` draws shows it."""


def fast_run(d: SphinxDirective, objtype: str) -> list[nodes.Node] | None:
    """The nodes of a generated declaration, or None when the signature is not a
    plain one (the C domain's directive then reads it)."""

    m = _SIG.match(d.arguments[0])
    if m is None or (m.group("params") is not None and objtype != "macro"):
        return None
    name = m.group("name")
    params = None if m.group("params") is None else \
        [p.strip() for p in m.group("params").split(",") if p.strip()]
    scope = d.env.current_document.get(SCOPE) if objtype == "enumerator" else None
    anchor = f"c.{scope}.{name}" if scope else f"c.{name}"
    node = hp_decl(objtype=objtype, name=name, params=params, anchor=anchor, ids=[anchor])
    node.source, node.line = d.get_source_info()
    d.state.document.note_explicit_target(node)
    d.env.domains["xen"].note_c_name(name, anchor, objtype, node)
    label = SphinxCDomain.object_types[objtype].lname
    full = anchor.removeprefix("c.")
    entry = ("single", _("%s (C %s)") % (full, label), anchor, "", None)
    # One index node per page holds the entries of all its declarations: the
    # first declaration places it, the others add to it.
    index = d.env.current_document.get(INDEX)
    out: list[nodes.Node] = []
    if index is None:
        index = d.env.current_document[INDEX] = addnodes.index(entries=[])
        out.append(index)
    index["entries"].append(entry)
    out.append(node)
    node += decl_name(name, name)
    if objtype != "enum":
        node += read_body(d, d.content)
        return out
    d.env.current_document[SCOPE] = name
    try:
        node += read_body(d, d.content)
    finally:
        d.env.current_document.pop(SCOPE, None)
    return out


def _pre(enc: Any, text: str, cls: str) -> str:
    return f'<span class="{cls}"><span class="pre">{enc(text)}</span></span>'


def visit_html(self: Any, node: hp_decl) -> None:
    enc = self.encode
    kind, anchor = node["objtype"], node["anchor"]
    sig = [] if kind == "macro" else [_pre(enc, kind, "k"), '<span class="w"> </span>']
    sig.append(f'<span class="sig-name descname">{_pre(enc, node["name"], "n")}</span>')
    if node["params"] is not None:
        sig.append('<span class="sig-paren">(</span>')
        sig.append(", ".join(_pre(enc, p, "n") for p in node["params"]))
        sig.append('<span class="sig-paren">)</span>')
    self.body.append(
        f'<dl class="c {kind}">\n<dt class="sig sig-object c" id="{enc(anchor)}">\n'
        + "".join(sig)
        + f'<a class="headerlink" href="#{enc(anchor)}" '
          f'title="{enc(_("Link to this definition"))}">¶</a><br /></dt>\n<dd>')


def skip(self: Any, node: nodes.Node) -> None:
    raise nodes.SkipNode


def depart_html(self: Any, node: hp_decl) -> None:
    self.body.append("</dd></dl>\n")


def as_desc(node: hp_decl) -> addnodes.desc:
    """The C domain's nodes for a declaration, for builders other than HTML."""
    sig = addnodes.desc_signature("", "", ids=[node["anchor"]])
    if node["objtype"] != "macro":
        sig += addnodes.desc_sig_keyword(node["objtype"], node["objtype"])
        sig += addnodes.desc_sig_space()
    sig += addnodes.desc_name(node["name"], node["name"])
    if node["params"] is not None:
        plist = addnodes.desc_parameterlist()
        plist += [addnodes.desc_parameter(p, p) for p in node["params"]]
        sig += plist
    desc = addnodes.desc(domain="c", objtype=node["objtype"], desctype=node["objtype"],
                         noindex=False, classes=["c", node["objtype"]])
    desc += sig
    desc += addnodes.desc_content("", *node.children[1:])
    return desc


class XenCDomain(SphinxCDomain):
    """Sphinx's C domain, also knowing the declarations of generated pages."""

    def _generated(self, target: str) -> tuple[str, str, str] | None:
        table = self.env.domains["xen"].cnames
        hit = table.get(target)
        if hit is None and "." in target:       # ENUM.NAME, as the C domain names it
            hit = table.get(target.rsplit(".", 1)[1])
            if hit is not None and hit[1] != f"c.{target}":
                hit = None
        return hit

    def resolve_xref(self, env: Any, fromdocname: str, builder: Any, typ: str, target: str,
                     node: addnodes.pending_xref, contnode: nodes.Element) -> Any:
        ref = super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
        hit = None if ref is not None else self._generated(target)
        if hit is None:
            return ref
        return make_refnode(builder, fromdocname, hit[0], hit[1], contnode, target)

    def resolve_any_xref(self, env: Any, fromdocname: str, builder: Any, target: str,
                         node: addnodes.pending_xref, contnode: nodes.Element) -> list:
        found = super().resolve_any_xref(env, fromdocname, builder, target, node, contnode)
        hit = None if found else self._generated(target)
        if hit is None:
            return found
        ref = make_refnode(builder, fromdocname, hit[0], hit[1], contnode, target)
        return [(f"c:{self.role_for_objtype(hit[2])}", ref)]

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        """What objects.inv and search list: every declaration of the pages, but not
        the ``__guest_handle_*`` structs (the internals ``XEN_GUEST_HANDLE(x)``
        expands to, which no guest names), and members only in objects.inv
        (priority -1: a search for ``handle`` would list hundreds of them)."""
        yield from super().get_objects()
        for name, (doc, anchor, objtype) in sorted(self.env.domains["xen"].cnames.items()):
            if name.startswith(HANDLE_PREFIX):
                continue
            full = anchor.removeprefix("c.")
            prio = -1 if objtype == "member" else 1
            yield full, full, objtype, doc, anchor, prio
            if full != name:
                # C puts an enum's enumerators in the enclosing scope too; so does
                # the C domain's inventory.
                yield name, name, objtype, doc, anchor, prio
