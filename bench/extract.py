#!/usr/bin/env python3
"""Extraction benchmark: headerparse against its peers, measured in one run.

    python3 bench/extract.py [--tree PATH] [--repeat N]

Peers, each run in its own process so that its peak memory is its own:
  raw-parse     libclang parsing the same translation units (4 arches), no walk:
                the floor any libclang-based extractor stands on;
  doxygen-1arch Doxygen on the same headers (EXTRACT_ALL, no graphs, XML output);
  doxygen-4arch the same once per arch (each arch's predefined macro), one after another:
                what covering headerparse's four arches costs with Doxygen;
  extract-cold  headerparse extract, 4 arches, empty cache;
  extract-warm  the same with the content-hash cache filled (no header changed);
  comment-edit  the same, caches warm, after a one-header comment edit (io/blkif.h);
  code-edit     the same, caches warm, after a one-header code edit (a #define added).
Each edit run edits anew, so that no run finds its own tree in the cache. For
the edits the bench also prints what extract() itself took (what `headerparse
build` spends extracting), in as many runs of its own, after edits of their own.
Doxygen's one-arch run and the cold extraction are measured by turns, so that a
host whose speed drifts slows both alike; the ratio is also given run by run.
Prints wall times (best of N), peak RSS, and the ratios the project tracks:
  extract-cold / doxygen-1arch   (target <= 1)
  extract-warm / extract-cold    (target < 0.1)
  comment-edit / extract-cold, code-edit / extract-cold, code-edit / raw-parse
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RAW_PARSE = r"""
import sys
from pathlib import Path
from headerparse.extract import translation_unit
from headerparse.targets import DEFAULT_ARCHS, TARGETS, translation_unit_headers
from headerparse.tree import open_tree
import clang.cindex as ci
tree = open_tree(sys.argv[1])
inc = tree.materialize(Path(sys.argv[2]))
index = ci.Index.create()
for arch in DEFAULT_ARCHS:
    t = TARGETS[arch]
    src = translation_unit.probe_source(translation_unit_headers(tree.files, t), [])
    args = translation_unit.compile_args(inc, t, {"__XEN_TOOLS__": None})
    index.parse(translation_unit.MAIN, args=args,
                unsaved_files=[(translation_unit.MAIN, src),
                               (translation_unit.PRELUDE_PATH, translation_unit.PRELUDE)],
                options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
"""

# Edit n of io/blkif.h (from its original text, kept beside the tree); with an output
# file, then extract() with the caches warm, printing its own seconds, and the JSON.
EDITED_EXTRACT = r"""
import sys, time
from pathlib import Path
public, out, kind, n = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
blkif, orig = public / "io" / "blkif.h", public.parent / "blkif.h.orig"
if not orig.exists():
    orig.write_bytes(blkif.read_bytes())
text = orig.read_text()
if kind == "comment":
    old = "Starting ring element"
    assert old in text, old
    text = text.replace(old, f"{old} (bench edit {n})", 1)
else:   # one more object-like macro: a line of code, and one more probe on every arch
    end = text.rindex("#endif")
    text = f"{text[:end]}#define HP_BENCH_EDIT {n}\n{text[end:]}"
blkif.write_text(text)
if not out:
    raise SystemExit(0)
from headerparse.extract.pipeline import Options, extract
from headerparse.model import model_json_text
from headerparse.tree import cache_dir, open_tree
tree = open_tree(str(public))
start = time.perf_counter()
model = extract(tree, Options(), cache=cache_dir())
print(time.perf_counter() - start)
Path(out).write_text(model_json_text(model) + "\n")     # as extract --json writes it
"""

DOXYFILE = """\
PROJECT_NAME = xen-public
INPUT = {src}
RECURSIVE = YES
FILE_PATTERNS = *.h
EXCLUDE = {src}/foreign {src}/sys
OUTPUT_DIRECTORY = {out}
EXTRACT_ALL = YES
EXTRACT_STATIC = YES
GENERATE_HTML = NO
GENERATE_LATEX = NO
GENERATE_XML = YES
HAVE_DOT = NO
CLASS_GRAPH = NO
COLLABORATION_GRAPH = NO
INCLUDE_GRAPH = NO
INCLUDED_BY_GRAPH = NO
CALL_GRAPH = NO
CALLER_GRAPH = NO
ENABLE_PREPROCESSING = YES
MACRO_EXPANSION = YES
PREDEFINED = {arch} __XEN_TOOLS__
SEARCH_INCLUDES = YES
INCLUDE_PATH = {src}/..
QUIET = YES
WARNINGS = NO
"""


def measure(cmd: list[str], env: dict[str, str] | None = None,
            said: list[str] | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (its own and its children's, user and
    system) of one child process; its stdout into ``said``."""
    # Files, not pipes: a chatty child cannot fill a pipe and stall before wait4.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"bench: {' '.join(cmd[:4])} failed:\n"
                             f"{err.read().decode(errors='replace')}")
        if said is not None:
            said.append(out.read().decode(errors="replace").strip())
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def best(runs: int, fn) -> tuple[float, int, float]:
    """Best wall time, highest peak RSS, least CPU time (on a busy machine the CPU time,
    unlike the wall time, still compares runs)."""
    return _best([fn() for _ in range(runs)])


