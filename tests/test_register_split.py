"""The register split as a fact of the site's argument table (issue 11, defect 8): on a
32-bit guest update_va_mapping's ``u64 val`` takes two registers, which XC102 once took
for a missing ``...``."""

from __future__ import annotations

from headerparse.model import Hypercall, Loc, Param, Prototype
from headerparse.site.facts import register_split
from headerparse.variants import variants_for_archs

HERE = Loc("xen.h", 459)
PROTO = Prototype("HYPERVISOR_update_va_mapping", "enum neg_errnoval",
                  (Param("unsigned long", "va"), Param("u64", "val"),
                   Param("enum uvm_flags", "flags")), False,
                  "enum neg_errnoval HYPERVISOR_update_va_mapping(...)", HERE)
VARIANTS = variants_for_archs(("x86_32", "x86_64", "arm32", "arm64"))


def test_the_split_is_said_for_the_32_bit_variants_that_make_the_call() -> None:
    hc = Hypercall("update_va_mapping", 14, "__HYPERVISOR_update_va_mapping", HERE, "",
                   PROTO, (), ("x86_32", "x86_64"))
    x86 = {v.name: v.name.startswith("x86") for v in VARIANTS}
    assert register_split(hc, VARIANTS, x86) == (
        "On x86-pv32, x86-hvm32, val (u64) takes two registers, low half first: the "
        "prototype's 3 argument(s) fill 4 registers")


def test_no_split_without_a_64_bit_argument() -> None:
    narrow = Prototype("HYPERVISOR_sched_op", "long", (Param("enum sched_op", "cmd"),
                       Param("void *", "arg")), True, "long HYPERVISOR_sched_op(...)", HERE)
    hc = Hypercall("sched_op", 29, "__HYPERVISOR_sched_op", HERE, "", narrow, (), ())
    assert register_split(hc, VARIANTS, {}) == ""
