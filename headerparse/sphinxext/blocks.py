"""Directives that render header text and layout data without reST-parsing it.

Their content is data: comment text, source lines (each behind a ``|`` that keeps
its indentation) or JSON. They build docutils nodes directly, so whatever a header
comment says ends up as text that the HTML writer escapes.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from headerparse.site import svg
from headerparse.site.text import blocks
from headerparse.sphinxext.domain import line_anchor
from headerparse.sphinxext.links import linked_nodes

# A literal block whose rawsource differs from its text is a parsed literal to
# Sphinx: it keeps the links inside and is not syntax-highlighted.
_PARSED = "<headerparse parsed literal>"


def _lines(content: Any) -> list[str]:
    return [line[1:] if line.startswith("|") else line for line in content]


class ProseDirective(SphinxDirective):
    """A doc comment: paragraphs reflowed, laid-out blocks kept preformatted."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        text = "\n".join(_lines(self.content))
        box = nodes.container(classes=["hp-prose"])
        for block in blocks(text):
            if block.pre:
                body = "\n".join(block.lines)
                node: nodes.Element = nodes.literal_block(
                    _PARSED, "", *linked_nodes(self.env, body), classes=["hp-pre"])
            else:
                body = " ".join(line.strip() for line in block.lines)
                node = nodes.paragraph("", "", *linked_nodes(self.env, body))
            self.set_source_info(node, self.content_offset + 1 + block.first)
            box += node
        return [box] if box.children else []

    def set_source_info(self, node: nodes.Node, offset: int) -> None:
        node.source, node.line = self.state_machine.get_source_and_line(offset)


class FactsDirective(SphinxDirective):
    """A field list from ``Label|inline reST`` lines.

    A reST field list costs docutils a nested state machine per list; header pages
    have thousands of them. Here each line is parsed as inline text only.
    """

    has_content = True

    def run(self) -> list[nodes.Node]:
        flist = nodes.field_list(classes=["hp-facts"])
        out: list[nodes.Node] = [flist]
        for i, line in enumerate(self.content):
            label, sep, text = line.partition("|")
            if not sep:
                raise self.error(f"a facts line needs 'Label|text': {line!r}")
            _src, lineno = self.state_machine.get_source_and_line(self.content_offset + i)
            inline, messages = self.state.inline_text(text.strip(), lineno)
            body = nodes.field_body("", nodes.paragraph("", "", *inline))
            flist += nodes.field("", nodes.field_name(label, label), body)
            out += messages
        return out


