#!/usr/bin/env python3
"""Estimate a command's wall time on an idle machine, from a busy one.

    python3 bench/idle_wall.py [--cpus N] [--marks] -- COMMAND...

On a shared machine a wall-clock time says more about the other jobs than about
the command. This samples the command's process tree every 10 ms and counts the
CPU time it used in each interval as ``cpu / min(N, processes of the tree that
could run)``: work done while only one of its processes could run takes its
whole length on an idle machine, work done by two at once half of it. The sum
estimates the wall time on an idle N-CPU machine (N: this machine's CPUs). It
misses the time no process of the tree ran or waited to run (waiting on a pipe
or the disk), so it reads somewhat low; compare two versions measured in the
same period, not an estimate with a wall-clock time. ``--marks`` prints each
line the command writes with the wall time and the estimate at that moment (a
``-v`` build's progress lines show where its time goes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, list[tuple[int, str, int]]]:
    """Children of each process: (pid, state, CPU ticks)."""
    kids: dict[int, list[tuple[int, str, int]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(
            (int(name), fields[0], int(fields[11]) + int(fields[12])))
    return kids


def _tree(root: int) -> list[tuple[int, str, int]]:
    kids = _processes()
    out, todo = [], [root]
    while todo:
        for item in kids.get(todo.pop(), []):
            out.append(item)
            todo.append(item[0])
    try:
        with open(f"/proc/{root}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        out.append((root, fields[0], int(fields[11]) + int(fields[12])))
    except OSError:
        pass
    return out


def estimate(cmd: list[str], cpus: int, marks: bool) -> tuple[float, float, float]:
    """(wall, CPU, estimated idle wall) of running ``cmd``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    est = [0.0]
    lines: list[tuple[float, float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.perf_counter() - t0, est[0], line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: dict[int, int] = {}
    total = 0.0
    while proc.poll() is None:
        tree = _tree(proc.pid)
        running = sum(1 for _pid, state, _cpu in tree if state == "R")
        used = 0
        for pid, _state, cpu in tree:
            used += max(0, cpu - seen.get(pid, 0))
            seen[pid] = cpu
        if used:
            total += used / TICK
            est[0] += used / TICK / max(1, min(cpus, running))
        time.sleep(0.01)
    reader.join(1)
    if marks:
        for wall, at, line in lines:
            print(f"{wall:7.2f} {at:6.2f}  {line}")
    return time.perf_counter() - t0, total, est[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--marks", action="store_true", help="print the command's lines, timed")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")
    wall, cpu, est = estimate(cmd, args.cpus, args.marks)
    print(f"wall {wall:.2f} s, CPU {cpu:.2f} s, estimated on an idle {args.cpus}-CPU "
          f"machine {est:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
