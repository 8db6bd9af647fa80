"""Text with links in it, as one node.

A linked name as docutils nodes is a pending reference, its text, and the text
around it: three nodes or more per link, and the site's pages hold some 30,000
links. Every one of Sphinx's two dozen transforms walks every node of every page,
so those nodes were a third of each walk. A ``linked_text`` is one node: its
child is the whole text (what search indexes), and ``spans`` say which stretches
link where. :func:`resolve` resolves them all in one walk, with the same
look-ups and the same warnings as the ``xen`` domain's roles; the HTML writer
draws them directly; other builders get ordinary reference nodes back
(:func:`as_nodes`).

A span is ``(start, end, role, target, style)``:

- ``role`` is ``domain:type`` as the page's link table names it (``c:struct``,
  ``xen:line``), or ``""`` for a literal that links nowhere;
- ``style`` is ``name`` (a linked identifier, the classes on the link), ``code``
  (a role in a facts line, drawn as inline code inside the link) or ``literal``.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

class linked_text(nodes.Inline, nodes.TextElement):
    """Text with ``spans``; after resolution, ``uris`` (one per span, or None)."""


def make(parts: list[tuple[str, str, str, str]]) -> nodes.Node:
    """One node from (text, role, target, style) parts; plain Text when none links."""
    text, spans, pos = [], [], 0
    for part, role, target, style in parts:
        if style:
            spans.append((pos, pos + len(part), role, target, style))
        text.append(part)
        pos += len(part)
    joined = "".join(text)
    if not spans:
        return nodes.Text(joined)
    return linked_text("", joined, spans=spans)


def _xen_role(role: str) -> str:
    """The ``xen`` role a page's link resolves through: C names all through ``c``."""
    dom, _, typ = role.partition(":")
    return "c" if dom == "c" else typ


def resolve(app: Any, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved`` (before the handlers that rewrite nodes for other
    formats): resolve every span of every ``linked_text`` of the page, or warn
    where the ``xen`` domain's roles would."""
    domain = app.env.domains["xen"]
    quiet = app.config.xen_missing_refs == "text"
    for node in doctree.findall(linked_text):
        uris: list[str | None] = []
        for _s, _e, role, target, style in node["spans"]:
            if style == "literal":
                uris.append(None)
                continue
            typ = _xen_role(role)
            hit = domain.locate(typ, target)
            if hit is None:
                if not quiet:
                    logger.warning(domain.dangling_warnings.get(typ, "%(target)s not found")
                                   % {"target": target}, location=node, type="ref",
                                   subtype=f"xen:{typ}")
                uris.append(None)
                continue
            doc, anchor = hit
            uri = "" if doc == docname else app.builder.get_relative_uri(docname, doc)
            uris.append(f"{uri}#{anchor}")
        node["uris"] = uris


_WORDS = re.compile(r"\S+|\s+")


def _pre(enc: Any, text: str) -> str:
    """Text as Sphinx writes literal text: each word a no-wrap span."""
    out = []
    for token in _WORDS.findall(text):
        if token.strip():
            out.append(f'<span class="pre">{enc(token)}</span>')
        elif token in (" ", "\n"):
            out.append(token)
        else:
            out.append("&#160;" * (len(token) - 1) + " ")
    return "".join(out)


def _code(enc: Any, text: str, classes: str) -> str:
    return f'<code class="{classes}docutils literal notranslate">{_pre(enc, text)}</code>'


def html(node: linked_text, enc: Any, plain: Any = None) -> str:
    """The node's HTML; ``plain`` renders text outside code (default: ``enc``)."""
    plain = plain or enc
    text: str = node.astext()
    uris = node.get("uris") or [None] * len(node["spans"])
    out, pos = [], 0
    for (start, end, role, target, style), uri in zip(node["spans"], uris, strict=True):
        out.append(plain(text[pos:start]))
        part = text[start:end]
        dom, _, typ = role.partition(":")
        if style == "literal":
            out.append(_code(enc, part, ""))
        elif style == "code":
            inner = _code(enc, part, f"xref {dom} {dom}-{typ} ")
            out.append(inner if uri is None else
                       f'<a class="reference internal" href="{enc(uri)}" '
                       f'title="{enc(target)}">{inner}</a>')
        elif uri is None:
            out.append(plain(part))
        else:
            out.append(f'<a class="xref {dom} {dom}-{typ} hp-name reference internal" '
                       f'href="{enc(uri)}" title="{enc(target)}">{plain(part)}</a>')
        pos = end
    out.append(plain(text[pos:]))
    return "".join(out)


def visit_html(self: Any, node: linked_text) -> None:
    # In a signature Sphinx writes text as literal (no-wrap words); so does this.
    if getattr(self, "protect_literal_text", 0):
        self.body.append(html(node, self.encode, lambda t: _pre(self.encode, t)))
    else:
        self.body.append(html(node, self.encode))
    raise nodes.SkipNode


def as_nodes(node: linked_text) -> list[nodes.Node]:
    """Text and reference nodes, for builders other than HTML."""
    text: str = node.astext()
    uris = node.get("uris") or [None] * len(node["spans"])
    out: list[nodes.Node] = []
    pos = 0
    for (start, end, _role, target, style), uri in zip(node["spans"], uris, strict=True):
        if start > pos:
            out.append(nodes.Text(text[pos:start]))
        part = text[start:end]
        inner: nodes.Node = (nodes.literal(part, part) if style != "name"
                             else nodes.Text(part))
        out.append(inner if uri is None else
                   nodes.reference("", "", inner, internal=True, refuri=uri, reftitle=target))
        pos = end
    if pos < len(text):
        out.append(nodes.Text(text[pos:]))
    return out


# ---------------------------------------------------------------- facts lines

_ROLE = re.compile(r":(?P<dom>[a-z]+):(?P<typ>[a-z]+):`(?P<body>(?:[^`\\]|\\.)+)`")
_TITLED = re.compile(r"(?P<title>(?:[^\\<]|\\.)*?)\s*<(?P<target>(?:[^\\>]|\\.)+)>\Z", re.S)
_ESCAPED = re.compile(r"\\(.)", re.S)
_SPECIAL = frozenset("`*_|[]<>:")
# The xen domain's roles that link (``severity`` only styles its text).
LINK_ROLES = frozenset({"c", "line", "header", "variant", "group", "hypercall", "op"})


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: "" if m.group(1) == " " else m.group(1), text)


