"""The ABI history on the site and in ``show``: since-badges, removed-in notes and the
"ABI changes in X.Y" pages, from a git repository made here with release tags."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from headerparse.cli import site as site_cli
from headerparse.extract import Options, extract
from headerparse.site.history import SiteHistory, repo_of, tree_history
from headerparse.site.sphinxrun import sphinx
from headerparse.site.version import site_conf
from headerparse.tree import open_tree

XEN_H = """\
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__
#include "arch-x86/xen.h"
#define __HYPERVISOR_foo_op 1
{bar}
{flags}
struct ev {{
    uint32_t a;
{wide}
}};
#endif
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def release(repo: Path, tag: str, *, bar: bool = False, old: bool = True, new: bool = False,
            wide: bool = False) -> None:
    public = repo / "xen" / "include" / "public"
    (public / "arch-x86").mkdir(parents=True, exist_ok=True)
    flags = (["#define OLD_FLAG 4"] if old else []) + (["#define NEW_FEATURE 7"] if new else [])
    (public / "xen.h").write_text(XEN_H.format(
        bar="#define __HYPERVISOR_bar_op 2" if bar else "", flags="\n".join(flags),
        wide="    uint64_t b;" if wide else ""))
    (public / "arch-x86" / "xen.h").write_text("#define XEN_X86_THING 3\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", tag)
    git(repo, "tag", tag)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.0.0; 1.1.0 adds bar_op and member ev.b; 1.1.1 gets NEW_FEATURE, which master
    has from 1.2.0, where OLD_FLAG goes."""
    repo = tmp_path_factory.mktemp("hist") / "xen"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    release(repo, "RELEASE-1.0.0")
    release(repo, "RELEASE-1.1.0", bar=True, wide=True)
    release(repo, "RELEASE-1.2.0", bar=True, wide=True, old=False, new=True)
    git(repo, "checkout", "-q", "-b", "stable-1.1", "RELEASE-1.1.0")
    release(repo, "RELEASE-1.1.1", bar=True, wide=True, new=True)
    git(repo, "checkout", "-q", "master")
    return repo


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def staged(repo: Path, rev: str, out: Path, cache: Path) -> tuple[dict[str, str], dict]:
    """The pages of the site of ``repo`` at ``rev`` (docname -> reST), and its history."""
    tree = open_tree(str(repo), rev)
    history = tree_history(tree, cache=cache)
    assert history is not None
    model = extract(tree, Options(), cache=cache)
    site_cli.stage(model, tree, out, history=history)
    src = out / ".staging" / "src"
    return ({p.relative_to(src).with_suffix("").as_posix(): p.read_text("utf-8")
             for p in src.rglob("*.hrst")}, history)


def test_the_site_shows_badges_and_release_pages(repo: Path, cache: Path,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "site"
    pages, _ = staged(repo, "RELEASE-1.2.0", out, cache)
    assert sorted(d for d in pages if d.startswith("releases/")) == ["releases/1.1",
                                                                     "releases/1.2"]
    tree = open_tree(str(repo), "RELEASE-1.2.0")
    assert sphinx(out, jobs="1", strict=True, quiet=True, conf=site_conf(tree)), \
        "sphinx-build -W -n failed on the history pages (see the warnings above)"
    html = out / "html"
    bar = (html / "hypercalls" / "bar_op.html").read_text("utf-8")
    assert re.search(r'<span class="hp-badge hp-badge-since">since 1\.1\.0</span>', bar)
    foo = (html / "hypercalls" / "foo_op.html").read_text("utf-8")
    assert "since 1.0.0 or earlier" in foo
    xen_h = (html / "headers" / "xen.h.html").read_text("utf-8")
    assert "since 1.2.0, backported to 1.1.1" in xen_h          # NEW_FEATURE
    assert "b (since 1.1.0)" in xen_h                            # struct ev's member
    page = (html / "releases" / "1.2.html").read_text("utf-8")
    assert "ABI changes in 1.2" in page
    # Added and removed say on which arches.
    on_x86 = r":Constants on \x86\_32, x86\_64 (1): "
    assert on_x86 + ":xen:c:`NEW_FEATURE`" in pages["releases/1.2"].split("Removed\n")[0]
    assert on_x86 + r"\OLD\_FLAG" in pages["releases/1.2"].split("Removed\n")[1]
    added, removed = page.split('id="removed"')
    assert "NEW_FEATURE" in added and "OLD_FLAG" not in added
    assert "OLD_FLAG" in removed.split('id="changed"')[0]
    changes = (html / "releases" / "1.1.html").read_text("utf-8")
    assert "member b added" in changes and "size 4 -&gt; 16, align 4 -&gt; 8" in changes
    assert 'href="releases/1.2.html"' in (html / "overview.html").read_text("utf-8")


def test_an_older_release_gets_removed_in_and_no_later_page(repo: Path, cache: Path,
                                                             tmp_path: Path) -> None:
    pages, history = staged(repo, "RELEASE-1.1.0", tmp_path / "site", cache)
    assert [d for d in pages if d.startswith("releases/")] == ["releases/1.1"]
    assert "Since|:xen:badge:`since 1.0.0 or earlier` :xen:badge:`removed in 1.2.0`" \
        in pages["headers/xen.h"]                                # OLD_FLAG
    assert "releases/1.2" not in pages["overview"]
    assert SiteHistory(history, "RELEASE-1.1.0-3-gabcdef").upto == \
        SiteHistory(history, "RELEASE-1.1.0").upto


def test_what_no_compiled_arch_sees_is_said_so() -> None:
    e = {"kind": "struct", "since": "3.0.0", "since_archs": [], "backports": [],
         "removed": "3.2.0", "removed_archs": [], "compiled": False, "why": "ia64 only",
         "changed": []}
    added = {"kind": "macro", "since": "3.2.0", "since_archs": ["arm32", "arm64"],
             "backports": [], "removed": None, "removed_archs": [], "changed": []}
    h = SiteHistory({"releases": ["3.0.0", "3.1.0", "3.2.0"],
                     "symbols": {"struct ia64_regs": e, "XEN_ARM_ONLY": added}})
    assert h.badge("struct ia64_regs") == (":xen:badge:`since 3.0.0 or earlier` "
                                           ":xen:badge:`removed in 3.2.0` "
                                           ":xen:badge:`ia64 only, not compiled`")
    page = h.pages[0]
    assert (page.release, page.count) == ("3.2.0", 2)
    assert page.removed == {"record": {"no compiled arch (ia64 only)": ["struct ia64_regs"]}}
    assert page.added == {"constant": {"arm32, arm64": ["XEN_ARM_ONLY"]}}


def test_no_release_tags_no_history(repo: Path, tmp_path: Path, cache: Path) -> None:
    checkout = tmp_path / "untagged"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(repo), str(checkout)], check=True)
    assert not git(checkout, "tag")
    tree = open_tree(str(checkout))
    assert repo_of(tree) == checkout
    assert tree_history(tree, cache=cache) is None           # a git checkout, no tags
    # The public dir alone (no xen/Makefile beside it) is not read as the checkout.
    assert repo_of(open_tree(str(repo / "xen" / "include" / "public"))) is None


def run_show(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {"HEADERPARSE_CACHE": str(cache), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-m", "headerparse", "show", *args],
                          capture_output=True, text=True, env=env, check=False)


def test_show_reads_the_history_only_from_the_cache(repo: Path, tmp_path: Path) -> None:
    """Computing a history takes minutes on Xen's tags: show never does, it says how."""
    cache = tmp_path / "cache"
    proc = run_show("--tree", str(repo), "--rev", "RELEASE-1.2.0", "NEW_FEATURE", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "since" not in proc.stdout and not (cache / "history").exists()
    hint = [line for line in proc.stderr.splitlines() if "history" in line]
    assert hint == [f"headerparse: no ABI history of {repo} in the cache; `headerparse history "
                    f"--tree {repo}` computes it (once: each release's headers are extracted), "
                    "then rerun"]
    env = {"HEADERPARSE_CACHE": str(cache), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-m", "headerparse", "history", "--tree", str(repo), "-q"],
                   check=True, env=env, capture_output=True)
    proc = run_show("--tree", str(repo), "--rev", "RELEASE-1.2.0", "NEW_FEATURE", cache=cache)
    assert "NEW_FEATURE: since 1.2.0" in proc.stdout and "history" not in proc.stderr


def test_show_prints_since_removed_and_changed(repo: Path, cache: Path, tmp_path: Path) -> None:
    tree_history(open_tree(str(repo), "RELEASE-1.2.0"), cache=cache)     # computed once
    proc = run_show("--tree", str(repo), "--rev", "RELEASE-1.2.0", "NEW_FEATURE", "ev",
                    "bar_op", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "NEW_FEATURE: since 1.2.0 (releases read: 1.0.0 to 1.2.0)\n" \
           "  backported to 1.1.1\n" in proc.stdout
    assert "struct ev: since 1.0.0 or earlier" in proc.stdout
    assert "  changed in 1.1.0 [x86_64]: size 4 -> 16, align 4 -> 8; member b added" \
        in proc.stdout
    assert "HYPERVISOR_bar_op: since 1.1.0" in proc.stdout
    old = run_show("--tree", str(repo), "--rev", "RELEASE-1.1.0", "OLD_FLAG", cache=cache)
    assert "  removed in 1.2.0" in old.stdout
    # Gone from the tree, still told: the question is often "when did it go?".
    gone = run_show("--tree", str(repo), "--rev", "RELEASE-1.2.0", "OLD_FLAG", cache=cache)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.startswith("OLD_FLAG: not in ") and "  removed in 1.2.0" in gone.stdout
    missing = run_show("--tree", str(repo), "--rev", "RELEASE-1.2.0", "NO_SUCH", cache=cache)
    assert missing.returncode == 2 and "no symbol named 'NO_SUCH'" in missing.stderr
    quiet = run_show("--tree", str(repo), "--rev", "RELEASE-1.1.0", "--no-history", "OLD_FLAG",
                     cache=cache)
    assert quiet.returncode == 0 and "since" not in quiet.stdout
    # A tree without release tags: the same show, and not a word about a history.
    plain = tmp_path / "plain"
    subprocess.run(["cp", "-r", str(repo / "xen" / "include" / "public"), str(plain)],
                   check=True)
    proc = run_show("--tree", str(plain), "NEW_FEATURE", cache=cache)
    assert proc.returncode == 0 and "since" not in proc.stdout
    assert "history" not in proc.stderr


# --------------------------------------------------------------------------- the real thing


@pytest.mark.slow
def test_the_bundle_site_at_420_has_badges_and_its_release_page(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from support.history_site import bundle_site

    html = bundle_site(tmp_path_factory.getbasetemp()) / "html"
    dm_op = (html / "hypercalls" / "dm_op.html").read_text("utf-8")
    # __HYPERVISOR_dm_op arrived in Xen 4.9 ("x86/hvm: add HYPERVISOR_dm_op").
    assert '<span class="hp-badge hp-badge-since">since 4.9.0</span>' in dm_op
    physdev = (html / "hypercalls" / "physdev_op.html").read_text("utf-8")
    section = physdev.split('id="physdevop-pci-device-reset"')[1].split("</section>")[0]
    assert "since 4.20.0" in section
    page = (html / "releases" / "4.20.html").read_text("utf-8")
    assert "ABI changes in 4.20" in page
    added = page.split('id="removed"')[0]
    # What git diff RELEASE-4.19.0 RELEASE-4.20.0 -- xen/include/public adds.
    for name in ("PHYSDEVOP_pci_device_reset", "XENPF_microcode_update2",
                 "XEN_DOMCTL_gsi_permission", "pci_device_reset"):
        assert name in added, name
    assert 'href="releases/4.20.html"' in (html / "overview.html").read_text("utf-8")
    assert (html / "releases" / "4.9.html").is_file()
