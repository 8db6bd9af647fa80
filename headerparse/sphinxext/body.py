"""The reader of generated declaration bodies: ``xen`` directives only, no nested parse.

A generated body holds nothing but ``xen`` directives with their options and
indented content (see :mod:`headerparse.sphinxext.decl`), so this reader splits it
by that shape and runs each directive directly; anything else is an error at the
header line it came from.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives as rst_directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

_START = re.compile(r"\.\. (?P<name>xen:[\w-]+)::(?: (?P<args>.*))?\Z")
_OPTION = re.compile(r"   :(?P<key>[\w-]+):(?: (?P<value>.*))?\Z")
INDENT = "   "



def read_body(d: SphinxDirective, content: StringList) -> list[nodes.Node]:
    """Run the ``xen`` directives of a generated body; return their nodes."""
    out: list[nodes.Node] = []
    # The StringList's own lists: a body of thousands of lines is walked once per
    # nesting level, so no per-line copies or method calls here.
    lines, items = content.data, content.items
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if not line or line.isspace():
            i += 1
            continue
        m = _START.match(line)
        if m is None:
            src, off = items[i]
            raise d.error(f"{src}:{(off or 0) + 1}: a generated declaration body holds "
                          f"only xen directives, not {line.strip()[:60]!r}")
        j = i + 1
        options: dict[str, str | None] = {}
        while j < n and (om := _OPTION.match(lines[j])):
            options[om.group("key")] = om.group("value")
            j += 1
        start = j
        # The body: indented or blank lines (a directive line is neither).
        while j < n and (lines[j].startswith(INDENT) or not lines[j] or lines[j].isspace()):
            j += 1
        end = j
        while end > start and (not lines[end - 1] or lines[end - 1].isspace()):
            end -= 1
        # Leading blank lines of the body belong to no block: drop them.
        while start < end and (not lines[start] or lines[start].isspace()):
            start += 1
        body = StringList([s[len(INDENT):] for s in lines[start:end]], items=items[start:end])
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
