"""A reST parser that reports generated lines at the header line they came from.

Generated pages carry ``.. hp-loc: FILE:LINE`` comments: the line after one stands
for LINE of FILE, the next for LINE+1, and so on up to the next marker. Each line
of the input keeps that (source, line) in docutils' StringList, so a warning about
a generated line names the header and its line instead of a staging file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import ClassVar

import docutils.statemachine
from docutils import nodes
from docutils.parsers.rst import states
from docutils.statemachine import StringList
from sphinx.parsers import RSTParser

from headerparse.sphinxext.liststates import STATE_CLASSES, reusing

FILETYPE = "headerparse-rst"
_MARK = re.compile(r"\s*\.\. hp-loc: (?P<file>\S+):(?P<line>-?\d+)\s*\Z")


def _walk(lines: list[str], source: str, resolve: Callable[[str], str]
          ) -> Iterator[tuple[str, tuple[str, int], bool]]:
    """Each line with its (source, 0-based offset), and whether it is a marker."""
    current: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        m = _MARK.match(line) if ".. hp-loc:" in line else None
        if m:
            yield line, (source, i), True
            current = (resolve(m.group("file")), int(m.group("line")) - 1)
        elif current is None:
            yield line, (source, i), False
        else:
            yield line, current, False
            current = (current[0], current[1] + 1)


def map_lines(lines: list[str], source: str,
              resolve: Callable[[str], str] = lambda f: f) -> list[tuple[str, int]]:
    """(source, 0-based offset) for each line, through the markers."""
    return [item for _line, item, _mark in _walk(lines, source, resolve)]


def mapped_lines(lines: list[str], source: str,
                 resolve: Callable[[str], str] = lambda f: f) -> StringList:
    """The lines to parse, each mapped to its header line, without the markers: a
    marker has done its job once the lines are mapped, and left in, each would
    become a comment node that every later transform walks past."""
    kept = [(line, item) for line, item, mark in _walk(lines, source, resolve) if not mark]
    return StringList([line for line, _ in kept], items=[item for _, item in kept])


class HeaderRSTParser(RSTParser):
    supported: ClassVar[tuple[str, ...]] = (FILETYPE,)

    def parse(self, inputstring: str | StringList, document: nodes.document) -> None:
        if not isinstance(inputstring, str):
            super().parse(inputstring, document)
            return
        self.setup_parse(inputstring, document)  # type: ignore[arg-type]
        self.statemachine = states.RSTStateMachine(
            state_classes=STATE_CLASSES, initial_state=self.initial_state,
            debug=document.reporter.debug_flag)
        lines = docutils.statemachine.string2lines(
            inputstring, tab_width=document.settings.tab_width, convert_whitespace=True)
        root = getattr(self._config, "xen_header_root", "") or ""
        inputlines = mapped_lines(
            lines, document.current_source,
            (lambda f: f"{root.rstrip('/')}/{f}") if root else (lambda f: f))
        self.decorate(inputlines)
        with reusing(document):
            self.statemachine.run(inputlines, document, inliner=self.inliner)
        self.finish_parse()
