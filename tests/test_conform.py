"""``headerparse conform``: a consumer's copy of the Xen headers against Xen, per arch.

The fast tests build a small Xen tree and a drifted copy of it (one drift per XK rule),
and reproduce Linux's blkif ARM bug from Xen 4.17's own io/blkif.h. The slow ones run on
real copies from Debian's sources (test set-up fetches them) and pin what was reviewed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.need import unavailable

from headerparse.cli.commands import main
from headerparse.conform import mapping
from headerparse.conform.views import Leaf, RecordView, signedness
from headerparse.diagnostics import RULES
from headerparse.tree import HeaderTree

XEN = {
    "xen-compat.h": "#define __XEN_LATEST_INTERFACE_VERSION__ 0x00040e00\n",
    "xen.h": """\
#include "xen-compat.h"
#define __HYPERVISOR_sched_op 29
#define XEN_FLAG (1u << 31)
#define XEN_VALUE 7
#define XEN_TRIMMED 3
struct sz { uint32_t a; uint16_t b; };
struct off { uint8_t a; uint32_t b; };
struct bits { uint32_t f:3; uint32_t g:5; };
struct sign { int32_t s; };
struct miss { uint32_t a; uint32_t b; };
struct grow { uint32_t a; uint32_t added; };
struct same { uint64_t x; };
typedef struct same same_t;
struct gone { int z; };
""",
    "sched.h": """/* ` enum sched_op { // SCHEDOP_* */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
/* ` } */
""",
}

COPY = {
    "xen-compat.h": "#define __XEN_LATEST_INTERFACE_VERSION__ 0x00040400\n",
    "xen.h": """\
