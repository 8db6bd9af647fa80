"""Patch parsing and in-memory application: formats, hostile input, hunks that do not apply."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from headerparse.checks import patch

DATA = Path(__file__).parent / "data" / "patches"
SCHED = "".join(f"line {i}\n" for i in range(1, 41))


def git_diff(old: str, new: str, path: str = "xen/include/public/sched.h") -> str:
    body = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\nindex 0000000..1111111 100644\n{body}"


def format_patch(diff: str, subject: str = "sched: a change", sha: str = "0" * 40) -> str:
    return (f"From {sha} Mon Sep 17 00:00:00 2001\nFrom: A Developer <dev@example.org>\n"
            f"Date: Tue, 1 Apr 2014 10:00:00 +0100\nSubject: [PATCH] {subject}\n\n"
            f"Body text.\n\nSigned-off-by: A Developer <dev@example.org>\n---\n"
            f" xen/include/public/sched.h | 2 +-\n\n{diff}-- \n2.39.2\n\n")


def test_format_patch_applies_in_memory() -> None:
    new = SCHED.replace("line 20\n", "line twenty\n")
    files = {"sched.h": SCHED.encode()}
    [p] = patch.parse(format_patch(git_diff(SCHED, new)).encode())
    assert p.subject == "[PATCH] sched: a change" and "dev@example.org" in p.author
    result = patch.apply([p], files)
    assert result.files["sched.h"].decode() == new
    assert result.changed == {"sched.h": [(20, 20)]}
    assert files["sched.h"] == SCHED.encode()          # the input mapping is untouched


def test_mbox_with_a_series() -> None:
    one = SCHED.replace("line 5\n", "line five\n")
    two = one.replace("line 30\n", "line thirty\n")
    mbox = format_patch(git_diff(SCHED, one), "one", "1" * 40) + \
        format_patch(git_diff(one, two), "two", "2" * 40)
    patches = patch.parse(mbox.encode())
    assert [p.subject for p in patches] == ["[PATCH] one", "[PATCH] two"]
    result = patch.apply(patches, {"sched.h": SCHED.encode()})
    assert result.files["sched.h"].decode() == two


def test_plain_diff_relative_to_public_dir_and_offsets() -> None:
    new = SCHED.replace("line 3\n", "line 3\nadded\n")
    diff = "".join(difflib.unified_diff(SCHED.splitlines(True), new.splitlines(True),
                                        "sched.h.orig", "sched.h"))
    shifted = "extra\n" + SCHED            # the hunk applies one line lower
    result = patch.apply(patch.parse(diff.encode()), {"sched.h": shifted.encode()})
    assert result.files["sched.h"].decode() == "extra\n" + new


def test_crlf_and_quoted_printable_mail() -> None:
    new = SCHED.replace("line 7\n", "line =seven\n")
    diff = git_diff(SCHED, new).replace("=", "=3D")
    mail = ("From: x <x@example.org>\nSubject: qp\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n" + diff).replace("\n", "\r\n")
    result = patch.apply(patch.parse(mail.encode()), {"sched.h": SCHED.encode()})
    assert result.files["sched.h"].decode() == new


def test_new_header_and_non_public_files() -> None:
    diff = git_diff("", "#define NEW 1\n", "xen/include/public/newfile.h").replace(
        "--- a/xen/include/public/newfile.h", "--- /dev/null")
    diff += git_diff("int x;\n", "int y;\n", "xen/common/sched/core.c")
    result = patch.apply(patch.parse(diff.encode()), {"sched.h": SCHED.encode()})
    assert result.files["newfile.h"] == b"#define NEW 1\n"
    assert result.skipped == ["b/xen/common/sched/core.c"]


@pytest.mark.parametrize("name, message", [
    ("traversal.patch", "'..'"), ("absolute.patch", "absolute path"),
    ("binary.patch", "binary"), ("garbage.patch", "no diff found"),
    ("truncated.patch", "truncated"),
])
def test_hostile_patches_are_refused(name: str, message: str) -> None:
    files = {"sched.h": SCHED.encode()}
    with pytest.raises(patch.PatchError, match=message):
        patch.apply(patch.parse((DATA / name).read_bytes()), files)
    assert files == {"sched.h": SCHED.encode()}


@pytest.mark.parametrize("data", [b"\0\1\2binary", b"", b"diff --git a/x\n", b"@@ -1 +1 @@\n"])
def test_broken_input_is_a_patch_error(data: bytes) -> None:
    with pytest.raises(patch.PatchError):
        patch.apply(patch.parse(data), {"sched.h": b""})


def test_hunk_that_does_not_apply_is_reported() -> None:
    new = SCHED.replace("line 20\n", "line twenty\n")
    other = SCHED.replace("line 20\n", "something else\n")
    result = patch.apply(patch.parse(git_diff(SCHED, new).encode()),
                         {"sched.h": other.encode()})
    assert len(result.failures) == 1 and "does not apply" in result.failures[0]


def test_missing_file_is_reported() -> None:
    result = patch.apply(patch.parse(git_diff("a\n", "b\n", "xen/include/public/io/x.h")
                                     .encode()), {"sched.h": b""})
    assert result.failures == ["io/x.h: no such header in the tree"]


@pytest.mark.parametrize(("path", "git", "public"), [
    # A Xen checkout: only xen/include/public/ is public, whatever the file is called.
    ("b/xen/include/xen/sched.h", True, None),
    ("a/xen/include/xen/errno.h", True, None),
    ("xen/include/xen/sched.h", False, None),
    ("b/tools/include/xen/sched.h", True, None),
    ("b/xen/include/public/sched.h", True, "sched.h"),
    # An installed tree (/usr/include/xen) diffed from /usr/include keeps working.
    ("xen/sched.h", False, "sched.h"),
    ("include/xen/sched.h", False, "sched.h"),
])
def test_private_headers_of_a_checkout_are_not_public(path: str, git: bool,
                                                       public: str | None) -> None:
    known = {"sched.h": b"", "errno.h": b""}
    assert patch.public_path(path, known, git=git) == public
