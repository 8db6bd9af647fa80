#!/usr/bin/env python3
"""History benchmark and cross-check on Xen's real release history (issue 13).

    python3 bench/history.py --bundle PATH/xen-public.bundle [--json FILE]

Clones the bundle into a temporary directory and runs ``headerparse history`` in
child processes, each cache state made on purpose:

  features-cold   every feature release 4.0.0-4.20.0, empty cache     (target <= 30 s)
  all-cold        every RELEASE-* tag, empty cache                     (target <= 120 s)
  nothing-new     the same again                                       (target <= 2 s)
  one-new-tag     RELEASE-4.20.0 deleted, history recomputed, then the tag restored
                  with its summary and the libclang facts dropped: one extraction
                  added to the kept history                            (target <= 1.5 s)
  peak RSS        the largest child or grandchild (getrusage)          (target <= 500 MiB)

Then the independent derivation: for hypercall numbers (``__HYPERVISOR_*``), sub-op
constants (``SCHEDOP_yield``, ``XENMEM_populate_physmap``, ...) and struct/union
tags, the first release whose header *text* ``#define``s the name or opens
``struct tag {`` (``git grep`` per tag; the oldest release, else feature releases,
as ``since`` is defined), against ``since`` in all-cold's JSON.  Prints the
agreement and every disagreement with the reason found for it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = "xen/include/public"
TARGETS = {"features-cold": 30.0, "all-cold": 120.0, "nothing-new": 2.0, "one-new-tag": 1.5}
SUBOP = re.compile(r"(SCHEDOP|EVTCHNOP|GNTTABOP|XENMEM|PHYSDEVOP|XEN_DOMCTL|XEN_SYSCTL|HVMOP"
                   r"|XENPF|VCPUOP|CONSOLEIO|XENVER|XENOPROF|XEN_DMOP|XENPMU|XEN_ARGO_OP"
                   r"|KEXEC_CMD|XEN_HYPFS_OP|XEN_SYSCTL_LIVEPATCH)_[a-z][a-z0-9_]*")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def history(repo: Path, cache: Path, revs: str, out: Path) -> tuple[float, str]:
    """Seconds of one ``headerparse history`` process, and its last stderr line.

    The note also gives the CPU seconds of the process and its workers, and the
    load average when it ended: on a shared 2-core machine the wall time is only
    comparable with the load it ran under.
    """
    env = dict(os.environ, HEADERPARSE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "headerparse", "history", "--tree", str(repo),
                           "--revs", revs, "--format", "json", "-o", str(out)],
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"headerparse history failed ({proc.returncode}): {proc.stderr[-2000:]}")
    lines = [x for x in proc.stderr.splitlines() if "warning" not in x]
    note = lines[-1].removeprefix("headerparse: ") if lines else ""
    return seconds, (f"[cpu {_cpu() - cpu:.2f} s, load {os.getloadavg()[0]:.1f}] {note}")


def measure(repo: Path, work: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    out = work / "out.json"
    for name, revs, cache in (("features-cold", "RELEASE-4.*.0", work / "cache-features"),
                              ("all-cold", "RELEASE-*", work / "cache-all"),
                              ("nothing-new", "RELEASE-*", work / "cache-all")):
        figures[name], note = history(repo, cache, revs, out if name != "all-cold"
                                      else work / "all.json")
        print(f"{name:14} {figures[name]:7.2f} s   {note}", flush=True)
    cache = work / "cache-all"
    oid = git(repo, "rev-parse", "RELEASE-4.20.0").strip()
    tree = git(repo, "rev-parse", f"RELEASE-4.20.0:{PUBLIC}").strip()
    git(repo, "tag", "-d", "RELEASE-4.20.0")
    seconds, note = history(repo, cache, "RELEASE-*", out)
    print(f"{'(set-up)':14} {seconds:7.2f} s   without RELEASE-4.20.0: {note}", flush=True)
    for f in (cache / "history" / "summaries").glob(f"{tree}-*.json"):
        f.unlink()
    shutil.rmtree(cache / "facts", ignore_errors=True)
    git(repo, "tag", "RELEASE-4.20.0", oid)
    figures["one-new-tag"], note = history(repo, cache, "RELEASE-*", out)
    print(f"{'one-new-tag':14} {figures['one-new-tag']:7.2f} s   {note}", flush=True)
    if json.loads(out.read_text()) != json.loads((work / "all.json").read_text()):
        sys.exit("one-new-tag's history differs from all-cold's")
    print("one-new-tag's history is all-cold's, byte for byte as JSON data")
    # ru_maxrss of the children is the largest of any waited-for descendant, in KiB.
    figures["peak-rss-mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{'peak RSS':14} {figures['peak-rss-mib']:7.1f} MiB")
    return figures


# --------------------------------------------------------------------------- cross-check

NUMBER = re.compile(r"\(?\s*(?:0x[0-9a-fA-F]+|\d+)[uUlL]*\s*\)?")
DIRECTIVE = re.compile(r"\s*#\s*(\w+)\s*(.*)")
RECORD = re.compile(r"\b(struct|union)\s+([A-Za-z_]\w*)\s*\{")
GUARDS = {"__XEN__": re.compile(r"\b__XEN__\b"), "__ia64__": re.compile(r"\b__ia64__\b")}


def header_texts(repo: Path, tag: str) -> dict[str, str]:
    """Path -> text of every public header at ``tag``."""
    listing = git(repo, "ls-tree", "-r", "--full-tree", tag, "--", PUBLIC).splitlines()
    blobs = {line.split("\t", 1)[1]: line.split()[2] for line in listing
             if line.split("\t", 1)[1].endswith(".h") and line.split()[1] == "blob"}
    proc = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], check=True,
                          input="".join(f"{o}\n" for o in blobs.values()).encode(),
                          capture_output=True)
    out, pos, texts = proc.stdout, 0, {}
    for path in blobs:
        eol = out.index(b"\n", pos)
        size = int(out[pos:eol].split()[2])
        texts[path] = out[eol + 1:eol + 1 + size].decode("utf-8", "replace")
        pos = eol + 1 + size + 1
    return texts


def text_definitions(text: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(#define name -> (value, guard), struct/union key -> guard).

    Comments are blanked and continuation lines joined first.  The guard is what
    hides a definition from every arch headerparse compiles with __XEN_TOOLS__: ""
    for nothing, "__XEN__" (the true branch of an #if naming __XEN__ and not
    __XEN_TOOLS__: the hypervisor's own view), "__ia64__", or "function" for a
    type declared inside a function body.
    """
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text).replace("\\\n", " ")
    defines: dict[str, tuple[str, bool]] = {}
    stack: list[str] = []             # per open #if: the guard of its current branch
    code_lines, guard_at = [], []
    for line in text.split("\n"):
        d = DIRECTIVE.match(line)
        guard = next((g for g in stack if g), "")
        code_lines.append("" if d else line)
        guard_at.append(guard)
        if d is None:
            continue
        word, rest = d.groups()
        if word in ("if", "ifdef", "ifndef"):
            positive = word != "ifndef" and "!" not in rest and "__XEN_TOOLS__" not in rest
            stack.append(next((g for g, r in GUARDS.items() if positive and r.search(rest)), ""))
        elif word in ("else", "elif") and stack:
            stack[-1] = ""
        elif word == "endif" and stack:
            stack.pop()
        elif word == "define":
            name, _, value = rest.partition(" ")
            if "(" not in name:
                defines.setdefault(name.strip(), (value.strip(), guard))
    code = "\n".join(code_lines)
    records = {}
    for m in RECORD.finditer(code):
        guard = guard_at[code.count("\n", 0, m.start())] or _in_function(code, m.start())
        records.setdefault(f"{m.group(1)} {m.group(2)}", guard)
    return defines, records