#include "xen-compat.h"
#include <consumer/own.h>
#define __HYPERVISOR_sched_op 30
#define XEN_FLAG (1 << 31)
#define XEN_VALUE 8
#define COPY_ONLY 1
struct sz { uint32_t a; uint32_t b; };
struct off { uint8_t a; uint32_t b; } __attribute__((packed));
struct bits { uint32_t f:4; uint32_t g:4; };
struct sign { uint32_t s; };
struct miss { uint32_t a; uint32_t renamed; };
struct grow { uint32_t a; };
typedef struct { uint64_t x; } SAME_T;
""",
    "sched.h": "#define SCHEDOP_yield 0\n#define SCHEDOP_block 2\n",
    "broken.h": "struct broken {\n    unknown_t x;\n};\n",
}

# rule -> (symbol, severity) each drift above must produce
EXPECTED = {
    "XK001": ("off", "error"), "XK002": ("off", "error"), "XK003": ("off.b", "error"),
    "XK004": ("sz.b", "error"), "XK005": ("bits.f", "error"), "XK006": ("sign.s", "warning"),
    "XK007": ("miss", "note"), "XK008": ("miss.renamed", "note"),
    "XK009": ("grow", "warning"), "XK010": ("XEN_VALUE", "error"),
    "XK011": ("__HYPERVISOR_sched_op", "error"), "XK012": ("SCHEDOP_block", "error"),
    "XK013": ("__XEN_LATEST_INTERFACE_VERSION__", "note"), "XK020": ("xen.h", "note"),
    "XK021": ("xen.h", "note"), "XK030": ("broken.h", "error"), "XK031": ("consumer/own.h", "note"),
}

Run = Callable[..., tuple[int, dict]]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def run(tmp_path: Path) -> Run:
    def go(*args: str) -> tuple[int, dict]:
        out = tmp_path / "report.json"
        code = main(["conform", "-q", "--no-cache", "--format", "json", "-o", str(out), *args])
        return code, json.loads(out.read_text()) if out.exists() else {}
    return go


def _by_rule(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in doc["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_every_conformance_rule_fires_on_a_drifted_copy(tmp_path: Path, run: Run) -> None:
    xen = _write(tmp_path / "xen" / "public", XEN)
    copy = _write(tmp_path / "copy", COPY)
    code, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64,arm64")
    assert code == 1
    assert set(doc) >= {"consumer", "profile", "best_match", "findings"}
    assert (doc["profile"], doc["consumer"], doc["best_match"]) == ("generic", str(copy), None)
    found = _by_rule(doc)
    assert set(found) == set(EXPECTED) == {r for r in RULES if r.startswith("XK")}
    for rule, (symbol, severity) in EXPECTED.items():
        hits = [f for f in found[rule] if f["symbol"] == symbol]
        assert hits, (rule, found[rule])
        assert {f["severity"] for f in hits} == {severity}
        assert set(hits[0]) >= {"rule", "severity", "symbol", "xen_symbol", "arch", "file",
                                "line", "message"}
    # The same drift on both arches is one finding naming both.
    assert found["XK004"][0]["arch"] == "x86_64,arm64"
    # A parse error is a finding with its place, not a traceback.
    [broken] = {(f["file"], f["line"]) for f in found["XK030"]}
    assert broken == ("broken.h", 2)
    # Same bits, other signedness: a warning, not a value error.
    flag = [f for f in found["XK006"] if f["symbol"] == "XEN_FLAG"]
    assert flag and flag[0]["xen_symbol"] == "XEN_FLAG"
    # The anonymous SAME_T is Xen's struct same, by case-insensitive name: in the mapping.
    assert {"copy": "SAME_T", "xen": "same", "how": "case-insensitive"} in \
        doc["mapping"]["records"]
    assert "same" not in json.dumps(found.get("XK020", []))


def test_clean_copy_exits_0_and_formats(tmp_path: Path, run: Run) -> None:
    xen = _write(tmp_path / "xen" / "public", XEN)
    copy = _write(tmp_path / "copy", XEN)
    code, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_32")
    assert code == 0 and doc["findings"] == []
    for fmt, marker in (("sarif", '"version": "2.1.0"'), ("junit", "<testsuites"),
                        ("text", "0 finding(s)")):
        out = tmp_path / f"r.{fmt}"
        assert main(["conform", "-q", "--no-cache", "--consumer", str(copy), "--tree", str(xen),
                     "--arch", "x86_32", "--format", fmt, "-o", str(out)]) == 0
        assert marker in out.read_text()


def test_waivers_and_fail_on(tmp_path: Path, run: Run) -> None:
    xen = _write(tmp_path / "xen" / "public", XEN)
    copy = _write(tmp_path / "copy", COPY)
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- rule: '*'\n  justification: reviewed\n")
    code, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64",
                    "--waivers", str(waivers))
    assert code == 0 and doc["findings"] == [] and doc["waived"] > 10
    code, _ = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64",
                  "--fail-on", "never")
    assert code == 0


@pytest.mark.parametrize("args, message", [
    (["--consumer", "/nonexistent/copy"], "no such directory"),
    (["--consumer", ".", "--profile", "edk2"], "OvmfPkg/Include/IndustryStandard/Xen"),
    (["--consumer", ".", "--arch", "mips"], "unknown arch mips"),
])
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str],
                             tmp_path: Path) -> None:
    assert main(["conform", "-q", "--tree", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_alias_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    bad = tmp_path / "a.yaml"
    bad.write_text("aliases: [1, 2]\n")
    copy = _write(tmp_path / "copy", XEN)
    assert main(["conform", "-q", "--consumer", str(copy), "--aliases", str(bad)]) == 2
    assert "a.yaml" in capsys.readouterr().err


def test_alias_file_maps_a_renamed_record(tmp_path: Path, run: Run) -> None:
    xen = _write(tmp_path / "xen" / "public", XEN)
    copy = _write(tmp_path / "copy", {"xen.h": "struct my_grow { unsigned a; unsigned b; };\n"})
    aliases = tmp_path / "a.yaml"
    aliases.write_text("aliases: {my_grow: grow}\nleaves: {my_grow: {b: added}}\n")
    _, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64",
                 "--aliases", str(aliases))
    assert {"copy": "my_grow", "xen": "grow", "how": "alias"} in doc["mapping"]["records"]
    assert not [f for f in doc["findings"] if f["symbol"] and "grow" in f["symbol"]]


def test_leaf_mapping_prefers_exact_paths_and_restructured_leaves() -> None:
    def rec(*paths: str) -> RecordView:
        return RecordView("struct r", "struct", ("r",), 8, 8, tuple(
            Leaf(p, i, 1, None, None, "uint8_t", False) for i, p in enumerate(paths)), None)
    pairs, missing, extra = mapping.map_leaves(
        rec("id", "u.pad", "u.a.pad", "x.y.address"),
        rec("u.rw.id", "u.discard.id", "u.pad", "p.q.address"), ())
    got = {x.path: (c.path, how) for x, c, how in pairs}
    assert got["id"] == ("u.rw.id", "leaf-name")       # the first union arm
    assert got["u.pad"] == ("u.pad", "identity")       # never taken by u.a.pad's guess
    assert "u.a.pad" in {m.path for m in missing}
    assert "x.y.address" not in got                     # unrelated paths are not guessed
    assert {e.path for e in extra} == {"u.discard.id", "p.q.address"}


def test_signedness() -> None:
    typedefs = {"u32": "uint32_t", "UINTN": "uintptr_t", "xen_long_t": "long"}
    assert signedness("u32", typedefs) is False
    assert signedness("const UINTN[4]", typedefs) is False
    assert signedness("xen_long_t", typedefs) is True
    assert signedness("char", typedefs) is None
    assert signedness("struct foo *", typedefs) is None


# ----------------------------------------------------------------- Linux's blkif ARM bug

_BLKIF_FILES = ("xen.h", "xen-compat.h", "arch-x86/xen.h", "arch-x86/xen-x86_32.h",
                "arch-x86/xen-x86_64.h", "arch-arm.h", "grant_table.h", "io/ring.h",
                "io/blkif.h")


_XEN_REQUEST = """\
struct blkif_request {
    uint8_t        operation;    /* BLKIF_OP_???                         */
    uint8_t        nr_segments;  /* number of segments                   */
    blkif_vdev_t   handle;       /* only for read/write requests         */
    uint64_t       id;           /* private guest value, echoed in resp  */
    blkif_sector_t sector_number;/* start sector idx on disk (r/w only)  */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
"""
# Xen's request with the padding as Linux had it, packed as Linux's was.
_FLAT = """\
struct blkif_request {
    uint8_t        operation;
    uint8_t        nr_segments;
    blkif_vdev_t   handle;
#ifdef CONFIG_X86_64
    uint32_t       _pad1;        /* offsetof(blkif_request,u.rw.id) == 8 */
#endif
    uint64_t       id;
    blkif_sector_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((__packed__));
"""
# Linux's own shape before its commit 380108d891ac: the read/write members in u.rw.
_LINUX = """\
struct blkif_request_rw {
    uint8_t        nr_segments;
    blkif_vdev_t   handle;
#ifdef CONFIG_X86_64
    uint32_t       _pad1;        /* offsetof(blkif_request,u.rw.id) == 8 */
#endif
    uint64_t       id;
    blkif_sector_t sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((__packed__));

struct blkif_request {
    uint8_t        operation;
    union {
        struct blkif_request_rw rw;
    } u;
} __attribute__((__packed__));
"""


@pytest.mark.parametrize("shape, member", [(_FLAT, "id"), (_LINUX, "u.rw.id")],
                         ids=["flat", "linux-union"])
def test_linux_blkif_arm_bug(shape: str, member: str, tmp_path: Path, run: Run,
                             xen_tree_417: HeaderTree) -> None:
    """Linux padded blkif_request before id under #ifdef CONFIG_X86_64 (fixed by Linux
    commit 380108d891ac, which made it #ifndef CONFIG_X86_32): on Arm id sat at 4 where
    Xen's backend reads it at 8. x86 was right on both widths."""
    xen = tmp_path / "xen" / "public"
    copy = tmp_path / "linux" / "include" / "xen" / "interface"
    for rel in _BLKIF_FILES:
        for root in (xen, copy):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(xen_tree_417.files[rel])
    blkif = (copy / "io/blkif.h").read_text()
    assert blkif.count(_XEN_REQUEST) == 1
    (copy / "io/blkif.h").write_text(blkif.replace(_XEN_REQUEST, shape))
    # Both sides at 4.17's interface version: without one the copy would get the legacy
    # interface (__HYPERVISOR_sched_op is sched_op_compat there), which is another finding.
    code, doc = run("--consumer", str(tmp_path / "linux"), "--profile", "linux",
                    "--tree", str(xen), "--interface-version", "0x00040e00")
    assert code == 1
    offsets = [f for f in doc["findings"] if f["rule"] == "XK003"]
    [rid] = [f for f in offsets if f["symbol"] == f"blkif_request.{member}"]
    assert (rid["xen_symbol"], rid["arch"], rid["severity"]) == (
        "blkif_request.id", "arm32,arm64", "error")
    assert f"blkif_request.{member} is at offset 4, Xen's blkif_request.id at 8" \
        in rid["message"]
    assert rid["file"] == "include/xen/interface/io/blkif.h"
    # The members after the padding move with id, in blkif_request and in the ring's
    # entries; only on Arm. (Packed, the copy's request is also 1-aligned on every arch.)
    assert {f["symbol"].rsplit(".", 1)[-1] for f in offsets} == {"id", "sector_number", "seg"}
    assert {f["arch"] for f in offsets} == {"arm32,arm64"}
    assert {(f["rule"], f["symbol"]) for f in doc["findings"] if f["severity"] == "error"
            and "x86" in f["arch"]} == {("XK002", "blkif_request")}
    if member != "id":
        assert {"copy": f"blkif_request.{member}", "xen": "blkif_request.id",
                "how": "alias"} in doc["mapping"]["members"]
    shutil.rmtree(tmp_path / "linux")


def test_interface_version_that_never_took_effect(tmp_path: Path, run: Run,
                                                   xen_tree_417: HeaderTree) -> None:
    """A verbatim copy built without __XEN_INTERFACE_VERSION__ gets the legacy interface
    (xen-compat.h's default 0), as the unikernel of the issue did on Xen 4.14: the
    hypercall numbers say so."""
    xen = tmp_path / "xen" / "public"
    copy = tmp_path / "copy"
    for rel in _BLKIF_FILES:
        for root in (xen, copy):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(xen_tree_417.files[rel])
    _, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64")
    calls = {(f["symbol"], f["message"]) for f in doc["findings"] if f["rule"] == "XK011"}
    assert ("__HYPERVISOR_event_channel_op",
            "__HYPERVISOR_event_channel_op is 16, Xen's __HYPERVISOR_event_channel_op is 32") \
        in calls
    _, doc = run("--consumer", str(copy), "--tree", str(xen), "--arch", "x86_64",
                 "--interface-version", "0x00040e00")
    assert not [f for f in doc["findings"] if f["severity"] != "note"]


# ----------------------------------------------------------------- real copies (slow)

# Every error and warning conform reports on Debian bookworm's copies against Xen 4.17
# (bookworm's libxen-dev), reviewed one by one (docs/conform.md says why each is real).
REVIEWED = {
    "linux": {
        ("XK001", "mcinfo_extended", "x86_32"), ("XK004", "mcinfo_extended.mc_msr", "x86_32"),
        ("XK001", "physdev_op", "arm32"), ("XK002", "physdev_op", "arm32"),
        ("XK001", "physdev_set_iobitmap", "arm32"), ("XK002", "physdev_set_iobitmap", "arm32"),
        ("XK003", "physdev_set_iobitmap.nr_ports", "arm32"),
        *{("XK003", f"physdev_op.u.{m}", "arm32") for m in (
            "apic_op.apic_physbase", "apic_op.reg", "apic_op.value", "irq_op.irq",
            "irq_op.vector", "irq_status_query.flags", "irq_status_query.irq",
            "set_iobitmap.nr_ports", "set_iopl.iopl")},
        ("XK001", "shared_info", "arm32,arm64"), ("XK003", "shared_info.arch", "arm32,arm64"),
        ("XK009", "xen_pvcalls_release", "x86_32"), ("XK009", "xen_pvcalls_connect", "x86_32"),
        ("XK009", "xen_pvcalls_listen", "x86_32"), ("XK009", "xen_pvcalls_socket", "x86_32"),
        ("XK002", "blkif_request", "x86_32"), ("XK002", "blkif_request", "x86_64,arm32,arm64"),
        ("XK002", "pvclock_vcpu_time_info", "arm32,arm64"),
        ("XK002", "xen_hvm_pagetable_dying", "x86_32"),
        ("XK002", "xenfb_in_event", "x86_32,x86_64,arm32,arm64"),
        ("XK006", "mcinfo_logical_cpu.mc_cpuid_level", "x86_32,x86_64"),
        ("XK006", "mcinfo_logical_cpu.mc_nmsrvals", "x86_32,x86_64"),
        ("XK006", "multicall_entry.result", "x86_32,x86_64,arm32,arm64"),
        ("XK010", "HVM_NR_PARAMS", "x86_32,x86_64,arm32,arm64"),
        ("XK010", "XEN_NETIF_EXTRA_TYPE_MAX", "x86_32,x86_64,arm32,arm64"),
        ("XK030", "include/xen/interface/callback.h", "arm32,arm64"),
        ("XK030", "include/xen/interface/xenpmu.h", "arm32,arm64"),
    },
    "uboot": {
        ("XK006", "GNTTAB_CACHE_SOURCE_GREF", "arm32,arm64"),
        ("XK009", "xenstore_domain_interface", "arm32,arm64"),
        ("XK010", "HVM_NR_PARAMS", "arm32,arm64"),
    },
    "grub": {
        ("XK001", "arch_shared_info", "x86_32"), ("XK001", "arch_shared_info", "x86_64"),
        ("XK001", "shared_info", "x86_32"), ("XK001", "shared_info", "x86_64"),
        ("XK009", "hvm_start_info", "x86_32,x86_64"),
        ("XK009", "xenstore_domain_interface", "x86_32,x86_64"),
        ("XK010", "HVMPV_feature_mask", "x86_32,x86_64"),
        ("XK012", "SHUTDOWN_MAX", "x86_32,x86_64"),
    },
    "edk2": {
        ("XK001", "arch_shared_info", "x86_32"), ("XK001", "arch_shared_info", "x86_64"),
        ("XK001", "shared_info", "x86_32"), ("XK001", "shared_info", "x86_64"),
        ("XK003", "shared_info.arch", "arm32,arm64"),
        ("XK009", "xenstore_domain_interface", "x86_32,x86_64,arm32,arm64"),
        ("XK010", "HVM_NR_PARAMS", "x86_32,x86_64,arm32,arm64"),
    },
    "qemu": set(),
}


def _consumer(name: str) -> Path:
    from headerparse.conform.fetch import fetch_consumer
    from headerparse.tree import TreeError

