"""What an extraction is asked for: the arches, the view (guest or toolstack), the
interface version; and the one error an extraction as a whole can fail with."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    archs: tuple[str, ...] | None = None     # None: the default four plus those the tree has
    tools: bool = True                        # define __XEN_TOOLS__ (the toolstack's view)
    interface_version: str | None = None      # None: the tree's latest
    extra_defines: tuple[tuple[str, str | None], ...] = ()
    # False: no comment is attached to anything (every doc empty), for callers that read
    # only names, values and layouts (the history): a sixth less work per tree.
    docs: bool = True

    def key(self) -> str:
        fields = [self.archs, self.tools, self.interface_version, self.extra_defines]
        return json.dumps(fields if self.docs else [*fields, "no-docs"])


class ExtractError(Exception):
    """The tree cannot be extracted at all (bad arch name, libclang missing...)."""
