#!/usr/bin/env python3
"""Doc-drift recall: do the prose checks notice the documentation errors Xen fixed?

    python3 bench/doc_drift.py [--bundle B] [--from REV] [--to REV] [--limit N]
                               [--list] [--json OUT] [--report OUT.json]

Candidates are the non-merge commits of ``FROM..TO`` in Xen's public-header
history that fixed documentation: a subject naming comments, clarification,
documentation, a correction or a typo and changing comment text, or a diff
that changes comments only (the headers with comments stripped are equal
before and after). Each is reversed on its fixed tree: the reverse patch
(``git diff C C^``) is reviewed against ``C`` (``review --tree CLONE --rev C -``),
which brings back the wrong text; a fix is *noticed* when the review reports an
introduced single-tree finding (prose, hygiene, contradiction, annotations) on
a line the reverse patch adds.

Labels (``bench/doc_drift_labels.tsv``: ``commit<TAB>yes|no<TAB>why``, commit =
original Xen id) say which fixes a header-only tool could see at all: the wrong
text contradicts something the headers themselves declare (a name that does
not exist, a type, a value, an argument list). Recall is printed overall and on
the seeable ones; unlabelled candidates are listed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import review_history as rh  # noqa: E402  (the harness next door: clone, env, runs)

LABELS = HERE / "doc_drift_labels.tsv"
PUBLIC = rh.PUBLIC
_KEYWORDS = re.compile(r"comment|clarif|document|correct|typo|\bdocs?\b|spelling|stale",
                       re.I)
# Rules that read one tree's text: what a documentation fix can make disappear.
SINGLE_TREE = ("drift", "contradiction", "hygiene", "markup")
_MARKERS = "arch-x86/cpufeatureset.h"
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


@dataclass
class Drift:
    """One documentation fix, reversed on its fixed tree."""
    commit: str
    xen: str
    subject: str
    why: str                      # comment-only | subject
    rc: int = -1
    problem: str | None = None
    on_line: list[dict] = field(default_factory=list)     # single-tree findings, added lines
    elsewhere: list[dict] = field(default_factory=list)   # single-tree, other lines

    @property
    def noticed(self) -> bool:
        return bool(self.on_line)


def _strip(text: str) -> str:
    return " ".join(_COMMENT.sub(" ", text).split())


def _blob(clone: Path, rev: str, path: str) -> str:
    r = subprocess.run(["git", "-C", str(clone), "show", f"{rev}:{path}"],
                       capture_output=True, text=True, errors="replace")
    return r.stdout if r.returncode == 0 else ""


def classify(clone: Path, commit: str) -> str | None:
    """``comment-only``, ``subject`` or None (not a documentation fix)."""
    subject = rh.git(clone, "log", "-1", "--format=%s", commit).strip()
    paths = rh.git(clone, "diff", "--name-only", f"{commit}^", commit, "--", PUBLIC).split()
    # cpufeatureset.h's comments are feature markers a generator reads, not prose.
    paths = [p for p in paths if p.endswith(".h") and not p.endswith(_MARKERS)]
    if not paths:
        return None
    code_changed = comments_changed = False
    for p in paths:
        old, new = _blob(clone, f"{commit}^", p), _blob(clone, commit, p)
        if not old or not new:
            code_changed = True
            continue
        if _strip(old) != _strip(new):
            code_changed = True
        # A fix takes wrong text away; a commit that only adds comments fixes nothing
        # that its reverse could bring back.
        if set(_COMMENT.findall(old)) - set(_COMMENT.findall(new)):
            comments_changed = True
    if comments_changed and not code_changed:
        return "comment-only"
    if comments_changed and _KEYWORDS.search(subject):
        return "subject"
    return None


def added_lines(diff: str) -> dict[str, set[int]]:
    """Per public path (relative to the include root), the new-side lines a diff adds."""
    out: dict[str, set[int]] = {}
    path, line = "", 0
    for text in diff.splitlines():
        if text.startswith("+++ "):
            name = text[4:].strip()
            path = name.split(PUBLIC + "/", 1)[1] if PUBLIC + "/" in name else ""
            continue
        m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)", text)
        if m:
            line = int(m.group(1))
            continue
        if not path or text.startswith(("---", "diff ", "index ")):
            continue
        if text.startswith("+"):
            out.setdefault(path, set()).add(line)
            line += 1
        elif text.startswith(" "):
            line += 1
    return out


def _xen_id(clone: Path, commit: str) -> str:
    m = rh._TRAILER.search(rh.git(clone, "log", "-1", "--format=%B", commit))
    return (m.group(1) if m else commit)[:12]


def reverse_one(clone: Path, env: dict[str, str], commit: str, why: str,
                archs: str = "") -> Drift:
    subject = rh.git(clone, "log", "-1", "--format=%s", commit)
    d = Drift(commit, _xen_id(clone, commit), subject.strip(), why)
    diff = rh.git(clone, "diff", commit, f"{commit}^", "--", PUBLIC)
    rc, _, out, err = rh.run_headerparse(
        ["review", "--tree", str(clone), "--rev", commit, "--format", "json", "-q",
         *(["--arch", archs] if archs else []), "-"], env, diff.encode())
    d.rc = rc
    d.problem = rh._problem(rc, err)[0] or rh._problem(rc, err)[1]
    if rc not in (0, 1):
        d.problem = d.problem or err.strip()[-300:]
        return d
    try:
        findings = json.loads(out).get("findings", [])
    except json.JSONDecodeError as exc:
        d.problem = f"review printed no JSON: {exc}"
        return d
    added = added_lines(diff)
    for f in findings:
        if not f.get("introduced") or f.get("kind") not in SINGLE_TREE:
            continue
        slim = rh._slim(f)
        (d.on_line if f.get("line") in added.get(f.get("file") or "", ()) else
         d.elsewhere).append(slim)
    return d


def load_labels(path: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    if not path.is_file():
        return out
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3 or parts[1] not in ("yes", "no"):
            raise SystemExit(f"{path}:{n}: want commit<TAB>yes|no<TAB>why")
        out[parts[0][:12]] = (parts[1], parts[2])
    return out


def report(drifts: list[Drift], labels: dict[str, tuple[str, str]]) -> None:
    for d in drifts:
        seeable = labels.get(d.xen, ("?", ""))[0]
        mark = "NOTICED" if d.noticed else ("problem" if d.problem else "missed")
        rules = ",".join(sorted({f["rule"] for f in d.on_line}))
        print(f"{d.xen} seeable={seeable:3} {mark:8} {rules:12} {d.subject[:60]}")
        if d.problem:
            print(f"    {d.problem.splitlines()[0][:160]}")
    seen = [d for d in drifts if labels.get(d.xen, ("",))[0] == "yes"]
    unlabelled = [d.xen for d in drifts if d.xen not in labels]
    total = len(drifts)
    hit = sum(d.noticed for d in drifts)
    print(f"\ndocumentation fixes: {total}; reviews that failed: "
          f"{sum(1 for d in drifts if d.problem)}")
    print(f"recall overall: {hit}/{total} = {hit / total:.3f}" if total else "no candidates")
    if seen:
        s_hit = sum(d.noticed for d in seen)
        print(f"recall on the seeable ones: {s_hit}/{len(seen)} = {s_hit / len(seen):.3f}")
    if unlabelled:
        print(f"unlabelled: {' '.join(unlabelled)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=rh.DEFAULT_BUNDLE)
    ap.add_argument("--from", dest="start", default="RELEASE-4.10.0")
    ap.add_argument("--to", default="HEAD")
    ap.add_argument("--limit", type=int, default=0)
    # The prose checks read one tree; two arches see every header's text and halve the time.
    ap.add_argument("--arch", default="x86_64,arm64", help="arches to review on ('' = all)")
    ap.add_argument("--seeable", action="store_true", help="only the fixes labelled seeable")
    ap.add_argument("--list", action="store_true", help="list the candidates, review nothing")
    ap.add_argument("--json", type=Path, help="save the results")
    ap.add_argument("--report", type=Path, help="print the report of saved results")
    ap.add_argument("--labels", type=Path, default=LABELS)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    labels = load_labels(args.labels)
    if args.report:
        drifts = [Drift(**{k: v for k, v in d.items()})
                  for d in json.loads(args.report.read_text())]
        report(drifts, labels)
        return 0
    if not args.bundle.is_file():
        print(f"doc_drift: no bundle at {args.bundle}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="doc-drift-") as tmp:
        work = Path(tmp)
        clone = work / "xen"
        subprocess.run(["git", "clone", "-q", str(args.bundle), str(clone)], check=True)
        env = rh.headerparse_env(work / "cache")
        commits = rh.git(clone, "rev-list", "--reverse", "--no-merges",
                         f"{args.start}..{args.to}", "--", PUBLIC).split()
        found = [(c, why) for c in commits if (why := classify(clone, c))]
        if args.seeable:
            found = [(c, why) for c, why in found
                     if labels.get(_xen_id(clone, c), ("",))[0] == "yes"]
        if args.limit:
            found = found[:args.limit]
        if args.list:
            for c, why in found:
                print(f"{c[:12]} {why:12} {rh.git(clone, 'log', '-1', '--format=%s', c).strip()}")
            return 0
        drifts = []
        for n, (c, why) in enumerate(found, 1):
            drifts.append(reverse_one(clone, env, c, why, args.arch))
            print(f"[{n}/{len(found)}] {drifts[-1].xen} "
                  f"{'noticed' if drifts[-1].noticed else '-'}", file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps([asdict(d) for d in drifts], indent=1))
        report(drifts, labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
