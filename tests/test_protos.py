"""XC106: prototype argument types in the headers against the declared ones (issue 11,
doc-drift recall). The texts are Xen's: kexec.h before and after a4180b03fffa, xen.h's
multicall before and after d2bbb0d4554a, and sched.h's legacy prototype (history, not
the call)."""

from __future__ import annotations

from pathlib import Path

from headerparse.checks.protos import prototype_type_findings, stated_prototypes
from headerparse.extract import Options, extract
from headerparse.model import Loc
from headerparse.tree import open_tree
from tests.conftest import MakeTree

XEN_H = """\
#define __HYPERVISOR_multicall 13
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_kexec_op 37
/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_multicall(multicall_entry_t call_list[],
 * `                      {nr} nr_calls);
 */
"""
KEXEC_H = """\
/*
 * Prototype for this hypercall is:
 *  int kexec_op({cmd} cmd, void *args)
 * @cmd  == KEXEC_CMD_...
 */
"""
SCHED_H = """\
/*
 * Versions of Xen prior to 3.0.2 provided only the following legacy version
 * of this hypercall, supporting only the commands yield, block and shutdown:
 *  long sched_op(int cmd, unsigned long arg)
 */
"""
HERE = Loc("xen.yaml", 1)
DECLARED = {**{("multicall", 2, v): ("unsigned long", HERE) for v in ("x86-pv64", "x86-pv32")},
            **{("kexec_op", 1, v): ("unsigned long", HERE) for v in ("x86-pv64", "x86-pv32")},
            **{("sched_op", 2, v): ("void *", HERE) for v in ("x86-pv64", "x86-pv32")}}


def _findings(make_tree: MakeTree, tmp_path: Path, nr: str, cmd: str) -> list[tuple]:
    public = make_tree({"xen.h": XEN_H.format(nr=nr), "kexec.h": KEXEC_H.format(cmd=cmd),
                        "sched.h": SCHED_H})
    tree = open_tree(str(public))
    model = extract(tree, Options(archs=("x86_32", "x86_64")), cache=tmp_path / "cache")
    return [(f.loc.file, f.loc.line, f.symbol, f.variants)
            for f in prototype_type_findings(model, tree.files, DECLARED)]


def test_wrong_types_are_found_where_xen_fixed_them(make_tree: MakeTree,
                                                    tmp_path: Path) -> None:
    assert _findings(make_tree, tmp_path, "uint32_t", "int") == [
        ("xen.h", 7, "HYPERVISOR_multicall", ("x86-pv64",)),        # width on 64-bit only
        ("kexec.h", 3, "HYPERVISOR_kexec_op", ("x86-pv32", "x86-pv64")),  # sign everywhere
    ]


def test_the_fixed_texts_are_clean(make_tree: MakeTree, tmp_path: Path) -> None:
    assert _findings(make_tree, tmp_path, "unsigned long", "unsigned long") == []


def test_prose_prototypes_are_read_and_legacy_ones_left_out(make_tree: MakeTree,
                                                            tmp_path: Path) -> None:
    public = make_tree({"xen.h": XEN_H.format(nr="unsigned long"),
                        "kexec.h": KEXEC_H.format(cmd="int"), "sched.h": SCHED_H})
    tree = open_tree(str(public))
    model = extract(tree, Options(archs=("x86_64",)), cache=tmp_path / "cache")
    stated = {(s.hypercall, s.loc.file): [p.type for p in s.params]
              for s in stated_prototypes(model, tree.files)}
    assert stated == {("multicall", "xen.h"): ["multicall_entry_t []", "unsigned long"],
                      ("kexec_op", "kexec.h"): ["int", "void *"]}
