"""Search ranking: the place that explains a constant comes before the constant.

A constant such as ``SHUTDOWN_suspend`` is declared on its header's page, but
what it means to a caller (which register carries what, who reads it) is on the
hypercall page, in the table about it. Sphinx's search ranks an exact *main*
index entry above objects and text, so each table on a hypercall page whose
title names a constant (a macro or enumerator: "When sched_shutdown.reason ==
SHUTDOWN_suspend") gives it a main index entry pointing at the section (or
sub-op) the table is in. It is added when the page is resolved, when every
declaration's kind is known: search sees it, the general index does not.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes

from headerparse.sphinxext import compact, linktext

#: Pages whose tables explain the names in their titles.
EXPLAINING = ("hypercalls/",)


def _anchor(node: nodes.Node) -> str | None:
    """The id of the innermost section or object description around ``node``."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.section) and parent["ids"]:
            return parent["ids"][0]
        if isinstance(parent, addnodes.desc):
            sig = next(iter(parent.findall(addnodes.desc_signature)), None)
            if sig is not None and sig["ids"]:
                return sig["ids"][0]
        parent = parent.parent
    return None


#: Declarations whose meaning a hypercall page's table can explain.
CONSTANTS = frozenset({"macro", "enumerator"})


def _constants(title: nodes.Node, cnames: dict[str, tuple[str, str, str]]) -> list[str]:
    out: list[str] = []
    for lt in title.findall(linktext.linked_text):
        for _s, _e, role, target, _style in lt["spans"]:
            hit = cnames.get(target) if role in ("xen:c", "c:macro", "c:enumerator") else None
            if hit is not None and hit[2] in CONSTANTS and target not in out:
                out.append(target)
    return out


def note_explanations(app: Any, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: main index entries for the constants table titles explain."""
    if not docname.startswith(EXPLAINING) or app.builder.format != "html":
        return
    cnames = app.env.domains["xen"].cnames
    for table in list(doctree.findall(compact.grid)):
        i = table.get("title_child")
        anchor = _anchor(table) if i is not None else None
        names = _constants(table.children[i], cnames) if anchor else []
        if names:
            entries = [("single", name, anchor, "main", None) for name in names]
            table.parent.insert(table.parent.index(table), addnodes.index(entries=entries))
