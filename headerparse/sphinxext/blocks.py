"""Directives that render header text and layout data without reST-parsing it.

Their content is data: comment text, source lines (each behind a ``|`` that keeps
its indentation) or JSON. They build docutils nodes directly, so whatever a header
comment says ends up as text that the HTML writer escapes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from headerparse.site import svg
from headerparse.site.text import blocks, hex_of
from headerparse.sphinxext import linktext
from headerparse.sphinxext.compact import cell, facts
from headerparse.sphinxext.domain import line_anchor
from headerparse.sphinxext.links import linked_nodes

# A literal block whose rawsource differs from its text is a parsed literal to
# Sphinx: it keeps the links inside and is not syntax-highlighted.
_PARSED = "<headerparse parsed literal>"


def _parsed_literal(d: SphinxDirective, text: str, cls: str) -> nodes.literal_block:
    node = nodes.literal_block(_PARSED, "", *linked_nodes(d.env, text), classes=[cls])
    # What Sphinx's HighlightLanguageTransform would set (the page has no highlight
    # directive); set here, that transform has nothing to do (prune.py skips it).
    node["language"] = d.env.config.highlight_language
    node["force"] = node["linenos"] = False
    return node


def _lines(content: Any) -> list[str]:
    return [line[1:] if line.startswith("|") else line for line in content]


# Each builder takes the directive it works for (for env, state and errors), the
# body lines and ``locate(i)`` -> (source, 1-based line) of body line ``i``. The
# directives below call them on their content; declaration bodies
# (:mod:`headerparse.sphinxext.decl`) call them on their blocks without a nested parse.
Locate = Callable[[int], tuple[Any, Any]]


def prose_nodes(d: SphinxDirective, body: list[str], locate: Locate) -> list[nodes.Node]:
    """A doc comment: paragraphs reflowed, laid-out blocks kept preformatted."""
    text = "\n".join(_lines(body))
    box = nodes.container(classes=["hp-prose"])
    for block in blocks(text):
        if block.pre:
            node: nodes.Element = _parsed_literal(d, "\n".join(block.lines), "hp-pre")
        else:
            body_text = " ".join(line.strip() for line in block.lines)
            node = nodes.paragraph("", "", *linked_nodes(d.env, body_text))
        node.source, node.line = locate(block.first)
        box += node
    return [box] if box.children else []


def facts_nodes(d: SphinxDirective, body: list[str], locate: Locate) -> list[nodes.Node]:
    """A field list from ``Label|inline reST`` lines.

    A reST field list costs docutils a nested state machine per field; header pages
    have thousands of them. Here each line is parsed as inline text only, into a
    compact node (:mod:`headerparse.sphinxext.compact`).
    """
    node = facts(classes=["hp-facts"], labels=[])
    out: list[nodes.Node] = [node]
    for i, line in enumerate(body):
        label, sep, text = line.partition("|")
        if not sep:
            raise d.error(f"a facts line needs 'Label|text': {line!r}")
        inline, messages = linktext.inline(d.state, text.strip(), locate(i)[1])
        out += messages
        node["labels"].append(label)
        node += cell(inline, *locate(i))
    return out


def code_nodes(d: SphinxDirective, body: list[str], options: dict[str, Any]) -> list[nodes.Node]:
    """C source, names linked; with ``anchors`` every line gets an ``L<n>`` id."""
    text = "\n".join(_lines(body))
    if "anchors" in options:
        # A whole header: one node whose HTML visitor numbers the lines, instead
        # of three nodes a line that every transform would walk. The listing
        # repeats the definitions above it, so search skips it.
        return [source_listing("", "", *linked_nodes(d.env, text),
                               start=int(options.get("start", 1)), classes=["no-search"])]
    return [_parsed_literal(d, text, "hp-code")]


def _locator(d: SphinxDirective) -> Locate:
    def locate(i: int) -> tuple[Any, Any]:
        src, offset = d.content.info(i)
        return src, (offset + 1 if offset is not None else None)
    return locate


class ProseDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        return prose_nodes(self, list(self.content), _locator(self))


class FactsDirective(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        return facts_nodes(self, list(self.content), _locator(self))


class CodeDirective(SphinxDirective):
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "start": directives.nonnegative_int, "file": directives.unchanged,
        "anchors": directives.flag}

    def run(self) -> list[nodes.Node]:
        return code_nodes(self, list(self.content), self.options)


#: The class of the rubric that heads a struct's or union's definition.
RECORD_RUBRIC = "hp-record"


class RubricDirective(SphinxDirective):
    """``.. xen:rubric:: TEXT`` with ``:class:``: docutils' rubric, usable inside
    a generated body (:mod:`headerparse.sphinxext.decl` runs only xen directives)."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        text = self.arguments[0]
        inline, messages = linktext.inline(self.state, text, self.lineno)
        node = nodes.rubric(text, "", *inline, classes=self.options.get("class", []))
        node.source, node.line = self.get_source_info()
        if RECORD_RUBRIC in node["classes"]:
            # The heading of a struct's definition: the page's table of contents
            # (headerparse.sphinxext.sitetheme) links it.
            node["ids"].append(self._unique_id("def-" + nodes.make_id(text), node))
        return [node, *messages]

    def _unique_id(self, base: str, node: nodes.Element) -> str:
        ids = self.state.document.ids
        n, found = 1, base
        while found in ids:
            n += 1
            found = f"{base}-{n}"
        ids[found] = node
        return found


