#!/usr/bin/env python3
"""Real-history harness: ``headerparse review`` and ``check`` on Xen's own history.

    python3 bench/review_history.py [--bundle B] [--from REV] [--to REV] [--limit N]
                                    [--jobs N] [--json OUT] [--no-tags] [--no-doxygen]

The bundle is Xen's public-header history (every upstream commit that touched
``xen/include/public``, with release tags and ``Xen-commit:`` trailers naming the
original commit ids). It is cloned into a temporary directory; then

* every non-merge commit of ``FROM..TO`` is turned into ``git format-patch -1``
  and reviewed against its parent (``review --tree CLONE --rev C^ -``), in
  history order so that each parent is already in the shared model cache;
* ``check`` runs on every ``RELEASE-X.Y.0`` tag from 4.10.0;
* Doxygen's 1-arch run on TO's headers is timed, as the peer the review time is
  printed beside (the same Doxyfile and measurement as ``bench/extract.py``).

headerparse runs as a subprocess (``python3 -m headerparse``) with this checkout
first on ``PYTHONPATH``, so the harness measures the checkout it lives in,
whatever the package's internal layout.

Printed: refused patches (exit 2) with their message, tracebacks, median and p90
review time, per rule the introduced errors/warnings, the flagged patches (exit
1: an introduced error) and the flagged-patch precision computed from the labels
file (``bench/review_labels.tsv``: ``commit<TAB>rule<TAB>real|noise<TAB>why``,
commit = original Xen id, 12 characters are enough). A patch is *real* when one
of its labels is ``real``: it changes a stable interface incompatibly. Labels of
real patches that are no longer flagged are printed as misses.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT.parent / "shared" / "xen-history" / "xen-public.bundle"
LABELS = Path(__file__).resolve().parent / "review_labels.tsv"
PUBLIC = "xen/include/public"
FIRST_TAG = (4, 10)
TIMEOUT = 900
_TRAILER = re.compile(r"^Xen-commit:\s*([0-9a-f]{7,40})\s*$", re.M)
_TAG = re.compile(r"^RELEASE-(\d+)\.(\d+)\.0$")


@dataclass
class Reviewed:
    """One patch reviewed against its parent."""
    commit: str                 # id in the bundle
    xen: str                    # original Xen commit id (Xen-commit: trailer)
    subject: str
    rc: int
    secs: float
    refusal: str | None = None
    traceback: str | None = None
    introduced: list[dict] = field(default_factory=list)
    incompatible_changes: int = 0
    abi_changes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def error_rules(self) -> set[str]:
        return {f["rule"] for f in self.introduced if f["severity"] == "error"}


@dataclass
class Checked:
    """``check`` on one release tag."""
    tag: str
    rc: int
    secs: float
    errors: Counter = field(default_factory=Counter)
    warnings: int = 0
    problem: str | None = None


# --------------------------------------------------------------------------- running


def git(clone: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(clone), *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def headerparse_env(cache: Path) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, HEADERPARSE_CACHE=str(cache),
                PYTHONPATH=f"{ROOT}{os.pathsep}{path}" if path else str(ROOT))


def run_headerparse(args: list[str], env: dict[str, str], stdin: bytes = b""
                    ) -> tuple[int, float, str, str]:
    """Exit code, wall seconds, stdout and stderr of ``python3 -m headerparse ARGS``."""
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "headerparse", *args], input=stdin,
                              capture_output=True, env=env, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, time.perf_counter() - start, "", f"timed out after {TIMEOUT} s"
    secs = time.perf_counter() - start
    return (proc.returncode, secs, proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"))


def _problem(rc: int, err: str) -> tuple[str | None, str | None]:
    """(refusal message, traceback) out of a run's stderr."""
    tb = None
    if "Traceback (most recent call last)" in err:
        tb = err[err.index("Traceback (most recent call last)"):].strip()
    refusal = None
    if rc == 2:
        at = err.find("headerparse: error:")
        refusal = err[at:].strip() if at >= 0 else (err.strip().splitlines() or ["?"])[-1]
    elif rc not in (0, 1) and tb is None:
        refusal = f"exit {rc}: " + ((err.strip().splitlines() or ["?"])[-1])
    return refusal, tb


