"""Helpers of the hostile-input tests (tests/test_hostile*.py): a small tree, patches and
mails built around it, and headerparse run in a subprocess with its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
XEN_H = (REPO / "tests" / "data" / "extract" / "xen.h").read_bytes()
SCHED_H = (b"/* sched.h: scheduler operations. */\n"
           b"#ifndef __XEN_PUBLIC_SCHED_H__\n#define __XEN_PUBLIC_SCHED_H__\n"
           b"#define SCHEDOP_yield 0\n"
           b"/* The reason of a shutdown. */\n"
           b"struct sched_shutdown {\n    unsigned int reason; /* SHUTDOWN_* */\n};\n"
           b"#endif\n")
SCHED = "xen/include/public/sched.h"
ROOT = os.geteuid() == 0
ESC = "\x1b[1A\x1b[2K"


# --------------------------------------------------------------------------- helpers


class Run:
    def __init__(self, code: int, out: bytes, err: bytes, seconds: float) -> None:
        self.code, self.out, self.err, self.seconds = code, out, err, seconds

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<exit {self.code} in {self.seconds:.1f}s: {self.stderr[-600:]!r}>"


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), HEADERPARSE_CACHE=str(tmp / "cache"),
               LC_ALL="C.UTF-8")
    env.update(extra)
    return env


def hp(tmp: Path, *args: str, stdin: bytes | None = None, timeout: float = 60,
       env: dict[str, str] | None = None, preexec: Callable[[], None] | None = None,
       cwd: Path | None = None, obey_permissions: bool = False) -> Run:
    """Run headerparse; a run over ``timeout`` is killed with its whole process group.

    ``obey_permissions``: as root (CI), run without the capabilities that let root read
    what its mode forbids, so that an unreadable file is unreadable to the run."""
    t0 = time.monotonic()
    drop = (["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
            if obey_permissions and os.geteuid() == 0 else [])
    proc = subprocess.Popen([*drop, sys.executable, "-m", "headerparse", *args], cwd=cwd or tmp,
                            env=env or env_for(tmp), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=preexec)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"headerparse {' '.join(args)[:200]} ran over {timeout} s")
    return Run(proc.returncode, out, err, time.monotonic() - t0)


def clean_error(r: Run, code: int = 2, *words: str) -> None:
    """A refusal as the README promises: exit ``code``, a diagnostic, no traceback."""
    assert "Traceback" not in r.stderr, r
    assert r.code == code, r
    assert "error" in r.stderr.lower(), r
    for w in words:
        assert w in r.stderr, r


def no_traceback(r: Run, *codes: int) -> None:
    assert "Traceback" not in r.stderr, r
    assert r.code in codes, r


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def public(tmp: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A public include dir: the shared stand-in xen.h and a small sched.h."""
    return write(tmp / "tree" / "public", {"xen.h": XEN_H, "sched.h": SCHED_H, **(extra or {})})


def checkout(tmp: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A Xen checkout (git repository, one commit) holding the same headers."""
    root = tmp / "xen"
    write(root, {"xen/Makefile": b"", "xen/include/public/xen.h": XEN_H, SCHED: SCHED_H,
                 **(extra or {})})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=T", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True).stdout.decode()


def mail(diff: str | bytes, subject: str = "[PATCH] sched: a change", headers: str = "") -> bytes:
    body = diff if isinstance(diff, bytes) else diff.encode()
    return (f"From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            f"From: A Developer <dev@example.org>\nSubject: {subject}\n{headers}\n"
            f"---\n").encode() + body + b"-- \n2.39.2\n"


def sched_diff(old: str, new: str, *, path: str = SCHED, start: int = 5) -> str:
    """A one-hunk git diff replacing line ``start`` (``old``) of sched.h by ``new``."""
    lines = SCHED_H.decode().split("\n")
    assert lines[start - 1] == old, lines[start - 1]
    ctx = lines[start - 2]
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            f"@@ -{start - 1},2 +{start - 1},2 @@\n {ctx}\n-{old}\n+{new}\n")


def new_file_diff(path: str, text: str) -> str:
    n = text.count("\n")
    body = "".join(f"+{ln}\n" for ln in text.split("\n")[:n])
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{n} @@\n{body}")


def marker_processes(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (our children, orphaned or not)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if marker.encode() in (d / "environ").read_bytes():
                status = (d / "status").read_text()
                if "\nState:\tZ" not in status:
                    found.append(int(d.name))
        except OSError:
            continue
    return found


def wait_gone(marker: str, seconds: float = 10.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = marker_processes(marker)
        if not left:
            return []
        time.sleep(0.1)
    left = marker_processes(marker)
    for pid in left:            # do not leave them to the next test
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


def wait_closing(proc: subprocess.Popen) -> None:
    """Wait for a signalled run without reading its stderr to the end: an orphan that
    inherited the pipe would keep it open forever."""
    try:
        proc.wait(30)
    finally:
        assert proc.stderr is not None
        proc.stderr.close()


def doubling_macros(n: int) -> bytes:
    lines = ["#define HP_D0 1"] + [f"#define HP_D{i} (HP_D{i - 1} + HP_D{i - 1})"
                                   for i in range(1, n + 1)]
    return ("\n".join(lines) + "\n").encode()


def many_structs(n: int) -> bytes:
    out = []
    for i in range(n):
        fields = "".join(f"    unsigned long f{j}; /* field {j} */\n" for j in range(12))
        out.append(f"/* Record {i}. */\nstruct hp_rec{i} {{\n{fields}}};\n")
    return "".join(out).encode()

def review_run(tmp: Path, patch: bytes, *extra: str, fmt: str = "text") -> Run:
    tree = public(tmp)
    (tmp / "none").mkdir(exist_ok=True)
    (tmp / "p.patch").write_bytes(patch)
    return hp(tmp, "review", "-q", "--tree", str(tree), "--arch", "x86_64", "--annotations",
              str(tmp / "none"), "--format", fmt, *extra, str(tmp / "p.patch"))


def review_timeout(tmp: Path, patch: bytes, timeout: float) -> Run:
    tree = public(tmp)
    (tmp / "none").mkdir(exist_ok=True)
    (tmp / "p.patch").write_bytes(patch)
    return hp(tmp, "review", "-q", "--tree", str(tree), "--arch", "x86_64", "--annotations",
              str(tmp / "none"), str(tmp / "p.patch"), timeout=timeout)
