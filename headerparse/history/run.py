"""A git tree's releases -> its history, extracting each distinct header tree once.

Two caches below the cache dir's ``history/``:

``summaries/``  one release's ABI summary (:mod:`summary`), keyed by the git tree
                hash of its public headers: a tree is extracted once, whichever
                tags name it and however often the history is recomputed;
``state/``      the last history of a repository and tag pattern (the
                :class:`~compute.Builder` state and the releases it read): an
                unchanged tag list costs reading it; new tags that sort after
                every release read, or new point releases, are added to it;
                anything else (a tag moved or deleted, a feature release
                inserted) recomputes from the summaries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from headerparse.history import summary as summaries
from headerparse.history.compute import Builder
from headerparse.history.revisions import DEFAULT_PATTERN, Release, list_releases
from headerparse.history.versions import Version

Progress = Callable[[str], None]
STATE_FORMAT = "headerparse-history-state/2"


class HistoryError(Exception):
    """The history cannot be computed at all; the message is one line."""


@dataclass
class Outcome:
    history: dict[str, Any]
    problems: list[str] = field(default_factory=list)   # one line per release with trouble
    extracted: int = 0                                  # trees extracted by this run
    mode: str = "full"                                  # "cached" | "incremental" | "full"


def build_history(repo: Path, patterns: tuple[str, ...] = (DEFAULT_PATTERN,), *,
                  cache: Path | None = None, progress: Progress | None = None,
                  options: Any = None) -> Outcome:
    """The history of ``repo``'s release tags matching ``patterns`` (git ref globs)."""
    from headerparse.extract import Options
    from headerparse.tree import TreeError

    say = progress or (lambda _m: None)
    try:
        listing = list_releases(repo, patterns)
    except TreeError as exc:
        raise HistoryError(str(exc)) from exc
    if not listing.releases:
        raise HistoryError(f"no release tag of {repo} matches {' '.join(patterns)}")
    run = _Run(repo, cache, options or Options(), say)
    state_path = run.state_path(patterns) if cache is not None else None
    state = _load_state(state_path)
    current = [_row(r) for r in listing.releases]
    if state is not None and state["rows"] == current:
        return Outcome(Builder(state["builder"]).result(), state["problems"], 0, "cached")
    rows, builder, problems, mode = [], Builder(), [], "full"
    todo = list(listing.releases)
    if state is not None and _extends(state["rows"], current):
        rows, builder, problems = state["rows"], Builder(state["builder"]), state["problems"]
        todo = [r for r in listing.releases if _row(r) not in rows]
        mode = "incremental"
    run.read(todo, builder, problems, listing.releases)
    rows = sorted(rows + [_row(r) for r in todo], key=lambda row: Version(tuple(row[1])))
    if state_path is not None:
        _save_state(state_path, {"format": STATE_FORMAT, "rows": rows,
                                 "builder": builder.state(), "problems": problems})
    return Outcome(builder.result(), problems, run.extracted, mode)


def cached_history(repo: Path, patterns: tuple[str, ...] = (DEFAULT_PATTERN,), *,
                   cache: Path, options: Any = None) -> dict[str, Any] | None:
    """The history of ``repo`` when a run has computed it and no tag changed since; else None.

    For ``show`` and the site: listing the tags costs one git call and nothing
    is extracted; a tree that is not a git repository, or has no release tag,
    has no history (None, never an error).
    """
    from headerparse.extract import Options
    from headerparse.tree import TreeError

    try:
        listing = list_releases(repo, patterns)
    except TreeError:
        return None
    run = _Run(repo, cache, options or Options(), lambda _m: None)
    state = _load_state(run.state_path(patterns))
    if not listing.releases or state is None \
            or state["rows"] != [_row(r) for r in listing.releases]:
        return None
    return Builder(state["builder"]).result()


def _row(r: Release) -> list[Any]:
    return [r.tag, list(r.version.parts), r.tree]


def _extends(old: list[list[Any]], new: list[list[Any]]) -> bool:
    """Whether ``new`` only adds releases that a Builder of ``old`` accepts."""
    if not old or any(row not in new for row in old):
        return False
    versions = sorted(Version(tuple(row[1])) for row in old)
    oldest, newest = versions[0], versions[-1]
    for row in sorted((r for r in new if r not in old), key=lambda r: r[1]):
        v = Version(tuple(row[1]))
        if v > newest:
            newest = v
        elif v.feature or v < oldest:
            return False
    return True


