#!/usr/bin/env python3
"""Site benchmark: ``headerparse build`` against Xen's ``docs/xen-headers`` and Doxygen.

    python3 bench/site.py [--tree PATH] [--repeat N] [--jobs J]

All three run in this one invocation, on the same copy of the headers, cold and
then after a one-header edit (a word changed in a comment of ``io/blkif.h``):

  headerparse    the whole pipeline: extraction for 4 arches, pages, sphinx-build
                 -W -n, publish. Cold: no extraction cache, a new output directory.
                 Edit: the output directory and a private extraction cache that the
                 build before the edit filled, as a developer's second build has.
  xen-headers    Xen's own generator, run the way docs/Makefile runs it, once per
                 DOC_ARCHES entry (arm x86_32 x86_64). It has no incremental mode:
                 its .deps make every header a dependency of each arch's output,
                 so after an edit it runs again in full. Its script is not part of
                 this repository (GPL, a benchmark peer): bench/peers/xen-headers,
                 taken from xen.git docs/xen-headers. Without it the peer is skipped.
  doxygen        Doxygen with HTML output and a hyperlinked source browser (the
                 closest to the site's header pages), no graphs. No incremental mode.

Prints wall times (best of N) and the ratios the issue sets targets for:
  headerparse cold / xen-headers      (target <= 1.77)
  headerparse edit / xen-headers      (target <= 0.42)
and writes them to bench/out/site.json.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER = REPO / "bench" / "peers" / "xen-headers"
DOC_ARCHES = ("arm", "x86_32", "x86_64")
EDIT = ("io/blkif.h", b"Starting ring element", b"The starting ring element")

DOXYFILE = """\
PROJECT_NAME = xen-public
INPUT = {src}
RECURSIVE = YES
FILE_PATTERNS = *.h
EXCLUDE = {src}/foreign {src}/sys
OUTPUT_DIRECTORY = {out}
GENERATE_HTML = YES
GENERATE_LATEX = NO
EXTRACT_ALL = YES
SOURCE_BROWSER = YES
HAVE_DOT = NO
QUIET = YES
WARNINGS = NO
"""


def _default_tree() -> Path:
    out = subprocess.run([sys.executable, "-m", "headerparse", "fetch", "-q"], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _timed(cmd: list[str], **kw: object) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    return dt


def headerparse_build(tree: Path, out: Path, jobs: str, cache: Path | None = None) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "headerparse", "build", "-q", "--tree", str(tree),
           "-o", str(out), "-j", jobs]
    if cache is None:
        cmd.insert(4, "--no-cache")
    else:
        env["HEADERPARSE_CACHE"] = str(cache)
    return _timed(cmd, cwd=REPO, env=env)


def xen_headers(public: Path, work: Path) -> float | None:
    """docs/Makefile's html/hypercall/%/index.html rule, for each of DOC_ARCHES."""
    if not PEER.is_file() or not shutil.which("perl"):
        return None
    base = public.parents[1]            # .../xen, whose include/public this is
    total = 0.0
    for arch in DOC_ARCHES:
        out = work / "html" / "hypercall" / arch
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        others = [a for a in DOC_ARCHES if a != arch]
        cmd = ["perl", "-w", str(PEER), "-O", str(out), "-T", f"arch-{arch} - Xen public headers"]
        cmd += [x for a in others for x in ("-X", f"arch-{a}")]
        cmd += [x for a in others for x in ("-X", f"xen-{a}")]
        if arch not in ("x86_32", "x86_64"):
            cmd += ["-X", "arch-x86"]
        # Debian's install adds foreign/ and sys/, which are not in xen.git's public dir.
        cmd += ["-X", "/foreign/", "-X", "/sys/", str(base), "include/public"]
        total += _timed(cmd)
    return total


def doxygen(public: Path, work: Path) -> float | None:
    if not shutil.which("doxygen"):
        return None
    out = work / "doxygen"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    conf = work / "Doxyfile"
    conf.write_text(DOXYFILE.format(src=public, out=out))
    return _timed(["doxygen", str(conf)], cwd=work)


