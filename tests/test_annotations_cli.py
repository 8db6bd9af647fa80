"""``headerparse annotations check|coverage`` and ``show``: synthetic trees, a simulated
full checkout with hypercall-defs.c (Xen HEAD's layout), and Debian's Xen 4.17."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from headerparse import cli
from headerparse.tree import HeaderTree

DATA = Path(__file__).parent / "data" / "annotations"
REPO = Path(__file__).resolve().parents[1]

XEN_H = """\
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__
/*
 * ` enum hypercall_num { // __HYPERVISOR_* => HYPERVISOR_*()
 */
#define __HYPERVISOR_console_io           18
#define __HYPERVISOR_set_segment_base     25 /* x86/64 only */
#define __HYPERVISOR_sched_op             29
#define __HYPERVISOR_arch_0               48
/* ` } */
#endif
"""
SCHED_H = """\
#ifndef __XEN_PUBLIC_SCHED_H__
#define __XEN_PUBLIC_SCHED_H__
/*
 * ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)
 */
/* ` enum sched_op { // SCHEDOP_* => struct sched_* */
/*
 * @arg == NULL.
 */
#define SCHEDOP_yield       0
/*
 * @arg == pointer to sched_shutdown_t structure.
 */
#define SCHEDOP_shutdown    2
/* ` } */
struct sched_shutdown {
    unsigned int reason; /* SHUTDOWN_* => enum sched_shutdown_reason */
};
typedef struct sched_shutdown sched_shutdown_t;
/* ` enum sched_shutdown_reason { */
#define SHUTDOWN_poweroff   0
#define SHUTDOWN_suspend    2
/* ` } */
#endif
"""
ANNOTATION = """\
family: sched
hypercalls:
  sched_op:
    available: all
    subops:
      SCHEDOP_shutdown:
        cases:
          - when: sched_shutdown.reason == SHUTDOWN_suspend
            args:
              - arg: 3
                variants: pv
                name: start_info_mfn
                meaning: MFN of the start_info page
                read_by: toolstack
                constraint:
                  must_be: the MFN of the guest's start_info page
            provenance:
              - commit: bfc2e6e942
  console_io:
    available: all
    args:
      - {arg: 1, name: cmd, type: unsigned int, read_by: xen}
      - {arg: 2, name: count, type: unsigned int, read_by: xen}
      - {arg: 3, name: buffer, type: char *, read_by: xen}
  set_segment_base:
    available: x86-pv64
    args:
      - {arg: 1, name: which, type: unsigned int, read_by: xen}
      - {arg: 2, name: base, type: unsigned long, read_by: xen}
  arch_0:
    available: none
symbols:
  __HYPERVISOR_sched_op: 29
  __HYPERVISOR_console_io: 18
  __HYPERVISOR_set_segment_base: 25
  __HYPERVISOR_arch_0: 48
  SCHEDOP_shutdown: 2
  SHUTDOWN_suspend: 2
  struct sched_shutdown: {size: 4, members: ["reason: unsigned int"]}
