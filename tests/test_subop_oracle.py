"""The sub-op catalog against Xen's own dispatch switches (bench/data/xen-dispatch.tsv,
read from the hypervisor's sources): on Debian's 4.17 headers, every sub-op that a
switch handles and the headers define is on its hypercall's page."""

from __future__ import annotations

import importlib.util
import zlib
from pathlib import Path

import pytest
from support.site import build_site

from headerparse.extract.pipeline import Options, extract
from headerparse.tree import cache_dir

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _oracle_module():
    spec = importlib.util.spec_from_file_location("subop_oracle", BENCH / "subop_oracle.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


oracle = _oracle_module()


def test_oracle_file_names_real_switches():
    data = oracle.read_oracle(oracle.DATA)
    assert {"memory_op", "mmuext_op", "physdev_op", "sched_op", "hvm_op"} <= set(data)
    assert data["memory_op"]["XENMEM_acquire_resource"] == "xen/common/memory.c:do_memory_op"
    assert sum(len(c) for c in data.values()) > 150


def test_bad_oracle_line_is_one_diagnostic(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# comment\nmemory_op\tXENMEM_exchange\n")
    with pytest.raises(oracle.OracleError, match=r"bad.tsv:2: want 4"):
        oracle.read_oracle(bad)
    assert oracle.main(["--data", str(bad), "--tree", str(tmp_path)]) == 2


def _compare(tree, listed=None):
    model = extract(tree, Options(), cache=cache_dir())
    return oracle.compare(model, oracle.site_catalog(tree, model),
                          oracle.read_oracle(oracle.DATA), listed)


def _inventory(path: Path, ops: dict[str, list[str]]) -> Path:
    """A Sphinx v2 objects.inv holding ``xen:op`` entries on the hypercall pages."""
    body = "".join(f"{op} xen:op 1 hypercalls/{hc}.html#xen-op-{op} -\n"
                   for hc, names in ops.items() for op in names)
    path.write_bytes(b"# Sphinx inventory version 2\n# Project: t\n# Version: 1\n"
                     b"# The remainder of this file is compressed using zlib.\n"
                     + zlib.compress(body.encode()))
    return path


@pytest.mark.slow
def test_no_dispatched_subop_is_missing_on_417(xen_tree_417):
    result = _compare(xen_tree_417)
    missing = {hc: sorted(r["missing"]) for hc, r in result.items() if r["missing"]}
    assert missing == {}
    # the comparison has teeth: most of the oracle is defined and covered on 4.17,
    # PHYSDEVOP_IRQ_UNMASK_NOTIFY (all capitals) included
    assert sum(r["dispatched"] for r in result.values()) >= 260
    assert set(oracle.FOURTEEN) | {"domctl", "sysctl"} == set(result)
    assert result["physdev_op"]["listed_dispatched"] == result["physdev_op"]["dispatched"] == 25
    # a constant the headers do not define is reported, not counted
    assert "PHYSDEVOP_pci_device_reset" in result["physdev_op"]["not_defined"]
    assert "XENVER_extraversion2" in result["xen_version"]["not_defined"]


@pytest.mark.slow
def test_no_dispatched_subop_is_missing_on_420(xen_tree_420):
    result = _compare(xen_tree_420)
    assert {hc: sorted(r["missing"]) for hc, r in result.items() if r["missing"]} == {}
    assert result["xen_version"]["listed_dispatched"] == 15


@pytest.mark.slow
def test_built_site_declares_every_dispatched_subop_on_417(xen_tree_417, tmp_path_factory):
    inv = build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html" / "objects.inv"
    listed = oracle.listed_in_inventory(inv)
    result = _compare(xen_tree_417, listed)
    assert {hc: sorted(r["missing"]) for hc, r in result.items() if r["missing"]} == {}
    assert "PHYSDEVOP_IRQ_UNMASK_NOTIFY" in listed["physdev_op"]


@pytest.mark.slow
def test_a_page_without_a_dispatched_subop_is_a_miss(xen_tree_417, tmp_path):
    ops = {"physdev_op": ["PHYSDEVOP_map_pirq"], "sched_op": ["SCHEDOP_yield"]}
    listed = oracle.listed_in_inventory(_inventory(tmp_path / "objects.inv", ops))
    assert listed == {hc: set(names) for hc, names in ops.items()}
    result = _compare(xen_tree_417, listed)
    assert "PHYSDEVOP_eoi" in result["physdev_op"]["missing"]
    assert "PHYSDEVOP_map_pirq" not in result["physdev_op"]["missing"]
    assert len(result["sched_op"]["missing"]) == 7
