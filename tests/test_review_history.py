"""``review`` and ``check`` on a fixed slice of Xen's real history, as they SHOULD behave.

Each case is a commit Xen's maintainers accepted (named by its original id), reviewed
against its parent through the real-history harness (bench/review_history.py), with
the exit code and the introduced error rules that a reviewer should get. Cases that
fail today because of a defect of issue 11 are strict xfails naming the defect, so
that fixing the defect turns them into passes that demand the xfail's removal.

The bundle is Xen's public-header history; the test clones it into a temporary
directory. Off CI a missing bundle skips the module; in CI it fails it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.need import unavailable

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _harness():
    path = ROOT / "bench" / "review_history.py"
    spec = importlib.util.spec_from_file_location("review_history", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["review_history"] = module      # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


rh = _harness()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A clone of the bundle and the environment the harness runs headerparse in."""
    bundle = Path(os.environ.get("XEN_HISTORY_BUNDLE", str(rh.DEFAULT_BUNDLE)))
    if not bundle.is_file():
        message = f"Xen's public-header history is not at {bundle} (XEN_HISTORY_BUNDLE)"
        unavailable(message)
    work = tmp_path_factory.mktemp("xen-history")
    clone = work / "xen"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True)
    return clone, rh.headerparse_env(work / "cache")


def _xfail(defect: str):
    return pytest.mark.xfail(strict=True, reason=f"issue 11, defect {defect}")


# (original Xen id, exit code, introduced error rules) as they should be.
CASES = [
    # Clean additions stay clean.
    pytest.param("4dd160583c79", 0, set(), id="new-platform-op"),
    # Real, unversioned breaks of stable interfaces stay flagged.
    pytest.param("320e644616c0", 1, {"XC403", "XC406"}, id="trace-names-removed"),
    pytest.param("d2bbb0d4554a", 1, {"XC406"}, id="multicall-nr_calls-type"),
    # 3: same bytes, other names or nesting.
    pytest.param("21e3ef57e040", 0, set(), id="rename-same-bytes"),
    pytest.param("2381dfab083f", 0, set(), id="renest-same-bytes"),
    pytest.param("62a72092a517", 0, set(), id="padding-reused"),
    # 2: a tree that does not compile is a finding of its own, not size-1 structs.
    pytest.param("afab29d0882f", 1, {"XC001"}, id="breaks-the-build"),
    pytest.param("2a9a19be134e", 0, set(), id="revert-of-build-break"),
    pytest.param("4a2f68f90930", 0, set(), id="ppc-parent-did-not-compile"),
    # 4: versioned once per release cycle, or by an interface-version branch.
    pytest.param("0291089f6ea8", 0, set(), id="domctl-bumped-this-cycle"),
    # ... and changes that only consumers of the new __XEN_INTERFACE_VERSION__ see.
    pytest.param("93d913c6e66e", 0, set(), id="flex-array-versioned"),
    # 5: sentinels and tools-only constants.
    pytest.param("dfc9fab00378", 0, set(), id="sentinel-grows"),
    pytest.param("232ee07c23b2", 0, set(), id="tools-only-constant"),
    # 6 and 9: an arch joins; alignment alone is a note.
    pytest.param("fa469c5a8601", 0, set(), id="riscv-joins"),
]


@pytest.mark.parametrize(("xen", "rc", "rules"), CASES)
def test_review_of_real_commit(history, xen: str, rc: int, rules: set[str]) -> None:
    clone, env = history
    r = rh.review_one(clone, env, rh.resolve(clone, xen))
    assert r.traceback is None, r.traceback
    assert r.refusal is None, r.refusal
    assert (r.rc, r.error_rules) == (rc, rules), r.introduced


def test_an_added_arch_header_is_checked_on_its_arch(history) -> None:
    """08c192cc1127 added arch-ppc.h: its vcpu_guest_context exists on ppc64 alone, and its
    comment names struct exec_domain, which Xen renamed to vcpu in 2005 (still so in 4.20)."""
    clone, env = history
    r = rh.review_one(clone, env, rh.resolve(clone, "08c192cc1127"))
    assert r.traceback is None and r.refusal is None, (r.traceback, r.refusal)
    stale = [f for f in r.introduced if f["rule"] == "XC502"]
    assert [(f["file"], "struct exec_domain" in f["message"]) for f in stale] == \
        [("arch-ppc.h", True)], r.introduced
    assert "arch-ppc.h: checked on ppc64 alone, the arch(es) the patch adds" in r.notes, r.notes
    assert r.rc == 0        # a note: the patch passes


# A hypervisor-private header beside the public one, as upstream patches have it: the
# public errno.h part of 1d61... is Xen's; the xen/include/xen/errno.h hunk is written
# after upstream's private header for this test (the bundle holds public paths only).
PRIVATE_HUNK = "\n".join([
    "diff --git a/xen/include/xen/errno.h b/xen/include/xen/errno.h",
    "index 1111111..2222222 100644",
    "--- a/xen/include/xen/errno.h",
    "+++ b/xen/include/xen/errno.h",
    "@@ -1,7 +1,7 @@",
    " #ifndef __ERRNO_H__",
    " #define __ERRNO_H__",
    " ",
    " #ifndef __ASSEMBLY__",
    " ",
    "-#define XEN_ERRNO(name, value) name = value,",
    "+#define XEN_ERRNO(name, value) name = (value),",
    " enum {",
    "",
])