def review_one(clone: Path, env: dict[str, str], commit: str) -> Reviewed:
    meta = git(clone, "log", "-1", "--format=%s%x00%B", commit)
    subject, body = meta.split("\0", 1)
    m = _TRAILER.search(body)
    patch = subprocess.run(["git", "-C", str(clone), "format-patch", "-1", "--stdout", commit],
                           check=True, capture_output=True).stdout
    rc, secs, out, err = run_headerparse(
        ["review", "--tree", str(clone), "--rev", f"{commit}^", "--format", "json", "-"],
        env, patch)
    r = Reviewed(commit, m.group(1) if m else commit, subject.strip(), rc, secs)
    r.refusal, r.traceback = _problem(rc, err)
    if rc in (0, 1):
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as exc:
            r.traceback = r.traceback or f"review printed no JSON: {exc}"
            return r
        r.introduced = [_slim(f) for f in doc.get("findings", []) if f.get("introduced")]
        changes = doc.get("abi_changes", [])
        r.abi_changes = len(changes)
        r.incompatible_changes = sum(1 for c in changes if c.get("incompatible"))
        r.notes = list(doc.get("notes", []))
    return r


def _slim(f: dict) -> dict:
    keys = ("rule", "severity", "kind", "symbol", "file", "line", "message")
    return {k: f.get(k) for k in keys}


def check_tag(clone: Path, env: dict[str, str], tag: str) -> Checked:
    rc, secs, out, err = run_headerparse(
        ["check", "--tree", str(clone), "--rev", tag, "--format", "json"], env)
    c = Checked(tag, rc, secs)
    refusal, tb = _problem(rc, err)
    c.problem = tb or refusal
    if rc in (0, 1):
        try:
            findings = json.loads(out).get("findings", [])
        except json.JSONDecodeError as exc:
            c.problem = c.problem or f"check printed no JSON: {exc}"
            return c
        c.errors = Counter(f["rule"] for f in findings if f["severity"] == "error")
        c.warnings = sum(1 for f in findings if f["severity"] == "warning")
    return c


def release_tags(clone: Path) -> list[str]:
    """``RELEASE-X.Y.0`` tags from 4.10.0, oldest first (4.13.0 is not on master's line)."""
    tags = []
    for tag in git(clone, "tag", "--list", "RELEASE-*").split():
        m = _TAG.match(tag)
        if m and (int(m.group(1)), int(m.group(2))) >= FIRST_TAG:
            tags.append(((int(m.group(1)), int(m.group(2))), tag))
    return [t for _, t in sorted(tags)]


def parallel(fn: Callable, items: list, jobs: int, label: str,
             show: Callable[[object], str]) -> list:
    """``fn`` over ``items`` (in order, ``jobs`` at a time), progress on stderr."""
    results: list = [None] * len(items)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        done = 0
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            done += 1
            print(f"{label} [{done}/{len(items)}] {show(results[i])}", file=sys.stderr,
                  flush=True)
    return results


# --------------------------------------------------------------------------- doxygen


