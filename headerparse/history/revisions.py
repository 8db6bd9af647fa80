"""Which revisions a history reads: release tags of a git tree and their header trees.

A tag's public headers are identified by the git tree hash of ``xen/include/public``,
which git has already computed: two tags with the same hash have the same headers,
so the history extracts that tree once (142 tags of Xen, 117 distinct trees).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from headerparse.history.versions import Version, parse_version
from headerparse.paths import PUBLIC, RELEASE_TAGS
from headerparse.tree import TreeError

DEFAULT_PATTERN = RELEASE_TAGS


@dataclass(frozen=True)
class Release:
    tag: str
    version: Version
    tree: str           # git tree hash of xen/include/public at the tag

    @property
    def name(self) -> str:
        return str(self.version)


@dataclass(frozen=True)
class Listing:
    releases: tuple[Release, ...]     # in version order
    skipped: tuple[str, ...]          # one line each: tags that are not readable releases


def list_releases(repo: Path, patterns: tuple[str, ...] = (DEFAULT_PATTERN,)) -> Listing:
    """The release tags of ``repo`` matching ``patterns`` (git's ref globs), in version order."""
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise TreeError(f"{repo} is not a git repository, so it has no release tags to read.")
    refs = [p if p.startswith("refs/") else f"refs/tags/{p}" for p in patterns]
    proc = _git(repo, "for-each-ref", "--format=%(refname)", *refs)
    if proc.returncode != 0:
        raise TreeError(f"Cannot list the tags of {repo}: {_stderr(proc)}.")
    tags = [line.removeprefix("refs/tags/") for line in proc.stdout.decode().splitlines()]
    skipped: list[str] = []
    versions: dict[str, Version] = {}
    for tag in tags:
        version = parse_version(tag)
        if version is None:
            skipped.append(f"{tag}: not a release version (X.Y.Z)")
        else:
            versions[tag] = version
    trees = _tree_hashes(repo, list(versions))
    by_version: dict[Version, Release] = {}
    for tag, version in sorted(versions.items(), key=lambda item: (item[1], item[0])):
        if trees.get(tag) is None:
            skipped.append(f"{tag}: no {PUBLIC} directory")
        elif version in by_version:
            skipped.append(f"{tag}: same version as {by_version[version].tag}")
        else:
            by_version[version] = Release(tag, version, trees[tag])
    return Listing(tuple(by_version[v] for v in sorted(by_version)), tuple(skipped))


def _tree_hashes(repo: Path, tags: list[str]) -> dict[str, str | None]:
    """Tag -> the tree hash of its public headers (None: the tag has none), in one git call."""
    if not tags:
        return {}
    query = "".join(f"refs/tags/{t}^{{commit}}:{PUBLIC}\n" for t in tags).encode()
    proc = _git(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)", input=query)
    if proc.returncode != 0:
        raise TreeError(f"Cannot read the tags of {repo}: {_stderr(proc)}.")
    out: dict[str, str | None] = {}
    for tag, line in zip(tags, proc.stdout.decode().splitlines(), strict=True):
        oid, _, kind = line.partition(" ")
        out[tag] = oid if kind == "tree" else None
    return out


def last_release(repo: Path, rev: str) -> str | None:
    """The newest release tag reachable from ``rev`` (``git describe``); None if there is none."""
    proc = _git(repo, "describe", "--tags", "--abbrev=0", "--match", DEFAULT_PATTERN,
                "--end-of-options", rev)
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def _git(repo: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # An inherited GIT_DIR (a git hook running us) would point at another repository.
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")}
    try:
        return subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                              env=env, timeout=600, check=False)
    except FileNotFoundError as e:
        raise TreeError("git was not found on PATH.") from e
    except subprocess.TimeoutExpired as e:
        raise TreeError(f"git {args[0]} in {repo} did not finish within 600 seconds.") from e


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = [x.strip() for x in proc.stderr.decode("utf-8", "replace").splitlines() if x.strip()]
    return " ".join(lines[-2:]) or f"exit status {proc.returncode}"
