"""How many times clangparse walked a unit, and which walks gave up (a literal macro
defined elsewhere too: the unit is parsed again, every macro probed)."""

from __future__ import annotations

import pytest

from headerparse.extract import archfacts, clangparse


def count_walks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that gets, for each walk from now on, whether it gave up."""
    walks: list[bool] = []
    walk = clangparse._Walker.walk

    def counted(self: clangparse._Walker, *args: object) -> archfacts.ArchFacts | None:
        got = walk(self, *args)     # type: ignore[arg-type]
        walks.append(got is None)
        return got

    monkeypatch.setattr(clangparse._Walker, "walk", counted)
    return walks
