"""Header trees: layouts on disk, git revisions, hashing, materializing, Debian fetching."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from support.need import unavailable

from headerparse import tree as tree_mod
from headerparse.tree import HeaderTree, TreeError, cache_dir, fetch_debian_headers, open_tree

XEN_H = b"#define __HYPERVISOR_sched_op 29\n/* caf\xe9 */\n"   # Latin-1 byte: not UTF-8
SCHED_H = b"struct sched_shutdown { unsigned int reason; };\n"


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def checkout(root: Path) -> Path:
    return write(root, {
        "xen/include/public/xen.h": XEN_H,
        "xen/include/public/sched.h": SCHED_H,
        "xen/include/public/io/blkif.h": b"/* blkif */\n",
        "xen/include/public/README": b"not a header\n",
        "xen/include/hypercall-defs.c": b"sched_op(int cmd, void *arg)\n",
        "xen/Makefile": b"",
    })


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True,
                          text=True, input="").stdout.strip()


# --------------------------------------------------------------------------- layouts


def test_checkout_layout(tmp_path: Path) -> None:
    root = checkout(tmp_path / "xen-src")
    t = open_tree(str(root))
    assert sorted(t.files) == ["io/blkif.h", "sched.h", "xen.h"]
    assert t.files["xen.h"] == XEN_H
    assert t.checkout_root == str(root)
    assert t.extra == {"xen/include/hypercall-defs.c": b"sched_op(int cmd, void *arg)\n"}
    assert t.description == f"{root} (checkout)"


def test_public_dir_inside_checkout_is_the_checkout(tmp_path: Path) -> None:
    root = checkout(tmp_path / "xen-src")
    t = open_tree(str(root / "xen/include/public"))
    assert t.checkout_root == str(root)
    assert "xen/include/hypercall-defs.c" in t.extra


def test_public_dir(make_tree) -> None:
    public = make_tree({"xen.h": XEN_H, "arch-x86/xen.h": "/* x86 */\n", "notes.txt": "x"})
    t = open_tree(str(public))
    assert sorted(t.files) == ["arch-x86/xen.h", "sched.h", "xen.h"]
    assert t.files["xen.h"] == XEN_H
    assert t.checkout_root is None and t.extra == {}
    assert t.description == f"{public} (public headers)"


def test_public_dir_with_arch_x86_but_no_sched_h(make_tree) -> None:
    public = make_tree({"xen.h": "", "arch-x86/xen.h": ""}, complete=False)
    assert sorted(open_tree(str(public)).files) == ["arch-x86/xen.h", "xen.h"]


def test_installed_layout_keeps_foreign_and_sys(tmp_path: Path) -> None:
    inc = write(tmp_path / "usr/include/xen", {
        "xen.h": XEN_H, "sched.h": SCHED_H,
        "foreign/x86_64.h": b"/* foreign */\n", "sys/privcmd.h": b"/* sys */\n",
    })
    t = open_tree(str(inc))
    assert sorted(t.files) == ["foreign/x86_64.h", "sched.h", "sys/privcmd.h", "xen.h"]
    assert t.description == f"{inc} (installed)"


def test_installed_layout_from_our_debian_cache_names_the_package(tmp_path: Path) -> None:
    inc = write(tmp_path / "usr/include/xen", {"xen.h": b"", "sched.h": b""})
    marker = {"description": "Debian libxen-dev 4.17.5-1 (bookworm)"}
    (tmp_path / "headerparse.json").write_text(json.dumps(marker))
    assert open_tree(str(inc)).description == "Debian libxen-dev 4.17.5-1 (bookworm)"


def test_not_a_xen_tree(tmp_path: Path) -> None:
    (tmp_path / "stdio.h").write_text("")
    with pytest.raises(TreeError, match=r"no xen\.h under"):
        open_tree(str(tmp_path))


def test_not_a_xen_tree_suggests_the_include_dir(tmp_path: Path) -> None:
    write(tmp_path / "usr/include/xen", {"xen.h": b"", "sched.h": b""})
    with pytest.raises(TreeError, match=r"Did you mean .*usr/include/xen\?"):
        open_tree(str(tmp_path))


def test_missing_path_and_file_path(tmp_path: Path) -> None:
    with pytest.raises(TreeError, match="does not exist"):
        open_tree(str(tmp_path / "nope"))
    (tmp_path / "file").write_text("")
    with pytest.raises(TreeError, match="is not a directory"):
        open_tree(str(tmp_path / "file"))


# --------------------------------------------------------------------------- git revisions


@pytest.fixture
def xen_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repo with two commits and a dirty worktree; returns (repo, first sha, second sha)."""
    repo = checkout(tmp_path / "repo")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "RELEASE-1")
    write(repo, {"xen/include/public/xen.h": XEN_H + b"/* v2 */\n",
                 "xen/include/public/hvm/params.h": b"/* new */\n"})
    git(repo, "rm", "-q", "xen/include/hypercall-defs.c")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "two")
    second = git(repo, "rev-parse", "HEAD")
    write(repo, {"xen/include/public/xen.h": b"/* uncommitted */\n"})
    return repo, first, second


