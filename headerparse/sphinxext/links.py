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

from headerparse.site.text import candidates
from headerparse.sphinxext import linktext

KEY = "headerparse:links"


def page_links(env: Any) -> dict[str, tuple[str, str]]:
    try:
        return env.current_document[KEY]
    except KeyError:
        return {}


def linked_nodes(env: Any, text: str) -> list[nodes.Node]:
    """``text`` as one node, the page's known names linked (see linktext)."""
    if not text:
        return []
    links = page_links(env)
    spans = []
    for start, end, key in candidates(text):
        hit = links.get(key)
        if hit is not None:
            spans.append((start, end, hit[0], hit[1], "name"))
    return [linktext.linked_text("", text, spans=spans) if spans else nodes.Text(text)]


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
