"""Release versions: parsing tag names, ordering, feature releases and branches.

Xen tags its releases ``RELEASE-X.Y.Z`` (``RELEASE-4.1.6.1`` once).  ``X.Y.0`` is a
*feature release*, cut from master; every other version is a *point release* of
the ``X.Y`` branch.  Versions order numerically, so a branch's point releases sit
between its feature release and the next one: the order a history is read in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"(\d+(?:\.\d+)+)")


@dataclass(frozen=True, order=True)
class Version:
    parts: tuple[int, ...]

    @property
    def branch(self) -> tuple[int, int]:
        """``(X, Y)``: the branch a point release belongs to."""
        return self.parts[0], self.parts[1]

    @property
    def feature(self) -> bool:
        """``X.Y.0`` (or ``X.Y``): a release cut from master, not from a stable branch."""
        return all(p == 0 for p in self.parts[2:])

    def __str__(self) -> str:
        return ".".join(map(str, self.parts))


def parse_version(tag: str) -> Version | None:
    """The version a tag names (``RELEASE-4.17.2`` -> 4.17.2); None for ``-rc`` and others.

    The version is the tag's only dotted number, ending the tag: release candidates
    (``4.17.0-rc1``) and anything else with a suffix is not a release.
    """
    found = _VERSION.findall(tag)
    if len(found) != 1 or not tag.endswith(found[0]):
        return None
    parts = tuple(int(p) for p in found[0].split("."))
    # 4.2 and 4.2.0 are one release: pad so that they compare equal.
    return Version(parts + (0,) * (3 - len(parts)))