def test_rev_reads_without_touching_the_worktree(xen_repo: tuple[Path, str, str]) -> None:
    repo, first, second = xen_repo
    status = git(repo, "status", "--porcelain")
    old = open_tree(str(repo), first)
    assert sorted(old.files) == ["io/blkif.h", "sched.h", "xen.h"]
    assert old.files["xen.h"] == XEN_H                       # the non-UTF-8 byte survived
    assert old.extra == {"xen/include/hypercall-defs.c": b"sched_op(int cmd, void *arg)\n"}
    assert old.checkout_root is None
    assert old.description == f"{repo} at {first}"
    new = open_tree(str(repo), "HEAD")
    assert sorted(new.files) == ["hvm/params.h", "io/blkif.h", "sched.h", "xen.h"]
    assert new.files["xen.h"] == XEN_H + b"/* v2 */\n"
    assert new.extra == {}
    assert new.description == f"{repo} at HEAD ({second[:12]})"
    assert git(repo, "status", "--porcelain") == status
    assert (repo / "xen/include/public/xen.h").read_bytes() == b"/* uncommitted */\n"


def test_rev_matches_the_same_content_on_disk(xen_repo: tuple[Path, str, str],
                                              tmp_path: Path) -> None:
    repo, first, _ = xen_repo
    assert open_tree(str(repo), "RELEASE-1").content_hash() == \
        open_tree(str(checkout(tmp_path / "copy"))).content_hash()


def test_rev_errors(xen_repo: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, _, _ = xen_repo
    with pytest.raises(TreeError, match="does not exist in the git repository"):
        open_tree(str(repo), "no-such-branch")
    with pytest.raises(TreeError, match="not a valid git revision"):
        open_tree(str(repo), "--all")
    plain = checkout(tmp_path / "plain")
    with pytest.raises(TreeError, match="is not a git repository"):
        open_tree(str(plain), "HEAD")
    empty = git(repo, "commit-tree", "-m", "nothing", git(repo, "mktree"))
    with pytest.raises(TreeError, match=r"has no xen/include/public/xen\.h"):
        open_tree(str(repo), empty)
    with pytest.raises(TreeError, match="needs a Xen git repository"):
        open_tree(None, "HEAD")


# --------------------------------------------------------------------------- hash, materialize


def test_content_hash_is_stable_and_content_addressed() -> None:
    a = HeaderTree("a", {"xen.h": b"1", "sched.h": b"2"}, None, {})
    b = HeaderTree("b", {"sched.h": b"2", "xen.h": b"1"}, "/x", {"extra": b"ignored"})
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64 and int(a.content_hash(), 16) >= 0
    assert a.content_hash() != HeaderTree("a", {"xen.h": b"1", "sched.h": b"3"}).content_hash()
    # Moving a byte between name and content must change the hash.
    assert HeaderTree("", {"ab": b"c"}).content_hash() != \
        HeaderTree("", {"a": b"bc"}).content_hash()
    assert hash(a) == hash(HeaderTree("a", {"sched.h": b"2", "xen.h": b"1"}))


def test_tree_does_not_follow_later_mutation_of_its_input() -> None:
    files = {"xen.h": b"1"}
    t = HeaderTree("t", files)
    before = t.content_hash()
    files["xen.h"] = b"2"
    assert t.files == {"xen.h": b"1"} and t.content_hash() == before


def test_materialize_is_idempotent(make_tree, tmp_path: Path) -> None:
    t = open_tree(str(make_tree({"xen.h": XEN_H, "arch-arm/smccc.h": '#include "public/xen.h"'})))
    cache = tmp_path / "cache"
    inc = t.materialize(cache)
    assert inc == cache / "trees" / t.content_hash() / "include"
    assert (inc / "public/xen.h").read_bytes() == XEN_H
    assert (inc / "public/arch-arm/smccc.h").is_file()
    stamp = (inc / "public/xen.h").stat().st_mtime_ns
    assert t.materialize(cache) == inc
    assert (inc / "public/xen.h").stat().st_mtime_ns == stamp
    assert [p.name for p in (cache / "trees").iterdir()] == [t.content_hash()]


def test_materialize_concurrently(tmp_path: Path) -> None:
    t = HeaderTree("t", {f"h{i}.h": bytes([i]) * 1000 for i in range(50)})
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(t.materialize(tmp_path)))
               for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(set(results)) == 1 and len(results) == 8
    assert len(list((results[0] / "public").iterdir())) == 50
    assert [p.name for p in (tmp_path / "trees").iterdir()] == [t.content_hash()]


def test_materialize_refuses_escaping_paths(tmp_path: Path) -> None:
    # Refused when the tree is made, so nothing can be materialized from it.
    with pytest.raises(TreeError, match="not a plain relative path"):
        HeaderTree("evil", {"../x.h": b""}).materialize(tmp_path)
    assert not (tmp_path / "trees").exists()


