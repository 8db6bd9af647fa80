#!/usr/bin/env python3
"""Merge benchmark: the CPU of Merger.model and model_json_text, in one process.

    python3 bench/merge.py [--tree PATH] [--repeat N] [--prepare ARCH ...]

Extracts the tree once (no cache) keeping what the pipeline hands the merge, then,
N times, from a fresh copy of it (so that no comment index has answered before and
FIELDS is empty, as in a cold run): the merge (Merger.model), and the model's
compact JSON.  With --prepare, the arches named are prepared first (Merger.prepare,
what a pipeline can do while the other arches parse), and the merge after them is
timed apart.  Prints CPU seconds (process time), best of N, and checks that every
merge gives the same JSON.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from headerparse.extract import merge, pipeline  # noqa: E402
from headerparse.model import model_json_text  # noqa: E402
from headerparse.tree import fetch_debian_headers, open_tree  # noqa: E402


def merge_inputs(tree_path: str) -> bytes:
    """The pickled arguments of the Merger that extracting ``tree_path`` builds."""
    kept: list[bytes] = []
    model = merge.Merger.model

    def keep(self: merge.Merger) -> Any:
        kept.append(pickle.dumps((self.tree, self.options, self.archs, self.sources,
                                  self.facts, self.tools_only)))
        return model(self)

    merge.Merger.model = keep      # type: ignore[method-assign]
    try:
        pipeline.extract(open_tree(tree_path), cache=None)
    finally:
        merge.Merger.model = model  # type: ignore[method-assign]
    return kept[0]


def once(inputs: bytes, prepare: list[str]) -> tuple[float, float, float, str]:
    """CPU seconds of the prepares, the merge and the JSON, and the JSON."""
    args = pickle.loads(inputs)
    merge.FIELDS.clear()
    gc.collect()
    gc.disable()        # as the pipeline merges
    try:
        merger = merge.Merger(*args)
        t0 = time.process_time()
        for arch in prepare:
            merger.prepare(args[4][arch])
        t1 = time.process_time()
        model = merger.model()
        t2 = time.process_time()
        text = model_json_text(model)
        t3 = time.process_time()
    finally:
        gc.enable()
    return t1 - t0, t2 - t1, t3 - t2, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--tree", help="header tree (default: Debian bookworm's libxen-dev)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--prepare", nargs="*", default=[], metavar="ARCH")
    args = ap.parse_args()
    tree = args.tree or str(fetch_debian_headers("bookworm"))
    inputs = merge_inputs(tree)
    runs = [once(inputs, args.prepare) for _ in range(args.repeat)]
    if len({text for *_, text in runs}) != 1:
        print("merges gave different JSON", file=sys.stderr)
        return 1
    best = [min(r[i] for r in runs) for i in range(3)]
    if args.prepare:
        print(f"prepare {' '.join(args.prepare)}: {best[0]:.3f} s CPU")
    print(f"Merger.model: {best[1]:.3f} s CPU; model_json_text: {best[2]:.3f} s CPU "
          f"(best of {args.repeat}, {len(runs[0][3]) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
