"""Hostile input, killed runs and shared caches (issue 15's numbered items, one test each).

Every case drives the command line in a subprocess, as CI or an attacker would, on a
small synthetic tree: what is asserted is what a user sees (exit status, one-line
diagnostics, files left on disk, processes left running), not how the code is laid out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
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
       cwd: Path | None = None) -> Run:
    """Run headerparse; a run over ``timeout`` is killed with its whole process group."""
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "headerparse", *args], cwd=cwd or tmp,
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


def _wait_closing(proc: subprocess.Popen) -> None:
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


# ------------------------------------------------------- 1. build deletes user data


def _html_symlink(tmp: Path, out: Path) -> Callable[[], None]:
    mine = write(tmp / "mine", {"keep.txt": b"precious\n", "sub/keep.html": b"<p>mine</p>\n"})
    out.mkdir()
    (out / "html").symlink_to(mine)

    def intact() -> None:
        assert (mine / "keep.txt").read_bytes() == b"precious\n"
        assert (mine / "sub" / "keep.html").is_file()
    return intact


def _html_real_dir(tmp: Path, out: Path) -> Callable[[], None]:
    write(out / "html", {"mine.html": b"<p>mine</p>\n", "notes.txt": b"notes\n"})

    def intact() -> None:
        kept = [p for p in out.rglob("mine.html") if p.read_bytes() == b"<p>mine</p>\n"]
        assert kept, "the user's own mine.html was deleted"
        assert list(out.rglob("notes.txt")), "the user's notes.txt was deleted"
    return intact


def _sites_symlink(tmp: Path, out: Path) -> Callable[[], None]:
    mine = write(tmp / "mine", {"project/keep.txt": b"precious\n", "other/x.txt": b"x\n"})
    out.mkdir()
    (out / ".sites").symlink_to(mine)

    def intact() -> None:
        assert (mine / "project" / "keep.txt").read_bytes() == b"precious\n"
        assert (mine / "other" / "x.txt").is_file()
    return intact


@pytest.mark.parametrize("setup", [_html_symlink, _html_real_dir, _sites_symlink],
                         ids=["html-symlink", "html-real-dir", "sites-symlink"])
def test_1_build_never_deletes_user_data(tmp_path: Path, setup) -> None:
    tree = public(tmp_path)
    out = tmp_path / "out"
    intact = setup(tmp_path, out)
    r = hp(tmp_path, "build", "-q", "--tree", str(tree), "--arch", "x86_64", "-o", str(out),
           timeout=120)
    no_traceback(r, 0, 2)
    intact()


# -------------------------------------------- 2. extract --json renames over the target


def test_2_json_onto_a_special_file_is_refused(tmp_path: Path) -> None:
    tree = public(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--json", str(fifo), timeout=30)
    clean_error(r, 2, "pipe")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cache-hit"])
def test_2_concurrent_json_writers_do_not_collide(tmp_path: Path, cached: bool) -> None:
    tree = public(tmp_path)
    target = tmp_path / "model.json"
    args = ("extract", "-q", "--tree", str(tree), "--arch", "x86_64", "--json", str(target))
    if cached:
        assert hp(tmp_path, *args).code == 0
    for _round in range(3):
        runs: list[Run] = []
        threads = [threading.Thread(target=lambda got=runs: got.append(hp(tmp_path, *args)))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in runs:
            no_traceback(r, 0)
        assert json.loads(target.read_text())["records"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "model.json", "tree"]


# -------------------------------------------------- 3. symlinks followed and published


SECRET = b"root:x:0:0:the secret outside the tree\n"


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_3_symlink_out_of_a_tree_is_refused(tmp_path: Path, kind: str) -> None:
    secret = write(tmp_path / "outside", {"passwd.h": SECRET, "x/passwd.h": SECRET})
    tree = public(tmp_path)
    if kind == "file":
        (tree / "evil.h").symlink_to(secret / "passwd.h")
    else:
        (tree / "evil").symlink_to(secret / "x")
    out = tmp_path / "m.json"
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--json", str(out))
    clean_error(r, 2, "evil")
    assert not out.exists() or b"the secret" not in out.read_bytes()


def test_3_symlink_in_a_checkout_and_at_a_rev_agree(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    (root / "xen/include/public/evil.h").symlink_to("/etc/passwd")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "evil")
    outs = []
    for rev in ((), ("--rev", "HEAD")):
        out = tmp_path / f"m{len(outs)}.json"
        outs.append(hp(tmp_path, "extract", "-q", "--tree", str(root), *rev, "--arch", "x86_64",
                       "--json", str(out)))
        assert not out.exists() or b"root:" not in out.read_bytes()
    assert outs[0].code == outs[1].code == 2, outs
    for r in outs:
        clean_error(r, 2, "evil.h")


@pytest.mark.parametrize("target", ["/etc/hostname", "../../../../../../../../etc/hostname"],
                         ids=["absolute", "dotdot"])
def test_3_include_leaving_the_tree_is_refused(tmp_path: Path, target: str) -> None:
    tree = public(tmp_path, {"evil.h": f'#include "{target}"\n'.encode()})
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--json", str(tmp_path / "m.json"))
    assert "Traceback" not in r.stderr
    assert r.code in (1, 2) and "evil.h:1" in r.stderr, r


# ------------------------------------------- 4. CI checks that pass when they must fail


BROKEN = {"broken.h": b"struct broken {\n    int a\n    this is not C;\n};\n"}


@pytest.mark.parametrize("command", [["check"], ["show", "sched_shutdown"],
                                     ["layout", "--all"]], ids=["check", "show", "layout"])
def test_4_commands_fail_on_a_tree_that_does_not_compile(tmp_path: Path, command) -> None:
    tree = public(tmp_path, BROKEN)
    extra = ["--annotations", str(tmp_path / "none")] if command[0] == "check" else []
    (tmp_path / "none").mkdir()
    r = hp(tmp_path, *command, "-q", "--tree", str(tree), "--arch", "x86_64", *extra)
    assert "Traceback" not in r.stderr and "broken.h:2" in r.stderr, r
    assert r.code == 1, r


def test_4_build_fails_on_a_tree_that_does_not_compile(tmp_path: Path) -> None:
    tree = public(tmp_path, BROKEN)
    r = hp(tmp_path, "build", "-q", "--tree", str(tree), "--arch", "x86_64",
           "-o", str(tmp_path / "out"), timeout=120)
    assert "Traceback" not in r.stderr and "broken.h:2" in r.stderr, r
    assert r.code == 1, r


def _review(tmp: Path, patch: bytes, *extra: str, fmt: str = "text") -> Run:
    tree = public(tmp)
    (tmp / "none").mkdir(exist_ok=True)
    (tmp / "p.patch").write_bytes(patch)
    return hp(tmp, "review", "-q", "--tree", str(tree), "--arch", "x86_64", "--annotations",
              str(tmp / "none"), "--format", fmt, *extra, str(tmp / "p.patch"))


def test_4_review_of_a_patch_that_breaks_the_build_fails(tmp_path: Path) -> None:
    r = _review(tmp_path, mail(sched_diff("struct sched_shutdown {",
                                          "struct sched_shutdown { this is not C;",
                                          start=6)))
    assert "Traceback" not in r.stderr
    assert r.code == 1, r
    assert "XC001 NEW" in r.stdout, r.stdout


def test_4_check_with_missing_annotations_dir_fails(tmp_path: Path) -> None:
    tree = public(tmp_path)
    r = hp(tmp_path, "check", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--annotations", str(tmp_path / "nonexistent"))
    clean_error(r, 2, "nonexistent")


def test_4_check_with_malformed_annotation_file_fails(tmp_path: Path) -> None:
    tree = public(tmp_path)
    write(tmp_path / "ann", {"bad.yaml": b"family: sched\nhypercalls: [unclosed\n"})
    r = hp(tmp_path, "check", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--annotations", str(tmp_path / "ann"))
    assert "Traceback" not in r.stderr and "bad.yaml:" in r.stderr, r
    assert r.code != 0, r


def test_4_header_renamed_out_of_the_public_dir_is_a_change(tmp_path: Path) -> None:
    diff = (f"diff --git a/{SCHED} b/xen/include/sched.h\nsimilarity index 100%\n"
            f"rename from {SCHED}\nrename to xen/include/sched.h\n")
    r = _review(tmp_path, mail(diff), fmt="json")
    assert "Traceback" not in r.stderr and r.code in (0, 1), r
    doc = json.loads(r.out)
    assert "the patch changes no public header" not in doc["notes"], doc
    assert any("sched_shutdown" in json.dumps(c) for c in doc["abi_changes"]), doc


def test_4_hunk_with_too_small_line_counts_is_refused(tmp_path: Path) -> None:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why the domain stops. */")
    diff = diff.replace("@@ -4,2 +4,2 @@", "@@ -4,2 +4,1 @@")     # the '+' line left over
    clean_error(_review(tmp_path, mail(diff)), 2)


def test_4_symlink_patch_is_refused(tmp_path: Path) -> None:
    path = "xen/include/public/evil.h"
    diff = (f"diff --git a/{path} b/{path}\nnew file mode 120000\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+/etc/passwd\n"
            "\\ No newline at end of file\n")
    clean_error(_review(tmp_path, mail(diff)), 2, "evil.h")


# --------------------------------------------------------------- 5. unbounded cost


def test_5_doubling_macros_have_a_bounded_cost(tmp_path: Path) -> None:
    tree = public(tmp_path, {"bomb.h": doubling_macros(40)})
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--json", str(tmp_path / "m.json"), timeout=30)
    no_traceback(r, 0, 1, 2)


def test_5_doubling_macros_in_a_patch_have_a_bounded_cost(tmp_path: Path) -> None:
    patch = mail(new_file_diff("xen/include/public/bomb.h", doubling_macros(40).decode()))
    r = hp_review_timeout(tmp_path, patch, 30)
    no_traceback(r, 0, 1, 2)


def hp_review_timeout(tmp: Path, patch: bytes, timeout: float) -> Run:
    tree = public(tmp)
    (tmp / "none").mkdir(exist_ok=True)
    (tmp / "p.patch").write_bytes(patch)
    return hp(tmp, "review", "-q", "--tree", str(tree), "--arch", "x86_64", "--annotations",
              str(tmp / "none"), str(tmp / "p.patch"), timeout=timeout)


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize("option", ["--annotations", "--reference", "--waivers"])
def test_5_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, option: str) -> None:
    tree = public(tmp_path)
    write(tmp_path / "ann", {"laughs.yaml": LAUGHS.encode()})
    (tmp_path / "none").mkdir()
    target = tmp_path / "ann" if option == "--annotations" else tmp_path / "ann" / "laughs.yaml"
    extra = [] if option == "--annotations" else ["--annotations", str(tmp_path / "none")]
    r = hp(tmp_path, "check", "-q", "--tree", str(tree), "--arch", "x86_64", option, str(target),
           *extra, timeout=20)
    assert "Traceback" not in r.stderr and "laughs.yaml" in r.stderr, r
    assert r.code != 0, r


def test_5_review_of_an_endless_input_stops_at_the_cap(tmp_path: Path) -> None:
    tree = public(tmp_path)
    r = hp(tmp_path, "review", "-q", "--tree", str(tree), "--arch", "x86_64", "/dev/zero",
           timeout=20)
    clean_error(r, 2)


def test_5_large_patch_is_reviewed_in_linear_time(tmp_path: Path) -> None:
    n = 12000
    big = "".join(f"#define HP_BIG_{i} {i}\n" for i in range(n)).encode()
    tree = public(tmp_path, {"big.h": big})
    path = "xen/include/public/big.h"
    hunks = []
    for i in range(1, n, 3):       # a hunk every third line: some 600 KB of patch
        hunks.append(f"@@ -{i + 1},1 +{i + 1},1 @@\n-#define HP_BIG_{i} {i}\n"
                     f"+#define HP_BIG_{i} ({i} + 0)\n")
    # ... and hunks whose context is nowhere: each one a full search of the file.
    diff = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n" + "".join(hunks)
    missing = "".join(f"@@ -{i},1 +{i},1 @@\n-nowhere {i}\n+x\n" for i in range(1, 4000))
    (tmp_path / "none").mkdir()
    for patch in (mail(diff), mail(f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
                                   + missing)):
        assert len(patch) > 100_000
        (tmp_path / "p.patch").write_bytes(patch)
        r = hp(tmp_path, "review", "-q", "--tree", str(tree), "--arch", "x86_64",
               "--annotations", str(tmp_path / "none"), str(tmp_path / "p.patch"), timeout=60)
        no_traceback(r, 0, 1, 2)
        assert r.seconds < 30, r


def test_5_include_of_a_device_is_refused(tmp_path: Path) -> None:
    tree = public(tmp_path, {"evil.h": b'#include "/dev/zero"\n'})
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m.json"),
           timeout=30)
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr, r
    assert r.code in (1, 2) and "evil.h:1" in r.stderr, r


def test_5_cache_entry_replaced_by_a_fifo_does_not_hang(tmp_path: Path) -> None:
    tree = public(tmp_path)
    args = ("extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m.json"))
    assert hp(tmp_path, *args).code == 0
    replaced = 0
    for p in sorted((tmp_path / "cache").rglob("*")):
        if p.is_file() and not p.is_symlink() and p.suffix != ".lock":
            p.unlink()
            os.mkfifo(p)
            replaced += 1
    assert replaced
    r = hp(tmp_path, *args, timeout=30)
    no_traceback(r, 0)
    assert json.loads((tmp_path / "m.json").read_text())["records"]


# ----------------------------------------------------------- 6. killed runs leave orphans


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["TERM", "INT", "KILL"])
def test_6_killed_extraction_leaves_no_process_nor_temp_dir(tmp_path: Path, sig) -> None:
    tree = public(tmp_path, {"many.h": many_structs(6000)})
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = f"HP_TEST_MARKER={uuid.uuid4().hex}"
    env = env_for(tmp_path, TMPDIR=str(tmp), HP_TEST_MARKER=marker.split("=")[1])
    proc = subprocess.Popen([sys.executable, "-m", "headerparse", "extract", "--no-cache",
                             "--tree", str(tree), "--json", str(tmp_path / "m.json")],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    while line and b"parsing" not in line:
        line = proc.stderr.readline()
    assert b"parsing" in line, "extraction finished before it could be killed"
    time.sleep(0.5)
    proc.send_signal(sig)
    _wait_closing(proc)
    left = wait_gone(marker.split("=")[1])
    assert not left, f"processes left running: {left}"
    assert not (tmp_path / "m.json").exists(), "a killed run left an output"
    if sig == signal.SIGKILL:
        # Nothing survives SIGKILL to clean up: the next run removes what it left.
        small = public(tmp_path / "next")
        r = hp(tmp_path, "extract", "-q", "--no-cache", "--tree", str(small), "--arch",
               "x86_64", "--json", str(tmp_path / "n.json"), env=env)
        no_traceback(r, 0)
    assert not list(tmp.iterdir()), f"temp dirs left: {list(tmp.iterdir())}"
    assert proc.returncode != 0


def test_6_killed_build_publishes_nothing(tmp_path: Path) -> None:
    tree = public(tmp_path)
    out = tmp_path / "out"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    marker = uuid.uuid4().hex
    env = env_for(tmp_path, TMPDIR=str(tmp), HP_TEST_MARKER=marker)
    proc = subprocess.Popen([sys.executable, "-m", "headerparse", "build", "--tree", str(tree),
                             "--arch", "x86_64", "-o", str(out)], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    while line and not line.startswith(b"headerparse: pages:"):
        line = proc.stderr.readline()
    assert line, "the build finished before it could be killed"
    proc.terminate()
    _wait_closing(proc)
    left = wait_gone(marker, 15)
    assert not left, f"processes left running: {left}"
    assert not (out / "html").exists(), "a killed build published its site"
    assert proc.returncode != 0


# ----------------------------------------------------------- 7. cache entries are code


class _Boom:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_7_a_writable_cache_cannot_run_code(tmp_path: Path) -> None:
    tree = public(tmp_path)
    args = ("extract", "-q", "--tree", str(tree), "--json", str(tmp_path / "m.json"))
    assert hp(tmp_path, *args).code == 0
    pwned = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(str(pwned)))
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert entries
    for p in entries:
        # Whatever the format: a plain pickle, and a pickle under the old digest framing.
        data = p.read_bytes()
        if data[:4] == b"hpc1":
            p.write_bytes(b"hpc1" + hashlib.blake2b(payload, digest_size=16).digest() + payload)
        else:
            p.write_bytes(payload)
    r = hp(tmp_path, *args)
    no_traceback(r, 0)
    assert not pwned.exists(), "a cache entry ran code"
    for p in (tmp_path / "cache").rglob("*"):
        if p.is_file():
            assert not p.read_bytes().startswith(b"\x80"), f"{p} is a pickle"
            assert b"\x80\x04\x95" not in p.read_bytes()[:64], f"{p} holds a pickle"


# ------------------------------------------------------------- 8. terminal escapes


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_8_review_escapes_control_characters(tmp_path: Path, fmt: str) -> None:
    diff = sched_diff("/* The reason of a shutdown. */", f"/* {ESC}hidden */")
    r = _review(tmp_path, mail(diff, subject=f"[PATCH] {ESC}x"), fmt=fmt)
    no_traceback(r, 0, 1)
    assert "hidden" in r.stdout
    assert "\x1b" not in r.stdout + r.stderr, r.stdout


def test_8_show_escapes_control_characters(tmp_path: Path) -> None:
    sched = SCHED_H.replace(b"The reason of a shutdown.", f"The {ESC}reason.".encode())
    tree = public(tmp_path, {"sched.h": sched})
    r = hp(tmp_path, "show", "-q", "--tree", str(tree), "--arch", "x86_64", "sched_shutdown")
    no_traceback(r, 0)
    assert "reason" in r.stdout and "\x1b" not in r.stdout + r.stderr, r.stdout


# ------------------------------------------------------------------ 9. tracebacks


def _subject(value: str) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
        return _review(tmp, mail(diff, subject=value))
    return case


def _mime(tmp: Path) -> Run:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
    part = "Content-Type: text/plain; charset=x-no-such-charset\n\n" + diff
    for i in range(2000):
        part = (f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n{part}\n--b{i}--\n")
    head = ("From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            "From: A Developer <dev@example.org>\nSubject: [PATCH] nested\nMIME-Version: 1.0\n")
    return _review(tmp, (head + part).encode())


def _bad_charset_body(tmp: Path) -> Run:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
    return _review(tmp, mail(diff, headers="MIME-Version: 1.0\nContent-Type: text/plain; "
                             "charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n"))


def _patch_file(path: str, text: str = "struct x { int a; };\n") -> Callable[[Path], Run]:
    return lambda tmp: _review(tmp, mail(new_file_diff(path, text)))


def _nonutf8_patch(tmp: Path) -> Run:
    diff = new_file_diff("xen/include/public/caf\udce9.h", "struct caf { int a; };\n")
    return _review(tmp, mail(diff.encode("utf-8", "surrogateescape")))


def _deep_dirs(tmp: Path) -> Run:
    tree = public(tmp)
    fds = [os.open(tree, os.O_RDONLY)]
    try:
        for _ in range(2000):
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        with open(os.open("deep.h", os.O_WRONLY | os.O_CREAT, dir_fd=fds[-1]), "wb") as f:
            f.write(b"struct deep { int a; };\n")
        return hp(tmp, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
                  "--json", str(tmp / "m.json"))
    finally:
        # Bottom up, by descriptor: shutil.rmtree (and pytest's clean-up) would recurse
        # 2,000 deep and fail.
        with contextlib.suppress(FileNotFoundError):
            os.unlink("deep.h", dir_fd=fds[-1])
        for i in range(len(fds) - 1, 0, -1):
            os.close(fds[i])
            os.rmdir("d", dir_fd=fds[i - 1])
        os.close(fds[0])


def _nonutf8_tree(tmp: Path) -> Run:
    tree = public(tmp)
    (tree / os.fsdecode(b"caf\xe9.h")).write_bytes(b"struct caf { int a; };\n")
    return hp(tmp, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
              "--json", str(tmp / "m.json"))


def _nonutf8_rev(tmp: Path) -> Run:
    root = checkout(tmp, {"xen/include/public/" + os.fsdecode(b"caf\xe9.h"): b"int caf;\n"})
    return hp(tmp, "extract", "-q", "--tree", str(root), "--rev", "HEAD", "--arch", "x86_64",
              "--json", str(tmp / "m.json"))


def _unreadable_dir(tmp: Path) -> Run:
    tree = public(tmp, {"io/ring.h": b"struct ring { int a; };\n"})
    (tree / "io").chmod(0)
    try:
        return hp(tmp, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
                  "--json", str(tmp / "m.json"))
    finally:
        (tree / "io").chmod(0o755)


def _check_with(option: str, make: Callable[[Path], Path]) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        tree = public(tmp)
        (tmp / "none").mkdir(exist_ok=True)
        extra = [] if option == "--annotations" else ["--annotations", str(tmp / "none")]
        return hp(tmp, "check", "-q", "--tree", str(tree), "--arch", "x86_64",
                  option, str(make(tmp)), *extra)
    return case


def _ann(files: dict[str, bytes]) -> Callable[[Path], Path]:
    return lambda tmp: write(tmp / "ann", files)


def _ann_special(kind: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        d = tmp / "ann"
        d.mkdir()
        if kind == "dir":
            (d / "x.yaml").mkdir()
        elif kind == "dangling":
            (d / "x.yaml").symlink_to(tmp / "nowhere.yaml")
        else:
            (d / "x.yaml").write_bytes(b"family: x\n")
            (d / "x.yaml").chmod(0)
        return d
    return make


def _file(data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "f.yaml").write_bytes(data)
        return tmp / "f.yaml"
    return make


def _extract_json(target: Callable[[Path], str]) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        tree = public(tmp)
        return hp(tmp, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
                  "--json", target(tmp))
    return case


def _build_o(target: Callable[[Path], str]) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        tree = public(tmp)
        return hp(tmp, "build", "-q", "--tree", str(tree), "--arch", "x86_64", "-o", target(tmp),
                  timeout=120)
    return case


def _existing_file(tmp: Path) -> str:
    (tmp / "afile").write_text("mine\n")
    return str(tmp / "afile")


def _full_disk(tmp: Path) -> Run:
    tree = public(tmp)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
    return hp(tmp, "extract", "-q", "--no-cache", "--tree", str(tree), "--arch", "x86_64",
              "--json", str(tmp / "m.json"), preexec=small_files)


def _interface_version(tmp: Path) -> Run:
    return hp(tmp, "extract", "-q", "--tree", str(public(tmp)), "--arch", "x86_64",
              "--interface-version", "junk", "--json", str(tmp / "m.json"))


def _annotations_missing(tmp: Path) -> Run:
    return hp(tmp, "annotations", "check", "--tree", str(public(tmp)), "--arch", "x86_64",
              "--annotations", str(tmp / "missing"))


TRACEBACK_CASES: dict[str, tuple[Callable[[Path], Run], tuple[int, ...]]] = {
    "mail-unknown-charset": (_subject("=?x-no-such-charset?q?hello?="), (0, 1, 2)),
    "mail-broken-base64": (_subject("=?utf-8?b?###broken=?="), (0, 1, 2)),
    "mail-broken-charset-body": (_bad_charset_body, (0, 1, 2)),
    "mail-nested-mime": (_mime, (0, 1, 2)),
    "patch-double-slash": (_patch_file("xen/include/public//x.h"), (0, 1, 2)),
    "patch-b-double-slash": (lambda tmp: _review(tmp, mail(
        "--- a/x.h\n+++ b//x.h\n@@ -0,0 +1 @@\n+int x;\n")), (0, 1, 2)),
    "patch-new-file-under-a-file": (_patch_file("xen/include/public/sched.h/x.h"), (2,)),
    "patch-300-char-name": (_patch_file("xen/include/public/" + "n" * 300 + ".h"), (2,)),
    "patch-2000-nested-dirs": (_patch_file("xen/include/public/" + "d/" * 2000 + "x.h"), (2,)),
    "patch-non-utf8-name": (_nonutf8_patch, (0, 1, 2)),
    "tree-2000-nested-dirs": (_deep_dirs, (0, 1, 2)),
    "tree-non-utf8-name": (_nonutf8_tree, (0, 1, 2)),
    "rev-non-utf8-name": (_nonutf8_rev, (0, 1, 2)),
    "tree-unreadable-dir": (_unreadable_dir, (2,)),
    "yaml-deep-nesting": (_check_with("--annotations", _ann(
        {"deep.yaml": b"family: " + b"[" * 20000 + b"]" * 20000 + b"\n"})), (1, 2)),
    "yaml-is-a-directory": (_check_with("--annotations", _ann_special("dir")), (1, 2)),
    "yaml-dangling-symlink": (_check_with("--annotations", _ann_special("dangling")), (1, 2)),
    "yaml-unreadable": (_check_with("--annotations", _ann_special("unreadable")), (1, 2)),
    "waivers-latin1": (_check_with("--waivers", _file(
        b"- rule: '*'\n  justification: caf\xe9\n")), (0, 1, 2)),
    "reference-latin1": (_check_with("--reference", _file(
        b"facts: []\nsymbols: []\n# caf\xe9\n")), (0, 1, 2)),
    "reference-symbol-without-name": (_check_with("--reference", _file(
        b"symbols:\n  - value: 3\n")), (2,)),
    "json-to-a-directory": (_extract_json(lambda tmp: str(tmp)), (2,)),
    "json-missing-parent": (_extract_json(lambda tmp: str(tmp / "no" / "m.json")), (2,)),
    "json-empty-name": (_extract_json(lambda tmp: ""), (2,)),
    "build-onto-a-file": (_build_o(_existing_file), (2,)),
    "build-onto-dev-null": (_build_o(lambda tmp: "/dev/null"), (2,)),
    "build-onto-sys": (_build_o(lambda tmp: "/sys"), (2,)),
    "build-empty-output": (_build_o(lambda tmp: ""), (2,)),
    "full-disk": (_full_disk, (2,)),
    "interface-version-junk": (_interface_version, (2,)),
    "annotations-check-missing-dir": (_annotations_missing, (2,)),
}
NEEDS_NON_ROOT = {"tree-unreadable-dir", "yaml-unreadable"}


@pytest.mark.parametrize("case", sorted(TRACEBACK_CASES))
def test_9_one_line_error_never_a_traceback(tmp_path: Path, case: str) -> None:
    if case in NEEDS_NON_ROOT and ROOT:
        pytest.skip("root reads unreadable files")
    make, codes = TRACEBACK_CASES[case]
    r = make(tmp_path)
    assert "Traceback" not in r.stderr, r
    assert r.code in codes, r
    if r.code == 2:
        errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
        assert errors and all(len(ln) < 2000 for ln in errors), r
    if case == "build-empty-output":
        assert not (tmp_path / "html").exists() and not (tmp_path / ".sites").exists()
