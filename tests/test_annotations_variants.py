"""ABI variants: register conventions, groups, and 64-bit arguments on 32-bit guests."""

from __future__ import annotations

import pytest

from headerparse.variants import (
    BY_NAME,
    GROUPS,
    VARIANTS,
    UnknownVariant,
    registers,
    resolve,
    slots,
    variants_for_archs,
)


def test_register_conventions() -> None:
    v = BY_NAME
    assert (v["x86-pv64"].index_register, v["x86-pv64"].arg_registers) == (
        "RAX", ("RDI", "RSI", "RDX", "R10", "R8"))
    assert (v["x86-hvm64"].index_register, v["x86-hvm64"].arg_registers) == (
        "RAX", ("RDI", "RSI", "RDX", "R10", "R8"))
    for name in ("x86-pv32", "x86-hvm32"):
        assert (v[name].index_register, v[name].arg_registers) == (
            "EAX", ("EBX", "ECX", "EDX", "ESI", "EDI"))
    assert (v["arm64"].index_register, v["arm64"].arg_registers) == (
        "x16", ("x0", "x1", "x2", "x3", "x4"))
    assert (v["arm32"].index_register, v["arm32"].arg_registers) == (
        "r12", ("r0", "r1", "r2", "r3", "r4"))
    assert v["x86-pv64"].register(3) == "RDX" and v["x86-pv32"].register(3) == "EDX"
    assert v["x86-pv64"].register(6) is None


def test_extraction_arch_of_each_variant() -> None:
    assert {v.name: v.arch for v in VARIANTS if not v.optional} == {
        "x86-pv32": "x86_32", "x86-pv64": "x86_64", "x86-hvm32": "x86_32",
        "x86-hvm64": "x86_64", "arm32": "arm32", "arm64": "arm64"}


def test_groups() -> None:
    universe = variants_for_archs(("x86_32", "x86_64", "arm32", "arm64"))
    names = lambda sel: [v.name for v in resolve(sel, universe)]  # noqa: E731
    assert names("pv") == ["x86-pv32", "x86-pv64"]
    assert names("hvm") == ["x86-hvm32", "x86-hvm64"]
    assert names("arm") == ["arm32", "arm64"]
    assert names("x86") == ["x86-pv32", "x86-pv64", "x86-hvm32", "x86-hvm64"]
    assert names("all") == [v.name for v in universe] and len(universe) == 6
    assert names(["hvm", "arm64", "x86-hvm32"]) == ["x86-hvm32", "x86-hvm64", "arm64"]
    assert names("none") == [] and names("riscv") == []
    with pytest.raises(UnknownVariant):
        resolve(["pv", "ia64"], universe)
    assert set(GROUPS["all"]) == set(BY_NAME)


def test_optional_variants_follow_the_tree() -> None:
    names = [v.name for v in variants_for_archs(("x86_64", "riscv64"))]
    assert "riscv64" in names and "ppc64" not in names and "arm64" in names
    assert registers(BY_NAME["riscv64"], 1) is None


def test_registers_and_slots() -> None:
    assert registers(BY_NAME["x86-pv32"], 3) == ("EBX", "ECX", "EDX")
    assert registers(BY_NAME["arm64"], 0) == ()
    assert registers(BY_NAME["arm64"], 6) is None
    assert slots("u64", BY_NAME["x86-pv32"]) == 2
    assert slots("const uint64_t", BY_NAME["x86-hvm32"]) == 2
    assert slots("u64", BY_NAME["x86-pv64"]) == 1
    assert slots("uint64_t *", BY_NAME["x86-pv32"]) == 1
    assert slots("unsigned long", BY_NAME["x86-pv32"]) == 1