def _in_function(code: str, at: int) -> str:
    """"function" when ``at`` is inside a function body: after an open brace that follows ')'."""
    opened: list[int] = []
    for m in re.finditer(r"[{}]", code[:at]):
        if m.group() == "{":
            opened.append(m.start())
        elif opened:
            opened.pop()
    return "function" if any(code[:o].rstrip().endswith(")") for o in opened) else ""


CATEGORIES = {
    "hypercall numbers": lambda n, v: n.startswith("__HYPERVISOR_") and NUMBER.fullmatch(v),
    "sub-op constants": lambda n, v: SUBOP.fullmatch(n) and NUMBER.fullmatch(v),
    "struct/union tags": lambda n, v: n.startswith(("struct ", "union ")),
}


def first_in_text(repo: Path, releases: list[str]) -> dict[str, dict[str, tuple]]:
    """Category -> name -> (first release, file, __XEN__ only) by the headers' text.

    The releases read are those ``since`` is defined over: the oldest, then the
    feature releases.
    """
    read = [r for i, r in enumerate(releases) if i == 0 or Version(r).feature]
    found: dict[str, dict[str, tuple]] = {c: {} for c in CATEGORIES}
    for release in read:
        for path, text in header_texts(repo, f"RELEASE-{release}").items():
            defines, records = text_definitions(text)
            items = [(n, v, x) for n, (v, x) in defines.items()]
            items += [(n, "", x) for n, x in records.items()]
            for name, value, guard in items:
                for label, member in CATEGORIES.items():
                    if member(name, value):
                        found[label].setdefault(name, (release, path, guard))
    return found


