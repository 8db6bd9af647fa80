"""Which Xen release a copy was taken from.

Verbatim copies are recognised by their files' git blob ids; rewritten ones (other type
names, trimmed) by how many of their identifiers and numbers each release's header of
the same name shares. Each release tag's summary (blob ids, identifier sets) is read
once from the Xen git repository and cached by commit id. Only the last point release
of each minor version is compared: the copies say which minor they follow, rarely more.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from headerparse.tree import TreeError, cache_dir, cat_blobs

PUBLIC = "xen/include/public/"
_TAG = re.compile(r"RELEASE-(\d+)\.(\d+)\.(\d+)")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_TOKEN = re.compile(r"[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+")
_NAME = re.compile(r"^\s*#\s*define\s+(\w+)|\bstruct\s+(\w+)\s*\{", re.M)
_OLDEST = (3, 0)


class HistoryError(Exception):
    """The Xen repository cannot be read; one line for the user."""


@dataclass
class Provenance:
    best: str | None
    verbatim: dict[str, int] = field(default_factory=dict)      # release -> identical files
    similarity: dict[str, float] = field(default_factory=dict)  # release -> mean Jaccard
    files: int = 0
    newer_upstream: list[str] = field(default_factory=list)     # names added after best
    newest: str | None = None

    def to_json(self) -> dict:
        top = sorted(self.similarity, key=lambda r: -self.similarity[r])[:5]
        return {"best_match": self.best, "files_compared": self.files,
                "identical_files": {r: self.verbatim[r] for r in top if self.verbatim.get(r)},
                "similarity": {r: round(self.similarity[r], 3) for r in top},
                "newest_release": self.newest,
                "newer_upstream": len(self.newer_upstream),
                "newer_upstream_sample": self.newer_upstream[:20]}

    def summary(self) -> str:
        if self.best is None:
            return "provenance: no release shares a header with the copy"
        same = self.verbatim.get(self.best, 0)
        return (f"provenance: best match Xen {self.best} ({same} of {self.files} files "
                f"identical, similarity {self.similarity[self.best]:.2f}); "
                f"{len(self.newer_upstream)} symbol(s) of these headers are newer upstream "
                f"(up to {self.newest})")


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(_COMMENT.sub(" ", text)))


def names(text: str) -> set[str]:
    return {a or b for a, b in _NAME.findall(_COMMENT.sub(" ", text))}


def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HistoryError(f"git {args[0]} in {repo} failed: {exc}") from exc
    if proc.returncode != 0:
        raise HistoryError(f"{repo} is not a Xen git repository: "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return proc.stdout


def releases(repo: Path) -> dict[str, str]:
    """The last point release of each minor version: "4.17.x" -> tag commit."""
    best: dict[tuple[int, int], tuple[int, str]] = {}
    out = _git(repo, "for-each-ref", "--format=%(refname:short) %(objectname) %(*objectname)",
               "refs/tags/RELEASE-*")
    for line in out.decode().splitlines():
        tag, obj, peeled = (line.split() + [""])[:3]
        m = _TAG.fullmatch(tag)
        if not m:
            continue
        minor, point = (int(m.group(1)), int(m.group(2))), int(m.group(3))
        if minor >= _OLDEST and point >= best.get(minor, (-1, ""))[0]:
            best[minor] = (point, peeled or obj)
    return {f"{a}.{b}.x": commit for (a, b), (_, commit) in sorted(best.items())}


def summary(repo: Path, commit: str, cache: Path | None) -> dict[str, dict]:
    """path -> {"blob", "tokens", "names"} of one release's public headers, cached."""
    path = (cache or cache_dir()) / "conform-history" / f"{commit}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    listing = _git(repo, "ls-tree", "-r", commit, "--", PUBLIC).decode().splitlines()
    blobs = {}
    for line in listing:
        meta, _, name = line.partition("\t")
        if name.endswith(".h"):
            blobs[name[len(PUBLIC):]] = meta.split()[2]
    texts = _cat(repo, list(blobs.values()))
    out = {p: {"blob": b, "tokens": sorted(tokens(texts[b])), "names": sorted(names(texts[b]))}
           for p, b in blobs.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out), encoding="utf-8")
    return out


def _cat(repo: Path, oids: list[str]) -> dict[str, str]:
    try:
        blobs = cat_blobs(repo, oids)
    except TreeError as exc:
        raise HistoryError(str(exc)) from exc
    return {oid: data.decode("utf-8", "replace") for oid, data in blobs.items()}


def provenance(texts: Mapping[str, str], xen_paths: Mapping[str, str], repo: Path,
               cache: Path | None = None) -> Provenance:
    """``texts`` (copy file -> text) against every release of ``repo``; ``xen_paths`` maps
    each copy file to the Xen header it copies."""
    tags = releases(repo)
    if not tags:
        raise HistoryError(f"{repo} has no RELEASE-x.y.z tags")
    ours = {xen_paths[f]: (blob_id(t.encode()), tokens(t)) for f, t in texts.items()}
    result = Provenance(None, files=len(ours), newest=list(tags)[-1])
    sums = {rel: summary(repo, commit, cache) for rel, commit in tags.items()}
    for rel, files in sums.items():
        shared = [p for p in ours if p in files]
        result.verbatim[rel] = sum(ours[p][0] == files[p]["blob"] for p in shared)
        score = sum(_jaccard(ours[p][1], set(files[p]["tokens"])) for p in shared)
        result.similarity[rel] = score / len(ours) if ours else 0.0
    ranked = sorted(sums, key=lambda r: (result.verbatim[r], result.similarity[r]))
    best = ranked[-1] if ranked and result.similarity[ranked[-1]] > 0 else None
    result.best = best
    if best is not None:
        newest = sums[result.newest]
        result.newer_upstream = sorted(
            n for p in ours if p in newest
            for n in set(newest[p]["names"]) - set(sums[best].get(p, {}).get("names", ())))
    return result


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0
