"""Which version guards a change (issue 11, defect 4): an arch struct used only inside
domctl payloads follows XEN_DOMCTL_INTERFACE_VERSION; HVM save records and what only Xen
and its tools see are not guarded by __XEN_LATEST_INTERFACE_VERSION__.

The headers mirror Xen's: arch-x86/xen.h's ``xen_arch_domainconfig`` embedded in
domctl.h's ``xen_domctl_createdomain``; hvm/save.h's records declared with
``DECLARE_HVM_SAVE_TYPE``; memory.h's tools-only section.
"""

from __future__ import annotations

from pathlib import Path

from headerparse.checks import abidiff
from headerparse.checks.guards import guard_of
from headerparse.extract import Options, extract
from headerparse.model import Model
from headerparse.tree import open_tree
from tests.conftest import MakeTree

XEN_H = """\
#ifndef XEN_H
#define XEN_H
#include <stdint.h>
#define __XEN_LATEST_INTERFACE_VERSION__ 0x00041300
#include "arch-x86/xen.h"
struct xen_guest_visible { uint32_t a; {extra} };
#endif
"""
ARCH_H = """\
#ifndef ARCH_XEN_H
#define ARCH_XEN_H
#include <stdint.h>
struct xen_arch_domainconfig { uint32_t emulation_flags; {extra} };
#endif
"""
DOMCTL_H = """\
#include "xen.h"
#define XEN_DOMCTL_INTERFACE_VERSION {version}
struct xen_domctl_createdomain {
    uint32_t flags;
    struct xen_arch_domainconfig arch;
};
"""
SAVE_H = """\
#include <stdint.h>
#define DECLARE_HVM_SAVE_TYPE(_x, _code, _type) struct __HVM_SAVE_TYPE_##_x { _type t; }
struct hvm_hw_cpu { uint64_t rax; {extra} };
DECLARE_HVM_SAVE_TYPE(CPU, 2, struct hvm_hw_cpu);
"""
MEMORY_H = """\
#include <stdint.h>
#if defined(__XEN__) || defined(__XEN_TOOLS__)
struct xen_mem_tools_only { uint32_t a; {extra} };
#endif
"""


def _model(make_tree: MakeTree, cache: Path, *, extra: str = "", version: str = "0x15",
           where: str = "arch") -> tuple[Model, dict[str, bytes]]:
    def ext(name: str) -> str:
        return extra if where == name else ""
    files = {"xen.h": XEN_H.replace("{extra}", ext("xen")),
             "arch-x86/xen.h": ARCH_H.replace("{extra}", ext("arch")),
             "domctl.h": DOMCTL_H.replace("{version}", version),
             "hvm/save.h": SAVE_H.replace("{extra}", ext("save")),
             "memory.h": MEMORY_H.replace("{extra}", ext("memory"))}
    tree = open_tree(str(make_tree(files)))
    return extract(tree, Options(archs=("x86_64",)), cache=cache), dict(tree.files)


def _xc406(make_tree: MakeTree, tmp_path: Path, **kw: str) -> list[tuple[str, str, str]]:
    old, _ = _model(make_tree, tmp_path / "c")
    new, files = _model(make_tree, tmp_path / "c", extra="uint32_t more;", **kw)
    findings = abidiff.diff_findings(abidiff.diff(old, new, files))
    return [(f.rule, f.severity, f.symbol or "") for f in findings
            if f.rule in ("XC401", "XC406")]


def test_an_arch_struct_used_only_by_domctl_follows_the_domctl_version(
        make_tree: MakeTree, tmp_path: Path) -> None:
    grown = _xc406(make_tree, tmp_path)
    assert ("XC406", "error", "XEN_DOMCTL_INTERFACE_VERSION") in grown
    assert all(sym != "__XEN_LATEST_INTERFACE_VERSION__" for _, _, sym in grown)
    bumped = _xc406(make_tree, tmp_path, version="0x16")
    assert [r for r, _, _ in bumped if r == "XC406"] == []
    assert ("XC401", "note", "struct xen_arch_domainconfig") in bumped


def test_a_guest_visible_struct_keeps_the_latest_version(make_tree: MakeTree,
                                                         tmp_path: Path) -> None:
    grown = _xc406(make_tree, tmp_path, where="xen")
    assert ("XC406", "error", "__XEN_LATEST_INTERFACE_VERSION__") in grown


def test_save_records_and_tools_only_structs_are_not_blamed_on_latest(
        make_tree: MakeTree, tmp_path: Path) -> None:
    for where in ("save", "memory"):
        grown = _xc406(make_tree, tmp_path, where=where)
        assert grown and all(rule == "XC401" for rule, _, _ in grown), (where, grown)


def test_guard_of_reads_save_record_headers_from_their_bytes() -> None:
    files = {"hvm/save.h": b"DECLARE_HVM_SAVE_TYPE(CPU, 2, struct hvm_hw_cpu);\n",
             "memory.h": b"struct x;\n"}
    assert guard_of("hvm/save.h", files) is None
    assert guard_of("memory.h", files) == "__XEN_LATEST_INTERFACE_VERSION__"
    assert guard_of("io/blkif.h") is None
    assert guard_of("domctl.h") == "XEN_DOMCTL_INTERFACE_VERSION"
