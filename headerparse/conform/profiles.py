"""How each consumer builds its copy of the Xen headers: where the copy is, the types and
macros its own headers would have given it, the defines of each arch, and the names it
uses for Xen's.

A profile is data, not code: ``prelude`` is C text put before the copy (after the
built-in libc prelude), ``defines`` are per arch, ``includes`` are the directories,
relative to the consumer's source root, that its ``#include <...>`` lines resolve
against (``{family}`` and ``{linux_arch}`` are filled in per arch). Every ``#include``
that resolves nowhere gets an empty stub, and is reported as a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Linux-style fixed-width names, as <linux/types.h> gives them (U-Boot copies them), and
# the errno values of <linux/errno.h> that io/xs_wire.h names.
_LINUX_TYPES = """\
typedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32; typedef uint64_t u64;
typedef int8_t s8; typedef int16_t s16; typedef int32_t s32; typedef int64_t s64;
typedef uint8_t __u8; typedef uint16_t __u16; typedef uint32_t __u32; typedef uint64_t __u64;
typedef int8_t __s8; typedef int16_t __s16; typedef int32_t __s32; typedef int64_t __s64;
typedef uint16_t __le16; typedef uint32_t __le32; typedef uint64_t __le64;
typedef uint16_t __be16; typedef uint32_t __be32; typedef uint64_t __be64;
typedef _Bool bool;
typedef uint64_t phys_addr_t; typedef unsigned long pgprotval_t;
#define __packed __attribute__((packed))
#define __aligned(x) __attribute__((aligned(x)))
#define __user
#define __nonstring
#define __force
#define __must_check
#define __always_inline inline
#define asmlinkage
#define true 1
#define false 0
#define BUILD_BUG_ON(c)
typedef __u64 __attribute__((aligned(8))) aligned_u64;
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define E2BIG 7
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EBUSY 16
#define EEXIST 17
#define EISDIR 21
#define EINVAL 22
#define ENOSPC 28
#define EROFS 30
#define ENOSYS 38
#define ENOTEMPTY 39
#define EISCONN 106
"""

_EDK2_TYPES = """\
typedef uint8_t UINT8; typedef uint16_t UINT16; typedef uint32_t UINT32; typedef uint64_t UINT64;
typedef int8_t INT8; typedef int16_t INT16; typedef int32_t INT32; typedef int64_t INT64;
typedef uintptr_t UINTN; typedef intptr_t INTN;
typedef unsigned char BOOLEAN; typedef char CHAR8; typedef unsigned short CHAR16;
#define VOID void
#define CONST const
#define STATIC static
#define IN
#define OUT
#define OPTIONAL
"""

_GRUB_TYPES = """\
typedef uint8_t grub_uint8_t; typedef uint16_t grub_uint16_t; typedef uint32_t grub_uint32_t;
typedef uint64_t grub_uint64_t; typedef int8_t grub_int8_t; typedef int16_t grub_int16_t;
typedef int32_t grub_int32_t; typedef int64_t grub_int64_t;
typedef size_t grub_size_t; typedef ssize_t grub_ssize_t;
typedef uintptr_t grub_addr_t;
"""

_LINUX_ARCH = {"x86_32": "x86", "x86_64": "x86", "arm32": "arm", "arm64": "arm64",
               "riscv64": "riscv", "ppc64": "powerpc"}


@dataclass(frozen=True)
class Profile:
    name: str
    copy: str                          # the copy's directory, relative to the source root
    archs: tuple[str, ...]
    prelude: str = ""
    defines: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    common_defines: Mapping[str, str | None] = field(default_factory=dict)
    includes: tuple[str, ...] = ()     # may use {family} and {linux_arch}
    # Files outside the copy that are part of it (arch parts), and the Xen header each
    # stands for; the copy's own files stand for the same path in Xen.
    files: Mapping[str, str] = field(default_factory=dict)
    # Leaf-path aliases of restructured records: record -> ((copy prefix, Xen prefix), ...).
    leaf_prefixes: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # Records the copy folds into another: Xen's record -> (the copy's container, the
    # prefix of its members there). Xen's record is compared with those members.
    embedded: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Consumer name -> Xen name, for renamed symbols.
    aliases: Mapping[str, str] = field(default_factory=dict)
    # The __XEN_INTERFACE_VERSION__ the consumer builds with (None: it sets none, or its
    # copy sets it itself); Xen's side is read with the same one.
    interface_version: str | None = None

    def include_dirs(self, arch: str) -> list[str]:
        family = "x86" if arch.startswith("x86") else "arm" if arch.startswith("arm") else arch
        return [d.format(family=family, linux_arch=_LINUX_ARCH.get(arch, arch))
                for d in self.includes]

    def arch_defines(self, arch: str) -> dict[str, str | None]:
        return {**self.common_defines, **self.defines.get(arch, {})}


_ALL = ("x86_32", "x86_64", "arm32", "arm64")
_LINUX_CONFIG: Mapping[str, Mapping[str, str | None]] = {
    "x86_32": {"CONFIG_X86": "1", "CONFIG_X86_32": "1"},
    "x86_64": {"CONFIG_X86": "1", "CONFIG_X86_64": "1"},
    "arm32": {"CONFIG_ARM": "1"},
    "arm64": {"CONFIG_ARM64": "1"},
}
_LINUX_FILES = {
    "arch/x86/include/asm/xen/interface.h": "arch-x86/xen.h",
    "arch/x86/include/asm/xen/interface_32.h": "arch-x86/xen-x86_32.h",
    "arch/x86/include/asm/xen/interface_64.h": "arch-x86/xen-x86_64.h",
    "include/xen/arm/interface.h": "arch-arm.h",
    "include/xen/interface/xen-mca.h": "arch-x86/xen-mca.h",
}
# Linux nests blkif_request's operation-specific members in a union, without the
# operation byte that Xen's discard and indirect requests begin with: Xen's read/write
# request is Linux's u.rw, and the others are compared inside Linux's blkif_request.
# Linux's Arm pvclock_wall_clock (its shared_info.wc) holds Xen's wc_* words.
_LINUX_LEAVES = {"blkif_request": (("u.rw.", ""),), "shared_info": (("wc.", "wc_"),)}
_LINUX_EMBEDDED = {"blkif_request_discard": ("blkif_request", "u.discard."),
                   "blkif_request_indirect": ("blkif_request", "u.indirect.")}
_LINUX_ALIASES = {"pvclock_vcpu_time_info": "vcpu_time_info"}

PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("generic", "", _ALL, includes=("", "..")),
    Profile("linux", "include/xen/interface", _ALL, _LINUX_TYPES, _LINUX_CONFIG,
            {"__KERNEL__": None}, ("include", "arch/{linux_arch}/include"),
            _LINUX_FILES, _LINUX_LEAVES, _LINUX_EMBEDDED, _LINUX_ALIASES),
    Profile("uboot", "include/xen/interface", ("arm32", "arm64"), _LINUX_TYPES,
            {"arm64": {"CONFIG_ARM64": "1"}}, {"__UBOOT__": None},
            ("include", "arch/arm/include"), {"include/xen/arm/interface.h": "arch-arm.h"},
            _LINUX_LEAVES, _LINUX_EMBEDDED),
    Profile("qemu", "include/hw/xen/interface", _ALL, includes=("include",)),
    Profile("freebsd", "sys/contrib/xen", _ALL, includes=("sys", "sys/contrib")),
    Profile("edk2", "OvmfPkg/Include/IndustryStandard/Xen", _ALL, _EDK2_TYPES,
            {"x86_32": {"MDE_CPU_IA32": None}, "x86_64": {"MDE_CPU_X64": None},
             "arm32": {"MDE_CPU_ARM": None}, "arm64": {"MDE_CPU_AARCH64": None}},
            includes=("OvmfPkg/Include", "MdePkg/Include"), interface_version="0x00040400"),
    # GRUB builds its Xen support for x86 only (grub/xen.h sets the interface version).
    Profile("grub", "include/xen", ("x86_32", "x86_64"), _GRUB_TYPES,
            includes=("include",), interface_version="0x0003020a"),
    Profile("unikraft", "plat/xen/include/xen", _ALL, _LINUX_TYPES,
            includes=("plat/xen/include", "include")),
)}
