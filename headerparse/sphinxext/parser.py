"""A reST parser that reports generated lines at the header line they came from.

Generated pages carry ``.. hp-loc: FILE:LINE`` comments: the line after one stands
for LINE of FILE, the next for LINE+1, and so on up to the next marker. Each line
of the input keeps that (source, line) in docutils' StringList, so a warning about
a generated line names the header and its line instead of a staging file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

import docutils.statemachine
from docutils import nodes
from docutils.parsers.rst import states
from docutils.statemachine import StringList
from sphinx.parsers import RSTParser

FILETYPE = "headerparse-rst"
SUFFIX = ".hrst"
_MARK = re.compile(r"\s*\.\. hp-loc: (?P<file>\S+):(?P<line>-?\d+)\s*\Z")


def map_lines(lines: list[str], source: str,
              resolve: Callable[[str], str] = lambda f: f) -> list[tuple[str, int]]:
    """(source, 0-based offset) for each line, through the markers."""
    items: list[tuple[str, int]] = []
    current: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        m = _MARK.match(line) if ".. hp-loc:" in line else None
        if m:
            items.append((source, i))
            current = (resolve(m.group("file")), int(m.group("line")) - 1)
            continue
        if current is None:
            items.append((source, i))
        else:
            items.append(current)
            current = (current[0], current[1] + 1)
    return items


class HeaderRSTParser(RSTParser):
    supported: ClassVar[tuple[str, ...]] = (FILETYPE,)

    def parse(self, inputstring: str | StringList, document: nodes.document) -> None:
        if not isinstance(inputstring, str):
            super().parse(inputstring, document)
            return
        self.setup_parse(inputstring, document)  # type: ignore[arg-type]
        self.statemachine = states.RSTStateMachine(
            state_classes=self.state_classes, initial_state=self.initial_state,
            debug=document.reporter.debug_flag)
        lines = docutils.statemachine.string2lines(
            inputstring, tab_width=document.settings.tab_width, convert_whitespace=True)
        root = getattr(self._config, "xen_header_root", "") or ""
        items = map_lines(lines, document.current_source,
                          (lambda f: f"{root.rstrip('/')}/{f}") if root else (lambda f: f))
        # A marker has done its job once the lines are mapped; left in, each would
        # become a comment node that every later transform walks past.
        kept = [i for i, line in enumerate(lines) if ".. hp-loc:" not in line
                or not _MARK.match(line)]
        inputlines = StringList([lines[i] for i in kept], items=[items[i] for i in kept])
        self.decorate(inputlines)
        self.statemachine.run(inputlines, document, inliner=self.inliner)
        self.finish_parse()