class source_listing(nodes.General, nodes.FixedTextElement):
    """Source lines with ``L<n>`` anchors; children are Text and references."""


def visit_listing_html(self: Any, node: source_listing) -> None:
    n = node["start"]

    def open_line(n: int) -> str:
        return (f'<span class="hp-line" id="{line_anchor(n)}"><a class="hp-lineno" '
                f'href="#{line_anchor(n)}">{n}</a>')

    def plain(text: str) -> str:
        nonlocal n
        lines = text.split("\n")
        out = [self.encode(lines[0])]
        for part in lines[1:]:
            n += 1
            out.append(f"</span>\n{open_line(n)}{self.encode(part)}")
        return "".join(out)

    self.body.append(f'<pre class="hp-source">{open_line(n)}')
    for child in node.children:
        if isinstance(child, linktext.linked_text):
            self.body.append(linktext.html(child, self.encode, plain))
        else:
            self.body.append(plain(str(child)))
    self.body.append("</span></pre>\n")
    raise nodes.SkipNode


def _num(value: int) -> str:
    """A number, its hex beside it from 16 on (offsets are read against hex dumps)."""
    h = hex_of(value)
    return str(value) if h is None else f'{value}<span class="hp-hex"> ({h})</span>'


def _cell(c: list[int] | None, kind: str) -> str:
    """A layout cell's HTML."""
    if c is None:
        return "—"
    if kind == "size":
        return f"{_num(c[0])} (align {c[1]})"
    text = f"{_num(c[0])}+{_num(c[1])}"
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
        anchor: str | None = data.get("anchor")
        rows = []
        table = layout_table(archs=archs)
        domain = self.env.domains["xen"]
        for r in data["rows"]:
            kind = r["kind"]
            if kind == "heading":       # a comment heading the members below it
                rows.append({"kind": kind})
                table += cell([])
                table += cell(linked_nodes(self.env, r["doc"]))
                continue
            odd = set(r.get("odd", ()))
            row_id = f"{anchor}.{r['path']}" if anchor and kind == "member" else ""
            if row_id:
                # The C domain's name and anchor of a member: ``:c:member:`rec.field```
                # and other projects' intersphinx links land on the row.
                domain.note_c_name(row_id[2:], row_id, "member", table)
            rows.append({
                "kind": kind, "differs": bool(odd), "dir": r.get("dir", ""), "id": row_id,
                "path": r.get("path", "padding" if kind == "hole" else "size"),
                "depth": min(r.get("path", "").count("."), 4),
                "cells": [(r["cells"].get(a), a in odd) for a in archs]})
            table += cell(self._types(r))
            desc = linked_nodes(self.env, r["doc"]) if r.get("doc") else []
            if r.get("note"):
                desc.append(nodes.emphasis(r["note"], (" — " if desc else "") + r["note"]))
            table += cell(desc)
        table["rows"] = rows
        table.source, table.line = self.get_source_info()
        return [table]

    def _types(self, r: dict[str, Any]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for i, t in enumerate(r.get("types", ())):
            if i:
                out.append(nodes.Text(" / "))
            out += linked_nodes(self.env, t)
        if r.get("expands"):
            text = " = " + " / ".join(r["expands"])
            out.append(nodes.inline(text, text, classes=["hp-expands"]))
        return out


ODD = ' class="hp-odd"'


def visit_layout_table_html(self: Any, node: layout_table) -> None:
    enc = self.encode
    heads = ["Member", "Type", *node["archs"], "Dir", "Description"]
    # Wide tables scroll inside their wrapper, never the page.
    out = ['<div class="table-wrapper hp-scroll"><table class="docutils align-default '
           'hp-layout-table"><thead><tr>']
    out += [f'<th class="head">{enc(h)}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    self.body.append("".join(out))
    for i, r in enumerate(node["rows"]):
        if r["kind"] == "heading":
            self.body.append(f'<tr class="hp-heading"><td colspan="{len(heads)}"><em>')
            node.children[2 * i + 1].walkabout(self)
            self.body.append("</em></td></tr>\n")
            continue
        cls = f"hp-{r['kind']}" + (" hp-differs" if r["differs"] else "")
        name = (f'<code class="docutils literal">{enc(r["path"])}</code>'
                if r["kind"] == "member" else f"<em>{enc(r['path'])}</em>")
        row_id = r.get("id")
        if row_id:
            name += (f'<a class="headerlink" href="#{enc(row_id)}" '
                     f'title="Link to this member">¶</a>')
        attrs = f' id="{enc(row_id)}"' if row_id else ""
        self.body.append(f'<tr class="{cls}"{attrs}><td class="hp-depth-{r["depth"]}">'
                         f"{name}</td><td>")
        node.children[2 * i].walkabout(self)
        cells = "".join(f'<td{ODD if odd else ""}>{_cell(c, r["kind"])}</td>'
                        for c, odd in r["cells"])
        self.body.append(f"</td>{cells}<td>{enc(r['dir'])}</td><td>")
        node.children[2 * i + 1].walkabout(self)
        self.body.append("</td></tr>\n")
    self.body.append("</tbody></table></div>\n")
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


def skip_outside_html(self: Any, node: nodes.Node) -> None:
    raise nodes.SkipNode
