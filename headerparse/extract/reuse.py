"""What one process's merges can share: results keyed by everything they read.

A review merges two trees (the parent and the patched one) that differ in a
header or two: most records have the same raw facts and the same header texts
on both sides, and documenting their members (:mod:`.attach`'s rules, a third
of a merge) gives the same fields.  The key is the content, not the objects:
facts parsed again or sources decoded again still hit, and a record whose
header changed (its text is part of the key) misses.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """A dict of results that forgets everything once it holds ``limit`` of them.

    The limit bounds what a long process (a site build merging many releases)
    keeps alive; a review's two merges stay well under it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[Hashable, V] = {}
        self.hits = 0

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self._seen.get(key)
        if found is not None:
            self.hits += 1
            return found
        if len(self._seen) >= self.limit:
            self._seen.clear()
        value = self._seen[key] = make()
        return value

    def clear(self) -> None:
        self._seen.clear()
        self.hits = 0