class CodeDirective(SphinxDirective):
    """C source, names linked; with ``:anchors:`` every line gets an ``L<n>`` id."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "start": directives.nonnegative_int, "file": directives.unchanged,
        "anchors": directives.flag}

    def run(self) -> list[nodes.Node]:
        text = "\n".join(_lines(self.content))
        if "anchors" in self.options:
            # A whole header: one node whose HTML visitor numbers the lines, instead
            # of three nodes a line that every transform would walk. The listing
            # repeats the definitions above it, so search skips it.
            listing = source_listing("", *linked_nodes(self.env, text), start=
                                     self.options.get("start", 1), classes=["no-search"])
            return [listing]
        return [nodes.literal_block(_PARSED, "", *linked_nodes(self.env, text),
                                    classes=["hp-code"])]


class source_listing(nodes.General, nodes.FixedTextElement):
    """Source lines with ``L<n>`` anchors; children are Text and references."""


def visit_listing_html(self: Any, node: source_listing) -> None:
    n = node["start"]

    def open_line(n: int) -> str:
        return (f'<span class="hp-line" id="{line_anchor(n)}"><a class="hp-lineno" '
                f'href="#{line_anchor(n)}">{n}</a>')

    self.body.append(f'<pre class="hp-source">{open_line(n)}')
    for child in node.children:
        if isinstance(child, nodes.Text):
            for i, part in enumerate(str(child).split("\n")):
                if i:
                    n += 1
                    self.body.append(f"</span>\n{open_line(n)}")
                self.body.append(self.encode(part))
        else:
            child.walkabout(self)
    self.body.append("</span></pre>\n")
    raise nodes.SkipNode


def _cell(c: list[int] | None, kind: str) -> str:
    if c is None:
        return "—"
    if kind == "size":
        return f"{c[0]} (align {c[1]})"
    text = f"{c[0]}+{c[1]}"
    if len(c) == 4:
        text += f" bit {c[2]}:{c[3]}"
    return text


class layout_table(nodes.General, nodes.Element):
    """The side-by-side layout table. Plain cells live in ``rows``; only the cells
    that can hold links (type, description) are child nodes, two per row, so the
    tables of 600 struct pages do not cost transforms a million nodes."""


class LayoutDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        data = json.loads("\n".join(self.content))
        archs: list[str] = data["archs"]
        rows = []
        table = layout_table(archs=archs)
        for r in data["rows"]:
            kind = r["kind"]
            odd = set(r.get("odd", ()))
            rows.append({
                "kind": kind, "differs": bool(odd), "dir": r.get("dir", ""),
                "path": r.get("path", "padding" if kind == "hole" else "size"),
                "depth": min(r.get("path", "").count("."), 4),
                "cells": [(_cell(r["cells"].get(a), kind), a in odd) for a in archs]})
            types: list[nodes.Node] = []
            for i, t in enumerate(r.get("types", ())):
                if i:
                    types.append(nodes.Text(" / "))
                types += linked_nodes(self.env, t)
            table += nodes.inline("", "", *types)
            desc = linked_nodes(self.env, r["doc"]) if r.get("doc") else []
            if r.get("note"):
                desc.append(nodes.emphasis(r["note"], (" — " if desc else "") + r["note"]))
            table += nodes.inline("", "", *desc)
        table["rows"] = rows
        return [table]


ODD = ' class="hp-odd"'


def visit_layout_table_html(self: Any, node: layout_table) -> None:
    enc = self.encode
    heads = ["Member", "Type", *node["archs"], "Dir", "Description"]
    out = ['<table class="docutils align-default hp-layout-table"><thead><tr>']
    out += [f'<th class="head">{enc(h)}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    self.body.append("".join(out))
    for i, r in enumerate(node["rows"]):
        cls = f"hp-{r['kind']}" + (" hp-differs" if r["differs"] else "")
        name = (f'<code class="docutils literal">{enc(r["path"])}</code>'
                if r["kind"] == "member" else f"<em>{enc(r['path'])}</em>")
        self.body.append(f'<tr class="{cls}"><td class="hp-depth-{r["depth"]}">{name}</td><td>')
        node.children[2 * i].walkabout(self)
        cells = "".join(f'<td{ODD if odd else ""}>{enc(text)}</td>' for text, odd in r["cells"])
        self.body.append(f"</td>{cells}<td>{enc(r['dir'])}</td><td>")
        node.children[2 * i + 1].walkabout(self)
        self.body.append("</td></tr>\n")
    self.body.append("</tbody></table>\n")
    raise nodes.SkipNode


class layout_diagram(nodes.General, nodes.Element):
    """An SVG drawing; only HTML shows it."""


class DiagramDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        data = json.loads("\n".join(self.content))
        caption = (f"{data['key']} on {', '.join(data['archs'])}: {data['size']} bytes")
        node = layout_diagram(svg=svg.render(data, caption), caption=caption)
        return [node]


def visit_diagram_html(self: Any, node: layout_diagram) -> None:
    # The SVG text comes from headerparse.site.svg, which escapes every string in it.
    self.body.append(f'<figure class="hp-diagram">{node["svg"]}</figure>\n')
    raise nodes.SkipNode


def visit_diagram_other(self: Any, node: layout_diagram) -> None:
    raise nodes.SkipNode