def test_private_header_is_skipped_and_said(history) -> None:
    clone, env = history
    commit = rh.resolve(clone, "e03427ebb6af")
    patch = subprocess.run(["git", "-C", str(clone), "format-patch", "-1", "--stdout", commit],
                           check=True, capture_output=True, text=True).stdout
    patch = patch.split("\n-- \n", 1)[0] + "\n" + PRIVATE_HUNK
    rc, _, out, err = rh.run_headerparse(
        ["review", "--tree", str(clone), "--rev", f"{commit}^", "--format", "json", "-"],
        env, patch.encode())
    assert rc == 0, err
    notes = json.loads(out)["notes"]
    assert any("xen/include/xen/errno.h" in n for n in notes), notes


def _only_files(patch: str, keep: tuple[str, ...]) -> str:
    """``patch`` with the diffs of ``keep`` (paths below xen/include/public/) only."""
    head, *diffs = patch.split("\ndiff --git ")
    kept = [d for d in diffs if d.split("\n", 1)[0].split(" b/", 1)[-1].removeprefix(
        "xen/include/public/") in keep]
    return "\ndiff --git ".join([head, *kept]).split("\n-- \n", 1)[0] + "\n"


def test_knock_on_abi_changes_are_reported(history) -> None:
    """Defect 7: the io/ring.h (+ xen-compat.h) part of 93d913c6e66e changes the rings of
    every io/ protocol that the rest of the commit does not touch; each is reported, in
    its own header, labelled with io/ring.h."""
    clone, env = history
    commit = rh.resolve(clone, "93d913c6e66e")
    patch = subprocess.run(["git", "-C", str(clone), "format-patch", "-1", "--stdout", commit],
                           check=True, capture_output=True, text=True).stdout
    part = _only_files(patch, ("io/ring.h", "xen-compat.h"))
    gone = [p for p in ("io/fsif.h", "io/displif.h") if f"+++ b/{rh.PUBLIC}/{p}" in part]
    assert f"+++ b/{rh.PUBLIC}/io/ring.h" in part and not gone, part
    rc, _, out, err = rh.run_headerparse(
        ["review", "--tree", str(clone), "--rev", f"{commit}^", "--format", "json", "-"],
        env, part.encode())
    assert rc in (0, 1), err
    doc = json.loads(out)
    knock = [f for f in doc["findings"] if f["introduced"] and f["file"] not in
             ("io/ring.h", "xen-compat.h")]
    assert knock, [f["message"] for f in doc["findings"]]
    assert all(f["rule"].startswith("XC4") for f in knock), knock
    assert all("knock-on of the change to" in f["message"] for f in knock), knock
    rings = [f for f in knock if f["file"].startswith("io/")]
    assert rings and all("io/ring.h" in f["message"] for f in rings), rings
    # Errors are the touched headers': knock-on findings are warnings at most.
    assert not [f for f in knock if f["severity"] == "error"], knock
    headers = {f["file"] for f in knock}
    assert {"io/blkif.h", "io/netif.h", "io/fsif.h"} <= headers, sorted(headers)
    assert len(headers) >= 10, sorted(headers)


@pytest.mark.parametrize("tag", ["RELEASE-4.17.0", "RELEASE-4.19.0", "RELEASE-4.20.0"])
def test_check_is_quiet_on_a_release(history, tag: str) -> None:
    clone, env = history
    c = rh.check_tag(clone, env, tag)
    assert c.problem is None, c.problem
    assert (c.rc, dict(c.errors)) == (0, {})


def test_baseline_sees_enumerators(history) -> None:
    """XENMEM_access_default moves from 10 to 11 between 4.17.0 and 4.20.0 (ff10aa9d8f90)."""
    clone, env = history
    rc, _, out, err = rh.run_headerparse(
        ["check", "--tree", str(clone), "--rev", "RELEASE-4.20.0", "--baseline",
         "RELEASE-4.17.0", "--format", "json", "--fail-on", "never"], env)
    assert rc == 0, err
    findings = {(f["rule"], f["symbol"]) for f in json.loads(out)["findings"]}
    assert ("XC402", "XENMEM_access_default") in findings
    # Members added to unions of unchanged size: compatible, reported as notes.
    assert {("XC409", "struct xen_platform_op"), ("XC409", "struct vm_event_st")} <= findings


def test_sarif_locations_are_repo_relative(history) -> None:
    clone, env = history
    rc, _, out, err = rh.run_headerparse(
        ["check", "--tree", str(clone), "--rev", "RELEASE-4.20.0", "--format", "sarif",
         "--fail-on", "never"], env)
    assert rc == 0, err
    run = json.loads(out)["runs"][0]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in run["results"] for loc in res.get("locations", [])}
    assert uris and all(u.startswith("xen/include/public/") for u in uris), sorted(uris)[:3]
    assert "SRCROOT" in run.get("originalUriBaseIds", {})
