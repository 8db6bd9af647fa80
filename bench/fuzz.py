#!/usr/bin/env python3
"""A long fuzz run over headerparse's entry points: tracebacks, hangs, writes outside.

    python3 bench/fuzz.py [--count 100000] [--cli 300] [--seed 1] [--timeout 10]
                          [--xen-repo PATH] [--suite bookworm] [--json FILE]

Inputs are mutations (byte flips, token insertions, splices, duplications, cuts) of
seeds that are real material where the machine has it: the public headers of Debian's
libxen-dev (``--suite``, from the cache), ``git format-patch`` output of the commits of
a Xen repository (``--xen-repo``, e.g. a clone of Xen's public-header history), and the
project's own annotation files.  ``--count`` inputs are spread over the in-process entry
points, which run in a worker process:

  lexer     headerparse's comment lexer and markup parser (one header's Source);
  patch     the patch parser and applier, against the seed tree;
  yaml      the annotation loader (schema and positions);
  tree      the tree checks run before libclang (includes, macro expansion cost);

and ``--cli`` of them (counted in ``--count``) go through the command line in a
subprocess, each in a fresh sandbox with a small tree:

  review    ``headerparse review`` of a mutated patch;
  extract   ``headerparse extract`` of a tree with one mutated header;
  check     ``headerparse check --annotations`` with a mutated annotation file.

Reported, per entry point: inputs run, tracebacks (an exception that is not the entry
point's documented error, grouped by type and place), hangs (an input over
``--timeout`` seconds), and for the CLI writes outside the output, cache and temp dirs
(every sandbox is snapshotted before and after).  Exit status 1 when any was found.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKENS = [b"/*", b"*/", b"//", b"\\\n", b"\n", b"\r\n", b"#define A(x) x x\n", b"#include ",
          b'"', b"'", b"`", b"@@ -1,2 +1,3 @@\n", b"+", b"-", b" ", b"\\ No newline\n",
          b"diff --git a/x b/x\n", b"--- /dev/null\n", b"+++ b//x.h\n", b"rename to ../x\n",
          b"new file mode 120000\n", b"&a ", b"*a", b"<<: ", b"[", b"]", b"{", b"}", b": ",
          b"- ", b"\t", b"\x00", b"\xff", b"\xe9", b"\x1b[2K", b"=?utf-8?b?###?=", b"..",
          b"/dev/zero", b"/etc/passwd", b"%YAML 1.1\n", b"!!python/object ", b"\x85"]


# --------------------------------------------------------------------------- seeds


def seeds(args: argparse.Namespace) -> dict[str, list[bytes]]:
    """Real material where available; the test data otherwise."""
    headers: dict[str, bytes] = {}
    try:
        from headerparse.tree import fetch_debian_headers, open_tree

        headers = dict(open_tree(str(fetch_debian_headers(args.suite))).files)
    except Exception as exc:  # noqa: BLE001 - a bench runs with what the machine has
        print(f"fuzz: no Debian headers ({exc}); using the test data", file=sys.stderr)
    if not headers:
        headers = {p.name: p.read_bytes() for p in (REPO / "tests/data/extract").glob("*.h")}
    patches = _real_patches(args.xen_repo, 200) if args.xen_repo else []
    if not patches:
        patches = [p.read_bytes() for p in (REPO / "tests/data").rglob("*.patch")]
    patches = patches or [b"--- a/sched.h\n+++ b/sched.h\n@@ -1 +1 @@\n-a\n+b\n"]
    yaml = [p.read_bytes() for p in sorted((REPO / "source" / "annotations").glob("*.yaml"))]
    return {"headers": list(headers.values()), "names": list(headers), "patches": patches,
            "yaml": yaml, "tree": headers}  # type: ignore[dict-item]


def _real_patches(repo: str, n: int) -> list[bytes]:
    log = subprocess.run(["git", "-C", repo, "log", "--format=%H", f"-{n}", "--no-merges"],
                         capture_output=True, check=False).stdout.split()
    out = []
    for commit in log:
        proc = subprocess.run(["git", "-C", repo, "format-patch", "-1", "--stdout",
                               commit.decode()], capture_output=True, check=False)
        if proc.returncode == 0 and len(proc.stdout) < 200_000:
            out.append(proc.stdout)
    return out


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A few random edits: flips, token insertions, splices, duplications, cuts."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        op = rng.randrange(6)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[at:at] = rng.choice(TOKENS)
        elif op == 2:
            other = rng.choice(pool)
            a = rng.randrange(len(other) + 1)
            buf[at:at] = other[a:a + rng.randrange(1, 400)]
        elif op == 3 and buf:
            end = min(len(buf), at + rng.randrange(1, 200))
            buf[at:at] = buf[at:end] * rng.choice((2, 3, 50))
        elif op == 4:
            del buf[at:at + rng.randrange(1, 100)]
        else:
            buf = buf[:at]
    return bytes(buf[:400_000])


# --------------------------------------------------------------------------- in-process


def _lexer(data: bytes, _seed: dict[str, Any]) -> None:
    from headerparse.extract.source import read_source

    read_source("fuzz.h", data)


def _patch(data: bytes, seed: dict[str, Any]) -> None:
    from headerparse.checks import patch

    try:
        patch.apply(patch.parse(data), seed["tree"])
    except patch.PatchError:
        pass


def _yaml(data: bytes, _seed: dict[str, Any]) -> None:
    from headerparse.annotations.schema import parse_file

    parse_file(data, "fuzz.yaml")


def _tree(data: bytes, seed: dict[str, Any]) -> None:
    from headerparse import treesafe

    files = {"xen.h": seed["tree"].get("xen.h", b""), "fuzz/x.h": data}
    list(treesafe.problems(files))
    list(treesafe.parse_problems(files))


IN_PROCESS: dict[str, tuple[Callable[[bytes, dict[str, Any]], None], str]] = {
    "lexer": (_lexer, "headers"), "patch": (_patch, "patches"), "yaml": (_yaml, "yaml"),
    "tree": (_tree, "headers")}


class _Hang(Exception):
    pass


def _alarm(_sig: int, _frame: Any) -> None:
    raise _Hang()


def _worker(kind: str, count: int, seed_no: int, timeout: float, seed: dict[str, Any],
            out: Any) -> None:
    """Run ``count`` inputs of one entry point; send back a summary."""
    fn, pool_name = IN_PROCESS[kind]
    pool = seed[pool_name]
    rng = random.Random(seed_no)
    signal.signal(signal.SIGALRM, _alarm)
    crashes: dict[str, dict[str, Any]] = {}
    hangs: list[str] = []
    slowest = 0.0
    with tempfile.TemporaryDirectory(prefix="hp-fuzz-crash-") as keep:
        for i in range(count):
            data = mutate(rng, rng.choice(pool), pool)
            t0 = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                fn(data, seed)
            except _Hang:
                hangs.append(_save(keep, kind, i, data))
            except RecursionError as exc:
                _crash(crashes, exc, kind, i, data, keep)
            except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
                _crash(crashes, exc, kind, i, data, keep)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            slowest = max(slowest, time.monotonic() - t0)
        kept = _persist(keep)
    out.send({"kind": kind, "inputs": count, "crashes": crashes, "hangs": hangs,
              "slowest": round(slowest, 3), "kept": kept})


def _crash(crashes: dict[str, dict[str, Any]], exc: BaseException, kind: str, i: int,
           data: bytes, keep: str) -> None:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
    key = f"{type(exc).__name__} at {where}"
    entry = crashes.setdefault(key, {"count": 0, "example": _save(keep, kind, i, data)})
    entry["count"] += 1


def _save(keep: str, kind: str, i: int, data: bytes) -> str:
    path = Path(keep) / f"{kind}-{i}.bin"
    path.write_bytes(data)
    return path.name


def _persist(keep: str) -> str:
    """Move the saved inputs where the report points (bench/out/fuzz-crashes)."""
    files = list(Path(keep).iterdir())
    if not files:
        return ""
    dest = REPO / "bench" / "out" / "fuzz-crashes"
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.move(str(f), dest / f.name)
    return str(dest)


# --------------------------------------------------------------------------- CLI


def _snapshot(root: Path, skip: set[str]) -> dict[str, tuple[int, int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if not rel.parts:
            dirnames[:] = [d for d in dirnames if d not in skip]     # nor the dirs themselves
        for name in [*filenames, *dirnames]:
            p = Path(dirpath) / name
            try:
                st = p.lstat()
            except OSError:
                continue
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


SMALL_SCHED = (b"/* sched.h */\n#define SCHEDOP_yield 0\n/* Why. */\nstruct sched_shutdown {\n"
               b"    unsigned int reason; /* SHUTDOWN_* */\n};\n")


def _cli_case(kind: str, rng: random.Random, seed: dict[str, Any], box: Path) -> list[str]:
    tree = box / "tree" / "public"
    tree.mkdir(parents=True)
    (tree / "xen.h").write_bytes((REPO / "tests/data/extract/xen.h").read_bytes())
    (tree / "sched.h").write_bytes(SMALL_SCHED)
    (box / "none").mkdir()
    common = ["--tree", str(tree), "--arch", "x86_64", "-q"]
    if kind == "review":
        base = rng.choice(seed["patches"] + [_small_patch()] * len(seed["patches"]))
        (box / "p.patch").write_bytes(mutate(rng, base, seed["patches"]))
        return ["review", *common, "--annotations", str(box / "none"), str(box / "p.patch"),
                "-o", str(box / "out" / "report.txt")]
    if kind == "extract":
        i = rng.randrange(len(seed["headers"]))
        name = Path(seed["names"][i]).name
        (tree / name).write_bytes(mutate(rng, seed["headers"][i], seed["headers"]))
        return ["extract", *common, "--json", str(box / "out" / "m.json")]
    ann = box / "ann"
    ann.mkdir()
    (ann / "f.yaml").write_bytes(mutate(rng, rng.choice(seed["yaml"]), seed["yaml"]))
    return ["check", *common, "--annotations", str(ann), "-o", str(box / "out" / "r.txt")]


def _small_patch() -> bytes:
    p = "xen/include/public/sched.h"
    return (f"From 0 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] s\n\n---\n"
            f"diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -2,3 +2,3 @@\n"
            " #define SCHEDOP_yield 0\n-/* Why. */\n+/* Why not. */\n struct sched_shutdown {\n"
            ).encode()


def run_cli(count: int, seed_no: int, timeout: float, seed: dict[str, Any]) -> list[dict]:
    rng = random.Random(seed_no)
    results: dict[str, dict[str, Any]] = {
        k: {"kind": f"cli-{k}", "inputs": 0, "crashes": {}, "hangs": [], "outside": [],
            "slowest": 0.0, "exits": Counter()} for k in ("review", "extract", "check")}
    cache = Path(tempfile.mkdtemp(prefix="hp-fuzz-cache-"))
    try:
        for i in range(count):
            kind = ("review", "extract", "check")[i % 3]
            _one_cli(kind, i, rng, seed, cache, timeout, results[kind])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    for r in results.values():
        r["exits"] = dict(r["exits"])
    return list(results.values())


def _one_cli(kind: str, i: int, rng: random.Random, seed: dict[str, Any], cache: Path,
             timeout: float, res: dict[str, Any]) -> None:
    box = Path(tempfile.mkdtemp(prefix="hp-fuzz-"))
    try:
        argv = _cli_case(kind, rng, seed, box)
        (box / "out").mkdir()
        (box / "tmp").mkdir()
        before = _snapshot(box, {"out", "tmp"})
        env = dict(os.environ, PYTHONPATH=str(REPO), HEADERPARSE_CACHE=str(cache),
                   TMPDIR=str(box / "tmp"), HOME=str(box / "tmp"))
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "headerparse", *argv], cwd=box, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            res["hangs"].append(_keep_box(box, kind, i))
            return
        finally:
            res["slowest"] = round(max(res["slowest"], time.monotonic() - t0), 3)
            res["inputs"] += 1
        res["exits"][proc.returncode] += 1
        text = err.decode("utf-8", "replace")
        if "Traceback" in text or proc.returncode not in (0, 1, 2):
            lines = [ln for ln in text.splitlines() if ln.strip()]
            last = lines[-1:] or [f"exit {proc.returncode}"]
            entry = res["crashes"].setdefault(last[0][:160], {"count": 0,
                                                              "example": _keep_box(box, kind, i)})
            entry["count"] += 1
        after = _snapshot(box, {"out", "tmp"})
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            res["outside"].append({"case": _keep_box(box, kind, i), "paths": changed[:5]})
        if list((box / "tmp").iterdir()):
            res["outside"].append({"case": _keep_box(box, kind, i), "temp-left": True})
    finally:
        shutil.rmtree(box, ignore_errors=True)


def _keep_box(box: Path, kind: str, i: int) -> str:
    dest = REPO / "bench" / "out" / "fuzz-crashes" / f"cli-{kind}-{i}"
    if not dest.exists():
        shutil.copytree(box, dest, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return str(dest)


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="inputs in all (default 100000)")
    ap.add_argument("--cli", type=int, default=300, help="of which through the command line")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0, help="a hang, in seconds")
    ap.add_argument("--xen-repo", help="a Xen git repository: its commits are patch seeds")
    ap.add_argument("--suite", default="bookworm", help="Debian suite of the header seeds")
    ap.add_argument("--json", help="also write the report here")
    args = ap.parse_args()
    seed = seeds(args)
    share = max(0, args.count - args.cli)
    per = {k: share // len(IN_PROCESS) + (1 if i < share % len(IN_PROCESS) else 0)
           for i, k in enumerate(IN_PROCESS)}
    t0 = time.monotonic()
    reports = []
    ctx = multiprocessing.get_context("fork")
    for n, (kind, count) in enumerate(per.items()):
        reports.append(_in_worker(ctx, kind, count, args.seed * 1000 + n, args.timeout, seed))
        print(f"fuzz: {kind}: {count} inputs, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    reports += run_cli(args.cli, args.seed, args.timeout, seed)
    summary = {"inputs": sum(r["inputs"] for r in reports),
               "tracebacks": sum(c["count"] for r in reports for c in r["crashes"].values()),
               "hangs": sum(len(r["hangs"]) for r in reports),
               "outside_writes": sum(len(r.get("outside", [])) for r in reports),
               "seconds": round(time.monotonic() - t0, 1), "per_entry_point": reports,
               "seeds": {k: len(seed[k]) for k in ("headers", "patches", "yaml")}}
    text = json.dumps(summary, indent=1, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 1 if summary["tracebacks"] or summary["hangs"] or summary["outside_writes"] else 0


def _in_worker(ctx: Any, kind: str, count: int, seed_no: int, timeout: float,
               seed: dict[str, Any]) -> dict[str, Any]:
    """One entry point's inputs in a worker: a crash of the interpreter is a finding too."""
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(kind, count, seed_no, timeout, seed, send))
    proc.start()
    send.close()
    try:
        report = recv.recv()
    except EOFError:
        report = {"kind": kind, "inputs": count, "hangs": [], "slowest": None,
                  "crashes": {f"worker died (exit {proc.exitcode})": {"count": 1}}}
    proc.join()
    return report


if __name__ == "__main__":
    sys.exit(main())
