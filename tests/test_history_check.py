"""``check`` and the ABI history: a name a release removed, defined again (XC411)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
XEN_H = """\
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__
#include "arch-x86/xen.h"
/* The foo hypercall. */
#define __HYPERVISOR_foo_op 1
{flags}
#endif
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, flags: str, tag: str | None) -> None:
    public = repo / "xen" / "include" / "public"
    (public / "arch-x86").mkdir(parents=True, exist_ok=True)
    (public / "arch-x86" / "xen.h").write_text("/* x86. */\n#define XEN_X86_THING 3\n")
    (public / "xen.h").write_text(XEN_H.format(flags=flags))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", tag or "work")
    if tag:
        git(repo, "tag", tag)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OLD_FLAG from 1.0.0, removed in 1.1.0; the commit after 1.1.0 defines it again."""
    repo = tmp_path_factory.mktemp("hist") / "xen"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    commit(repo, "/* Old. */\n#define OLD_FLAG 4", "RELEASE-1.0.0")
    commit(repo, "/* Kept. */\n#define KEPT 1", "RELEASE-1.1.0")
    commit(repo, "/* Kept. */\n#define KEPT 1\n/* Back, with another meaning. */\n"
           "#define OLD_FLAG 8", None)
    return repo


def check(repo: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HEADERPARSE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "headerparse", "check", "--tree", str(repo),
                           "--format", "json", "--fail-on", "never", *args],
                          capture_output=True, text=True, env=env, check=False)


def reused(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == "XC411"]


def test_check_tells_a_removed_name_defined_again(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # No history in the cache: check does not compute one, it says how.
    proc = check(repo, cache, "--rev", "HEAD")
    assert reused(proc) == [] and not (cache / "history").exists()
    assert f"`headerparse history --tree {repo}` computes it" in proc.stderr
    env = dict(os.environ, HEADERPARSE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "headerparse", "history", "--tree", str(repo), "-q"],
                   check=True, env=env, capture_output=True)
    found = reused(check(repo, cache, "--rev", "HEAD"))
    assert [(f["symbol"], f["severity"], f["file"]) for f in found] == [
        ("OLD_FLAG", "warning", "xen.h")]
    assert found[0]["message"] == (
        "OLD_FLAG is defined again: Xen 1.1.0 removed it (it was in the ABI from 1.0.0); "
        "code built against the old definition compiles against this one")
    # 1.0.0 had it before it went: nothing to tell; nor of a name never removed.
    assert reused(check(repo, cache, "--rev", "RELEASE-1.0.0")) == []
    assert reused(check(repo, cache, "--rev", "HEAD", "--no-cache")) == []