class _Run:
    def __init__(self, repo: Path, cache: Path | None, options: Any, say: Progress) -> None:
        self.repo, self.cache, self.options, self.say = repo, cache, options, say
        self.extracted = 0
        # The last trees read: a point release with its predecessor's headers (a
        # tag with no header change) is not extracted again, even with no cache.
        self.recent: dict[str, dict[str, Any]] = {}

    def state_path(self, patterns: tuple[str, ...]) -> Path:
        assert self.cache is not None
        key = json.dumps([str(self.repo.resolve()), sorted(patterns), self.options.key(),
                          summaries.cache_path(self.cache, "", self.options.key()).name])
        name = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.cache / "history" / "state" / f"{name}.json"

    def read(self, todo: list[Release], builder: Builder, problems: list[str],
             every: tuple[Release, ...]) -> None:
        previous = None
        for n, release in enumerate(todo, 1):
            summary, how = self.summary(release)
            self.say(f"{n}/{len(todo)} {release.tag}{how}")
            if "failed" in summary:
                problems.append(f"{release.tag}: {summary['failed']}")
                continue
            problems.extend(_compile_problems(release, summary))
            if previous is None and builder.previous is not None and release.version.feature:
                # Added to a kept history: only a feature release is compared with the
                # previous one, so a new point release does not read it.
                owner = next((r for r in every if r.tree == builder.previous), None)
                previous = self.summary(owner)[0] if owner is not None else None
            builder.add(release.version, summary, previous)
            if builder.previous == summary["tree"]:
                previous = summary

    def summary(self, release: Release) -> tuple[dict[str, Any], str]:
        """The release's summary, from the cache or extracted (and then cached)."""
        if release.tree in self.recent:
            return self.recent[release.tree], " (same headers as an earlier release)"
        summary, how = self._summary(release)
        self.recent = {release.tree: summary, **dict(list(self.recent.items())[:1])}
        return summary, how

    def _summary(self, release: Release) -> tuple[dict[str, Any], str]:
        path = None
        if self.cache is not None:
            path = summaries.cache_path(self.cache, release.tree, self.options.key())
            hit = summaries.load(path, release.tree)
            if hit is not None:
                return hit, " (cached)"
        summary, keep = self._extract(release)
        if path is not None and keep:
            summaries.save(path, summary)
        return summary, ""

    def _extract(self, release: Release) -> tuple[dict[str, Any], bool]:
        """(summary, whether to cache it): a failure of the tree itself is cached too."""
        from headerparse.extract import ExtractError, extract
        from headerparse.tree import TreeError, open_tree

        failed = {"format": summaries.FORMAT, "tree": release.tree}
        try:
            tree = open_tree(str(self.repo), release.tag)
        except TreeError as exc:
            return {**failed, "failed": str(exc)}, True
        archs = summaries.archs_of(tree.files)
        if self.options.archs:
            archs = tuple(a for a in archs if a in self.options.archs)
        if not archs:
            return {**failed, "failed": "no header of an arch headerparse compiles for"}, True
        self.extracted += 1
        try:
            # A summary reads no doc: none is attached (docs=False, a tenth less CPU a tree).
            options = replace(self.options, archs=archs, docs=False, extra_defines=(
                *self.options.extra_defines, *summaries.era_defines(tree.files)))
            model = extract(tree, options, cache=self.cache)
        except ExtractError as exc:      # libclang missing or the like: every tree would fail
            raise HistoryError(str(exc)) from exc
        except Exception as exc:          # one odd tree must not end the history: said, not kept
            return {**failed, "failed": f"extraction failed: {type(exc).__name__}: {exc}"}, False
        return summaries.from_model(model, release.tree, tree.files), True


def _compile_problems(release: Release, summary: dict[str, Any]) -> list[str]:
    errors = summary["errors"]
    if not errors:
        return []
    counts = ", ".join(f"{arch} {e['count']}" for arch, e in errors.items())
    first = next(iter(errors.values()))["first"]
    return [f"{release.tag}: compile errors ({counts}); their symbols are kept, their changes "
            f"not compared; first: {first}"]


def _load_state(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return None
    builder = data.get("builder")
    # Written whole (renamed into place), but a hand-edited or foreign file is a miss.
    if not (isinstance(data.get("rows"), list) and isinstance(data.get("problems"), list)
            and isinstance(builder, dict)
            and {"releases", "symbols", "previous"} <= builder.keys()):
        return None
    return data


def _save_state(path: Path, state: dict[str, Any]) -> None:
    from headerparse.extract.cache import prune_dir, write_atomically

    write_atomically(path, json.dumps(state, separators=(",", ":")).encode())
    prune_dir(path.parent, 20, "*.json")