def _best(results: list[tuple[float, int, float]]) -> tuple[float, int, float]:
    return min(r[0] for r in results), max(r[1] for r in results), min(r[2] for r in results)


def edits(runs: int, py: str, public: Path, work: Path, env: dict[str, str], kind: str
          ) -> tuple[tuple[float, int, float], float]:
    """Best wall time, peak RSS and CPU time of ``headerparse extract`` after each of
    ``runs`` fresh edits, and extract()'s best time after as many others.

    Each run edits anew (edit n of the original), so that none finds its tree cached.
    """
    copy = work / f"{kind}-edit" / "public"
    shutil.copytree(public, copy)
    results = []
    for n in range(runs):
        measure([py, "-c", EDITED_EXTRACT, str(copy), "", kind, str(n)], env)   # the edit
        results.append(measure([py, "-m", "headerparse", "extract", "-q", "--tree", str(copy),
                                "--json", str(work / "e.json")], env))
    said: list[str] = []
    for n in range(runs, 2 * runs):
        measure([py, "-c", EDITED_EXTRACT, str(copy), str(work / "e.json"), kind, str(n)],
                env, said)
    return _best(results), min(map(float, said))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tree", help="header tree (default: Debian's libxen-dev, as the CLI)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (CI
    # images set it) every measured run would otherwise compile the package again.
    compileall.compile_dir(REPO / "headerparse", quiet=1)

    from headerparse.tree import open_tree
    tree = open_tree(args.tree)
    src = Path(tempfile.mkdtemp(prefix="hp-bench-"))
    try:
        return run(args, tree, src)
    finally:
        shutil.rmtree(src, ignore_errors=True)


def run(args: argparse.Namespace, tree, work: Path) -> int:
    py = sys.executable
    inc = tree.materialize(work / "cache")
    public = inc / "public"
    tree_arg = str(public)
    rows: dict[str, tuple[float, int, float]] = {}

    rows["raw-parse (4 arches)"] = best(args.repeat, lambda: measure(
        [py, "-c", RAW_PARSE, tree_arg, str(work / "cache")]))

    doxyfiles: list[Path] = []
    paired: list[float] = []
    if shutil.which("doxygen"):
        for arch in ("__x86_64__", "__i386__", "__arm__", "__aarch64__"):
            doxyfiles.append(work / f"Doxyfile{arch}")
            doxyfiles[-1].write_text(DOXYFILE.format(src=public, out=work / f"doxy{arch}",
                                                     arch=arch))

    def cold() -> tuple[float, int, float]:
        cache = work / "cold-cache"
        shutil.rmtree(cache, ignore_errors=True)
        env = dict(os.environ, HEADERPARSE_CACHE=str(cache))
        return measure([py, "-m", "headerparse", "extract", "-q", "--tree", tree_arg,
                        "--json", str(work / "m.json")], env)

    # Doxygen and the cold extraction by turns: a machine whose speed drifts (a shared
    # host) then slows both alike, and each pair gives a ratio of its own.
    runs = [(measure(["doxygen", str(doxyfiles[0])]) if doxyfiles else None, cold())
            for _ in range(args.repeat)]
    if doxyfiles:
        rows["doxygen (1 arch)"] = _best([d for d, _ in runs if d is not None])
        paired.extend(sorted(c[0] / d[0] for d, c in runs if d is not None))
        rows["doxygen (4 arches, one run each)"] = best(args.repeat, lambda: measure(
            ["sh", "-c", " && ".join(f"doxygen {f}" for f in doxyfiles)]))
    rows["headerparse extract, cold (4 arches)"] = _best([c for _, c in runs])
    warm_env = dict(os.environ, HEADERPARSE_CACHE=str(work / "cold-cache"))
    rows["headerparse extract, cached (4 arches)"] = best(args.repeat, lambda: measure(
        [py, "-m", "headerparse", "extract", "-q", "--tree", tree_arg,
         "--json", str(work / "m.json")], warm_env))
    inner: dict[str, float] = {}
    for kind in ("comment", "code"):
        rows[f"after a one-header {kind} edit (cache warm)"], inner[kind] = edits(
            args.repeat, py, public, work, warm_env, kind)

    print(f"tree: {tree.description}; {len(tree.files)} headers; best of {args.repeat}")
    for name, (secs, rss, cpu) in rows.items():
        print(f"  {name:<46} {secs:8.3f} s   peak RSS {rss / 1024:7.1f} MiB   CPU {cpu:6.3f} s")
    for kind, secs in inner.items():
        label = f"  of which extract() itself ({kind} edit)"
        print(f"  {label:<46} {secs:8.3f} s" + ("   (target < 0.5)" if kind == "comment" else ""))
    cold_t = rows["headerparse extract, cold (4 arches)"][0]
    warm_t = rows["headerparse extract, cached (4 arches)"][0]
    print("ratios:")
    print(f"  extract-cold / raw-parse      {cold_t / rows['raw-parse (4 arches)'][0]:6.2f}")
    if "doxygen (1 arch)" in rows:
        print(f"  extract-cold / doxygen-1arch  {cold_t / rows['doxygen (1 arch)'][0]:6.2f}"
              "   (target <= 1)")
        print(f"  same, run by run (by turns)   {statistics.median(paired):6.2f}"
              f"   (median of {len(paired)}; {paired[0]:.2f} to {paired[-1]:.2f})")
        cpu_ratio = rows["headerparse extract, cold (4 arches)"][2] / rows["doxygen (1 arch)"][2]
        print(f"  same, in CPU time             {cpu_ratio:6.2f}"
              "   (two cores' worth: a wall ratio of 1 needs this <= 2)")
        print(f"  extract-cold / doxygen-4arch  "
              f"{cold_t / rows['doxygen (4 arches, one run each)'][0]:6.2f}")
    else:
        print("  doxygen not installed: no doxygen ratio")
    print(f"  extract-cached / extract-cold {warm_t / cold_t:6.2f}   (target < 0.1)")
    comment_t = rows["after a one-header comment edit (cache warm)"][0]
    code_t = rows["after a one-header code edit (cache warm)"][0]
    print(f"  comment-edit / extract-cold   {comment_t / cold_t:6.2f}")
    print(f"  comment-edit / extract-cached {comment_t / warm_t:6.2f}")
    print(f"  code-edit / extract-cold      {code_t / cold_t:6.2f}")
    print(f"  code-edit / raw-parse         {code_t / rows['raw-parse (4 arches)'][0]:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
