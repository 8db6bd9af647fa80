"""``headerparse review`` on Xen's sched.h: the SHUTDOWN_suspend case of 2014, on real headers.

The early-2014 tree (the parent of Xen commit bfc2e6e942) is built from Debian's 4.17
sched.h by reverting what that commit added: the sentence about the third argument
and the ``...`` of the prototype.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from headerparse.checks.reference import Loaded, load_yaml
from headerparse.checks.review import ReviewError, review, to_json, to_text
from headerparse.extract.pipeline import Options, extract
from headerparse.tree import HeaderTree, cache_dir

pytestmark = pytest.mark.slow
REFERENCE = Path(__file__).parent / "data" / "prose" / "reference.yaml"
COMMITTED = (" * If the sched_shutdown_t reason is SHUTDOWN_suspend then\n"
             " * x86 PV guests must also set RDX (EDX for 32-bit guests) to the MFN\n"
             " * of the guest's start info page.  RDX/EDX is the third hypercall\n"
             " * argument.\n *\n")
PROTO_417 = " * ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)\n"
EXTRA_417 = " * ...  == Additional Operation-specific extra arguments, described below.\n"


def sched_2014(sched_417: str) -> str:
    """4.17's sched.h as it was before bfc2e6e942: no third-argument sentence, no '...'."""
    assert COMMITTED in sched_417 and PROTO_417 in sched_417 and EXTRA_417 in sched_417
    return (sched_417.replace(COMMITTED, "")
            .replace(PROTO_417, PROTO_417.replace(", ...)", ")")).replace(EXTRA_417, ""))


def diff(old: str, new: str, path: str = "xen/include/public/sched.h") -> bytes:
    body = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{path}", f"b/{path}"))
    return (f"From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            f"From: A Developer <dev@example.org>\nSubject: [PATCH] sched: document\n\n"
            f"---\ndiff --git a/{path} b/{path}\n{body}").encode()


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    return Loaded(load_yaml(REFERENCE))


def model_of(tree: HeaderTree):
    return extract(tree, Options(), cache=cache_dir())


@pytest.fixture(scope="module")
def sched(xen_tree_417: HeaderTree) -> str:
    return xen_tree_417.files["sched.h"].decode()


@pytest.fixture(scope="module")
def tree_2014(xen_tree_417: HeaderTree, sched: str) -> HeaderTree:
    files = dict(xen_tree_417.files, **{"sched.h": sched_2014(sched).encode()})
    return HeaderTree("xen-4.17 with sched.h as before bfc2e6e942", files)


def introduced(r) -> list:
    return [f for f in r.findings if f.introduced]


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.split("\n"), 1) if needle in ln)


PHRASINGS = [
    " * If the sched_shutdown_t reason is SHUTDOWN_suspend then the third\n"
    " * argument must be the MFN of the start info page for x86 PV guests\n"
    " * and must be 0 for HVM and ARM guests.\n *\n",
    " * If the sched_shutdown_t reason is SHUTDOWN_suspend then\n"
    " * x86 PV guests must also set RDX (EDX for 32-bit guests) to the MFN\n"
    " * of the guest's start info page.  RDX/EDX is the third hypercall\n"
    " * argument.  HVM guests should pass zero.\n *\n",
    " * If the sched_shutdown_t reason is SHUTDOWN_suspend then x86 PV\n"
    " * guests must set RDX to the start info MFN.  Arm guests must set x2 to 0.\n *\n",
    " * If the sched_shutdown_t reason is SHUTDOWN_suspend, the third argument\n"
    " * is unused and ignored on all guests.\n *\n",
]


@pytest.mark.parametrize("text", PHRASINGS)
def test_contradicting_rewrite_is_flagged_on_the_changed_line(
        xen_tree_417: HeaderTree, sched: str, loaded: Loaded, text: str) -> None:
    new = sched.replace(COMMITTED, text)
    r = review(diff(sched, new), xen_tree_417, model_of, loaded)
    new_findings = [f for f in introduced(r) if f.kind == "contradiction"]
    assert new_findings, to_text(r)
    changed = {n for a, b in r.applied.changed["sched.h"] for n in range(a, b + 1)}
    assert all(f.loc.file == "sched.h" and f.loc.line in changed for f in new_findings)
    assert not [c for c in r.changes if c.incompatible]


def test_committed_text_on_the_2014_tree_is_clean(tree_2014: HeaderTree, sched: str,
                                                   loaded: Loaded) -> None:
    r = review(diff(sched_2014(sched), sched), tree_2014, model_of, loaded)
    assert introduced(r) == [], to_text(r)
    # The old prototype's missing '...' was a finding that the patch resolves.
    from headerparse.checks.run import CheckInput, run_checks
    before = run_checks(CheckInput(tree_2014.files, model_of(tree_2014), loaded))
    assert [f.rule for f in before if f.symbol == "HYPERVISOR_sched_op"] == ["XC102"]
    assert [c.kind for c in r.changes] == ["prototype"]
    assert not r.changes[0].incompatible


