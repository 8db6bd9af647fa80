"""XC502 as issue 11 (defect 10) wants it: deterministic, at the name, not on retired defines.

The header mirrors arch-x86/xen.h, where ``VGCF_I387_VALID`` and ``VGCF_i387_valid``
both exist (Xen's model of 4.20.0 has 15 such case-only pairs), and domctl.h, where
``/* #define XEN_DOMCTL_getmemlist 6 Removed */`` keeps a retired number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MakeTree

ROOT = Path(__file__).resolve().parent.parent
XEN_H = """\
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

/* Flags of the vcpu context. */
#define VGCF_I387_VALID (1 << 0)
#define VGCF_i387_valid 0

/*
 * The FPU state is valid when
 * VGCF_I387_Valid is set.
 */
#define VGCF_IN_KERNEL (1 << 2)
/* #define VGCF_IN_SYSCALL 3 (Removed) */
#define VGCF_failsafe_disables_events 3

#endif
"""


def _xc502(public: Path, cache: Path, seed: str) -> list[dict]:
    env = dict(os.environ, PYTHONHASHSEED=seed, HEADERPARSE_CACHE=str(cache),
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "headerparse", "check", "-q", "--tree",
                           str(public), "--format", "json", "--fail-on", "never"],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == "XC502"]


def test_xc502_is_deterministic_placed_and_skips_retired_defines(make_tree: MakeTree,
                                                                  tmp_path: Path) -> None:
    public = make_tree({"xen.h": XEN_H})
    runs = [_xc502(public, tmp_path / "cache", seed) for seed in ("1", "2", "3", "4")]
    assert all(r == runs[0] for r in runs), "XC502 depends on PYTHONHASHSEED"
    (only,) = runs[0]
    assert (only["line"], only["col"]) == (10, 4)        # the name, not the comment's start
    assert only["message"].endswith("did you mean VGCF_I387_VALID or VGCF_i387_valid?")