def _best(fn, repeat: int) -> float | None:
    times = [fn() for _ in range(repeat)]
    return None if any(t is None for t in times) else min(times)   # type: ignore[type-var]


def run(tree: Path, repeat: int, jobs: str) -> dict:
    load = round(os.getloadavg()[0], 2)     # other work on the machine skews every figure
    with tempfile.TemporaryDirectory(prefix="hp-bench-") as tmp:
        work = Path(tmp)
        # xen-headers walks BASE/include/public and does not follow symlinks: a copy.
        public = work / "xen" / "include" / "public"
        shutil.copytree(tree, public, symlinks=True)
        out = work / "site"
        results: dict[str, float | None] = {}

        def cold() -> float:
            shutil.rmtree(out, ignore_errors=True)
            return headerparse_build(public, out, jobs)

        results["headerparse cold"] = _best(cold, repeat)
        cache = work / "cache"
        headerparse_build(public, out, jobs, cache)     # fills the cache the edit run uses
        results["xen-headers cold"] = _best(lambda: xen_headers(public, work), repeat)
        results["doxygen cold"] = _best(lambda: doxygen(public, work), repeat)
        path, old, new = EDIT
        target = public / path
        original = target.read_bytes()
        edits: list[int] = []

        def edited_build() -> float:
            # A new wording each repeat: every run is a one-header change that no
            # cache has seen, never a return to a state cached before.
            edits.append(len(edits) + 1)
            word = new if len(edits) == 1 else new + b" (%d)" % len(edits)
            target.write_bytes(original.replace(old, word))
            return headerparse_build(public, out, jobs, cache)

        results["headerparse edit"] = _best(edited_build, repeat)
        results["xen-headers edit"] = _best(lambda: xen_headers(public, work), repeat)
        results["doxygen edit"] = _best(lambda: doxygen(public, work), repeat)
        target.write_bytes(original)
        pages = sum(1 for _ in (out / "html").rglob("*.html"))
    return {"tree": str(tree), "repeat": repeat, "jobs": jobs, "cpus": os.cpu_count(),
            "load average at start": load,
            "pages": pages, "seconds": results, "ratios": _ratios(results)}


def _ratios(r: dict[str, float | None]) -> dict[str, float | None]:
    def ratio(a: str, b: str) -> float | None:
        return round(r[a] / r[b], 2) if r.get(a) and r.get(b) else None
    return {"headerparse cold / xen-headers (target <= 1.77)": ratio("headerparse cold",
                                                                    "xen-headers cold"),
            # Each peer's own run after the edit (a full run again: they have no
            # incremental mode), measured beside headerparse's edit build.
            "headerparse edit / xen-headers (target <= 0.42)": ratio("headerparse edit",
                                                                    "xen-headers edit"),
            "headerparse cold / doxygen": ratio("headerparse cold", "doxygen cold"),
            "headerparse edit / doxygen": ratio("headerparse edit", "doxygen edit")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", help="public header dir (default: Debian's libxen-dev, fetched)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--jobs", default="auto", help="sphinx-build -j for headerparse")
    args = ap.parse_args()
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (CI
    # images set it) every measured run would otherwise compile the package again.
    compileall.compile_dir(REPO / "headerparse", quiet=1)
    tree = Path(args.tree) if args.tree else _default_tree()
    res = run(tree.resolve(), args.repeat, args.jobs)
    width = max(len(k) for k in res["seconds"])
    print(f"tree: {res['tree']}  ({res['pages']} site pages, {res['cpus']} CPUs, load "
          f"{res['load average at start']}, best of {res['repeat']})")
    for name, secs in res["seconds"].items():
        print(f"  {name:<{width}}  {'unavailable' if secs is None else f'{secs:7.2f} s'}")
    for name, value in res["ratios"].items():
        print(f"  {name}: {'n/a' if value is None else value}")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "site.json").write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
