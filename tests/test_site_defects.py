"""Three defects of the site that issue 12 names: search titles the explaining section,
a sub-op's argument is the struct the command passes (not a part of it), and hypercall
pages show no arch's internal guest-handle types."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.extract_case import write_tree
from support.need import unavailable

from headerparse.annotations.subops import catalog
from headerparse.extract.pipeline import Options, extract
from headerparse.tree import open_tree

JS = Path(__file__).resolve().parents[1] / "headerparse" / "sphinxext" / "static" / "headerparse.js"

# Sphinx's search index of the 4.17 site, cut down to what a search for
# SHUTDOWN_suspend reads; results are [docname, title, anchor, descr, score, file, kind].
_HARNESS = """
const index = %(index)s;
globalThis.document = {readyState: "complete", querySelectorAll: () => []};
globalThis.Search = {_index: index, _performSearch: () => %(results)s};
%(js)s
console.log(JSON.stringify(Search._performSearch()));
"""


def _search(index: dict, results: list) -> list:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        unavailable("node is not installed (Debian's nodejs)")
    code = _HARNESS % {"index": json.dumps(index), "results": json.dumps(results),
                       "js": JS.read_text(encoding="utf-8")}
    out = subprocess.run([node, "-e", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_an_index_hit_is_titled_with_the_section_it_points_at() -> None:
    index = {"docnames": ["headers/sched.h", "hypercalls/sched_op"],
             "titles": ["sched.h", "sched_op"],
             "alltitles": {"SCHEDOP_shutdown": [[1, "schedop-shutdown"]],
                           "sched_op": [[1, None]]}}
    results = [["hypercalls/sched_op", "sched_op", "", None, 5,       # best last
                "hypercalls/sched_op.html", "text"],
               ["headers/sched.h", "sched.h", "#c.SHUTDOWN_suspend", "C macro", 15,
                "headers/sched.h.html", "object"],
               ["hypercalls/sched_op", "sched_op", "#schedop-shutdown", None, 100,
                "hypercalls/sched_op.html", "index"]]
    got = _search(index, results)
    titles = {r[2]: r[1] for r in got}
    assert titles["#schedop-shutdown"] == "sched_op > SCHEDOP_shutdown"
    assert titles["#c.SHUTDOWN_suspend"] == "sched.h"      # an object keeps its page
    assert "" not in titles     # the page's text hit is below a result pointing into it


# memory.h as Xen 4.17 writes XENMEM_get_vnumainfo and VCPUOP_get_runstate_info's
# neighbours: a struct that a later struct of the same command points to through a
# guest handle is a part of the argument; one pointed to from another command's
# struct is not.
XEN_H = b"""
#define __HYPERVISOR_memory_op 12
#define ___DEFINE_XEN_GUEST_HANDLE(name, type) typedef struct { type *p; } __guest_handle_ ## name
#define DEFINE_XEN_GUEST_HANDLE(name) ___DEFINE_XEN_GUEST_HANDLE(name, name)
#define XEN_GUEST_HANDLE(name) __guest_handle_ ## name
typedef unsigned short domid_t;
"""

MEMORY_H = b"""
/*
 * XENMEM_get_vnumainfo used by guest to get
 * vNUMA topology from hypervisor.
 */
#define XENMEM_get_vnumainfo 26

/* vNUMA node memory ranges */
struct xen_vmemrange {
    unsigned long start, end;
};
typedef struct xen_vmemrange xen_vmemrange_t;
DEFINE_XEN_GUEST_HANDLE(xen_vmemrange_t);

/*
 * XENMEM_get_vnumainfo hypercall expects to see from guest nr_vnodes.
 */
struct xen_vnuma_topology_info {
    domid_t domid;
    unsigned int nr_vnodes;
    XEN_GUEST_HANDLE(xen_vmemrange_t) vmemrange;
};

/* Return information about a state. */
#define XENMEM_get_state 30
struct xen_state_info {
    unsigned int state;
};
typedef struct xen_state_info xen_state_info_t;
DEFINE_XEN_GUEST_HANDLE(xen_state_info_t);

/* Register a state area. */
#define XENMEM_register_state_area 31
struct xen_register_state_area {
    XEN_GUEST_HANDLE(xen_state_info_t) h;
};
"""


def test_the_argument_is_the_struct_holding_the_handle(tmp_path: Path) -> None:
    tree = open_tree(str(write_tree(tmp_path, {"xen.h": XEN_H, "memory.h": MEMORY_H})))
    model = extract(tree, Options(), cache=None)
    cat = catalog(model, {p: d.decode() for p, d in tree.files.items()})
    ops = {op.name: op for op in cat.ops("memory_op")}
    assert ops["XENMEM_get_vnumainfo"].takes == "struct xen_vnuma_topology_info"
    assert ops["XENMEM_get_state"].takes == "struct xen_state_info"
    assert ops["XENMEM_register_state_area"].takes == "struct xen_register_state_area"


@pytest.fixture(scope="module")
def site417(xen_tree_417, tmp_path_factory):
    from support.site import build_site

    return build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_memory_op_page_on_4_17(site417) -> None:
    html = (site417 / "hypercalls" / "memory_op.html").read_text()
    op = _text(html.split('id="xen-op-XENMEM_get_vnumainfo"', 1)[1].split("</dl>", 1)[0])
    assert "Argument : struct xen_vnuma_topology_info" in op, op
    rdm = _text(html.split('id="xen-op-XENMEM_reserved_device_memory_map"', 1)[1]
                .split("</dl>", 1)[0])
    assert "Argument : struct xen_reserved_device_memory_map" in rdm, rdm


@pytest.mark.slow
def test_hypercall_pages_show_no_internal_handle_types(site417) -> None:
    pages = sorted((site417 / "hypercalls").glob("*.html"))
    assert len(pages) > 30
    shown = {p.name: m for p in pages
             if (m := re.findall(r"__guest_handle_\w+", _text(p.read_text())))}
    assert not shown, shown
