"""The page's link table and turning header text into nodes with links in it.

A generated page starts with ``.. xen:links::``, listing each name the page links
and its role and target. Prose and source directives later on the page tokenize
their text and link exactly those names, with the same pending references a role
would make, so Sphinx resolves (and checks) them like any other link.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from headerparse.site.text import tokens

KEY = "headerparse:links"


def page_links(env: Any) -> dict[str, tuple[str, str]]:
    try:
        return env.current_document[KEY]
    except KeyError:
        return {}


def xref(env: Any, role: str, target: str, text: str) -> addnodes.pending_xref:
    domain, _, typ = role.partition(":")
    classes = ["xref", domain, f"{domain}-{typ}", "hp-name"]
    if domain == "c":
        # Generated pages link C names through the xen domain's table of the
        # declarations they make: a look-up, where the C domain parses every target.
        domain, typ = "xen", "c"
    node = addnodes.pending_xref("", refdomain=domain, reftype=typ, reftarget=target,
                                 refexplicit=True, refwarn=True, refdoc=env.docname,
                                 hp_classes=classes)
    # The name is bare text: the link itself carries the classes (see
    # XenDomain.resolve_xref); a literal around every name was a node per link
    # that every transform walked.
    node += nodes.Text(text)
    return node


def linked_nodes(env: Any, text: str) -> list[nodes.Node]:
    """``text`` as Text nodes, the page's known names as pending references."""
    links = page_links(env)
    out: list[nodes.Node] = []
    for tok in tokens(text, links.__contains__):
        if tok.key is None:
            out.append(nodes.Text(tok.text))
        else:
            role, target = links[tok.key]
            out.append(xref(env, role, target, tok.text))
    return out


class LinksDirective(SphinxDirective):
    """``.. xen:links::`` with lines ``ROLE TARGET DOCNAME KEY``."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        table: dict[str, tuple[str, str]] = {}
        for line in self.content:
            parts = line.split(None, 3)
            if len(parts) == 4:
                role, target, _doc, key = parts
                table[key] = (role, target)
            elif line.strip():
                raise self.error(f"bad link table line: {line!r}")
        self.env.current_document[KEY] = table
        return []
