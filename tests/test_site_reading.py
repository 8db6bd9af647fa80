"""What the site shows a reader besides the ABI itself: numbers in hex, the Xen
version, types as the headers write them, the arch-difference list, the
intersphinx inventory. The slow half reads the site built from Debian's 4.17."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from support.need import unavailable
from support.site import build_site

from headerparse.site import archdiff
from headerparse.site.text import hex_of, with_hex
from headerparse.site.version import interface_release, site_conf, site_version
from headerparse.tree import HeaderTree, open_tree

BUNDLE = Path(__file__).resolve().parents[2] / "shared" / "xen-history" / "xen-public.bundle"


def test_hex_beside_decimal_from_16_on():
    assert hex_of(15) is None and with_hex(15) == "15"
    assert with_hex(112) == "112 (0x70)"
    # A version packs bytes: all eight digits, as xen-compat.h writes it.
    assert with_hex(265728, "__XEN_LATEST_INTERFACE_VERSION__") == "265728 (0x00040e00)"
    assert hex_of(-1) is None


def test_version_of_a_plain_tree_is_its_interface_release():
    compat = b"#define __XEN_LATEST_INTERFACE_VERSION__ 0x00041300\n"
    tree = HeaderTree("/home/me/xen/include/public (public headers)",
                      {"xen.h": b"", "xen-compat.h": compat})
    v = site_version(tree)
    assert v.short == "Xen 4.19 interface" and v.interface == 0x41300
    assert "/home/me" not in v.short + v.long
    assert interface_release(0x00040E00) == "4.14"
    assert site_conf(tree)["html_title"] == "Xen public ABI — Xen 4.19 interface"


def test_version_of_debian_trees(xen_tree_417, xen_tree_420):
    assert site_version(xen_tree_417).short == "Xen 4.17.7"
    assert site_version(xen_tree_417).interface == 0x00040E00
    assert site_version(xen_tree_420).short.startswith("Xen 4.20.")


@pytest.mark.slow
def test_version_of_a_git_revision_is_its_describe(tmp_path):
    if not BUNDLE.is_file():
        unavailable("no Xen history bundle")
    repo = tmp_path / "xen"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(repo)], check=True)
    assert site_version(open_tree(str(repo), "RELEASE-4.17.0")).short == "Xen RELEASE-4.17.0"
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "RELEASE-4.19.0"], check=True)
    assert site_version(open_tree(str(repo))).short == "Xen RELEASE-4.19.0"


@pytest.fixture(scope="module")
def site417(xen_tree_417, tmp_path_factory):
    return build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html"


def _row(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</tr>", 1)[0]


@pytest.mark.slow
def test_layout_rows_show_types_as_written(site417):
    blkif = (site417 / "headers" / "io" / "blkif.h.html").read_text()
    handle = re.sub(r"<[^>]+>", "", _row(blkif, "c.blkif_request.handle"))
    assert "blkif_vdev_t = uint16_t" in handle          # a macro, and what it expands to
    assert "blkif_sector_t = uint64_t" in re.sub(
        r"<[^>]+>", "", _row(blkif, "c.blkif_request.sector_number"))
    # A guest handle is shown as the header writes it, never the per-arch internals.
    tables = re.findall(r'<table class="docutils align-default hp-layout-table">.*?</table>',
                        (site417 / "headers" / "memory.h.html").read_text(), re.S)
    text = re.sub(r"<[^>]+>", "", "".join(tables))
    assert "XEN_GUEST_HANDLE(xen_pfn_t)" in text
    assert "__guest_handle" not in text


@pytest.mark.slow
def test_arch_differences_page(site417):
    html = (site417 / "types" / "arch-differences.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    x86 = text.split("x86_32 / x86_64", 2)[2].split("x86_32 / arm32", 1)[0]
    # struct blkif_request: 108 bytes on x86_32, 112 on x86_64; `id` moves from 4 to 8.
    assert re.search(r"blkif_request io/blkif\.h:\d+ 108 \(0x6c\) 112 \(0x70\) id : 4\+8 / 8\+8",
                     x86), x86[:2000]
    arm = text.split("arm32 / arm64", 2)[2]
    assert "blkif_request " not in arm        # laid out alike on arm32 and arm64


def test_arch_pairs_from_a_model():
    from support.models import synthetic_model

    model = synthetic_model()
    pairs = archdiff.arch_pairs(list(model.records), model.archs)
    assert len(pairs) == len(model.archs) * (len(model.archs) - 1) // 2
    rows = [row for p in pairs for row in p["rows"]]
    assert rows, "the synthetic model has a record laid out differently"
    for row in rows:
        assert row["sizes"][0] != row["sizes"][1] or row["first"] is not None


@pytest.mark.slow
def test_inventory_members_and_no_internals(site417):
    from sphinx.util.inventory import InventoryFile

    with open(site417 / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda a, b: b)
    data = inv.data if hasattr(inv, "data") else inv
    members = data["c:member"]
    assert members["blkif_request.handle"].uri == \
        "headers/io/blkif.h.html#c.blkif_request.handle"
    assert len(members) > 5000
    names = [n for table in data.values() for n in table]
    assert not [n for n in names if n.startswith("__guest_handle_")]
    assert "modindex" not in data.get("std:label", {})
    assert "py-modindex" not in data.get("std:label", {})
    # Every inventory entry of a page points at an anchor that page has.
    blkif = (site417 / "headers" / "io" / "blkif.h.html").read_text()
    for name, item in members.items():
        if item.uri.startswith("headers/io/blkif.h.html#"):
            assert f'id="{item.uri.split("#", 1)[1]}"' in blkif, name


@pytest.mark.slow
def test_414_builds_warning_free_named_by_its_version(xen_tree_414, tmp_path_factory):
    out = build_site(xen_tree_414, tmp_path_factory.getbasetemp())    # -W -n
    html = (out / "html" / "overview.html").read_text()
    assert "<title>Overview - Xen public ABI — Xen 4.14.6</title>" in html
    assert "The hypercall ABI of Xen 4.14.6 (Debian libxen-dev 4.14.6-1, bullseye)" in html
    assert str(Path.home()) not in html
