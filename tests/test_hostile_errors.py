"""Hostile input, item 9 of issue 15: one-line errors, never a traceback.

Each case builds what a careless user or an attacker hands headerparse (broken
mail headers, odd paths, unreadable or special files, bad option values, a full
disk) and runs the command line in a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from support.hostile import (
    Run,
    checkout,
    hp,
    mail,
    new_file_diff,
    public,
    review_run,
    sched_diff,
    write,
)

# ------------------------------------------------------------------ 9. tracebacks


def _subject(value: str) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
        return review_run(tmp, mail(diff, subject=value))
    return case


def _mime(tmp: Path) -> Run:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
    part = "Content-Type: text/plain; charset=x-no-such-charset\n\n" + diff
    for i in range(2000):
        part = (f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n{part}\n--b{i}--\n")
    head = ("From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            "From: A Developer <dev@example.org>\nSubject: [PATCH] nested\nMIME-Version: 1.0\n")
    return review_run(tmp, (head + part).encode())


def _bad_charset_body(tmp: Path) -> Run:
    diff = sched_diff("/* The reason of a shutdown. */", "/* Why it stops. */")
    return review_run(tmp, mail(diff, headers="MIME-Version: 1.0\nContent-Type: text/plain; "
                             "charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n"))


def _patch_file(path: str, text: str = "struct x { int a; };\n") -> Callable[[Path], Run]:
    return lambda tmp: review_run(tmp, mail(new_file_diff(path, text)))


def _nonutf8_patch(tmp: Path) -> Run:
    diff = new_file_diff("xen/include/public/caf\udce9.h", "struct caf { int a; };\n")
    return review_run(tmp, mail(diff.encode("utf-8", "surrogateescape")))


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


def _fifo_header(tmp: Path) -> Run:
    tree = public(tmp)
    os.mkfifo(tree / "pipe.h")
    return hp(tmp, "extract", "-q", "--tree", str(tree), "--arch", "x86_64",
              "--json", str(tmp / "m.json"), timeout=20)


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
                  "--json", str(tmp / "m.json"), obey_permissions=True)
    finally:
        (tree / "io").chmod(0o755)


def _check_with(option: str, make: Callable[[Path], Path]) -> Callable[[Path], Run]:
    def case(tmp: Path) -> Run:
        tree = public(tmp)
        (tmp / "none").mkdir(exist_ok=True)
        extra = [] if option == "--annotations" else ["--annotations", str(tmp / "none")]
        return hp(tmp, "check", "-q", "--tree", str(tree), "--arch", "x86_64",
                  option, str(make(tmp)), *extra, obey_permissions=True)
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
    "patch-b-double-slash": (lambda tmp: review_run(tmp, mail(
        "--- a/x.h\n+++ b//x.h\n@@ -0,0 +1 @@\n+int x;\n")), (0, 1, 2)),
    "patch-new-file-under-a-file": (_patch_file("xen/include/public/sched.h/x.h"), (2,)),
    "patch-300-char-name": (_patch_file("xen/include/public/" + "n" * 300 + ".h"), (2,)),
    "patch-2000-nested-dirs": (_patch_file("xen/include/public/" + "d/" * 2000 + "x.h"), (2,)),
    "patch-non-utf8-name": (_nonutf8_patch, (0, 1, 2)),
    "tree-2000-nested-dirs": (_deep_dirs, (0, 1, 2)),
    "tree-non-utf8-name": (_nonutf8_tree, (0, 1, 2)),
    "tree-fifo-header": (_fifo_header, (2,)),
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
@pytest.mark.parametrize("case", sorted(TRACEBACK_CASES))
def test_9_one_line_error_never_a_traceback(tmp_path: Path, case: str) -> None:
    make, codes = TRACEBACK_CASES[case]
    r = make(tmp_path)
    assert "Traceback" not in r.stderr, r
    assert r.code in codes, r
    if r.code == 2:
        errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
        assert errors and all(len(ln) < 2000 for ln in errors), r
    if case == "build-empty-output":
        assert not (tmp_path / "html").exists() and not (tmp_path / ".sites").exists()
