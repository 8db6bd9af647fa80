"""Compact nodes for the site's field lists and tables.

A docutils field costs five nodes (field, name, its text, body, paragraph) and a
table cell three, and every transform of every build walks each of them: on the
site's pages they were half of all nodes. These nodes keep plain text in
attributes and only the parts that can hold links (a fact's value, a cell with
markup) as children. The HTML writer draws them directly; for any other output
format :func:`facts_to_field_list` and :func:`grid_to_table` give ordinary
docutils nodes back (see ``headerparse.sphinxext.for_other_formats``).
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes

# Inline reST that parses to exactly its own text: no markup characters, and no
# underscore that could end a reference name (``name_``).
_CHARS = r"[A-Za-z0-9 .,;()+\-—–/#=%!?'\"]"
_PLAIN = re.compile(f"{_CHARS}*(?:_[A-Za-z0-9]{_CHARS}*)*")


def is_plain(text: str) -> bool:
    return bool(_PLAIN.fullmatch(text)) and "://" not in text


def cell(children: list[nodes.Node], source: Any = None, line: Any = None) -> nodes.Node:
    """A value or cell as one child: its only node when it has one (a Text, or a
    ``linked_text``), else an ``inline`` around its nodes."""
    if not children:
        return nodes.Text("")
    one = children[0]
    if len(children) == 1 and (isinstance(one, nodes.Text) or one.tagname == "linked_text"):
        node = one
    else:
        node = nodes.inline("", "", *children)
    if source is not None and isinstance(node, nodes.Element):
        node.source, node.line = source, line
    return node


def cell_nodes(node: nodes.Node) -> list[nodes.Node]:
    """The nodes a :func:`cell` holds."""
    return list(node.children) if isinstance(node, nodes.inline) else [node]


class facts(nodes.General, nodes.Element):
    """A field list: ``labels`` in an attribute, one :func:`cell` child per value."""


class grid(nodes.General, nodes.Element):
    """A table. ``rows`` holds each row's cells: a string, or the index of the
    child (a :func:`cell`) that holds the cell's parsed markup; ``widths`` the
    relative column widths, if given."""


def visit_facts_html(self: Any, node: facts) -> None:
    enc = self.encode
    classes = " ".join(["field-list", "simple", *node["classes"]])
    self.body.append(f'<dl class="{classes}">\n')
    for i, (label, child) in enumerate(zip(node["labels"], node.children, strict=True)):
        parity = "odd" if i % 2 == 0 else "even"
        self.body.append(f'<dt class="field-{parity}">{enc(label)}'
                         f'<span class="colon">:</span></dt>\n<dd class="field-{parity}"><p>')
        child.walkabout(self)
        self.body.append("</p>\n</dd>\n")
    self.body.append("</dl>\n")
    raise nodes.SkipNode


def visit_grid_html(self: Any, node: grid) -> None:
    enc = self.encode
    classes = " ".join(["docutils", "align-default", *node["classes"]])
    # A wide table scrolls inside its wrapper, never the page.
    self.body.append(f'<div class="table-wrapper hp-scroll"><table class="{classes}">\n')
    if node.get("title_child") is not None:
        self.body.append('<caption><span class="caption-text">')
        node.children[node["title_child"]].walkabout(self)
        self.body.append("</span></caption>\n")
    if node.get("widths"):
        total = sum(node["widths"])
        self.body.append("<colgroup>" + "".join(
            f'<col style="width: {100 * w // total}%" />' for w in node["widths"])
            + "</colgroup>\n")
    nhead = node["header_rows"]
    for r, cells in enumerate(node["rows"]):
        if r == 0 and nhead:
            self.body.append("<thead>\n")
        if r == nhead:
            self.body.append("<tbody>\n")
        tag, cls = ("th", ' class="head"') if r < nhead else ("td", "")
        self.body.append(f'<tr class="row-{"odd" if r % 2 == 0 else "even"}">')
        for cell in cells:
            self.body.append(f"<{tag}{cls}><p>")
            if isinstance(cell, int):
                node.children[cell].walkabout(self)
            else:
                self.body.append(enc(cell))
            self.body.append(f"</p></{tag}>")
        self.body.append("</tr>\n")
        if r == nhead - 1:
            self.body.append("</thead>\n")
    if len(node["rows"]) > nhead:
        self.body.append("</tbody>\n")
    self.body.append("</table></div>\n")
    raise nodes.SkipNode


def facts_to_field_list(node: facts) -> nodes.field_list:
    out = nodes.field_list(classes=node["classes"])
    for label, child in zip(node["labels"], node.children, strict=True):
        body = nodes.field_body("", nodes.paragraph("", "", *cell_nodes(child)))
        out += nodes.field("", nodes.field_name(label, label), body)
    return out


def grid_to_table(node: grid) -> nodes.table:
    ncols = max((len(r) for r in node["rows"]), default=1)
    table = nodes.table(classes=node["classes"])
    if node.get("title_child") is not None:
        table += nodes.title("", "", *cell_nodes(node.children[node["title_child"]]))
    group = nodes.tgroup(cols=ncols)
    table += group
    group += [nodes.colspec(colwidth=w) for w in node.get("widths") or [1] * ncols]
    head, body = nodes.thead(), nodes.tbody()
    for r, cells in enumerate(node["rows"]):
        row = nodes.row()
        for cell in cells:
            para = (nodes.paragraph("", "", *cell_nodes(node.children[cell]))
                    if isinstance(cell, int) else nodes.paragraph(cell, cell))
            row += nodes.entry("", para)
        (head if r < node["header_rows"] else body).append(row)
    if len(head):
        group += head
    group += body
    return table
