"""ABI history: since, backports, removed and changed, from a git tree's release tags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.need import unavailable

from headerparse.history import (
    build_history,
    cached_history,
    describe,
    list_releases,
    parse_version,
)
from headerparse.history.versions import Version

XEN_H = """\
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__
#include "arch-x86/xen.h"
#define __HYPERVISOR_foo_op 1
{hypercalls}
{flags}
struct ev {{
{members}
}};
#endif
"""
ARCH_X86 = "#define XEN_X86_THING 3\n"
ARCH_ARM = "#define XEN_ARM_THING 5\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def release(repo: Path, tag: str, *, bar: bool = False, old: bool = True, new: bool = False,
            wide: bool = False, arm: bool = False, branch_from: str | None = None) -> None:
    """Commit a Xen-like public tree with these features and tag it ``tag``."""
    if branch_from is not None:
        git(repo, "checkout", "-q", "-B", f"stable-{tag}", branch_from)
    public = repo / "xen" / "include" / "public"
    public.mkdir(parents=True, exist_ok=True)
    flags = (["#define OLD_FLAG 4"] if old else []) + (["#define NEW_FEATURE 7"] if new else [])
    members = ["    uint32_t a;"] + (["    uint64_t b;"] if wide else [])
    (public / "xen.h").write_text(XEN_H.format(
        hypercalls="#define __HYPERVISOR_bar_op 2" if bar else "", flags="\n".join(flags),
        members="\n".join(members)))
    (public / "arch-x86").mkdir(exist_ok=True)
    (public / "arch-x86" / "xen.h").write_text(ARCH_X86)
    if arm:
        (public / "arch-arm.h").write_text(ARCH_ARM)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", tag)
    git(repo, "tag", tag)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """1.0.0; 1.0.1 (same headers); 1.1.0 adds bar_op and widens struct ev; 1.1.1 gets
    NEW_FEATURE, which master has from 1.2.0, where OLD_FLAG goes and Arm arrives."""
    repo = tmp_path / "xen"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    release(repo, "RELEASE-1.0.0")
    release(repo, "RELEASE-1.0.1")
    release(repo, "RELEASE-1.1.0", bar=True, wide=True)
    release(repo, "RELEASE-1.2.0-rc1", bar=True, wide=True, old=False, new=True, arm=True)
    release(repo, "RELEASE-1.2.0", bar=True, wide=True, old=False, new=True, arm=True)
    release(repo, "RELEASE-1.1.1", bar=True, wide=True, new=True, branch_from="RELEASE-1.1.0")
    return repo


X86 = ("x86_32", "x86_64")


def entry(since: str | None, kind: str = "macro", backports: tuple[str, ...] = (),
          removed: str | None = None, changed: tuple[dict, ...] = (),
          archs: tuple[str, ...] | None = X86, gone: tuple[str, ...] | None = None) -> dict:
    """A history entry; ``archs`` None leaves out since_archs and removed_archs (``gone``,
    default ``archs``)."""
    out = {"kind": kind, "since": since, "backports": list(backports), "removed": removed,
           "changed": list(changed)}
    if archs is not None:
        out.update(since_archs=list(archs),
                   removed_archs=list(archs if gone is None else gone) if removed else [])
    return out


EXPECTED = {
    "version": "headerparse-history/1",
    "releases": ["1.0.0", "1.0.1", "1.1.0", "1.1.1", "1.2.0"],
    "symbols": {
        "HYPERVISOR_bar_op": entry("1.1.0", "hypercall"),
        "HYPERVISOR_foo_op": entry("1.0.0", "hypercall"),
        "NEW_FEATURE": entry("1.2.0", backports=("1.1.1",), archs=(*X86, "arm32", "arm64")),
        "OLD_FLAG": entry("1.0.0", removed="1.2.0"),
        "XEN_ARM_THING": entry("1.2.0", archs=("arm32", "arm64")),
        "XEN_X86_THING": entry("1.0.0"),
        "__HYPERVISOR_bar_op": entry("1.1.0"),
        "__HYPERVISOR_foo_op": entry("1.0.0"),
        "struct ev": entry("1.0.0", "struct", changed=(
            {"release": "1.1.0", "archs": ["x86_32"], "what": "size 4 -> 12; member b added"},
            {"release": "1.1.0", "archs": ["x86_64"],
             "what": "size 4 -> 16, align 4 -> 8; member b added"})),
        "struct ev.a": entry("1.0.0", "member"),
        "struct ev.b": entry("1.1.0", "member"),
    },
}


def test_history_of_a_synthetic_repository(repo: Path, tmp_path: Path) -> None:
    outcome = build_history(repo, cache=tmp_path / "cache")
    assert outcome.history == EXPECTED
    # 1.0.1 has 1.0.0's headers: four trees for five releases.
    assert (outcome.mode, outcome.extracted, outcome.problems) == ("full", 4, [])


def test_nothing_new_is_served_and_new_tags_are_added(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert cached_history(repo, cache=cache) is None
    assert cached_history(tmp_path, cache=cache) is None        # not a git repository
    assert build_history(repo, cache=cache).mode == "full"
    assert cached_history(repo, cache=cache) == EXPECTED
    again = build_history(repo, cache=cache)
    assert (again.mode, again.extracted, again.history) == ("cached", 0, EXPECTED)
    # A new point release of an old branch and a new feature release: added to the
    # history as it is, not recomputed, and the same as recomputing.
    release(repo, "RELEASE-1.0.2", new=True, branch_from="RELEASE-1.0.1")
    release(repo, "RELEASE-1.3.0", wide=True, old=False, new=True, arm=True,
            branch_from="RELEASE-1.2.0")
    assert cached_history(repo, cache=cache) is None            # out of date: not served
    added = build_history(repo, cache=cache)
    fresh = build_history(repo, cache=None)
    assert (added.mode, added.extracted) == ("incremental", 2)
    assert added.history == fresh.history
    assert fresh.history["symbols"]["NEW_FEATURE"] == entry("1.2.0", backports=("1.0.2", "1.1.1"),
                                                            archs=(*X86, "arm32", "arm64"))
    # Removed from every arch 1.2.0 had: Arm's too.
    assert fresh.history["symbols"]["__HYPERVISOR_bar_op"] == entry(
        "1.1.0", removed="1.3.0", gone=(*X86, "arm32", "arm64"))
    # Damaged cache files are misses, never errors.
    for f in (cache / "history").rglob("*.json"):
        f.write_text('{"format": "' + json.loads(f.read_text())["format"] + '"}')
    assert build_history(repo, cache=cache).history == fresh.history
    # A feature release older than the newest is not something to add: recomputed.
    release(repo, "RELEASE-1.1.5", bar=True, wide=True, branch_from="RELEASE-1.1.1")
    git(repo, "tag", "-d", "RELEASE-1.0.2")
    assert build_history(repo, cache=cache).mode == "full"


def test_an_arch_that_does_not_compile_is_reported_not_compared(tmp_path: Path) -> None:
    repo = tmp_path / "xen"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    release(repo, "RELEASE-2.0.0", wide=True, arm=True)
    # As xen.h before Xen 4.2 on Arm: what Arm makes of the rest is not Xen's ABI.
    xen_h = repo / "xen" / "include" / "public" / "xen.h"
    xen_h.write_text(xen_h.read_text().replace("struct ev", "#if defined(__arm__) || "
                     "defined(__aarch64__)\n#error \"Unsupported architecture\"\n#endif\n"
                     "struct ev").replace("    uint64_t b;\n", ""))
    git(repo, "commit", "-q", "-am", "arm breaks")
    git(repo, "tag", "RELEASE-2.1.0")
    outcome = build_history(repo, cache=None)
    assert len(outcome.problems) == 1
    assert outcome.problems[0].startswith(
        "RELEASE-2.1.0: compile errors (arm32 1, arm64 1); their symbols are kept, their "
        "changes not compared; first: xen.h:")
    assert "error: \"Unsupported architecture\"" in outcome.problems[0]
    ev = outcome.history["symbols"]["struct ev"]
    # ev shrank on every arch, but Arm's broken compile says nothing about Arm.
    assert ev["changed"] == [
        {"release": "2.1.0", "archs": ["x86_32"], "what": "size 12 -> 4; member b removed"},
        {"release": "2.1.0", "archs": ["x86_64"],
         "what": "size 16 -> 4, align 8 -> 4; member b removed"}]
    assert outcome.history["symbols"]["struct ev.b"]["removed"] == "2.1.0"


def test_a_name_that_changes_what_it_is_is_not_compared(tmp_path: Path) -> None:
    # Xen 2.0's blkif_request_t was an anonymous struct; from 3.0 it names struct blkif_request.
    repo = tmp_path / "xen"
    public = repo / "xen" / "include" / "public"
    (public / "arch-x86").mkdir(parents=True)
    (public / "arch-x86" / "xen.h").write_text(ARCH_X86)
    git(repo, "init", "-q", "-b", "master")
    for tag, text in (("RELEASE-3.0.0", "typedef struct { uint32_t id; } req_t;\n"),
                      ("RELEASE-3.1.0", "struct req { uint64_t id; };\n"
                                        "typedef struct req req_t;\n")):
        (public / "xen.h").write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", tag)
        git(repo, "tag", tag)
    s = build_history(repo, cache=None).history["symbols"]
    assert s["req_t"] == entry("3.0.0", "typedef")
    assert s["req_t.id"] == entry("3.0.0", "member", removed="3.1.0")
    assert s["struct req"] == entry("3.1.0", "struct")


def test_versions_and_listing(repo: Path) -> None:
    assert parse_version("RELEASE-4.1.6.1") == Version((4, 1, 6, 1))
    assert parse_version("RELEASE-4.2") == parse_version("RELEASE-4.2.0")
    assert parse_version("4.17.0-rc1") is None and parse_version("RELEASE-x") is None
    assert parse_version("RELEASE-4.9.0") < parse_version("RELEASE-4.10.0")
    v = parse_version("RELEASE-4.14.6")
    assert v is not None and (v.branch, v.feature, str(v)) == ((4, 14), False, "4.14.6")
    listing = list_releases(repo)
    assert [r.tag for r in listing.releases] == ["RELEASE-1.0.0", "RELEASE-1.0.1",
                                                 "RELEASE-1.1.0", "RELEASE-1.1.1",
                                                 "RELEASE-1.2.0"]
    assert listing.releases[0].tree == listing.releases[1].tree
    assert listing.skipped == ("RELEASE-1.2.0-rc1: not a release version (X.Y.Z)",)


def test_describe() -> None:
    assert describe(EXPECTED, "ev") == [
        "struct ev: since 1.0.0 or earlier (the oldest release read) "
        "(releases read: 1.0.0 to 1.2.0)",
        "  changed in 1.1.0 [x86_32]: size 4 -> 12; member b added",
        "  changed in 1.1.0 [x86_64]: size 4 -> 16, align 4 -> 8; member b added"]
    assert describe(EXPECTED, "NEW_FEATURE") == [
        "NEW_FEATURE: since 1.2.0 (releases read: 1.0.0 to 1.2.0)", "  backported to 1.1.1"]
    assert describe(EXPECTED, "OLD_FLAG")[-1] == "  removed in 1.2.0"
    assert describe(EXPECTED, "nothing_of_that_name") == []


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "headerparse", "history", *args],
                          capture_output=True, text=True, check=False)


def test_cli(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "h.json"
    proc = run_cli("--tree", str(repo), "--format", "json", "-o", str(out), "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == EXPECTED
    assert "headerparse: 4/5 RELEASE-1.1.1\n" in proc.stderr
    proc = run_cli("--tree", str(repo), "--revs", "RELEASE-1.1.*", "--no-cache", "-q")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "NEW_FEATURE (macro): since -; backports 1.1.1\n" in proc.stdout
    # One arch: struct ev changes once, on x86_64 only.
    proc = run_cli("--tree", str(repo), "--arch", "x86_64", "--no-cache", "-q")
    assert proc.returncode == 0 and proc.stderr == ""
    assert ("struct ev (struct): since 1.0.0; changed 1.1.0 [x86_64] size 4 -> 16, "
            "align 4 -> 8; member b added\n") in proc.stdout
    # A macro is in the headers whichever arches are read (only its values are per arch).
    assert "XEN_ARM_THING (macro): since 1.2.0\n" in proc.stdout
    for args, message in (((str(tmp_path),), "is not a git repository"),
                          ((str(repo), "--revs", "v*"), "no release tag of"),
                          ((str(tmp_path / "nope"),), "no such directory"),
                          ((str(repo), "--arch", "ia64"), "unknown arch ia64")):
        proc = run_cli("--tree", *args, "--no-cache")
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.startswith("headerparse: error: ") and message in proc.stderr
        assert len(proc.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- real history

BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "xen-history" / "xen-public.bundle"


@pytest.fixture(scope="module")
def xen_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUNDLE.is_file():
        unavailable(f"no Xen history bundle at {BUNDLE}")
    repo = tmp_path_factory.mktemp("xen") / "xen-public"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(repo)], check=True)
    return repo


@pytest.mark.slow
def test_real_history_414_to_417(xen_history: Path) -> None:
    from headerparse.tree import cache_dir

    revs = ("RELEASE-4.14.*", "RELEASE-4.15.*", "RELEASE-4.16.*", "RELEASE-4.17.0")
    outcome = build_history(xen_history, revs, cache=cache_dir())
    h = outcome.history
    assert h["releases"][0] == "4.14.0" and h["releases"][-1] == "4.17.0"
    assert len(h["releases"]) == 24
    s = h["symbols"]
    # In 4.14.0 already (Xen 4.9's): since is the oldest release read.
    assert s["__HYPERVISOR_dm_op"] == entry("4.14.0", archs=(*X86, "arm32", "arm64"))
    # BHI_NO reached master after 4.17.0: backports only, in the branches' order.
    assert s["XEN_X86_FEATURE_BHI_NO"] == entry(None, "enumerator",
                                                backports=("4.14.6", "4.15.5", "4.16.5"),
                                                archs=X86)
    # 4.15.0 added npt_base and vmtrace_pos to the x86 registers; 4.16.0 and 4.17.0 kept them.
    assert [c["release"] for c in s["struct vm_event_regs_x86"]["changed"]] == ["4.15.0"]
    # Checked against the headers' text: git grep '#define NAME' at each tag.
    assert s["XEN_DOMCTL_CDF_vpmu"]["since"] == "4.16.0"
    assert s["XENMEM_resource_vmtrace_buf"]["since"] == "4.15.0"
    # 'tools: Delete XEN_DOMCTL_disable_migrate' and 'gnttab: drop GNTMAP_can_fail'.
    assert s["XEN_DOMCTL_disable_migrate"]["removed"] == "4.15.0"
    four = (*X86, "arm32", "arm64")
    assert s["GNTMAP_can_fail"] == entry("4.14.0", removed="4.16.0", archs=four)
    # In the text, compiled by no arch: told so, with why.
    assert s["struct livepatch_func"] == {**entry("4.14.0", "struct", archs=()),
                                          "compiled": False,
                                          "why": "__XEN__ only (the hypervisor's view)"}
    assert s["union hvm_hw_cpu_union"]["why"] == "local to a function"
    assert (s["DOM0_MSR"]["compiled"], s["DOM0_MSR"]["why"]) == (
        False, "dom0_ops.h only (it #errors by design)")
    assert "compiled" not in s["XEN_DOMCTL_CDF_vpmu"]


def commit_tree(repo: Path, tag: str, files: dict[str, str]) -> None:
    """Commit exactly ``files`` as the public headers and tag the commit ``tag``."""
    public = repo / "xen" / "include" / "public"
    if public.exists():
        subprocess.run(["rm", "-r", str(public)], check=True)
    for name, text in files.items():
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", tag)
    git(repo, "tag", tag)


IA64_H = """\
struct ia64_regs { unsigned long r[8]; };
#define IA64_CONST 9
"""
XEN_ONLY_H = """\
#include "arch-x86/xen.h"
struct ev {{ unsigned int a; }};
#ifdef __XEN__
struct xen_private {{ int lock; }};
#endif
{extra}
"""


def test_definitions_no_compiled_arch_sees(tmp_path: Path) -> None:
    """ia64's headers and __XEN__-only types are in the text, not in any compiled arch's
    view: their since and removed are the text's, said as such; the compiled ones keep
    theirs, and a constant reaching one more arch is a change on that arch."""
    repo = tmp_path / "xen"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    wide = "#if defined(__x86_64__)\n#define WIDE_ONLY 1\n#endif\n"
    retired = "struct retired { int r; };\n"
    commit_tree(repo, "RELEASE-3.0.0", {"xen.h": XEN_ONLY_H.format(extra=wide + retired),
                                        "arch-x86/xen.h": ARCH_X86, "arch-ia64.h": IA64_H})
    # struct retired stays for the hypervisor only: gone for who compiles the headers.
    commit_tree(repo, "RELEASE-3.1.0", {"xen.h": XEN_ONLY_H.format(
        extra=f"#define WIDE_ONLY 1\n#ifdef __XEN__\n{retired}#endif"),
        "arch-x86/xen.h": ARCH_X86, "arch-ia64.h": IA64_H})
    commit_tree(repo, "RELEASE-3.2.0", {"xen.h": XEN_ONLY_H.format(extra="#define WIDE_ONLY 1"),
                                        "arch-x86/xen.h": ARCH_X86})
    s = build_history(repo, cache=None).history["symbols"]
    ia64 = {"compiled": False, "why": "ia64 only"}
    assert s["struct ia64_regs"] == {**entry("3.0.0", "struct", removed="3.2.0", archs=()), **ia64}
    assert s["IA64_CONST"] == {**entry("3.0.0", removed="3.2.0", archs=()), **ia64}
    assert s["struct xen_private"] == {**entry("3.0.0", "struct", archs=()), "compiled": False,
                                       "why": "__XEN__ only (the hypervisor's view)"}
    assert s["struct ev"] == entry("3.0.0", "struct")
    assert s["struct retired"] == entry("3.0.0", "struct", removed="3.1.0")
    assert s["WIDE_ONLY"] == entry("3.0.0", archs=("x86_64",), changed=(
        {"release": "3.1.0", "archs": ["x86_32"], "what": "added"},))
    # The text's types have no members to compare: going, they change no record.
    assert "struct ia64_regs.r" not in s
    assert describe({"releases": ["3.0.0", "3.2.0"], "symbols": s}, "ia64_regs") == [
        "struct ia64_regs: since 3.0.0 or earlier (the oldest release read) "
        "(releases read: 3.0.0 to 3.2.0); ia64 only, not compiled", "  removed in 3.2.0"]
