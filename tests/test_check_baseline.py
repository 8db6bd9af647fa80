"""``check --baseline`` between Xen 4.14 (bullseye) and 4.17 (bookworm), against GCC.

GCC computes sizes, alignments and member offsets of a sample of structs, and the
values of a sample of macros, in both trees; every difference GCC sees must be in
headerparse's ABI diff.  The oracle is the compiler, not headerparse's own output.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.need import unavailable

from headerparse.checks import abidiff
from headerparse.extract.pipeline import Options, extract
from headerparse.tree import cache_dir
from tests.oracle.gcc import compiler_for, gcc_layouts, gcc_macro_values

pytestmark = pytest.mark.slow
HEADERS = ("domctl.h", "sysctl.h", "vm_event.h", "memory.h", "grant_table.h", "sched.h",
           "io/displif.h", "arch-arm.h", "hvm/params.h")
ARCHS = ("x86_32", "arm64")


@pytest.fixture(scope="module")
def models(xen_tree_414, xen_tree_417):
    old = extract(xen_tree_414, Options(), cache=cache_dir())
    new = extract(xen_tree_417, Options(), cache=cache_dir())
    return old, new, abidiff.diff(old, new)


def _sample(old, new, arch: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in new.records:
        lay = r.layout(arch)
        if lay is None or r.loc.file not in HEADERS or not r.key.startswith(("struct ", "union ")):
            continue
        if not any(o.key == r.key and o.layout(arch) for o in old.records):
            continue
        out[r.key] = sorted({m.path for m in lay.members if "." not in m.path})
    for r in old.records:      # members the new tree dropped must be asked about too
        lay = r.layout(arch)
        if lay is not None and r.key in out:
            out[r.key] = sorted(set(out[r.key]) | {m.path for m in lay.members
                                                   if "." not in m.path})
    return out


def _include(tree) -> object:
    return tree.materialize(cache_dir())


def _headers(arch: str) -> list[str]:
    return ["xen.h", *[h for h in HEADERS if not (h == "arch-arm.h" and arch.startswith("x86"))]]


@pytest.mark.parametrize("arch", ARCHS)
def test_every_layout_difference_gcc_sees_is_in_the_diff(xen_tree_414, xen_tree_417, models,
                                                         arch: str) -> None:
    if compiler_for(arch) is None:
        unavailable(f"no GCC for {arch}")
    old, new, changes = models
    types = _sample(old, new, arch)
    assert len(types) > 40
    a = gcc_layouts(_include(xen_tree_414), arch, _headers(arch), types)
    b = gcc_layouts(_include(xen_tree_417), arch, _headers(arch), types)
    ours = {(c.symbol, c.detail) for c in changes if c.kind == "layout" and arch in c.archs}
    missing, seen = [], 0
    for key in set(a) & set(b):
        x, y = a[key], b[key]
        expect = []
        if x["size"] != y["size"]:
            expect.append("size")
        if x["align"] != y["align"]:
            expect.append("align")
        for path, off in x["offsets"].items():
            if path not in y["offsets"]:
                expect.append(f"member {path} removed")
            elif y["offsets"][path] != off:
                expect.append(f"member {path} offset")
        for path in y["offsets"]:
            if path not in x["offsets"]:
                expect.append(f"member {path} added")
        seen += bool(expect)
        missing += [(key, e) for e in expect if (key, e) not in ours
                    and not _matched_by_bytes(key, e, ours)]
    assert seen > 0, "the sample should contain structs whose layout changed"
    assert missing == [], missing


def _matched_by_bytes(key: str, expected: str, ours: set[tuple[str, str]]) -> bool:
    """GCC names a path removed; the diff may have found its bytes renamed or reused."""
    if not expected.endswith(" removed"):
        return False
    path = expected[len("member "):-len(" removed")]
    return any(k == key and (d.startswith(f"member {path} renamed to ")
                             or d == f"member {path} reused (padding)") for k, d in ours)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_macro_change_gcc_sees_is_in_the_diff(xen_tree_414, xen_tree_417, models,
                                                    arch: str) -> None:
    if compiler_for(arch) is None:
        unavailable(f"no GCC for {arch}")
    old, new, changes = models
    names = sorted({m.name for m in old.macros if m.loc.file in HEADERS and m.params is None
                    and not m.name.startswith("_")})
    a = gcc_macro_values(_include(xen_tree_414), arch, _headers(arch), names)
    b = gcc_macro_values(_include(xen_tree_417), arch, _headers(arch), names)
    ours = {c.symbol: c for c in changes if arch in c.archs}
    changed = [n for n in a if n in b and a[n] != b[n]]
    gone = [n for n in a if n not in b]
    assert changed, "4.14 -> 4.17 changed some constants"
    for n in changed:
        assert n in ours and ours[n].kind in ("constant", "version"), n
        assert (ours[n].before, ours[n].after) == (a[n], b[n])
    for n in gone:
        assert n in ours and ours[n].kind == "removed", n


def test_cli_check_baseline(xen_tree_414, xen_tree_417) -> None:
    old = str(fetch_dir(xen_tree_414))
    new = str(fetch_dir(xen_tree_417))
    proc = subprocess.run([sys.executable, "-m", "headerparse", "check", "-q", "--tree", new,
                           "--baseline", old, "--format", "json", "--only", "domctl.h"],
                          capture_output=True, timeout=600)
    # domctl.h's removals are versioned: XEN_DOMCTL_INTERFACE_VERSION moved from 4.14 to
    # 4.17, and Xen refuses a caller built for another one (issue 11, defect 4).
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rules = {f["rule"] for f in doc["findings"]}
    assert {"XC403", "XC407"} <= rules
    removed = [f for f in doc["findings"] if f["rule"] == "XC403"]
    assert all(f["severity"] == "note" and "versioned by XEN_DOMCTL_INTERFACE_VERSION"
               in f["message"] for f in removed), removed[:2]
    # XEN_DOMCTL_CDF_MAX 32 -> 128 grows with the new CDF flags: a sentinel, not an
    # XC402 error (issue 11, defect 5); it is shown as a note (defect 12).
    constants = [f for f in doc["findings"] if f["rule"] == "XC402"]
    assert all(f["severity"] == "note" and "sentinel" in f["message"]
               for f in constants), constants[:2]
    assert any(f["symbol"] == "XEN_DOMCTL_CDF_MAX" for f in constants)
    assert {f["file"] for f in doc["findings"]} == {"domctl.h"}


def fetch_dir(tree):
    from headerparse.tree import fetch_debian_headers
    suite = "bullseye" if "bullseye" in tree.description else "bookworm"
    return fetch_debian_headers(suite)
