"""The page's link table and turning header text into nodes with links in it.

A generated page starts with ``.. xen:links::``, listing each name the page links
and its role and target. Prose and source directives later on the page tokenize
their text and link exactly those names; :mod:`headerparse.sphinxext.linktext`
resolves (and checks) the links as the roles would.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from headerparse.site.text import tokens
from headerparse.sphinxext import linktext

KEY = "headerparse:links"


def page_links(env: Any) -> dict[str, tuple[str, str]]:
    try:
        return env.current_document[KEY]
    except KeyError:
        return {}


def linked_nodes(env: Any, text: str) -> list[nodes.Node]:
    """``text`` as one node, the page's known names linked (see linktext)."""
    links = page_links(env)
    parts = []
    for tok in tokens(text, links.__contains__):
        if tok.key is None:
            parts.append((tok.text, "", "", ""))
        else:
            role, target = links[tok.key]
            parts.append((tok.text, role, target, "name"))
    return [linktext.make(parts)] if text else []


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
