"""Sub-ops: the command values of each hypercall, the rules of docs/site.md ("Sub-ops"),
on a small tree written the way Xen's headers are, and on the synthetic site model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from support.extract_case import write_tree
from support.models import TEXTS, synthetic_facts, synthetic_model

from headerparse.annotations.subopcoverage import coverage
from headerparse.annotations.subops import catalog
from headerparse.extract.conditions import visibility
from headerparse.extract.pipeline import Options, extract
from headerparse.model import Comment, Doc, Loc
from headerparse.site.pages import generate
from headerparse.tree import open_tree

XEN_H = b"""
#define __HYPERVISOR_memory_op 12
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_domctl 36
typedef unsigned short domid_t;
"""

MEMORY_H = b"""
/*
 * Increase or decrease the reservation.
 * arg == addr of struct xen_memory_reservation.
 */
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_MAX_ORDER 9
struct xen_memory_reservation {
    unsigned int nr_extents;   /* IN */
    unsigned int extent_order; /* IN */
    unsigned int done;         /* OUT */
};
/*
 * Returns the maximum RAM page. arg == NULL.
 */
#define XENMEM_maximum_ram_page 2

#define XENMEM_acquire_resource 28
struct xen_mem_acquire_resource {
    domid_t domid;
    unsigned short type;
#define XENMEM_resource_ioreq_server 0
#define XENMEM_resource_grant_table 1
    unsigned int id;
};

#if defined(__XEN__) || defined(__XEN_TOOLS__)
/* Paging: the toolstack's. */
#define XENMEM_paging_op            20
#define XENMEM_paging_op_nominate   0
#define XENMEM_paging_op_evict      1
struct xen_mem_paging_op {
    unsigned char op;      /* XENMEM_paging_op_* */
    domid_t domain;
};
#endif
#define XENMEM_add_to_physmap 7
#define XENMEM_add_to_physmap_batch 23
#define XENMEM_add_to_physmap_range XENMEM_add_to_physmap_batch
#define XENMEM_first_twin 40
#define XENMEM_second_twin 40
"""

EVTCHN_H = b"""
/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_event_channel_op(enum event_channel_op cmd, void *args)
 */
/* ` enum event_channel_op { // EVTCHNOP_* => struct evtchn_* */
#define EVTCHNOP_send 4
#define EVTCHNOP_reset 10
#ifdef __XEN__
#define EVTCHNOP_reset_cont 14
#endif
/* ` } */
struct evtchn_send { unsigned int port; };
struct evtchn_reset { domid_t dom; };
"""

DOMCTL_H = b"""
#if !defined(__XEN__) && !defined(__XEN_TOOLS__)
#error "domctl operations are intended for use by node control tools only"
#endif
#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015
struct xen_domctl_createdomain { unsigned int flags; };
struct xen_domctl_vmtrace_op {
    unsigned int cmd;
#define XEN_DOMCTL_vmtrace_enable 1
#define XEN_DOMCTL_vmtrace_disable 2
    unsigned int vcpu;
};
struct xen_domctl {
    unsigned int cmd;
#define XEN_DOMCTL_createdomain 1
#define XEN_DOMCTL_destroydomain 2
#define XEN_DOMCTL_vmtrace_op 84
    unsigned int interface_version;
    union {
        struct xen_domctl_createdomain createdomain;
        struct xen_domctl_vmtrace_op vmtrace_op;
    } u;
};
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    files = {"xen.h": XEN_H, "memory.h": MEMORY_H, "event_channel.h": EVTCHN_H,
             "domctl.h": DOMCTL_H}
    root = write_tree(tmp_path_factory.mktemp("subops"), files)
    tree = open_tree(str(root))
    model = extract(tree, Options(), cache=None)
    texts = {p: d.decode() for p, d in tree.files.items()}
    return model, catalog(model, texts)


def _ops(cat, hypercall: str) -> dict:
    return {op.name: op for op in cat.ops(hypercall)}


def test_memory_op_commands_by_the_prefix_convention(small):
    _model, cat = small
    ops = _ops(cat, "memory_op")
    assert list(ops) == ["XENMEM_increase_reservation", "XENMEM_decrease_reservation",
                         "XENMEM_maximum_ram_page", "XENMEM_acquire_resource",
                         "XENMEM_paging_op", "XENMEM_add_to_physmap",
                         "XENMEM_add_to_physmap_batch"]
    inc, dec = ops["XENMEM_increase_reservation"], ops["XENMEM_decrease_reservation"]
    assert inc.takes == dec.takes == "struct xen_memory_reservation"
    assert "arg == addr of struct xen_memory_reservation" in inc.takes_why
    # The comment above the run of defines documents decrease_reservation too.
    assert "arg == addr of struct xen_memory_reservation" in dec.takes_why
    assert ops["XENMEM_maximum_ram_page"].takes_none
    assert ops["XENMEM_acquire_resource"].takes == "struct xen_mem_acquire_resource"
    paging = ops["XENMEM_paging_op"]
    assert paging.tools_only and paging.takes == "struct xen_mem_paging_op"
    assert not inc.tools_only
    assert ops["XENMEM_add_to_physmap_batch"].aliases == ("XENMEM_add_to_physmap_range",)
    assert "the XENMEM_* naming convention" in inc.rule


