"""What ``review`` compares and shows (issue 11, defects 6 and 7), on tiny trees.

* Defect 6: a patch that adds an arch header (riscv64 joining) is reviewed on the
  parent's arches, with a note; a finding already there must not turn new because its
  arch list grew.  The headers only the added arch compiles are checked on it alone.
* Defect 7: an ABI change in a header the patch does not touch, caused by one it
  touches (``io/ring.h`` under every ``*_sring``), is reported and labelled; the
  single-tree findings stay those of the touched headers.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from headerparse.checks.reference import Loaded, Reference
from headerparse.checks.review import review, to_text
from headerparse.extract.pipeline import Options, extract
from headerparse.model import Model
from headerparse.tree import HeaderTree


def _diff(path: str, old: str | None, new: str) -> str:
    a = f"a/xen/include/public/{path}" if old is not None else "/dev/null"
    lines = difflib.unified_diff((old or "").splitlines(True), new.splitlines(True), a,
                                 f"b/xen/include/public/{path}")
    return f"diff --git a/xen/include/public/{path} b/xen/include/public/{path}\n" + \
        "".join(lines)


def _patch(*diffs: str) -> bytes:
    return ("From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
            "From: A Developer <dev@example.org>\nSubject: [PATCH] test\n\n---\n"
            + "".join(diffs)).encode()


@pytest.fixture
def extracted(tmp_path: Path):
    """``model(tree, archs=None)`` as the CLI's extractor, and the arch lists it was asked
    for, in order."""
    asked: list[tuple[str, ...] | None] = []

    def model(tree: HeaderTree, archs: tuple[str, ...] | None = None) -> Model:
        asked.append(archs)
        return extract(tree, Options(archs=archs), cache=tmp_path / "cache")
    return model, asked


NONE = Loaded(Reference((), (), "none"))
BROKEN_SCHED = "struct sched_thing { int a; } oops\n"


def test_an_added_arch_is_checked_alone_and_old_findings_stay_old(extracted) -> None:
    model, asked = extracted
    # sched.h does not compile anywhere: an XC001 error listing every arch compared.
    tree = HeaderTree("tiny", {"xen.h": b"", "sched.h": BROKEN_SCHED.encode()})
    # As arch-ppc.h came (Xen 08c192cc1127): a comment naming a struct Xen renamed long ago.
    riscv = ("#ifndef ARCH_RISCV_H\n#define ARCH_RISCV_H\n"
             "/* ONLY used to communicate with dom0! See also struct exec_domain. */\n"
             "struct vcpu_guest_context {\n    unsigned long sdr1;\n};\n#endif\n")
    # The patch touches sched.h too, so that its findings are shown.
    sched = "/* Scheduling. */\n" + BROKEN_SCHED
    r = review(_patch(_diff("arch-riscv.h", None, riscv),
                      _diff("sched.h", BROKEN_SCHED, sched)), tree, model, NONE)
    assert asked[-2:] == [("x86_32", "x86_64", "arm32", "arm64"), ("riscv64",)], asked
    assert any("adds arch(es) riscv64" in n for n in r.notes), r.notes
    assert any(n.startswith("arch-riscv.h: checked on riscv64 alone") for n in r.notes), r.notes
    assert [f.rule for f in r.findings if f.rule == "XC001"], r.findings
    # The struct exists on riscv64 alone: its stale reference is the patch's, and new.
    assert [(f.rule, f.loc.file, f.loc.line) for f in r.introduced] == \
        [("XC502", "arch-riscv.h", 3)], [f.render() for f in r.introduced]
    assert "struct exec_domain" in r.introduced[0].message


RING = """#ifndef RING_H
#define RING_H
struct ring_hdr {
    unsigned int req_prod;
};
#endif
"""
BLKIF = """#ifndef BLKIF_H
#define BLKIF_H
#include "ring.h"
/* The shared ring; see also XEN_BLKIF_NOT_A_NAME_AT_ALL. */
struct blkif_sring {
    struct ring_hdr hdr;
    unsigned int id;
};
#endif
"""
OTHER = """#ifndef OTHER_H
#define OTHER_H
struct other_thing {
    unsigned int x;
};
#endif
"""


def test_knock_on_abi_findings_are_reported_and_labelled(extracted) -> None:
    model, _ = extracted
    tree = HeaderTree("tiny", {"xen.h": b"", "sched.h": b"", "io/ring.h": RING.encode(),
                               "io/blkif.h": BLKIF.encode(), "io/other.h": OTHER.encode()})
    grown = RING.replace("    unsigned int req_prod;\n",
                         "    unsigned int req_prod;\n    unsigned int rsp_prod;\n")
    r = review(_patch(_diff("io/ring.h", RING, grown)), tree, model, NONE)
    by_file = {(f.loc.file, f.rule) for f in r.introduced if f.loc}
    assert ("io/ring.h", "XC401") in by_file, by_file
    knock = [f for f in r.introduced if f.loc and f.loc.file == "io/blkif.h"]
    assert [f.symbol for f in knock] == ["struct blkif_sring"], knock
    # An error in the touched header; the knock-on is at most a warning.
    assert {f.severity for f in r.introduced if f.loc and f.loc.file == "io/ring.h"} == {"error"}
    assert knock[0].rule == "XC401" and knock[0].severity == "warning"
    assert "knock-on of the change to io/ring.h" in knock[0].message
    # Single-tree findings (blkif.h's unknown name) stay limited to the touched headers.
    outside = {f.rule for f in r.findings if f.loc and f.loc.file != "io/ring.h"}
    assert outside == {"XC401"}, outside
    assert "ABI knock-on" in to_text(r)
