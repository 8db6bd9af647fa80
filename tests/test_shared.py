"""XC302 as issue 11 (defect 11) wants it: a warning only where a 32-bit and a 64-bit
party share the bytes and Xen's compat layer does not translate them.

The headers mirror Xen's: a ring declared by ``DEFINE_RING_TYPES`` whose request has
blkif's trap (``uint64_t id`` after a byte), a discard request a comment says is
"cast" onto the ring slot, a response that differs only by tail padding, a struct the
ring embeds only inside a fixed-size union (displif's requests), memory.h's
``xen_pod_target`` (translated: xlat.lst lists ``pod_target``) and physdev.h's
``physdev_map_pirq`` (a hypercall argument nobody shares).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from headerparse.checks import shared
from tests.conftest import MakeTree

ROOT = Path(__file__).resolve().parent.parent
RING_H = """\
#define DEFINE_RING_TYPES(__name, __req_t, __rsp_t)                     \\
union __name##_sring_entry {                                             \\
    __req_t req;                                                         \\
    __rsp_t rsp;                                                         \\
};                                                                       \\
struct __name##_sring {                                                  \\
    unsigned int req_prod, req_event, rsp_prod, rsp_event;              \\
    union __name##_sring_entry ring[1];                                  \\
};
"""
DEMO_H = """\
#include "ring.h"
#include <stdint.h>
/* A request. */
struct demo_request {
    uint8_t operation;
    uint64_t id;
};
/*
 * Cast to this structure when demo_request.operation == 2.
 */
struct demo_request_discard {
    uint8_t operation;
    uint64_t id;
};
/* A response: 12 bytes on x86_32, 16 on x86_64, same offsets. */
struct demo_response {
    uint64_t id;
    uint16_t status;
};
DEFINE_RING_TYPES(demo, struct demo_request, struct demo_response);

/* A payload of the display ring: its size differs, not where its bytes are. */
struct demo_set_req {
    uint64_t addr;
    uint32_t width;
    uint32_t height;
    uint32_t bpp;
};
struct demo_disp_req {
    uint16_t id;
    uint8_t operation;
    uint8_t reserved[5];
    union {
        struct demo_set_req set;
        uint8_t reserved[56];
    } op;
};
struct demo_disp_resp {
    uint16_t id;
    uint8_t reserved[62];
};
DEFINE_RING_TYPES(demo_disp, struct demo_disp_req, struct demo_disp_resp);
"""
MEMORY_H = """\
#include <stdint.h>
/* XENMEM_set_pod_target's argument. */
struct xen_pod_target {
    uint64_t target_pages;
    uint64_t tot_pages;
    uint16_t domid;
};
"""
PHYSDEV_H = """\
#include <stdint.h>
/* PHYSDEVOP_map_pirq's argument. */
struct physdev_map_pirq {
    uint32_t domid;
    uint64_t table_base;
};
"""
FILES = {"io/ring.h": RING_H, "io/demo.h": DEMO_H, "memory.h": MEMORY_H,
         "physdev.h": PHYSDEV_H}


def _xc302(tree: Path, cache: Path, rev: str = "") -> dict[str, tuple[str, str]]:
    env = dict(os.environ, HEADERPARSE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    at = ["--rev", rev] if rev else []
    proc = subprocess.run([sys.executable, "-m", "headerparse", "check", "-q", "--tree",
                           str(tree), *at, "--format", "json", "--fail-on", "never"],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return {f["symbol"].split(".")[0]: (f["severity"], f["message"])
            for f in json.loads(proc.stdout)["findings"] if f["rule"] == "XC302"}


def test_xc302_warns_only_on_untranslated_shared_bytes(make_tree: MakeTree,
                                                        tmp_path: Path) -> None:
    found = _xc302(make_tree(FILES), tmp_path / "cache")
    severities = {k: v[0] for k, v in found.items()}
    assert severities == {
        "struct demo_request": "warning",           # the ring entry itself
        "struct demo_request_discard": "warning",   # cast onto the ring slot
        "struct demo_response": "note",             # tail padding, offsets agree
        "struct demo_set_req": "note",              # inside a fixed-size union
        "struct xen_pod_target": "note",            # translated by the compat layer
        "struct physdev_map_pirq": "note",          # nobody shares it
    }
    assert "union demo_sring_entry.req" in found["struct demo_request"][1]
    assert "(xlat.tsv: ! pod_target)" in found["struct xen_pod_target"][1]
    assert "not reached from a ring entry" in found["struct physdev_map_pirq"][1]


def test_a_checkouts_own_xlat_lst_is_read(make_tree: MakeTree, tmp_path: Path) -> None:
    public = make_tree(FILES)
    root = tmp_path / "checkout"
    (root / "xen" / "include").mkdir(parents=True)
    public.rename(root / "xen" / "include" / "public")
    (root / "xen" / "Makefile").write_text("")
    # This Xen translates the ring request and nothing else.
    (root / "xen" / "include" / "xlat.lst").write_text(
        "# First column indicator:\n!\tdemo_request\t\tio/demo.h\n")
    found = _xc302(root, tmp_path / "cache")
    assert found["struct demo_request"][0] == "note"
    assert "(xen/include/xlat.lst: ! demo_request)" in found["struct demo_request"][1]
    assert found["struct xen_pod_target"][0] == "note"      # no longer listed, not shared
    assert "not reached" in found["struct xen_pod_target"][1]
    # A git revision of the checkout carries its xlat.lst along too.
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], check=True)
    (root / "xen" / "include" / "xlat.lst").unlink()        # the worktree is not read
    at_rev = _xc302(root, tmp_path / "cache", "HEAD")
    assert at_rev["struct demo_request"][0] == "note"


def test_xlat_rows_match_tag_with_or_without_xen_prefix_in_their_header() -> None:
    t = shared.parse_xlat("# comment\n!\tpod_target\t\tmemory.h\n?  cpu_user_regs "
                          "arch-x86/xen-@arch@.h\nnot a row\n", "x")
    assert t.rows == {"pod_target": ("!", "memory.h"),
                      "cpu_user_regs": ("?", "arch-x86/xen-@arch@.h")}
    assert shared._same_header("arch-x86/xen-@arch@.h", "arch-x86/xen-x86_64.h")
    assert not shared._same_header("memory.h", "io/memory.h")


def test_the_recorded_list_names_its_source_and_the_structs_of_release_tags() -> None:
    text = shared.BUNDLED.read_text(encoding="utf-8")
    assert "Source: https://github.com/" in text and "Xen version:" in text
    rows = shared.bundled().rows
    for name in ("pod_target", "vcpu_runstate_info", "vcpu_set_singleshot_timer"):
        assert rows[name][0] == "!"
