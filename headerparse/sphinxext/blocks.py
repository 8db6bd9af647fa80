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


def _entry(children: list[nodes.Node] | str, classes: list[str] | None = None) -> nodes.entry:
    entry = nodes.entry(classes=classes or [])
    para = nodes.paragraph()
    if isinstance(children, str):
        para += nodes.Text(children)
    else:
        para += children
    entry += para
    return entry


def _cell(c: list[int] | None, kind: str) -> str:
    if c is None:
        return "—"
    if kind == "size":
        return f"{c[0]} (align {c[1]})"
    text = f"{c[0]}+{c[1]}"
    if len(c) == 4:
        text += f" bit {c[2]}:{c[3]}"
    return text


class LayoutDirective(SphinxDirective):
    """The side-by-side layout table of a struct or union."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        data = json.loads("\n".join(self.content))
        archs: list[str] = data["archs"]
        heads = ["Member", "Type", *archs, "Dir", "Description"]
        table = nodes.table(classes=["hp-layout-table"])
        group = nodes.tgroup(cols=len(heads))
        table += group
        for w in (18, 18, *([10] * len(archs)), 5, 30):
            group += nodes.colspec(colwidth=w)
        thead = nodes.thead()
        row = nodes.row()
        for h in heads:
            row += _entry(h)
        thead += row
        group += thead
        tbody = nodes.tbody()
        for r in data["rows"]:
            tbody += self._row(r, archs)
        group += tbody
        return [table]

    def _row(self, r: dict[str, Any], archs: list[str]) -> nodes.row:
        kind = r["kind"]
        odd = set(r.get("odd", ()))
        row = nodes.row(classes=[f"hp-{kind}"] + (["hp-differs"] if odd else []))
        if kind == "member":
            depth = r["path"].count(".")
            row += _entry([nodes.literal(r["path"], r["path"])], [f"hp-depth-{min(depth, 4)}"])
            types: list[nodes.Node] = []
            for i, t in enumerate(r["types"]):
                if i:
                    types.append(nodes.Text(" / "))
                types += linked_nodes(self.env, t)
            row += _entry(types)
        else:
            label = "padding" if kind == "hole" else "size"
            row += _entry([nodes.emphasis(label, label)])
            row += _entry("")
        for a in archs:
            cell = r["cells"].get(a)
            row += _entry(_cell(cell, kind), ["hp-odd"] if a in odd else None)
        row += _entry(r.get("dir", ""))
        doc = r.get("doc", "")
        note = r.get("note", "")
        desc = linked_nodes(self.env, doc) if doc else []
        if note:
            desc.append(nodes.emphasis(note, (" — " if doc else "") + note))
        row += _entry(desc)
        return row


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