    try:
        return fetch_consumer(name)
    except TreeError as exc:
        error = str(exc)
    unavailable(f"{name}'s copy of the Xen headers is unavailable: {error}")


@pytest.fixture(scope="module")
def xen417() -> Path:
    from headerparse.tree import TreeError, fetch_debian_headers

    try:
        return fetch_debian_headers("bookworm")
    except TreeError as exc:
        unavailable(str(exc))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REVIEWED))
def test_real_copy_findings_are_the_reviewed_ones(name: str, xen417: Path, run: Run) -> None:
    code, doc = run("--consumer", str(_consumer(name)), "--profile", name, "--tree", str(xen417))
    got = {(f["rule"], f["symbol"], f["arch"]) for f in doc["findings"]
           if f["severity"] != "note"}
    assert got == REVIEWED[name]
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert code == (1 if errors else 0)


@pytest.mark.slow
def test_linux_copy_is_mapped_and_stubbed(xen417: Path, run: Run) -> None:
    _, doc = run("--consumer", str(_consumer("linux")), "--profile", "linux",
                 "--tree", str(xen417))
    records = {(m["copy"], m["xen"], m["how"]) for m in doc["mapping"]["records"]}
    assert ("pvclock_vcpu_time_info", "vcpu_time_info", "alias") in records
    # GUEST_HANDLE(x) on Arm is Xen's XEN_GUEST_HANDLE(x_t), __guest_handle_64_x_t there.
    assert ("__guest_handle_evtchn_op", "__guest_handle_64_evtchn_op_t", "guest-handle") \
        in records
    members = {(m["copy"], m["xen"]) for m in doc["mapping"]["members"]}
    assert ("blkif_request.u.rw.id", "blkif_request.id") in members
    stubbed = {f["symbol"] for f in doc["findings"] if f["rule"] == "XK031"}
    assert "linux/types.h" in stubbed


@pytest.mark.slow
def test_provenance_of_real_copies(xen417: Path, run: Run, tmp_path: Path) -> None:
    bundle = Path(__file__).resolve().parents[2] / "shared/xen-history/xen-public.bundle"
    if not bundle.is_file():
        unavailable("no Xen history bundle beside the project")
    repo = tmp_path / "xen-public"
    subprocess.run(["git", "clone", "-q", str(bundle), str(repo)], check=True)
    best = {}
    for name in ("grub", "edk2", "linux"):
        _, doc = run("--consumer", str(_consumer(name)), "--profile", name, "--tree",
                     str(xen417), "--history", str(repo))
        best[name] = doc["best_match"]
        assert doc["provenance"]["newer_upstream"] > 0
    # GRUB's copy keeps ten Xen 4.4 files byte for byte; EDK2's rewritten one says
    # __XEN_LATEST_INTERFACE_VERSION__ 0x00040400; Linux 6.1 came out with Xen 4.17.
    assert best == {"grub": "4.4.x", "edk2": "4.4.x", "linux": "4.17.x"}


@pytest.mark.parametrize("name, text", [
    ("debian.sources", "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm "
     "bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/k.gpg\n"),
    ("sources.list", "deb [arch=amd64] http://mirror.invalid/debian bookworm main\n"),
])
def test_private_apt_adds_deb_src_to_the_systems_entry(name: str, text: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from headerparse.conform import fetch

    etc = tmp_path / "etc"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d" / name.replace("sources.list", "main.list")).write_text(text)
    monkeypatch.setattr(fetch, "default_suite", lambda: "bookworm")
    opts = fetch._private_apt(tmp_path / "apt", etc)
    written = next((tmp_path / "apt").glob("*.list")) if name == "sources.list" \
        else tmp_path / "apt" / "debian.sources"
    out = written.read_text()
    assert "deb-src" in out and "http://mirror.invalid/debian" in out
    if name == "debian.sources":
        assert "Types: deb deb-src" in out and "Signed-By: /usr/share/keyrings/k.gpg" in out
    else:
        assert out.splitlines()[1].startswith("deb-src [arch=amd64] http://mirror.invalid")
    assert f"-oDir::State::Lists={tmp_path / 'apt' / 'lists'}" in opts
    assert "-oDir::Etc::SourceParts=/nonexistent" in opts