def parse_inline(text: str) -> list[tuple[str, str, str, str]] | None:
    """The parts of a generated facts line: escaped text, ``xen`` roles and
    ``literals``. None for anything else, which the caller gives to docutils."""
    parts: list[tuple[str, str, str, str]] = []
    run: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            if text[i + 1] != " ":
                run.append(text[i + 1])
            i += 2
            continue
        if ch == "`" and text.startswith("``", i):
            end = text.find("``", i + 2)
            if end < 0 or end == i + 2:
                return None
            parts += [("".join(run), "", "", ""), (text[i + 2:end], "", "", "literal")]
            run, i = [], end + 2
            continue
        if ch == ":" and (m := _ROLE.match(text, i)):
            if m.group("dom") != "xen" or m.group("typ") not in LINK_ROLES:
                return None
            body = m.group("body")
            titled = _TITLED.match(body)
            shown, target = ((titled.group("title"), titled.group("target"))
                             if titled and titled.group("title") else (body, body))
            parts += [("".join(run), "", "", ""),
                      (_unescape(shown), f"xen:{m.group('typ')}", _unescape(target), "code")]
            run, i = [], m.end()
            continue
        # An underscore inside a word (x86_32) is text; anywhere else it may end a
        # reference name.
        if ch in _SPECIAL and not (ch == "_" and text[i + 1:i + 2].isalnum()):
            return None
        run.append(ch)
        i += 1
    parts.append(("".join(run), "", "", ""))
    return [p for p in parts if p[0] or p[3]]


def inline(state: Any, text: str, lineno: int | None) -> tuple[list[nodes.Node], list[nodes.Node]]:
    """A generated line of inline reST as (nodes, messages): one linked text when
    :func:`parse_inline` reads it, else docutils' inline parse."""
    parts = parse_inline(text)
    if parts is not None:
        return [make(parts)], []
    return state.inline_text(text, lineno)
