"""Declarations of generated pages, read without docutils' nested parses.

A header page declares thousands of macros, types and enumerators, each with a
body of prose, source and facts. As ``.. c:macro::`` with reST content, every body
costs docutils a fresh nested state machine (about a millisecond each, most of the
site's reading time). Generated bodies only ever hold ``xen`` directives, so the
directives here read them with a small reader that knows exactly that shape::

    .. xen:cmacro:: SCHEDOP_yield

       .. xen:code::
          :start: 47

          |#define SCHEDOP_yield 0

       .. xen:prose::

          |Voluntarily yield the CPU.

and run each inner directive directly. Anything else in a body is an error with
the line it is on. The C declarations are Sphinx's own C-domain directives
(``xen:cmacro`` is ``c:macro`` with this body reader), so the C domain, its roles,
the index and ``objects.inv`` see exactly what ``c:macro`` would give them; they
also note their anchor in the ``xen`` domain, which resolves the page's own links
to C names by a dictionary look-up instead of the C domain's per-reference parse.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.domains.c import CDomain
from sphinx.util.docutils import SphinxDirective

from headerparse.sphinxext.body import read_body
from headerparse.sphinxext.cdecl import fast_run

C_KINDS = ("macro", "struct", "union", "enum", "enumerator", "type")


class DefinitionsDirective(SphinxDirective):
    """``.. xen:definitions::``: a header page's declarations, in source order, read
    as one body by :func:`read_body`; docutils' state machine would spend more on
    recognising each of the thousands of directives than they take to run."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        return read_body(self, self.content)


class FastBody:
    """Mixin for object directives: the body is read by :func:`read_body`."""

    def parse_content_to_nodes(self, allow_section_headings: bool = False) -> list[nodes.Node]:
        return read_body(self, self.content)  # type: ignore[arg-type]


def _c_directive(kind: str) -> type:
    base = CDomain.directives[kind]

    class Decl(FastBody, base):  # type: ignore[valid-type, misc]
        def run(self) -> list[nodes.Node]:
            fast = fast_run(self, kind)
            if fast is not None:
                return fast
            # ObjectDescription takes domain and object type from the name it was
            # called by: this is the C domain's directive of that kind.
            self.name = f"c:{kind}"
            return super().run()

        def add_target_and_index(self, ast: Any, sig: str,
                                 signode: addnodes.desc_signature) -> None:
            super().add_target_and_index(ast, sig, signode)
            if signode["ids"]:
                name = ast.name.get_display_string().split(".")[-1]
                self.env.domains["xen"].note_c_name(name, signode["ids"][0], kind, signode)

    Decl.__name__ = Decl.__qualname__ = f"Fast{base.__name__}"
    return Decl


C_DIRECTIVES: dict[str, type] = {f"c{kind}": _c_directive(kind) for kind in C_KINDS}
