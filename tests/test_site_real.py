"""The site on real Xen headers (Debian 4.17 and 4.20): `sphinx-build -W -n` clean,
the pages the issue names, every internal link, incremental rebuilds."""

from __future__ import annotations

import re
import time

import pytest
from support.linkcheck import check_site
from support.site import build_site

from headerparse.cli import site as site_cli
from headerparse.extract.pipeline import Options, extract
from headerparse.site.sphinxrun import sphinx
from headerparse.tree import HeaderTree, cache_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site417(xen_tree_417, tmp_path_factory):
    return build_site(xen_tree_417, tmp_path_factory.getbasetemp())


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_sched_op_shows_the_suspend_argument_per_variant(site417):
    html = (site417 / "html" / "hypercalls" / "sched_op.html").read_text()
    section = html.split('id="schedop-shutdown"', 1)[1].split('<section id="schedop-poll"')[0]
    table = section.split("SHUTDOWN_suspend</span></code></a></span>", 1)[1]
    table = _text(table.split("</table>", 1)[0])
    for variant, reg in (("x86-pv32", "EDX"), ("x86-pv64", "RDX"), ("x86-hvm32", "EDX"),
                         ("x86-hvm64", "RDX"), ("arm32", "r2"), ("arm64", "x2")):
        assert f"{variant} : {reg}" in table or f"{variant}: {reg}" in table, (variant, table)
    assert "toolstack" in table and "any value" in table and "nobody" in table


def test_blkif_request_id_differs_and_is_highlighted(site417):
    html = (site417 / "html" / "headers" / "io" / "blkif.h.html").read_text()
    # struct blkif_request's layout table: the first after its declaration.
    table = html.split('id="c.blkif_request"', 1)[1].split('hp-layout-table', 1)[1]
    table = table.split("</table>", 1)[0]
    row = next(r for r in table.split("<tr") if '>id</code>' in r)
    assert row.startswith(' class="hp-member hp-differs')
    cells = re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>', row)
    archs = cells[2:6]          # after Member and Type: x86_32, x86_64, arm32, arm64
    assert archs[0] == ("hp-odd", "4+8")
    assert archs[1] == ("", "8+8")


def test_every_internal_link_resolves_417(site417):
    checked, broken = check_site(site417 / "html")
    assert checked > 50_000
    assert not broken, "\n".join(map(str, broken[:20]))


def test_every_public_header_has_a_page(site417, xen_tree_417):
    for path in xen_tree_417.files:
        if not path.startswith(("foreign/", "sys/")):
            assert (site417 / "html" / "headers" / f"{path}.html").is_file(), path


def test_head_420_builds_warning_free_and_links_resolve(xen_tree_420, tmp_path_factory):
    out = build_site(xen_tree_420, tmp_path_factory.getbasetemp())
    html = (out / "html" / "overview.html").read_text()
    assert "riscv64" in html and "ppc64" in html
    checked, broken = check_site(out / "html")
    assert not broken, "\n".join(map(str, broken[:20]))


def test_one_header_edit_rebuilds_only_its_pages(xen_tree_417, tmp_path):
    out = tmp_path / "site"
    model = extract(xen_tree_417, Options(), cache=cache_dir())
    site_cli.stage(model, xen_tree_417, out)
    assert sphinx(out, strict=True)
    html = out / "html"
    before = {p: p.stat().st_mtime_ns for p in html.rglob("*.html")}
    time.sleep(0.05)
    files = dict(xen_tree_417.files)
    files["io/blkif.h"] = files["io/blkif.h"].replace(b"Starting ring element",
                                                      b"The starting ring element")
    edited = HeaderTree("edited", files)
    site_cli.stage(extract(edited, Options(), cache=cache_dir()), edited, out)
    assert sphinx(out, strict=True)
    changed = {p.relative_to(html).as_posix() for p in html.rglob("*.html")
               if p.stat().st_mtime_ns != before.get(p)}
    assert "headers/io/blkif.h.html" in changed
    assert "hypercalls/sched_op.html" not in changed
    assert "headers/sched.h.html" not in changed
    assert len(changed) < 20, sorted(changed)


def test_enumerators_are_c_objects_in_and_out_of_their_enum_417(site417):
    # As the C domain registers them: the anchor is scoped by the enum, and the
    # inventory names the enumerator both ways (C puts it in the enclosing scope).
    from sphinx.util.inventory import InventoryFile

    with open(site417 / "html" / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda a, b: b)
    data = inv.data if hasattr(inv, "data") else inv
    where = "headers/hvm/hvm_op.h.html#c.hvmmem_type_t.HVMMEM_ram_rw"
    assert data["c:enumerator"]["hvmmem_type_t.HVMMEM_ram_rw"].uri == where
    assert data["c:enumerator"]["HVMMEM_ram_rw"].uri == where
    assert data["c:enum"]["hvmmem_type_t"].uri == "headers/hvm/hvm_op.h.html#c.hvmmem_type_t"
    genindex = (site417 / "html" / "genindex.html").read_text()
    assert "hvmmem_type_t.HVMMEM_ram_rw (C enumerator)" in genindex
