"""Tools-only lines and sentinels (issue 11, defect 5), on the shapes Xen uses.

arch-arm.h keeps the guest memory map under ``#if defined(__XEN__) ||
defined(__XEN_TOOLS__)`` (232ee07c23b2 changed a constant there); domctl.h #errors
without ``__XEN_TOOLS__``; XEN_ELFNOTE_MAX grows with each note (dfc9fab00378).
"""

from __future__ import annotations

from headerparse.checks.abidiff import _constant
from headerparse.checks.conditions import tools_only_lines
from headerparse.model import Loc

ARCH_ARM = """\
#define XEN_HYPERCALL_TAG 0XEA1
#if defined(__XEN__) || defined(__XEN_TOOLS__)
#define GUEST_VPCI_ADDR_TYPE_PREFETCH_MEM   xen_mk_ullong(0x43000000)
#else
#define GUEST_ONLY 1
#endif
#ifndef __XEN_TOOLS__
#define NOT_TOOLS 2
#endif
"""

DOMCTL = """\
#if !defined(__XEN__) && !defined(__XEN_TOOLS__)
#error "domctl operations are intended for use by node control tools only"
#endif
#define XEN_DOMCTL_createdomain 1
"""


def test_tools_only_branches() -> None:
    assert tools_only_lines(ARCH_ARM) == {3}
    assert tools_only_lines(DOMCTL) == {1, 2, 3, 4, 5}


def test_sentinel_grows_with_a_new_sibling() -> None:
    loc = Loc("elfnote.h", 220)
    grown = _constant("XEN_ELFNOTE_MAX", 18, 19, loc, ["XEN_ELFNOTE_PHYS32_RELOC"], {})
    assert not grown.incompatible
    alone = _constant("XEN_ELFNOTE_MAX", 18, 19, loc, [], {})
    assert alone.incompatible
    tools = _constant("GUEST_VPCI_ADDR_TYPE_PREFETCH_MEM", 1, 2, Loc("arch-arm.h", 3), [],
                      {"arch-arm.h": {3}})
    assert tools.incompatible and tools.tools_only