class Version:
    def __init__(self, name: str) -> None:
        self.parts = tuple(int(p) for p in name.split("."))

    @property
    def feature(self) -> bool:
        return all(p == 0 for p in self.parts[2:])


def cross_check(repo: Path, hist: dict) -> float:
    symbols = hist["symbols"]
    found = first_in_text(repo, hist["releases"])
    agree = total = hidden = 0
    for label, names in found.items():
        bad = [(n, why(n, names[n], symbols.get(n))) for n in sorted(names)
               if names[n][0] != (symbols.get(n) or {}).get("since")]
        agree += len(names) - len(bad)
        total += len(names)
        hidden += sum(1 for _n, reason in bad if _UNSEEN.search(reason))
        print(f"{label:18} {len(names) - len(bad):5}/{len(names):<5} agree "
              f"({100 * (len(names) - len(bad)) / max(len(names), 1):.1f}%)")
        for n, reason in bad:
            print(f"    {n}: {reason}")
        macro_made = [n for n in symbols if CATEGORIES[label](n, "0") and n not in names
                      and symbols[n]["kind"] != "member"]
        if macro_made:
            print(f"    (not compared: {len(macro_made)} extracted with no literal definition in "
                  f"the text, made by macros or enums, e.g. {', '.join(macro_made[:3])})")
    share = 100 * agree / max(total, 1)
    print(f"{'all':18} {agree:5}/{total:<5} agree ({share:.2f}%; target >= 99%)")
    seen = total - hidden
    print(f"{'compilable':18} {agree:5}/{seen:<5} agree ({100 * agree / max(seen, 1):.2f}%): "
          f"leaving out the {hidden} that no compiled arch can see (ia64, __XEN__ only, "
          "dom0_ops.h, function-local)")
    return share


_UNSEEN = re.compile(r"ia64|__XEN__|dom0_ops|function body")
REASONS = {
    "__XEN__": "inside #ifdef __XEN__: the hypervisor's view; the history reads the toolstack's",
    "__ia64__": "inside #if defined(__ia64__), and headerparse has no ia64 target",
    "function": "a local type inside a function body, not a top-level ABI type",
}


def why(name: str, text: tuple, sym: dict | None) -> str:
    release, path, guard = text
    where = f"text from {release} ({path.removeprefix(PUBLIC + '/')})"
    if guard:
        return f"{where}, {REASONS[guard]} (extracted since {sym['since'] if sym else 'never'})"
    if sym is None:
        if "ia64" in path:
            return f"{where}: an ia64 header, and headerparse has no ia64 target"
        if path.endswith("dom0_ops.h"):
            return f"{where}: dom0_ops.h is not compiled (it #errors by design from Xen 3.1)"
        return f"{where}, never extracted"
    return f"{where}, extracted since {sym['since']}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", required=True, type=Path, help="xen-public.bundle")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    # Bytecode as an installed package has it: with PYTHONDONTWRITEBYTECODE set (CI
    # images set it) every measured run would otherwise compile the package again.
    compileall.compile_dir(ROOT / "headerparse", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="hp-history-bench-"))
    try:
        repo = work / "xen"
        subprocess.run(["git", "clone", "-q", str(args.bundle), str(repo)], check=True)
        figures = measure(repo, work)
        figures["agreement-percent"] = cross_check(repo, json.loads((work / "all.json")
                                                                    .read_text()))
        print()
        for name, target in TARGETS.items():
            verdict = "ok" if figures[name] <= target else "OVER"
            print(f"{name:14} {figures[name]:7.2f} s  (target <= {target:g} s)  {verdict}")
        print(f"{'peak RSS':14} {figures['peak-rss-mib']:7.1f} MiB (target <= 500 MiB)  "
              f"{'ok' if figures['peak-rss-mib'] <= 500 else 'OVER'}")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1) + "\n")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
