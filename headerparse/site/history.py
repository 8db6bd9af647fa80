"""The site's view of the ABI history (issue 13): since-badges and one page per release.

When the tree a site is built from is a git repository with release tags
(``RELEASE-*``), :func:`tree_history` reads or computes its history
(:mod:`headerparse.history`); :class:`SiteHistory` turns it into what the pages
show: a badge (``since 4.9.0``, ``removed in 4.20.0``) for each hypercall, sub-op,
struct, member and constant, and the "ABI changes in X.Y" pages, built from the
history's since / removed / changed data of each feature release.

A tree that is not a git repository, or has no release tag, has no history: the
site is the same as without this module, and nothing is said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from headerparse.history.versions import Version, parse_version
from headerparse.tree import HeaderTree

RELEASES_DIR = "releases"
# git describe of the site's commit: the release tag it is or follows.
_DESCRIBED = re.compile(r"^(?P<tag>.+?)(?:-\d+-g[0-9a-f]+)?$")
# Sections of a release page, in this order: history kind -> heading.
SECTIONS = (("hypercall", "Hypercalls"), ("subop", "Sub-ops"), ("record", "Structs and unions"),
            ("typedef", "Typedefs"), ("constant", "Constants"))


def repo_of(tree: HeaderTree) -> Path | None:
    """The git repository a tree was read from: a checkout, or the repository of ``--rev``."""
    source = tree.git_source()
    return source[0] if source is not None and source[0].is_dir() else None


def tree_history(tree: HeaderTree, *, cache: Path | None,
                 say: Callable[[str], None] | None = None,
                 compute: bool = True) -> dict[str, Any] | None:
    """The history of the repository ``tree`` comes from, or None when it has none.

    ``compute`` False only takes a history an earlier run left in the cache (what
    ``show`` and ``check`` do: it costs one git call, and a missing one is a line
    through ``say`` telling how to compute it); True computes what is missing,
    each distinct header tree extracted once ever.  A failure is one warning line
    through ``say``, never an error: the site is still the site without it.
    """
    from headerparse.history import DEFAULT_PATTERN, HistoryError, build_history, cached_history
    from headerparse.history.revisions import list_releases
    from headerparse.tree import TreeError

    repo = repo_of(tree)
    if repo is None:
        return None
    try:
        if not list_releases(repo, (DEFAULT_PATTERN,)).releases:
            return None
    except TreeError:
        return None
    kept = cached_history(repo, cache=cache) if cache is not None else None
    if kept is not None:
        return kept
    if not compute:
        if say:
            say(f"no ABI history of {repo} in the cache; `headerparse history --tree {repo}` "
                "computes it (once: each release's headers are extracted), then rerun")
        return None
    try:
        outcome = build_history(repo, cache=cache,
                                progress=(lambda m: say(f"history: {m}")) if say else None)
    except HistoryError as exc:
        if say:
            say(f"warning: no ABI history: {exc}")
        return None
    return outcome.history


@dataclass(frozen=True)
class ReleaseChanges:
    """What one feature release changed, by section (see :data:`SECTIONS`)."""

    release: str
    previous: str       # the feature release it is compared with
    # section -> the arches it is on (as text) -> names, e.g. {"constant": {"arm32, arm64": [...]}}
    added: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    removed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # (name, section, arches, what changed)
    changed: list[tuple[str, str, list[str], str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"ABI changes in {short(self.release)}"

    @property
    def docname(self) -> str:
        return f"{RELEASES_DIR}/{short(self.release)}"

    @property
    def count(self) -> int:
        return (sum(len(names) for group in (self.added, self.removed)
                    for by_archs in group.values() for names in by_archs.values())
                + len(self.changed))


def short(release: str) -> str:
    """``4.20.0`` -> ``4.20``: a feature release by its branch, as Xen names them."""
    parts = release.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 and set(parts[2:]) == {"0"} else release


class SiteHistory:
    """The history as the pages use it (a jinja global: ``history``)."""

    def __init__(self, history: dict[str, Any], described: str | None = None,
                 subops: frozenset[str] = frozenset()) -> None:
        self.symbols: dict[str, dict[str, Any]] = history["symbols"]
        self.releases: list[str] = history["releases"]
        self.oldest = self.releases[0] if self.releases else None
        self.upto = _site_release(described)
        self.subops = subops
        self._members: dict[str, list[tuple[str, str]]] = {}
        for name, e in self.symbols.items():
            record, dot, path = name.partition(".")
            if dot and e["kind"] == "member" and e["since"]:
                self._members.setdefault(record, []).append((path, e["since"]))

    # ------------------------------------------------------------ badges

    def badge(self, name: str) -> str:
        """Inline reST: the badges of ``name`` (a history key: ``HYPERVISOR_x``,
        ``struct x``, a macro or enumerator); empty when the history does not know it."""
        e = self.symbols.get(name)
        if e is None:
            # Not "unreleased": the history leaves out foreign/ and sys/, and a
            # name it does not know may be spelt otherwise there.
            return ""
        out = [_role(self._since(e))]
        if e["removed"]:
            out.append(_role(f"removed in {e['removed']}"))
        if e.get("compiled") is False:
            out.append(_role(f"{e['why']}, not compiled"))
        return " ".join(out)

    def _since(self, e: dict[str, Any]) -> str:
        if e["since"] is None:
            return f"in {', '.join(e['backports'])}"
        text = f"since {e['since']}"
        if e["since"] == self.oldest:
            text += " or earlier"
        if e["backports"]:
            text += f", backported to {', '.join(e['backports'])}"
        return text

    def later_members(self, key: str) -> str:
        """Members of record ``key`` newer than the record, as ``path (since X)`` text."""
        e = self.symbols.get(key)
        if e is None or not e["since"]:
            return ""
        own = _version(e["since"])
        later = [f"{path} (since {since})" for path, since in self._members.get(key, ())
                 if _version(since) > own]
        return ", ".join(later)

    # ------------------------------------------------------------ release pages

    @cached_property
    def pages(self) -> list[ReleaseChanges]:
        """Each feature release after the oldest read, up to the site's own, newest first."""
        features = [r for r in self.releases if _version(r).feature
                    and (self.upto is None or _version(r) <= self.upto)]
        pages = {r: ReleaseChanges(r, before) for before, r in zip(features, features[1:],
                                                                  strict=False)}
        for name, e in self.symbols.items():
            section = self._section(name, e["kind"])
            if section is None:
                continue
            if e["since"] in pages:
                pages[e["since"]].added.setdefault(section, {}).setdefault(
                    _on(e, e.get("since_archs")), []).append(name)
            if e["removed"] in pages:
                pages[e["removed"]].removed.setdefault(section, {}).setdefault(
                    _on(e, e.get("removed_archs")), []).append(name)
            for c in e["changed"]:
                if c["release"] in pages:
                    pages[c["release"]].changed.append((name, section, c["archs"], c["what"]))
        order = {key: n for n, (key, _label) in enumerate(SECTIONS)}
        for page in pages.values():
            page.changed.sort(key=lambda row: (order[row[1]], row[0]))
        return [pages[r] for r in reversed(features[1:])]

    def render_pages(self, render: Callable[..., str]) -> dict[str, str]:
        """The release pages: docname -> reST, through ``render(template, docname, **ctx)``."""
        return {c.docname: render("release.rst.j2", c.docname, c=c, previous=c.previous,
                                  sections=SECTIONS) for c in self.pages}

    def _section(self, name: str, kind: str) -> str | None:
        # A member is told with its record: added with it, or in the record's change;
        # a hypercall's number macro with the hypercall.
        if kind == "member" or (name.startswith("__HYPERVISOR_")
                                and f"HYPERVISOR_{name[13:]}" in self.symbols):
            return None
        if kind in ("struct", "union"):
            # A guest handle's struct comes with the type it is declared for.
            return None if name.split()[-1].startswith("__guest_handle") else "record"
        if kind in ("hypercall", "typedef"):
            return kind
        return "subop" if kind == "subop" or name in self.subops else "constant"


def _on(e: dict[str, Any], archs: list[str] | None) -> str:
    """The arches a symbol was added on or removed from, as a release page groups them."""
    if e.get("compiled") is False:
        return f"no compiled arch ({e['why']})"
    return ", ".join(archs) if archs else "arches not recorded"


def _site_release(described: str | None) -> Version | None:
    """The release a site's commit is or follows (``RELEASE-4.20.0-12-gabcdef``: 4.20.0)."""
    m = _DESCRIBED.match(described or "")
    return parse_version(m.group("tag")) if m else None


def _version(name: str) -> Version:
    v = parse_version(name)
    assert v is not None, name
    return v


def _role(text: str) -> str:
    return f":xen:badge:`{text}`"