def test_field_values_and_upper_case_constants_are_not_commands(small):
    _model, cat = small
    names = set(_ops(cat, "memory_op"))
    # values of a member (inside the struct, after `type`), of the sub-op's own struct
    # (XENMEM_paging_op_*, repeating command values), sizes and limits (upper case)
    for name in ("XENMEM_resource_ioreq_server", "XENMEM_paging_op_nominate",
                 "XENMEM_paging_op_evict", "XENMEM_MAX_ORDER"):
        assert name not in names


def test_command_like_constants_sharing_a_value_are_reported(small):
    _model, cat = small
    first, second = sorted((d for d in cat.diagnostics if d.rule == "XM110"),
                           key=lambda d: d.loc.line)
    assert (first.symbol, second.symbol) == ("XENMEM_first_twin", "XENMEM_second_twin")
    assert first.loc.file == "memory.h" and "XENMEM_second_twin" in first.message
    assert not {"XENMEM_first_twin", "XENMEM_second_twin"} & set(_ops(cat, "memory_op"))


def test_op_group_members_and_hypervisor_only_constants(small):
    _model, cat = small
    ops = _ops(cat, "event_channel_op")
    assert list(ops) == ["EVTCHNOP_send", "EVTCHNOP_reset"]
    assert ops["EVTCHNOP_send"].takes == "struct evtchn_send"
    assert ops["EVTCHNOP_send"].group == "event_channel_op"
    hidden = dict(cat.by_hypercall["event_channel_op"].hidden)
    assert "__XEN__" in hidden["EVTCHNOP_reset_cont"]


def test_domctl_commands_are_the_cmd_member_values(small):
    _model, cat = small
    hc = cat.by_hypercall["domctl"]
    ops = _ops(cat, "domctl")
    assert list(ops) == ["XEN_DOMCTL_createdomain", "XEN_DOMCTL_destroydomain",
                         "XEN_DOMCTL_vmtrace_op"]          # not vmtrace_op's own cmd values
    assert hc.toolstack_only and all(op.tools_only for op in ops.values())
    assert hc.interface_version.name == "XEN_DOMCTL_INTERFACE_VERSION"
    create = ops["XEN_DOMCTL_createdomain"]
    assert create.takes == "struct xen_domctl_createdomain"
    assert create.takes_why.startswith("member u.createdomain of struct xen_domctl")
    assert not ops["XEN_DOMCTL_destroydomain"].takes


def test_coverage_counts_per_hypercall(small):
    _model, cat = small
    cov = coverage(cat)
    assert cov["memory_op"]["subops"] == 7 and cov["memory_op"]["tools_only"] == 1
    assert cov["domctl"]["toolstack_only"] is True
    assert cov["event_channel_op"]["not_shown"]["EVTCHNOP_reset_cont"]


def test_visibility_of_lines():
    text = ("#ifdef __XEN__\nA\n#else\nB\n#endif\n"
            "#if defined(__XEN__) || defined(__XEN_TOOLS__)\nC\n"
            "#elif !defined(__XEN__) && !defined(__XEN_TOOLS__)\nD\n#endif\n"
            "#if __XEN_INTERFACE_VERSION__ >= 0x00030205\nE\n#endif\n")
    v = visibility(text)
    assert v.xen_only(2) and not v.tools_only(2)
    assert v.views(4) == {"guest", "tools"}
    assert v.tools_only(7) and v.views(9) == {"guest"}
    assert v.views(12) == {"guest", "tools", "xen"}      # unknown conditions exclude nothing


# ------------------------------------------------------------------ the site model


def _page(model, facts=None) -> str:
    return generate(model, facts or synthetic_facts(model), TEXTS)["hypercalls/sched_op"]


def test_sched_op_page_declares_its_sub_ops():
    model = synthetic_model()
    page = _page(model)
    assert ".. xen:op:: SCHEDOP_shutdown" in page and ".. xen:op:: SCHEDOP_yield" in page
    assert ":xen:c:`struct sched_shutdown <sched_shutdown>`" in page
    assert "Sub-op by|headers: \\member of op group sched\\_op (sched.h\\:4)" in page


def test_a_sub_op_taking_null_shows_no_struct():
    model = synthetic_model()
    yield_doc = Doc(Comment("/* Yield. @arg == NULL. */", "Yield.\n@arg == NULL.",
                            Loc("sched.h", 4), 4))
    macros = tuple(dataclasses.replace(m, doc=yield_doc) if m.name == "SCHEDOP_yield" else m
                   for m in model.macros)
    page = _page(dataclasses.replace(model, macros=macros))
    section = page.split(".. xen:op:: SCHEDOP_yield", 1)[1].split(".. xen:op::", 1)[0]
    assert "Argument|none: the argument is NULL" in section
    assert "sched_yield" not in page


def test_an_unstated_argument_is_not_invented():
    page = _page(synthetic_model())
    section = page.split(".. xen:op:: SCHEDOP_yield", 1)[1].split(".. xen:op::", 1)[0]
    assert "Argument|not stated in these headers" in section
    assert "sched_yield" not in page


def test_sub_op_links_go_to_the_hypercall_page(tmp_path: Path):
    model = synthetic_model()
    pages = generate(model, synthetic_facts(model), TEXTS)
    header = pages["headers/sched.h"]
    assert "xen:op SCHEDOP_shutdown hypercalls/sched_op" in header
