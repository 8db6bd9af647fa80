"""The runtime-checked interface versions of the last release, read from its text.

Review asks whether ``XEN_DOMCTL_INTERFACE_VERSION`` and its siblings moved since the
last release (:func:`moved_since`). Xen defines each once, as a literal; reading
the three defines costs nothing, where extracting the release's whole model cost a
third extraction in every review of domctl.h, sysctl.h or vm_event.h. Anything else
(two definitions, an expression) is left to the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from headerparse.checks.guards import RUNTIME_CHECKED
from headerparse.model import Model

_DEFINE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+(" + b"|".join(
    n.encode() for n in RUNTIME_CHECKED) + rb")\b(.*)$", re.M)
_LITERAL = re.compile(r"\s*(0[xX][0-9a-fA-F]+|[1-9][0-9]*|0)[uUlL]*\s*(?:/\*.*\*/\s*)?")


@dataclass(frozen=True)
class Versions:
    """The values of the runtime-checked versions in one tree (``tree``: its description)."""
    tree: str
    values: Mapping[str, frozenset[int]]


def from_text(description: str, files: Mapping[str, bytes]) -> Versions | None:
    """The versions of ``files`` when each is defined at most once, as a literal."""
    found: dict[str, list[int]] = {}
    for data in files.values():
        for m in _DEFINE.finditer(data):
            lit = _LITERAL.fullmatch(m.group(2).decode("utf-8", "replace"))
            if lit is None:
                return None
            found.setdefault(m.group(1).decode(), []).append(int(lit.group(1), 0))
    if any(len(v) > 1 for v in found.values()):
        return None
    return Versions(description, {g: frozenset(found.get(g, ())) for g in RUNTIME_CHECKED})


def of_model(model: Model) -> Versions:
    return Versions(model.tree, {g: frozenset(v for m in model.macros_named(g)
                                              for v in m.values.values())
                                 for g in RUNTIME_CHECKED})


def moved_since(release: Versions, current: Model) -> set[str]:
    """The runtime-checked versions whose value differs from ``release``'s."""
    now = of_model(current)
    return {g for g in RUNTIME_CHECKED if release.values[g] != now.values[g]}
