"""Hostile input, killed runs and shared caches (issue 15's numbered items, one test each).

Every case drives the command line in a subprocess, as CI or an attacker would, on a
small synthetic tree: what is asserted is what a user sees (exit status, one-line
diagnostics, files left on disk, processes left running), not how the code is laid out.
"""

from __future__ import annotations

import json
import os
import pickle
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
from support.hostile import (
    ESC,
    SCHED,
    SCHED_H,
    Run,
    checkout,
    clean_error,
    doubling_macros,
    env_for,
    git,
    hp,
    mail,
    many_structs,
    new_file_diff,
    no_traceback,
    public,
    review_run,
    review_timeout,
    sched_diff,
    wait_closing,
    wait_gone,
    write,
)

from headerparse.extract.cache import checksum
from headerparse.tree import fetch_debian_headers

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




def test_4_review_of_a_patch_that_breaks_the_build_fails(tmp_path: Path) -> None:
    r = review_run(tmp_path, mail(sched_diff("struct sched_shutdown {",
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
    r = review_run(tmp_path, mail(diff), fmt="json")
    assert "Traceback" not in r.stderr and r.code in (0, 1), r
    doc = json.loads(r.out)
    assert "the patch changes no public header" not in doc["notes"], doc
    assert any("sched_shutdown" in json.dumps(c) for c in doc["abi_changes"]), doc


def test_4_hunk_with_too_small_line_counts_is_refused(tmp_path: Path) -> None:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why the domain stops. */")
    diff = diff.replace("@@ -4,2 +4,2 @@", "@@ -4,2 +4,1 @@")     # the '+' line left over
    clean_error(review_run(tmp_path, mail(diff)), 2)


def test_4_symlink_patch_is_refused(tmp_path: Path) -> None:
    path = "xen/include/public/evil.h"
    diff = (f"diff --git a/{path} b/{path}\nnew file mode 120000\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+/etc/passwd\n"
            "\\ No newline at end of file\n")
    clean_error(review_run(tmp_path, mail(diff)), 2, "evil.h")


# --------------------------------------------------------------- 5. unbounded cost


def test_5_doubling_macros_have_a_bounded_cost(tmp_path: Path) -> None:
    tree = public(tmp_path, {"bomb.h": doubling_macros(40)})
    r = hp(tmp_path, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
           "--json", str(tmp_path / "m.json"), timeout=30)
    no_traceback(r, 0, 1, 2)


def test_5_doubling_macros_in_a_patch_have_a_bounded_cost(tmp_path: Path) -> None:
    patch = mail(new_file_diff("xen/include/public/bomb.h", doubling_macros(40).decode()))
    r = review_timeout(tmp_path, patch, 30)
    no_traceback(r, 0, 1, 2)




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
    wait_closing(proc)
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
    # Debian's 4.17 headers: Sphinx needs seconds for them, so the kill below always lands
    # while it builds (a tiny tree could be published before the signal arrives).
    tree = fetch_debian_headers("bookworm")
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
    time.sleep(0.4)         # Sphinx is building now (it needs several seconds here)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.terminate()
    wait_closing(proc)
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
        # Whatever the format: a plain pickle, and a pickle framed as an entry, with a
        # checksum that holds.
        data = p.read_bytes()
        if data[:4] == b"hpc3":
            p.write_bytes(b"hpc3" + checksum(payload) + payload)
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
    r = review_run(tmp_path, mail(diff, subject=f"[PATCH] {ESC}x"), fmt=fmt)
    no_traceback(r, 0, 1)
    assert "hidden" in r.stdout
    assert "\x1b" not in r.stdout + r.stderr, r.stdout


def test_8_show_escapes_control_characters(tmp_path: Path) -> None:
    sched = SCHED_H.replace(b"The reason of a shutdown.", f"The {ESC}reason.".encode())
    tree = public(tmp_path, {"sched.h": sched})
    r = hp(tmp_path, "show", "-q", "--tree", str(tree), "--arch", "x86_64", "sched_shutdown")
    no_traceback(r, 0)
    assert "reason" in r.stdout and "\x1b" not in r.stdout + r.stderr, r.stdout
