#!/usr/bin/env python3
"""Extraction benchmark: headerparse against its peers, measured in one run.

    python3 bench/extract.py [--tree PATH] [--repeat N]

Peers, each run in its own process so that its peak memory is its own:
  raw-parse     libclang parsing the same translation units (4 arches), no walk:
                the floor any libclang-based extractor stands on;
  doxygen-1arch Doxygen on the same headers (EXTRACT_ALL, no graphs, XML output);
  extract-cold  headerparse extract, 4 arches, empty cache;
  extract-warm  the same with the content-hash cache filled (no header changed).
Prints wall times (best of N), peak RSS, and the ratios the project tracks:
  extract-cold / doxygen-1arch   (target <= 1)
  extract-warm / extract-cold    (target < 0.1)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW_PARSE = r"""
import sys
from pathlib import Path
from headerparse import clangparse
from headerparse.targets import DEFAULT_ARCHS, TARGETS, translation_unit_headers
from headerparse.tree import open_tree
import clang.cindex as ci
tree = open_tree(sys.argv[1])
inc = tree.materialize(Path(sys.argv[2]))
index = ci.Index.create()
for arch in DEFAULT_ARCHS:
    t = TARGETS[arch]
    src = clangparse.probe_source(translation_unit_headers(tree.files, t), [])
    index.parse(clangparse.MAIN, args=clangparse.compile_args(inc, t, {"__XEN_TOOLS__": None}),
                unsaved_files=[(clangparse.MAIN, src),
                               (clangparse.PRELUDE_PATH, clangparse.PRELUDE)],
                options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
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
PREDEFINED = __x86_64__ __XEN_TOOLS__
SEARCH_INCLUDES = YES
INCLUDE_PATH = {src}/..
QUIET = YES
WARNINGS = NO
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd[:4])} failed:\n{err}")
    return elapsed, usage.ru_maxrss


def best(runs: int, fn) -> tuple[float, int]:
    results = [fn() for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tree", help="header tree (default: Debian's libxen-dev, as the CLI)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

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
    rows: dict[str, tuple[float, int]] = {}

    rows["raw-parse (4 arches)"] = best(args.repeat, lambda: measure(
        [py, "-c", RAW_PARSE, tree_arg, str(work / "cache")]))

    if shutil.which("doxygen"):
        doxyfile = work / "Doxyfile"
        doxyfile.write_text(DOXYFILE.format(src=public, out=work / "doxy"))
        rows["doxygen (1 arch)"] = best(args.repeat, lambda: measure(["doxygen", str(doxyfile)]))

    def cold() -> tuple[float, int]:
        cache = work / "cold-cache"
        shutil.rmtree(cache, ignore_errors=True)
        env = dict(os.environ, HEADERPARSE_CACHE=str(cache))
        return measure([py, "-m", "headerparse", "extract", "-q", "--tree", tree_arg,
                        "--json", str(work / "m.json")], env)

    rows["headerparse extract, cold (4 arches)"] = best(args.repeat, cold)
    warm_env = dict(os.environ, HEADERPARSE_CACHE=str(work / "cold-cache"))
    rows["headerparse extract, cached (4 arches)"] = best(args.repeat, lambda: measure(
        [py, "-m", "headerparse", "extract", "-q", "--tree", tree_arg,
         "--json", str(work / "m.json")], warm_env))

    print(f"tree: {tree.description}; {len(tree.files)} headers; best of {args.repeat}")
    for name, (secs, rss) in rows.items():
        print(f"  {name:<42} {secs:8.3f} s   peak RSS {rss / 1024:7.1f} MiB")
    cold_t = rows["headerparse extract, cold (4 arches)"][0]
    warm_t = rows["headerparse extract, cached (4 arches)"][0]
    print("ratios:")
    print(f"  extract-cold / raw-parse      {cold_t / rows['raw-parse (4 arches)'][0]:6.2f}")
    if "doxygen (1 arch)" in rows:
        print(f"  extract-cold / doxygen-1arch  {cold_t / rows['doxygen (1 arch)'][0]:6.2f}"
              "   (target <= 1)")
    else:
        print("  doxygen not installed: no doxygen ratio")
    print(f"  extract-cached / extract-cold {warm_t / cold_t:6.2f}   (target < 0.1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
