"""ABI history: since, backports, removed and changed for every symbol of a Xen tree.

Reads the release tags of a git tree (:mod:`revisions`), extracts each distinct
header tree once into a cached ABI summary (:mod:`summary`), and folds the
summaries, oldest first, into the history (:mod:`compute`); :mod:`run` ties them
together and keeps the history for the next run.
"""

from __future__ import annotations

from typing import Any

from headerparse.history.compute import FORMAT, Builder
from headerparse.history.revisions import DEFAULT_PATTERN, Release, list_releases
from headerparse.history.run import HistoryError, Outcome, build_history, cached_history
from headerparse.history.versions import Version, parse_version

__all__ = ["DEFAULT_PATTERN", "FORMAT", "Builder", "HistoryError", "Outcome", "Release",
           "Version", "build_history", "cached_history", "describe", "list_releases", "lookup",
           "parse_version"]


def lookup(history: dict[str, Any], name: str) -> tuple[str, dict[str, Any]] | None:
    """The history entry ``name`` means: itself, or the struct/union/hypercall of that name."""
    symbols = history["symbols"]
    bare = " ".join(name.split())
    for key in (bare, f"struct {bare}", f"union {bare}", f"HYPERVISOR_{bare}"):
        if key in symbols:
            return key, symbols[key]
    return None


def describe(history: dict[str, Any], name: str) -> list[str]:
    """What ``show`` prints about ``name``'s history: since, backports, removed, changed.

    Empty when the history does not know the name.
    """
    found = lookup(history, name)
    if found is None:
        return []
    key, entry = found
    releases = history["releases"]
    span = f" (releases read: {releases[0]} to {releases[-1]})" if releases else ""
    if entry["since"] is None:
        lines = [f"{key}: in point releases only{span}"]
    elif releases and entry["since"] == releases[0]:
        lines = [f"{key}: since {entry['since']} or earlier (the oldest release read){span}"]
    else:
        lines = [f"{key}: since {entry['since']}{span}"]
    if entry.get("compiled") is False:
        lines[0] += f"; {entry['why']}, not compiled"
    if entry["backports"]:
        lines.append(f"  backported to {', '.join(entry['backports'])}")
    if entry["removed"]:
        lines.append(f"  removed in {entry['removed']}")
    for c in entry["changed"]:
        lines.append(f"  changed in {c['release']} [{','.join(c['archs'])}]: {c['what']}")
    return lines