# --------------------------------------------------------------------------- cache, suites


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEADERPARSE_CACHE", str(tmp_path / "hp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "hp"
    monkeypatch.delenv("HEADERPARSE_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "headerparse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "headerparse"


def test_default_suite(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('NAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\n')
    assert tree_mod.default_suite(release) == "trixie"
    with pytest.raises(TreeError, match="Cannot tell this machine's Debian suite"):
        tree_mod.default_suite(tmp_path / "missing")


def fake_cached_suite(cache: Path, suite: str) -> Path:
    inc = write(cache / "debian" / suite / "usr/include/xen", {"xen.h": XEN_H, "sched.h": b""})
    marker = {"description": f"Debian libxen-dev 9.9-1 ({suite})"}
    (cache / "debian" / suite / "headerparse.json").write_text(json.dumps(marker))
    return inc


def test_cached_fetch_needs_no_apt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inc = fake_cached_suite(tmp_path, "testsuite")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(tree_mod, "default_suite", lambda: "testsuite")
    assert fetch_debian_headers("testsuite", cache=tmp_path) == inc
    t = open_tree(None, cache=tmp_path)
    assert t.description == "Debian libxen-dev 9.9-1 (testsuite)"
    assert t.files["xen.h"] == XEN_H


def test_fetch_without_apt_names_suite_and_remedy(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(TreeError, match=r"libxen-dev for bullseye .*--tree PATH"):
        fetch_debian_headers("bullseye", cache=tmp_path)
    assert not (tmp_path / "debian" / "bullseye").exists()


def test_fetch_rejects_odd_suite_names(tmp_path: Path) -> None:
    with pytest.raises(TreeError, match="is not a Debian suite name"):
        fetch_debian_headers("../etc", cache=tmp_path)


SOURCES_D = """\
# comment
Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 abc
 -----END PGP PUBLIC KEY BLOCK-----

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
"""


def test_private_apt_from_deb822(tmp_path: Path) -> None:
    etc = write(tmp_path / "etc", {"sources.list.d/debian.sources": SOURCES_D.encode(),
                                   "sources.list.d/off.sources": b"Enabled: no\nTypes: deb\n"})
    opts = tree_mod._private_apt("trixie", tmp_path / "apt", "bookworm", etc)
    written = (tmp_path / "apt" / "debian.sources").read_text()
    assert written == SOURCES_D.split("\n\n")[0].replace("# comment\n", "").replace(
        "bookworm bookworm-updates", "trixie") + "\n"
    assert f"-oDir::Etc::SourceList={tmp_path / 'apt' / 'debian.sources'}" in opts
    assert "-oDir::Etc::SourceParts=/nonexistent" in opts
    assert (tmp_path / "apt" / "status").is_file()


def test_private_apt_from_one_line_sources(tmp_path: Path) -> None:
    etc = write(tmp_path / "etc", {"sources.list": (
        b"deb-src http://mirror.invalid/debian bookworm main\n"
        b"deb [signed-by=/k.gpg arch=amd64] http://mirror.invalid/debian bookworm main # x\n")})
    tree_mod._private_apt("bullseye", tmp_path / "apt", "bookworm", etc)
    assert (tmp_path / "apt" / "sources.list").read_text() == \
        "deb [signed-by=/k.gpg arch=amd64] http://mirror.invalid/debian bullseye main\n"
    with pytest.raises(TreeError, match="No apt source for the main Debian archive"):
        tree_mod._private_apt("bullseye", tmp_path / "apt", "jammy", etc)


# --------------------------------------------------------------------------- real Debian


@pytest.mark.slow
@pytest.mark.parametrize("fixture, version", [
    ("xen_tree_417", "4.17"), ("xen_tree_414", "4.14"), ("xen_tree_420", "4.20"),
])
def test_debian_headers(request: pytest.FixtureRequest, fixture: str, version: str) -> None:
    t: HeaderTree = request.getfixturevalue(fixture)
    assert t.description.startswith(f"Debian libxen-dev {version}")
    assert "sched.h" in t.files and "io/blkif.h" in t.files
    assert b"#define __HYPERVISOR_sched_op " in t.files["xen.h"]
    assert any(p.startswith("foreign/") for p in t.files)
    assert open_tree(str(fetch_debian_headers(t.description.split("(")[-1].rstrip(")")))) == t


@pytest.mark.slow
def test_debian_unknown_suite_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(TreeError, match=r"libxen-dev for nosuchsuite .*--tree PATH"):
        fetch_debian_headers("nosuchsuite", cache=tmp_path)


@pytest.mark.slow
def test_machine_suite_without_apt_lists_uses_a_private_setup(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # As on a fresh machine where nobody ran apt-get update (and the user is not root).
    try:
        suite = tree_mod.default_suite()
    except TreeError as e:
        unavailable(str(e))
    (tmp_path / "lists" / "partial").mkdir(parents=True)
    (tmp_path / "apt.conf").write_text(f'Dir::State::Lists "{tmp_path / "lists"}";\n')
    monkeypatch.setenv("APT_CONFIG", str(tmp_path / "apt.conf"))
    messages: list[str] = []
    inc = fetch_debian_headers(cache=tmp_path / "cache", progress=messages.append)
    assert (inc / "sched.h").is_file()
    assert f"updating private apt lists for {suite}…" in messages
    assert open_tree(str(inc)).description.startswith("Debian libxen-dev ")