def _bench_extract():
    """bench/extract.py as a module: its Doxyfile and measurement are the reference."""
    spec = importlib.util.spec_from_file_location("bench_extract", ROOT / "bench" / "extract.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_doxygen(clone: Path, rev: str, work: Path, repeat: int = 3) -> float | None:
    """Best wall seconds of Doxygen's 1-arch run over ``rev``'s public headers."""
    if not shutil.which("doxygen"):
        return None
    ref = _bench_extract()
    src = work / "doxy-src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(clone), "archive", rev, PUBLIC],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    public = src / PUBLIC
    doxyfile = work / "Doxyfile"
    doxyfile.write_text(ref.DOXYFILE.format(src=public, out=work / "doxy"))
    return ref.best(repeat, lambda: ref.measure(["doxygen", str(doxyfile)]))[0]


# --------------------------------------------------------------------------- labels


def load_labels(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(commit prefix, rule) -> (verdict, why); a bad line is a one-line error."""
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    if not path.exists():
        return labels
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4 or cols[2] not in ("real", "noise") or len(cols[0]) < 7:
            raise SystemExit(f"{path}:{n}: expected commit<TAB>rule<TAB>real|noise<TAB>why")
        labels[(cols[0][:12], cols[1])] = (cols[2], cols[3])
    return labels


@dataclass
class Scored:
    real: list[Reviewed] = field(default_factory=list)
    noise: list[Reviewed] = field(default_factory=list)
    unlabelled: list[tuple[Reviewed, list[str]]] = field(default_factory=list)
    missed: list[tuple[str, str]] = field(default_factory=list)   # real patches not flagged

    @property
    def precision(self) -> float | None:
        judged = len(self.real) + len(self.noise)
        return len(self.real) / judged if judged else None


def score(reviews: list[Reviewed], labels: dict[tuple[str, str], tuple[str, str]]) -> Scored:
    s = Scored()
    for r in reviews:
        if r.rc != 1:
            continue
        verdicts = {rule: labels.get((r.xen[:12], rule), (None, ""))[0]
                    for rule in r.error_rules}
        if "real" in verdicts.values():
            s.real.append(r)
        elif None in verdicts.values() or not verdicts:
            s.unlabelled.append((r, sorted(k for k, v in verdicts.items() if v is None)))
        else:
            s.noise.append(r)
    flagged = {r.xen[:12] for r in reviews if r.rc == 1}
    seen = {r.xen[:12] for r in reviews}
    for (commit, rule), (verdict, _) in sorted(labels.items()):
        if verdict == "real" and commit in seen and commit not in flagged:
            s.missed.append((commit, rule))
    return s


# --------------------------------------------------------------------------- report


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report_reviews(reviews: list[Reviewed], scored: Scored, doxygen: float | None,
                   jobs: int) -> None:
    print(f"review: {len(reviews)} patches, --jobs {jobs}")
    refused = [r for r in reviews if r.refusal]
    print(f"  refused (exit 2 or other): {len(refused)}")
    for r in refused:
        print(f"    {r.xen[:12]} {r.subject[:60]}\n      {r.refusal.splitlines()[0][:200]}")
    tbs = [r for r in reviews if r.traceback]
    print(f"  tracebacks: {len(tbs)}")
    for r in tbs:
        print(f"    {r.xen[:12]} {r.subject[:60]}\n      {r.traceback.splitlines()[-1][:200]}")
    times = [r.secs for r in reviews if r.rc in (0, 1)]
    if times:
        med = statistics.median(times)
        print(f"  review time: median {med:.2f} s, p90 {_pct(times, 0.9):.2f} s, "
              f"max {max(times):.2f} s (over {len(times)} completed reviews)")
        if doxygen:
            print(f"  doxygen 1-arch on the same headers: {doxygen:.2f} s "
                  f"(median review / doxygen = {med / doxygen:.2f})")
    by_rule: dict[str, Counter] = {}
    patches: dict[str, set[str]] = {}
    for r in reviews:
        for f in r.introduced:
            by_rule.setdefault(f["rule"], Counter())[f["severity"]] += 1
            patches.setdefault(f["rule"], set()).add(r.xen)
    print("  introduced findings per rule (errors / warnings / notes; patches):")
    for rule in sorted(by_rule):
        c = by_rule[rule]
        print(f"    {rule}: {c['error']:4d} / {c['warning']:4d} / {c['note']:4d}; "
              f"{len(patches[rule])} patches")
    flagged = [r for r in reviews if r.rc == 1]
    print(f"  flagged patches (an introduced error): {len(flagged)} of {len(reviews)}")
    report_score(scored)


def report_score(s: Scored) -> None:
    p = s.precision
    print(f"  labelled: {len(s.real)} real, {len(s.noise)} noise, "
          f"{len(s.unlabelled)} flagged but unlabelled")
    print("  flagged-patch precision: " + (f"{p:.3f}" if p is not None else "n/a (no labels)"))
    for r, rules in s.unlabelled:
        print(f"    unlabelled: {r.xen[:12]} {','.join(rules)} {r.subject[:60]}")
    if s.missed:
        print(f"  real patches (labelled) no longer flagged: {len({c for c, _ in s.missed})}")
        for commit, rule in s.missed:
            print(f"    missed: {commit} {rule}")
    else:
        print("  real patches (labelled) no longer flagged: 0")


def report_tags(checks: list[Checked]) -> None:
    print("check on release tags (exit code, errors by rule):")
    for c in checks:
        rules = ", ".join(f"{k} {v}" for k, v in sorted(c.errors.items())) or "-"
        extra = f"  [{c.problem.splitlines()[-1][:120]}]" if c.problem else ""
        print(f"  {c.tag:<16} exit {c.rc}  {sum(c.errors.values()):3d} error(s) ({rules}), "
              f"{c.warnings} warning(s), {c.secs:.1f} s{extra}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--bundle", default=os.environ.get("XEN_HISTORY_BUNDLE", str(DEFAULT_BUNDLE)),
                    help="the xen-public git bundle (default: ../shared/xen-history/, "
                    "or $XEN_HISTORY_BUNDLE)")
    ap.add_argument("--from", dest="start", default="RELEASE-4.17.0")
    ap.add_argument("--to", dest="end", default="master")
    ap.add_argument("--commits", nargs="*", help="review these bundle commits or original "
                    "Xen ids only (instead of FROM..TO)")
    ap.add_argument("--limit", type=int, help="review only the first N commits of the range")
    ap.add_argument("--jobs", type=int, default=1, help="reviews at a time (default 1)")
    ap.add_argument("--json", metavar="OUT", help="write every result here as JSON")
    ap.add_argument("--labels", default=str(LABELS), help="labels file (TSV)")
    ap.add_argument("--cache", metavar="DIR", help="model cache to use (default: a fresh one "
                    "in the temporary directory)")
    ap.add_argument("--no-tags", action="store_true", help="skip check on release tags")
    ap.add_argument("--no-doxygen", action="store_true", help="skip the Doxygen timing")
    ap.add_argument("--report", metavar="JSON", help="print the report of an earlier --json "
                    "output against the current labels, without running anything")
    return ap.parse_args(argv)


def commits_to_review(clone: Path, args: argparse.Namespace) -> list[str]:
    if args.commits:
        return [resolve(clone, c) for c in args.commits]
    out = git(clone, "rev-list", "--no-merges", "--reverse", f"{args.start}..{args.end}")
    commits = out.split()
    return commits[:args.limit] if args.limit else commits


def resolve(clone: Path, spec: str) -> str:
    """A bundle commit from a bundle rev or an original Xen id (via the trailer)."""
    found = git(clone, "log", "--all", "--format=%H", f"--grep=^Xen-commit: {spec}").split()
    if found:
        return found[0]
    return git(clone, "rev-parse", "--verify", f"{spec}^{{commit}}").strip()


def report_saved(path: Path, labels: Path) -> int:
    doc = json.loads(path.read_text(encoding="utf-8"))
    reviews = [Reviewed(**r) for r in doc["reviews"]]
    checks = [Checked(**{**c, "errors": Counter(c["errors"])}) for c in doc["checks"]]
    report(reviews, checks, doc.get("doxygen_1arch_secs"), doc.get("jobs", 1), labels)
    return 0


def report(reviews: list[Reviewed], checks: list[Checked], doxygen: float | None, jobs: int,
           labels: Path) -> Scored:
    scored = score(reviews, load_labels(labels))
    report_reviews(reviews, scored, doxygen, jobs)
    if checks:
        report_tags(checks)
    return scored


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (CI
    # images set it) every measured run would otherwise compile the package again.
    compileall.compile_dir(ROOT / "headerparse", quiet=1)
    if args.report:
        return report_saved(Path(args.report), Path(args.labels))
    if not Path(args.bundle).is_file():
        print(f"review_history: error: {args.bundle}: no such bundle (--bundle)",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="hp-history-"))
    # A kill (SIGTERM) unwinds like Ctrl-C: the running reviews end, the clone goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    clone = work / "xen"
    subprocess.run(["git", "clone", "-q", args.bundle, str(clone)], check=True)
    env = headerparse_env(Path(args.cache) if args.cache else work / "cache")
    commits = commits_to_review(clone, args)
    reviews = parallel(lambda c: review_one(clone, env, c), commits, args.jobs, "review",
                       lambda r: f"{r.xen[:12]} exit {r.rc} {r.secs:5.1f} s "
                       f"{','.join(sorted(r.error_rules))} {r.subject[:50]}")
    tags = [] if args.no_tags else release_tags(clone)
    checks = parallel(lambda t: check_tag(clone, env, t), tags, args.jobs, "check",
                      lambda c: f"{c.tag} exit {c.rc} {sum(c.errors.values())} error(s)")
    doxygen = None if args.no_doxygen else time_doxygen(clone, args.end, work)
    scored = report(reviews, checks, doxygen, args.jobs, Path(args.labels))
    if args.json:
        doc = {"reviews": [asdict(r) for r in reviews],
               "checks": [{**asdict(c), "errors": dict(c.errors)} for c in checks],
               "doxygen_1arch_secs": doxygen, "jobs": args.jobs,
               "precision": scored.precision}
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:         # the report piped into head
        sys.stderr.close()
        raise SystemExit(0) from None
