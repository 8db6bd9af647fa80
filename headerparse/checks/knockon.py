"""Knock-on ABI findings: a patch to one header moves the layouts of the headers that
include it (``io/ring.h``'s ring macros make every ``*_sring`` of io/).

Review shows the single-tree findings (prose, hygiene) of the touched headers only,
but every ABI finding wherever it is; one outside the touched headers is labelled
with the touched header(s) it comes through, found on the include graph of the
trees before and after the patch, and is at most a warning: the errors (and the exit
code) are those of the headers the patch changes, which its author can act on. In
Xen's 93d913c6e66e the knock-on errors were consequences the patch versions for
guests that only the tools' view (always the latest interface) still sees: the
flexible ring array in vm_event.h, tmem.h's 64-bit guest handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from headerparse.checks.rules import Finding
from headerparse.model import Model


def include_graph(*models: Model) -> dict[str, set[str]]:
    """Header -> the headers it includes directly, on any arch, in any of ``models``."""
    graph: dict[str, set[str]] = {}
    for model in models:
        for h in model.headers:
            graph.setdefault(h.path, set()).update(h.includes)
    return graph


def causes(graph: dict[str, set[str]], path: str, touched: set[str]) -> list[str]:
    """The touched headers ``path`` includes, directly or through others; failing that,
    the touched headers that include ``path`` (a fragment such as arch-x86/xen-x86_64.h
    is laid out with what its includer defined before it)."""
    found = (reachable(graph, [path]) - {path}) & touched
    if not found:
        found = {t for t in touched if path in reachable(graph, [t]) - {t}}
    return sorted(found)


def reachable(graph: Mapping[str, Iterable[str]], starts: Iterable[str]) -> set[str]:
    """Every node that one edge or more of ``graph`` lead to from ``starts``."""
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def label(findings: Iterable[Finding], touched: set[str], *models: Model) -> list[Finding]:
    """``findings`` with those outside ``touched`` labelled with their cause, errors
    lowered to warnings.

    The label goes into the message only: the ABI findings' keys (their identity for
    "introduced") do not change.
    """
    graph: dict[str, set[str]] | None = None
    out = []
    for f in findings:
        if f.loc is None or f.loc.file in touched:
            out.append(f)
            continue
        graph = graph if graph is not None else include_graph(*models)
        through = causes(graph, f.loc.file, touched)
        why = (f"knock-on of the change to {', '.join(through)}" if through
               else "in a header the patch does not touch")
        severity = "warning" if f.severity == "error" else f.severity
        out.append(replace(f, message=f"{f.message} ({why})", severity=severity))
    return out

