"""What the walk (:mod:`.clangparse`) reads of the tree besides libclang's answers.

Paths relative to the tree's root, spellings without the root, and the words of
the headers where libclang points (a line and a column in bytes).  No libclang here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_WORD = re.compile(r"\s*(\w+)")


class TreeText:
    """The tree under ``root``, as the walk names its files and reads their lines."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.normpath(str(root)) + os.sep
        self._paths: dict[str, str | None] = {}
        self._lines: dict[str, list[bytes]] = {}

    def rel(self, name: str) -> str | None:
        """The path of file ``name`` relative to the root; None when it is not under it."""
        rel = self._paths.get(name, "")
        if rel == "":
            p = os.path.normpath(name)
            rel = self._paths[name] = p[len(self.root):] if p.startswith(self.root) else None
        return rel

    def portable(self, spelled: str) -> str:
        """A clang spelling without this machine's path to the tree.

        Anonymous types are spelled ``struct (unnamed struct at /abs/path/pmu.h:42:5)``,
        also inside diagnostics; the model keeps ``pmu.h:42:5``, so that it does not
        depend on where the tree was materialized (the facts cache relies on this).
        """
        return spelled.replace(self.root, "")

    def word_at(self, name: str, line: int, col: int) -> str:
        """The word at ``line``, ``col`` of file ``name``, after any blanks; "" when none."""
        lines = self._lines.get(name)
        if lines is None:
            try:
                lines = Path(name).read_bytes().splitlines()
            except OSError:
                lines = []
            self._lines[name] = lines
        if not 0 < line <= len(lines):
            return ""
        # clang's columns count bytes: slicing decoded text would be off after any
        # non-ASCII character earlier on the line (in a comment, say).
        m = _WORD.match(lines[line - 1][col - 1:].decode("utf-8", errors="replace"))
        return m.group(1) if m else ""
