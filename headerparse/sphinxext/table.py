"""``xen:table``: the list-table shape generated pages use, read without nested parses.

docutils' ``list-table`` parses its content as a bullet list, and each cell as a
nested document: a fresh state machine per cell, which made tables the costliest
part of reading the site. Generated cells are always one paragraph of inline reST,
so this directive takes the same text (``* -`` starts a row, ``  -`` the next cell,
deeper-indented lines continue a cell) and parses each cell as inline text only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from headerparse.sphinxext import linktext
from headerparse.sphinxext.compact import cell, grid, is_plain


class TableDirective(SphinxDirective):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {
        "header-rows": directives.nonnegative_int, "class": directives.class_option,
        "widths": directives.positive_int_list}

    def run(self) -> list[nodes.Node]:
        rows = self._rows()
        if not rows:
            raise self.error("xen:table: no rows")
        widths = self.options.get("widths")
        ncols = max(len(r) for r in rows)
        if widths and len(widths) != ncols:
            raise self.error(f"xen:table: {len(widths)} widths for {ncols} columns")
        node = grid(classes=self.options.get("class", []), rows=[], widths=widths,
                    header_rows=self.options.get("header-rows", 0), title_child=None)
        out: list[nodes.Node] = [node]
        if self.arguments:
            title, messages = linktext.inline(self.state, self.arguments[0], self.lineno)
            out += messages
            node["title_child"] = len(node.children)
            node += cell(title)
        for cells in rows:
            row: list[str | int] = []
            for text, line in cells + [("", self.lineno)] * (ncols - len(cells)):
                if is_plain(text):
                    row.append(text)
                    continue
                inline, messages = linktext.inline(self.state, text, line)
                out += messages
                row.append(len(node.children))
                node += cell(inline, self.get_source_info()[0], line)
            node["rows"].append(row)
        return out

    def _rows(self) -> list[list[tuple[str, int]]]:
        rows: list[list[tuple[str, int]]] = []
        for i, line in enumerate(self.content):
            if not line.strip():
                continue
            _src, offset = self.content.info(i)
            lineno = (offset or 0) + 1
            stripped = line.lstrip()
            if line.startswith("* -"):
                rows.append([(line[3:].strip(), lineno)])
            elif stripped.startswith("- ") or stripped == "-":
                if not rows:
                    raise self.error(f"xen:table: a cell before the first row: {line!r}")
                rows[-1].append((stripped[1:].strip(), lineno))
            elif rows and line.startswith("    "):
                text, first = rows[-1][-1]
                rows[-1][-1] = (f"{text} {stripped}".strip(), first)
            else:
                raise self.error(f"xen:table: not a row, cell or continuation: {line!r}")
        return rows
