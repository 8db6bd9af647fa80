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

import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives as rst_directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.domains.c import CDomain
from sphinx.util.docutils import SphinxDirective

_START = re.compile(r"\.\. (?P<name>xen:[\w-]+)::(?: (?P<args>.*))?\Z")
_OPTION = re.compile(r"   :(?P<key>[\w-]+):(?: (?P<value>.*))?\Z")
INDENT = "   "

C_KINDS = ("macro", "struct", "union", "enum", "enumerator", "type")


def read_body(d: SphinxDirective, content: StringList) -> list[nodes.Node]:
    """Run the ``xen`` directives of a generated body; return their nodes."""
    out: list[nodes.Node] = []
    lines = list(content)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = _START.match(line)
        if m is None:
            src, off = content.info(i)
            raise d.error(f"{src}:{(off or 0) + 1}: a generated declaration body holds "
                          f"only xen directives, not {line.strip()[:60]!r}")
        j = i + 1
        options: dict[str, str | None] = {}
        while j < len(lines) and (om := _OPTION.match(lines[j])):
            options[om.group("key")] = om.group("value")
            j += 1
        start = j
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(INDENT)):
            j += 1
        end = j
        while end > start and not lines[end - 1].strip():
            end -= 1
        body = StringList([s[len(INDENT):] for s in lines[start:end]],
                          items=[content.info(k) for k in range(start, end)])
        # Leading blank lines of the body belong to no block: drop them.
        while body and not body[0].strip():
            body.trim_start(1)
            start += 1
        out += _run(d, m.group("name"), m.group("args") or "", options, body,
                    d.content_offset + start)
        i = j
    return out


def _run(d: SphinxDirective, name: str, args: str, raw: dict[str, str | None],
         body: StringList, offset: int) -> list[nodes.Node]:
    cls = d.env.domains["xen"].directives.get(name.partition(":")[2])
    if cls is None:
        raise d.error(f"unknown directive {name!r} in a generated declaration body")
    spec = getattr(cls, "option_spec", None) or {}
    options: dict[str, Any] = {}
    for key, value in raw.items():
        conv = spec.get(key)
        if conv is None:
            raise d.error(f"unknown option :{key}: of {name}")
        options[key] = conv(value) if conv is not rst_directives.flag else None
    arguments = [args] if args else []
    inner = cls(name, arguments, options, body, offset + 1, offset, "", d.state,
                d.state_machine)
    return inner.run()


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
            from headerparse.sphinxext.cdecl import fast_run

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