def test_mandating_zero_on_the_2014_tree_is_flagged(tree_2014: HeaderTree, sched: str,
                                                    loaded: Loaded) -> None:
    old = sched_2014(sched)
    anchor = " * @arg == pointer to sched_shutdown_t structure.\n *\n"
    new = old.replace(anchor, anchor + PHRASINGS[0])
    r = review(diff(old, new), tree_2014, model_of, loaded)
    rules = [f.rule for f in introduced(r)]
    assert "XC201" in rules, to_text(r)
    f = next(f for f in introduced(r) if f.rule == "XC201")
    assert f.loc.line == line_of(new, "must be 0 for HVM and ARM")


def test_rewrap_only_is_silent(xen_tree_417: HeaderTree, sched: str, loaded: Loaded) -> None:
    rewrapped = (" * If the sched_shutdown_t reason is SHUTDOWN_suspend then x86 PV guests\n"
                 " * must also set RDX (EDX for 32-bit guests) to the MFN of the guest's\n"
                 " * start info page.\n"
                 " * RDX/EDX is the third hypercall argument.\n *\n")
    r = review(diff(sched, sched.replace(COMMITTED, rewrapped)), xen_tree_417, model_of, loaded)
    assert r.changes == [] and introduced(r) == [], to_text(r)
    assert "ABI: no change" in to_text(r)


def test_json_shape(xen_tree_417: HeaderTree, sched: str, loaded: Loaded) -> None:
    r = review(diff(sched, sched.replace(COMMITTED, PHRASINGS[0])), xen_tree_417, model_of,
               loaded)
    doc = json.loads(to_json(r))
    assert set(doc) >= {"abi_changes", "findings"}
    f = doc["findings"][0]
    assert set(f) >= {"rule", "severity", "kind", "introduced", "symbol", "variants", "file",
                      "line", "message"}
    assert f["kind"] == "contradiction" and f["introduced"] is True and f["file"] == "sched.h"


def test_text_quotes_the_patch_with_the_finding_under_its_line(
        xen_tree_417: HeaderTree, sched: str, loaded: Loaded) -> None:
    r = review(diff(sched, sched.replace(COMMITTED, PHRASINGS[0])), xen_tree_417, model_of,
               loaded)
    lines = to_text(r).split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("> +") and "must be 0" in ln)
    assert lines[at + 2].startswith("error [XC201 NEW]")


def test_layout_change_is_an_abi_change(xen_tree_417: HeaderTree, sched: str,
                                        loaded: Loaded) -> None:
    new = sched.replace("    unsigned int reason; /* SHUTDOWN_* => enum sched_shutdown_reason */",
                        "    unsigned int reason; /* SHUTDOWN_* => enum sched_shutdown_reason */"
                        "\n    uint64_t cookie;")
    r = review(diff(sched, new), xen_tree_417, model_of, loaded)
    assert {c.symbol for c in r.changes if c.kind == "layout"} == {"struct sched_shutdown"}
    assert {"XC401", "XC406"} <= {f.rule for f in introduced(r)}


def test_patch_that_does_not_apply(xen_tree_417: HeaderTree, loaded: Loaded) -> None:
    bad = diff("nothing like sched.h\n", "something\n")
    with pytest.raises(ReviewError, match="does not apply"):
        review(bad, xen_tree_417, model_of, loaded)


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "headerparse", *args], input=stdin,
                          capture_output=True, timeout=600)


def test_cli_review_from_stdin_and_exit_codes(xen_tree_417: HeaderTree, sched: str,
                                             tmp_path: Path) -> None:
    public = tmp_path / "public"
    for rel, data in xen_tree_417.files.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)
    snapshot = {p: p.read_bytes() for p in public.rglob("*") if p.is_file()}
    base = ["review", "--tree", str(public), "--reference", str(REFERENCE), "-q"]
    bad = run_cli(*base, "-", stdin=diff(sched, sched.replace(COMMITTED, PHRASINGS[0])))
    assert bad.returncode == 1 and b"XC201" in bad.stdout, bad.stderr
    ok = run_cli(*base, "--format", "json", "-", stdin=diff(sched, sched))
    assert ok.returncode == 0 and json.loads(ok.stdout)["findings"] == []
    garbage = run_cli(*base, "-", stdin=b"hello\nworld\n")
    assert garbage.returncode == 2 and b"no diff found" in garbage.stderr
    hostile = Path(__file__).parent / "data" / "patches" / "traversal.patch"
    refused = run_cli(*base, str(hostile))
    assert refused.returncode == 2 and b"refused" in refused.stderr
    assert b"Traceback" not in refused.stderr + bad.stderr + ok.stderr
    assert {p: p.read_bytes() for p in public.rglob("*") if p.is_file()} == snapshot
