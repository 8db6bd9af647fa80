"""Sub-ops on real Xen headers (Debian 4.17, and 4.20 for the catalog): what the
hypercall pages declare, in the built site."""

from __future__ import annotations

import re

import pytest
from support.site import build_site

from headerparse.annotations.subops import catalog
from headerparse.extract.pipeline import Options, extract
from headerparse.tree import cache_dir

pytestmark = pytest.mark.slow

# The 14 hypercalls of issue 12 whose sub-ops Xen's dispatch code handles.
FOURTEEN = ("memory_op", "vcpu_op", "hvm_op", "physdev_op", "xen_version", "mmuext_op",
            "grant_table_op", "event_channel_op", "sched_op", "platform_op", "xenpmu_op",
            "kexec_op", "argo_op", "callback_op")


@pytest.fixture(scope="module")
def site417(xen_tree_417, tmp_path_factory):
    return build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html" / "hypercalls"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _op(html: str, name: str) -> str:
    """The text of one sub-op's description (its xen:op block)."""
    block = html.split(f'id="xen-op-{name}"', 1)[1].split("</dl>", 1)[0]
    return _text(block)


def test_memory_op_lists_its_xenmem_ops(site417):
    html = (site417 / "memory_op.html").read_text()
    inc = _op(html, "XENMEM_increase_reservation")
    assert "Argument : struct xen_memory_reservation" in inc and "Value : 0" in inc
    assert "Sub-op by : headers: the XENMEM_* naming convention" in inc
    assert "Toolstack only" in _op(html, "XENMEM_paging_op")
    assert "Toolstack only" not in inc
    # field values and sizes are no sub-ops
    for name in ("XENMEM_paging_op_nominate", "XENMEM_access_op_set_access",
                 "XENMEM_resource_ioreq_server", "XENMEM_SHARING_OP_S_HANDLE_INVALID"):
        assert f'id="xen-op-{name}"' not in html


def test_mmuext_op_links_the_mmuext_cmd_group(site417):
    html = (site417 / "mmuext_op.html").read_text()
    assert 'id="xen-group-mmuext_cmd"' in html
    pin = _op(html, "MMUEXT_PIN_L1_TABLE")
    assert "struct mmuext_op" in pin and "member cmd of struct mmuext_op" in pin


def test_sched_yield_takes_no_struct(site417):
    html = (site417 / "sched_op.html").read_text()
    assert "none: the argument is NULL" in _op(html, "SCHEDOP_yield")
    assert "sched_yield" not in html and "not defined in these headers" not in html


def test_evtchnop_reset_cont_is_not_guest_abi(site417):
    html = (site417 / "event_channel_op.html").read_text()
    assert 'id="xen-op-EVTCHNOP_reset_cont"' not in html
    assert "per arch" not in html
    assert "EVTCHNOP_reset_cont (only the hypervisor sees it" in _text(html)


def test_domctl_ops_are_toolstack_only(site417):
    html = (site417 / "domctl.html").read_text()
    text = _text(html)
    assert "Toolstack only" in text and "XEN_DOMCTL_INTERFACE_VERSION" in text
    create = _op(html, "XEN_DOMCTL_createdomain")
    assert "struct xen_domctl_createdomain" in create and "Toolstack only" in create
    assert html.count('id="xen-op-XEN_DOMCTL_') >= 70
    assert 'id="xen-op-XEN_DOMCTL_vmtrace_enable"' not in html      # vmtrace_op's own cmd
    sysctl = (site417 / "sysctl.html").read_text()
    assert 'id="xen-op-XEN_SYSCTL_readconsole"' in sysctl


def _counts(tree) -> dict[str, int]:
    model = extract(tree, Options(), cache=cache_dir())
    cat = catalog(model, {p: d.decode("utf-8", "replace") for p, d in tree.files.items()})
    return {h: len(cat.ops(h)) for h in (*FOURTEEN, "domctl", "sysctl")}


def test_counts_417_and_420(xen_tree_417, xen_tree_420, capsys):
    c417, c420 = _counts(xen_tree_417), _counts(xen_tree_420)
    with capsys.disabled():
        print("\nsub-ops per hypercall (4.17, 4.20):")
        for h in c417:
            print(f"  {h:<18}{c417[h]:>4}{c420[h]:>5}")
        print(f"  14 hypercalls: {sum(c417[h] for h in FOURTEEN)} (4.17), "
              f"{sum(c420[h] for h in FOURTEEN)} (4.20)")
    # the headers' command constants of 4.17, counted by hand from the files
    assert c417["memory_op"] == 28 and c417["event_channel_op"] == 14
    assert c417["sched_op"] == 8 and c417["mmuext_op"] == 20 and c417["grant_table_op"] == 13
    assert c417["vcpu_op"] == 14 and c417["xen_version"] == 11 and c417["callback_op"] == 2
    assert all(c420[h] >= c417[h] for h in c417)