"""


@pytest.fixture
def small(make_tree, tmp_path: Path) -> tuple[Path, Path]:
    tree = make_tree({"xen.h": XEN_H, "sched.h": SCHED_H})
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / "sched.yaml").write_text(ANNOTATION)
    return tree, ann


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _cache(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEADERPARSE_CACHE", str(tmp_path / "cache"))


def test_check_passes_on_a_synthetic_tree(small, capsys, monkeypatch, tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    tree, ann = small
    code, out, err = _run(capsys, "annotations", "check", "--tree", str(tree), "-q",
                          "--annotations", str(ann))
    assert code == 0, err
    assert "0 error(s)" in out and "4/4 hypercalls annotated" in out


def test_bad_annotation_gives_file_line_and_exit_1(small, capsys, monkeypatch,
                                                   tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    tree, ann = small
    (ann / "broken.yaml").write_text("family: x\nhypercalls:\n  sched_op:\n    avilable: all\n")
    code, _, err = _run(capsys, "annotations", "check", "--tree", str(tree), "-q",
                        "--annotations", str(ann))
    assert code == 1
    assert f"{ann / 'broken.yaml'}:4:5: error: unknown key 'avilable' in hypercall sched_op" \
        in err.replace(str(Path.cwd()) + "/", "")
    assert "Traceback" not in err


def test_drift_is_reported(small, capsys, monkeypatch, tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    tree, ann = small
    (tree / "sched.h").write_text(SCHED_H.replace("SHUTDOWN_suspend    2",
                                                  "SHUTDOWN_suspend    7"))
    code, _, err = _run(capsys, "annotations", "check", "--tree", str(tree), "-q",
                        "--annotations", str(ann))
    assert code == 1
    assert "error: SHUTDOWN_suspend changed value: pinned 2, the tree has 7" in err


def test_coverage_json(small, capsys, monkeypatch, tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    tree, ann = small
    code, out, _ = _run(capsys, "annotations", "coverage", "--format", "json", "--tree",
                        str(tree), "-q", "--annotations", str(ann))
    assert code == 0
    data = json.loads(out)
    sched = data["hypercalls"]["sched_op"]
    assert sched["number"] == 29 and sched["annotated"] is True
    assert sched["arity"]["x86-pv64"] == 3 and sched["arity"]["x86-hvm64"] == 2
    assert sched["available"]["arm64"] is True
    assert data["hypercalls"]["set_segment_base"]["available"]["x86-pv32"] is False
    subops = data["subops"]["sched_op"]
    assert subops["ops"][:2] == ["SCHEDOP_yield", "SCHEDOP_shutdown"]
    assert subops["subops"] == len(subops["ops"]) and subops["documented"] <= subops["subops"]
    code, out, _ = _run(capsys, "annotations", "coverage", "--tree", str(tree), "-q",
                        "--annotations", str(ann))
    assert "4/4 hypercalls annotated" in out and "sched_op" in out
    row = next(line for line in out.splitlines() if line.startswith("sched_op ")
               and "sub-op" not in line and len(line.split()) == 6)
    assert row.split()[1] == str(subops["subops"])


def test_unknown_tree_is_a_usage_error(capsys, tmp_path) -> None:
    code, _, err = _run(capsys, "annotations", "check", "--tree", str(tmp_path / "nope"),
                        "--annotations", str(DATA / "good"))
    assert code == 2 and "Traceback" not in err


def test_show_includes_annotations(small, capsys, monkeypatch, tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    tree, ann = small
    monkeypatch.setenv("HEADERPARSE_ANNOTATIONS", str(ann))
    code, out, _ = _run(capsys, "show", "SCHEDOP_shutdown", "--tree", str(tree), "-q")
    assert code == 0
    assert "annotations: SCHEDOP_shutdown, sub-op of sched_op" in out
    assert "x86-pv32 EDX, x86-pv64 RDX" in out and "read by toolstack" in out


# ---------------------------------------------------------------- real trees


def _checkout(tree: HeaderTree, root: Path, defs: Path | None) -> Path:
    public = root / "xen" / "include" / "public"
    for rel, data in tree.files.items():
        target = public / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "xen" / "Makefile").write_text("# synthetic checkout\n")
    if defs is not None:
        shutil.copy(defs, root / "xen" / "include" / "hypercall-defs.c")
    return root


@pytest.mark.slow
def test_real_417_check_coverage_and_show(xen_tree_417, capsys, monkeypatch,
                                          tmp_path) -> None:
    _cache(monkeypatch, tmp_path)
    root = _checkout(xen_tree_417, tmp_path / "xen417", None)
    code, out, err = _run(capsys, "annotations", "check", "--tree", str(root), "-q")
    assert code == 0, err
    code, out, _ = _run(capsys, "annotations", "coverage", "--format", "json", "--tree",
                        str(root), "-q")
    data = json.loads(out)
    assert data["summary"]["annotated"] == data["summary"]["hypercalls"] >= 50
    assert [n for n, h in data["hypercalls"].items() if not h["annotated"]] == []
    sub = data["subops"]
    assert sub["memory_op"]["subops"] == 28 and sub["memory_op"]["tools_only"] == 7
    assert sub["domctl"]["toolstack_only"] and sub["domctl"]["interface_version"] == \
        "XEN_DOMCTL_INTERFACE_VERSION"
    assert "EVTCHNOP_reset_cont" in sub["event_channel_op"]["not_shown"]
    code, out, _ = _run(capsys, "show", "SCHEDOP_shutdown", "--tree", str(root), "-q")
    for needle in ("x86-pv32 EDX, x86-pv64 RDX", "x86-hvm32 EDX, x86-hvm64 RDX, arm32 r2, "
                   "arm64 x2", "read by toolstack", "must be the MFN of this guest's "
                   "start_info page", "read by nobody; any value", "bfc2e6e942"):
        assert needle in out


@pytest.mark.slow
def test_simulated_head_checkout_with_hypercall_defs(xen_tree_417, capsys, monkeypatch,
                                                     tmp_path) -> None:
    # Xen HEAD's tree is not at hand: its public headers match 4.17's hypercall
    # table, and a checkout adds hypercall-defs.c, which availability and arity
    # are then derived from and checked against.
    _cache(monkeypatch, tmp_path)
    root = _checkout(xen_tree_417, tmp_path / "head", DATA / "hypercall-defs-head.c")
    code, out, err = _run(capsys, "annotations", "check", "--tree", str(root), "-q")
    assert code == 0, err
    assert "with hypercall-defs.c" in out and "0 warning(s)" in out
    code, out, _ = _run(capsys, "annotations", "coverage", "--format", "json", "--tree",
                        str(root), "-q")
    data = json.loads(out)
    assert data["hypercall_defs"] is True
    assert [n for n, h in data["hypercalls"].items() if not h["annotated"]] == []
    sub = data["subops"]
    assert sub["memory_op"]["subops"] == 28 and sub["memory_op"]["tools_only"] == 7
    assert sub["domctl"]["toolstack_only"] and sub["domctl"]["interface_version"] == \
        "XEN_DOMCTL_INTERFACE_VERSION"
    assert "EVTCHNOP_reset_cont" in sub["event_channel_op"]["not_shown"]
    srcs = data["hypercalls"]["memory_op"]["sources"]["available"]["arm64"]
    assert any(s.startswith("derived: hypercall-defs.c table row memory_op") for s in srcs)
    # A table that disagrees with a hand-written fact fails the check.
    defs = root / "xen" / "include" / "hypercall-defs.c"
    defs.write_text(defs.read_text().replace(
        "xenpmu_op                          do       do       do       do       -",
        "xenpmu_op                          do       do       do       do       do"))
    code, _, err = _run(capsys, "annotations", "check", "--tree", str(root), "-q")
    assert code == 1
    assert "error: availability of xenpmu_op: hand-written not available, but derived: " \
           "hypercall-defs.c table row xenpmu_op" in err


def test_every_command_binds_the_same_annotations_the_same_way(
        small, capsys, monkeypatch, tmp_path) -> None:
    """``check``, ``annotations check``, ``show`` and ``build`` find the annotations through
    ``$HEADERPARSE_ANNOTATIONS`` and bind them with the checkout's hypercall-defs.c."""
    from headerparse.annotations import load
    from headerparse.site import sphinxrun

    _cache(monkeypatch, tmp_path)
    public, ann = small
    root = tmp_path / "checkout"
    shutil.copytree(public, root / "xen" / "include" / "public")
    (root / "xen" / "Makefile").write_text("# synthetic checkout\n")
    shutil.copy(DATA / "hypercall-defs.c", root / "xen" / "include" / "hypercall-defs.c")
    monkeypatch.setenv("HEADERPARSE_ANNOTATIONS", str(ann))
    calls: list[tuple] = []
    real = load.load_annotations

    def spy(directory, model, defs_text=None, *, defs_path="?"):
        aset, diags = real(directory, model, defs_text, defs_path=defs_path)
        calls.append((str(directory), defs_text, defs_path, model.tree_hash,
                      json.dumps(aset.coverage(), sort_keys=True),
                      sorted(d.render() for d in diags)))
        return aset, diags

    monkeypatch.setattr(load, "load_annotations", spy)
    # The build's Sphinx half is not what this test is about.
    monkeypatch.setattr(sphinxrun, "start", lambda *a, **k: lambda jobs: True)
    tree = ["--tree", str(root), "-q"]
    for argv in (["annotations", "check", *tree], ["check", *tree],
                 ["show", "sched_op", *tree], ["build", "-o", str(tmp_path / "site"), *tree]):
        _run(capsys, *argv)
    assert len(calls) == 4, "each command binds the annotations exactly once"
    directory, defs_text, _path, _hash, coverage, _diags = calls[0]
    assert directory == str(ann) and defs_text and "sched_op" in defs_text
    assert json.loads(coverage)["hypercall_defs"] is True
    assert all(c == calls[0] for c in calls), [c[:3] for c in calls]
