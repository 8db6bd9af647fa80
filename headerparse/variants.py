"""ABI variants: the (arch, guest type, width) combinations a hypercall is made from.

The extraction arches (``targets.py``) say how the C types are laid out; a
variant adds what a guest sees at the hypercall instruction: which register
holds the hypercall index and each argument, and which column of Xen's own
``hypercall-defs.c`` table dispatches its calls. PVH guests are HVM guests here.

Annotation files name variants or groups of them (``x86``, ``pv``, ``hvm``,
``arm``, ``all``); :func:`resolve` turns such a selector into variants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str                        # "x86-pv64": the spelling used in files and output
    title: str
    family: str                      # "x86", "arm", "riscv", "ppc"
    guest: str                       # "pv" | "hvm" | "" (one guest type on the arch)
    bits: int
    arch: str                        # extraction arch whose layouts this variant uses
    index_register: str | None       # None: the tree defines no hypercall convention
    arg_registers: tuple[str, ...]
    defs_column: str | None          # column of the hypercall-defs.c table
    optional: bool = False           # present only when the tree has the arch's headers

    @property
    def mode(self) -> str:
        """How prose names the kind of guest: "pv", "hvm", or the family where it has one."""
        return self.guest or self.family

    @property
    def convention(self) -> str:
        if self.index_register is None:
            return "no hypercall register convention known"
        return f"{self.index_register}; {' '.join(self.arg_registers)}"

    def register(self, position: int) -> str | None:
        """The register carrying argument ``position`` (1-based), None if there is none."""
        if 1 <= position <= len(self.arg_registers):
            return self.arg_registers[position - 1]
        return None


_X86_64 = ("RDI", "RSI", "RDX", "R10", "R8")
_X86_32 = ("EBX", "ECX", "EDX", "ESI", "EDI")

VARIANTS: tuple[Variant, ...] = (
    Variant("x86-pv32", "x86 PV guest, 32-bit", "x86", "pv", 32, "x86_32",
            "EAX", _X86_32, "pv32"),
    Variant("x86-pv64", "x86 PV guest, 64-bit", "x86", "pv", 64, "x86_64",
            "RAX", _X86_64, "pv64"),
    Variant("x86-hvm32", "x86 HVM/PVH guest in 32-bit mode", "x86", "hvm", 32, "x86_32",
            "EAX", _X86_32, "hvm32"),
    Variant("x86-hvm64", "x86 HVM/PVH guest in 64-bit mode", "x86", "hvm", 64, "x86_64",
            "RAX", _X86_64, "hvm64"),
    Variant("arm32", "Arm guest, AArch32", "arm", "", 32, "arm32",
            "r12", ("r0", "r1", "r2", "r3", "r4"), "arm"),
    Variant("arm64", "Arm guest, AArch64", "arm", "", 64, "arm64",
            "x16", ("x0", "x1", "x2", "x3", "x4"), "arm"),
    # The RISC-V and PowerPC ports define no guest hypercall convention in the
    # trees we know of; the columns are guesses at what Xen would call them.
    Variant("riscv64", "RISC-V guest, 64-bit", "riscv", "", 64, "riscv64",
            None, (), "riscv", optional=True),
    Variant("ppc64", "PowerPC guest, 64-bit", "ppc", "", 64, "ppc64",
            None, (), "ppc", optional=True),
)

BY_NAME = {v.name: v for v in VARIANTS}

GROUPS: dict[str, tuple[str, ...]] = {
    "x86": ("x86-pv32", "x86-pv64", "x86-hvm32", "x86-hvm64"),
    "x86-32": ("x86-pv32", "x86-hvm32"),
    "x86-64": ("x86-pv64", "x86-hvm64"),
    "pv": ("x86-pv32", "x86-pv64"),
    "hvm": ("x86-hvm32", "x86-hvm64"),
    "arm": ("arm32", "arm64"),
    "riscv": ("riscv64",),
    "ppc": ("ppc64",),
    "all": tuple(v.name for v in VARIANTS),
    "none": (),
}


class UnknownVariant(ValueError):
    """A selector names neither a variant nor a group."""


def names() -> tuple[str, ...]:
    """Every spelling a selector may use: groups first, then variants."""
    return tuple(GROUPS) + tuple(BY_NAME)


def variants_for_archs(archs: Iterable[str]) -> tuple[Variant, ...]:
    """The variants of a tree whose extraction covered ``archs``.

    The default variants always apply (a hypercall's registers do not depend on
    which arches were extracted); the optional ones only when their arch is there.
    """
    present = set(archs)
    return tuple(v for v in VARIANTS if not v.optional or v.arch in present)


def resolve(selector: str | Sequence[str], universe: Sequence[Variant]) -> tuple[Variant, ...]:
    """The variants of ``universe`` a selector names, in table order.

    A group naming variants the tree lacks (``riscv`` on a tree without RISC-V)
    selects nothing, without error; a name that is neither is an error.
    """
    items = [selector] if isinstance(selector, str) else list(selector)
    wanted: set[str] = set()
    for item in items:
        key = item.strip()
        if key in GROUPS:
            wanted.update(GROUPS[key])
        elif key in BY_NAME:
            wanted.add(key)
        else:
            raise UnknownVariant(key)
    return tuple(v for v in universe if v.name in wanted)


#: The variants whose hypercall register convention is known: those prose about
#: arguments and registers can be checked against.
CALLING: tuple[Variant, ...] = tuple(v for v in VARIANTS if v.index_register is not None)


def register_positions() -> dict[str, tuple[int, str]]:
    """Each argument register's name (lower case) -> (its argument position, family)."""
    return {r.lower(): (i, v.family) for v in CALLING
            for i, r in enumerate(v.arg_registers, 1)}


def registers(variant: Variant, arity: int) -> tuple[str, ...] | None:
    """The argument registers of a call with ``arity`` arguments, None if unknown."""
    if variant.index_register is None or arity > len(variant.arg_registers):
        return None
    return variant.arg_registers[:arity]


# C types wider than a 32-bit register: a 32-bit guest passes them in two
# consecutive registers (low half first), as Xen's compat prototypes show.
WIDE_TYPES = frozenset({
    "u64", "s64", "uint64_t", "int64_t", "uint64_aligned_t", "int64_aligned_t",
    "unsigned long long", "long long", "s_time_t", "xen_uint64_t",
})


def slots(ctype: str, variant: Variant) -> int:
    """How many argument registers a parameter of ``ctype`` takes on ``variant``."""
    bare = " ".join(ctype.replace("const", " ").split())
    if variant.bits == 32 and "*" not in bare and "[" not in bare and bare in WIDE_TYPES:
        return 2
    return 1
