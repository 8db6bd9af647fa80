"""An all-capitals constant with a hypercall's prefix is a value by convention
(PHYSDEVOP_DBGP_RESET_DONE); it is a sub-op only when its own comment calls it a
command and its number is its own (PHYSDEVOP_IRQ_UNMASK_NOTIFY, which do_physdev_op
dispatches). One that repeats a command's number (XEN_SYSCTL_LIVEPATCH_GET) stays a
value and does not knock the command out."""

from __future__ import annotations

import pytest
from support.extract_case import write_tree

from headerparse.annotations.subops import catalog
from headerparse.extract.pipeline import Options, extract
from headerparse.tree import open_tree

XEN_H = b"""
#define __HYPERVISOR_physdev_op 33
#define __HYPERVISOR_sysctl 35
"""

# As Xen's physdev.h writes them.
PHYSDEV_H = b"""
/*
 * Notify end-of-interrupt (EOI) for the specified IRQ.
 * @arg == pointer to physdev_eoi structure.
 */
#define PHYSDEVOP_eoi                   12
struct physdev_eoi { unsigned int irq; };

#define PHYSDEVOP_DBGP_RESET_PREPARE    1
#define PHYSDEVOP_DBGP_RESET_DONE       2

/*
 * Notify that some PIRQ-bound event channels have been unmasked.
 * ** This command is obsolete since interface version 0x00030202 and is **
 * ** unsupported by newer versions of Xen.                              **
 */
#define PHYSDEVOP_IRQ_UNMASK_NOTIFY      4

/* Says nothing of being a command. */
#define PHYSDEVOP_LEGACY_THING           5
"""

SYSCTL_H = b"""
#define XEN_SYSCTL_readconsole 1
#define XEN_SYSCTL_livepatch_op 27
/*
 * Retrieve the status of a payload. This operation fills in the status.
 */
#define XEN_SYSCTL_LIVEPATCH_GET 1
"""


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory):
    root = write_tree(tmp_path_factory.mktemp("capitals"),
                      {"xen.h": XEN_H, "physdev.h": PHYSDEV_H, "sysctl.h": SYSCTL_H})
    tree = open_tree(str(root))
    model = extract(tree, Options(), cache=None)
    return catalog(model, {p: d.decode() for p, d in tree.files.items()})


def test_capitals_that_say_command_are_sub_ops(cat):
    names = [op.name for op in cat.ops("physdev_op")]
    assert names == ["PHYSDEVOP_eoi", "PHYSDEVOP_IRQ_UNMASK_NOTIFY"]
    unmask = next(op for op in cat.ops("physdev_op") if op.name == "PHYSDEVOP_IRQ_UNMASK_NOTIFY")
    assert unmask.values == {arch: 4 for arch in unmask.values} and unmask.values


def test_capitals_repeating_a_command_number_stay_values(cat):
    assert [op.name for op in cat.ops("sysctl")] == ["XEN_SYSCTL_readconsole",
                                                     "XEN_SYSCTL_livepatch_op"]
    assert not [d for d in cat.diagnostics if d.rule == "XM110"]
