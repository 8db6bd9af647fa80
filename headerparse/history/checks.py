"""What ``check`` takes from the ABI history: names a release removed, defined again.

A name that a feature release removed and a later tree defines again has two
meanings in the world: guests and tools built against the old one compile
against the new one without a word.  Only the history knows, so ``check`` asks
it when ``--tree`` has release tags, from the cache only (computing takes
minutes; a missing history is one line saying how to compute it).  The tree is
placed by ``git describe``: a release before the removal (4.2.x for a name gone
in 4.3.0) still has the name, and is not told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headerparse.history.revisions import last_release
from headerparse.history.versions import Version, parse_version

if TYPE_CHECKING:
    from headerparse.checks.rules import Finding
    from headerparse.model import Model
    from headerparse.tree import HeaderTree

RULE = "XC411"


def reused_names(tree: HeaderTree, model: Model, cache: Path | None,
                 say: Callable[[str], None] | None = None) -> list[Finding]:
    """XC411 findings: names of ``model`` that the history says a release before it removed."""
    from headerparse.site.history import repo_of, tree_history

    repo = repo_of(tree)
    history = tree_history(tree, cache=cache, say=say, compute=False) if repo else None
    if repo is None or history is None:
        return []
    at = _release_of(repo, tree)
    if at is None:
        return []
    return list(_findings(history, model, at))


def _findings(history: dict[str, Any], model: Model, at: Version) -> Iterator[Finding]:
    from headerparse.checks.rules import Finding

    symbols = history["symbols"]
    for name, loc in _defined(model):
        e = symbols.get(name)
        if e is None or e["removed"] is None or parse_version(e["removed"]) > at:
            continue
        since = e["since"] or (e["backports"] or ["?"])[0]
        yield Finding(RULE, loc, f"{name} is defined again: Xen {e['removed']} removed it "
                      f"(it was in the ABI from {since}); code built against the old "
                      "definition compiles against this one", symbol=name,
                      key=f"{name} removed in {e['removed']}")


def _defined(model: Model) -> Iterator[tuple[str, Any]]:
    """(history key, where) of every public symbol some arch compiles in ``model``."""
    for m in model.macros:
        if m.archs:
            yield m.name, m.loc
    for e in model.enums:
        for c in e.constants:
            yield c.name, c.loc
    for r in model.records:
        if "(" not in r.key:
            yield r.key, r.loc
    for t in model.typedefs:
        yield t.name, t.loc
    for h in model.hypercalls:
        yield f"HYPERVISOR_{h.name}", h.loc


def _release_of(repo: Path, tree: HeaderTree) -> Version | None:
    """The release the tree is or follows (``git describe``); None off a tagged history."""
    source = tree.git_source()
    tag = last_release(repo, source[1] if source is not None else "HEAD")
    return parse_version(tag) if tag else None
