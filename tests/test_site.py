"""The ABI site on a small synthetic model: generation, escaping, the Sphinx build,
cross-references, incremental rebuilds and the atomic publish."""

from __future__ import annotations

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docutils.core
import pytest
from support.linkcheck import check_site
from support.models import HOSTILE, TEXTS, synthetic_facts, synthetic_model
from support.site import failed_probe

from headerparse import paths
from headerparse.cli import site as site_cli
from headerparse.cli.common import EXIT_FINDINGS, UsageError
from headerparse.model import model_to_json
from headerparse.site import svg
from headerparse.site import text as tx
from headerparse.site.pages import generate
from headerparse.site.plan import Plan
from headerparse.site.render import sync_tree, write_if_changed
from headerparse.site.sphinxrun import sphinx
from headerparse.sphinxext.parser import map_lines


@pytest.fixture(scope="module")
def model():
    return synthetic_model()


@pytest.fixture(scope="module")
def pages(model):
    return generate(model, synthetic_facts(model), TEXTS)


# ------------------------------------------------------------------ text and plan


def _render(rst: str) -> str:
    return docutils.core.publish_parts(rst, writer="html5",
                                       settings_overrides={"report_level": 2,
                                                           "halt_level": 2})["body"]


@pytest.mark.parametrize("text", [
    HOSTILE, "- not a list", "1. not a list", "#. no", ".. not a comment", "::",
    "a_ b_ `c`_ *d* **e** |f| [g]_ :h:`i` \\j", "http://example.org and javascript:alert(1)",
    "====", "trailing backslash \\",
])
def test_rst_escape_renders_the_text_as_written(text):
    html = _render(tx.rst_escape(text))
    assert "<script" not in html and "<em>" not in html and "<a " not in html
    body = re.sub(r"<[^>]+>", "", html).strip()
    import html as h
    assert h.unescape(body) == " ".join(text.split())


def test_rst_inline_links_only_known_names():
    known = {"SHUTDOWN_suspend", "struct sched_shutdown", "SCHEDOP_*"}.__contains__
    out = tx.rst_inline("(SHUTDOWN_suspend), struct sched_shutdown's *x* SCHEDOP_*.",
                        lambda k: f":c:macro:`{k.split()[-1]}`", known)
    assert out.count(":c:macro:`") == 3
    assert "\\*x\\*" in out


def test_blocks_keep_layout_and_reflow_prose():
    text = "Plain text that\nwraps around.\n\n  indented\n  block\n\nA | B   | C\n\n- item"
    kinds = [(b.pre, b.first) for b in tx.blocks(text)]
    assert kinds == [(False, 0), (True, 3), (True, 6), (True, 8)]


def test_plan_links_and_canonical_declarations(model):
    plan = Plan(model)
    # C names link through the xen domain's table of generated C declarations.
    assert plan.link("struct sched_shutdown").rst() == \
        ":xen:c:`struct sched_shutdown <sched_shutdown>`"
    assert plan.link("sched_shutdown_t").role == "c:type"
    assert plan.link("SHUTDOWN_suspend").docname == "headers/sched.h"
    assert plan.link("SCHEDOP_shutdown").role == "xen:op"
    assert plan.link("SCHEDOP_*").role == "xen:group"
    assert plan.link("__HYPERVISOR_sched_op").role == "xen:hypercall"
    assert plan.link("enum sched_op").target == "sched_op"
    # One C declaration per name, whatever declares it.
    assert len(plan.decl_doc) == len(set(plan.decl_doc))
    # A struct is declared on the page of the header defining it.
    assert plan.decl_doc["sched_shutdown_t"] == ("type", "headers/sched.h")
    assert plan.decl_doc["sched_shutdown"] == ("struct", "headers/sched.h")


def test_map_lines_follows_markers():
    lines = ["a", ".. hp-loc: sched.h:10", "", "b", "c", ".. hp-loc: xen.h:3", "d"]
    items = map_lines(lines, "page.hrst")
    assert items[0] == ("page.hrst", 0)
    assert items[3] == ("sched.h", 10) and items[4] == ("sched.h", 11)
    assert items[6] == ("xen.h", 2)


def test_svg_is_xml_and_escaped():
    data = {"kind": "struct", "size": 16, "key": "struct x", "archs": ["x86_64"],
            "members": [{"path": "a<b>", "offset": 0, "size": 1, "bit_size": None},
                        {"path": "big", "offset": 8, "size": 8, "bit_size": None}],
            "holes": [{"offset": 1, "size": 7, "scope": ""}]}
    out = svg.render(data, 'caption "<&>"')
    root = ET.fromstring(out)
    assert root.tag.endswith("svg")
    assert "a<b>" not in out and "a&lt;b&gt;" in out


def test_write_if_changed_keeps_mtime(tmp_path):
    p = tmp_path / "a" / "b.hrst"
    assert write_if_changed(p, "x")
    before = p.stat().st_mtime_ns
    time.sleep(0.01)
    assert not write_if_changed(p, "x")
    assert p.stat().st_mtime_ns == before
    assert sync_tree(tmp_path, {"c": "y"}, ".hrst") == (1, 1)
    assert not p.exists()


# ------------------------------------------------------------------ pages


def test_sched_op_page_has_the_suspend_table(pages):
    page = pages["hypercalls/sched_op"]
    assert ".. xen:op:: SCHEDOP_shutdown" in page
    assert "When :xen:c:`sched_shutdown`" in page
    for reg in ("EDX", "RDX", "r2", "x2"):
        assert f"\\{reg}" in page
    assert "\\must be the MFN" in page and "\\any value" in page
    assert '<script>alert("x")</script>' in page     # as prose content, not as markup
    assert page.startswith(".. xen:links::")


def test_record_page_highlights_the_odd_arch(pages):
    page = pages["headers/io/blkif.h"]
    section = page.split(".. xen:cstruct:: blkif_request\n", 1)[1]
    table = json.loads(section.split(".. xen:layout::", 1)[1].strip().split("\n", 1)[0])
    row = next(r for r in table["rows"] if r.get("path") == "id")
    assert row["cells"]["x86_32"] == [4, 8] and row["cells"]["x86_64"] == [8, 8]
    assert row["odd"] == ["x86_32"]
    assert ".. xen:ctype:: blkif_request_t" in section


def test_every_generated_line_maps_to_a_header_line(pages):
    page = pages["headers/sched.h"]
    lines = page.split("\n")
    items = map_lines(lines, "headers/sched.h.hrst")
    listing = lines.index("   :anchors:")
    first = listing + 2                        # the blank line, then header line 1
    assert lines[first] == "   |/*" and items[first] == ("sched.h", 0)


# ------------------------------------------------------------------ Sphinx


def _stage(model, out: Path, facts=None, texts=None) -> tuple[int, int]:
    from headerparse.site.render import sync_tree as sync

    src = out / ".staging" / "src"
    pages = generate(model, facts or synthetic_facts(model), texts or TEXTS)
    w, r = sync(src, pages, paths.PAGE_SUFFIX)
    hand = {p.relative_to(paths.SOURCE).with_suffix("").as_posix():
            p.read_text("utf-8") for p in (paths.SOURCE).rglob("*.rst")}
    sync(src, hand, ".rst")
    return w, r


@pytest.fixture(scope="module")
def built(tmp_path_factory, model):
    out = tmp_path_factory.mktemp("site")
    _stage(model, out)
    assert sphinx(out, jobs="2", strict=True, quiet=True)
    return out


def test_build_is_warning_free_and_escapes_prose(built):
    html = (built / "html" / "hypercalls" / "sched_op.html").read_text()
    assert "&lt;script&gt;alert" in html
    assert "<script>alert" not in html
    assert "*not emphasis*" in html and "<em>not emphasis</em>" not in html
    findings = (built / "html" / "findings.html").read_text()
    assert "&lt;b&gt;misaligned&lt;/b&gt;" in findings


def test_cross_references_resolve_to_definitions(built):
    html = (built / "html" / "hypercalls" / "sched_op.html").read_text()
    assert 'href="../headers/sched.h.html#c.sched_shutdown"' in html
    assert 'href="../headers/sched.h.html#c.SHUTDOWN_suspend"' in html
    assert 'id="xen-op-SCHEDOP_shutdown"' in html
    header = (built / "html" / "headers" / "sched.h.html").read_text()
    assert 'id="L10"' in header and 'href="#L10"' in header


def test_every_internal_link_resolves(built):
    checked, broken = check_site(built / "html")
    assert checked > 100
    assert broken == []


def test_inventory_for_intersphinx(built):
    from sphinx.util.inventory import InventoryFile

    with open(built / "html" / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "https://example.org", lambda a, b: f"{a}/{b}")
    data = inv.data if hasattr(inv, "data") else inv
    assert "sched_shutdown" in data["c:struct"]
    assert "SHUTDOWN_suspend" in data["c:macro"]
    assert "sched_op" in data["xen:hypercall"]
    assert "SCHEDOP_shutdown" in data["xen:op"]
    assert "x86-pv64" in data["xen:variant"]
    assert "sched.h" in data["xen:header"]


def test_diagram_and_search_index(built):
    html = (built / "html" / "headers" / "io" / "blkif.h.html").read_text()
    record = html.split('id="c.blkif_request"', 1)[1]
    assert record.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2   # x86_32, the rest
    assert "hp-odd" in html
    assert (built / "html" / "searchindex.js").stat().st_size > 1000
    assert (built / "html" / "genindex.html").exists()


def test_incremental_rebuild_touches_only_affected_pages(tmp_path, model):
    out = tmp_path / "site"
    _stage(model, out)
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    html = out / "html"
    before = {p: p.stat().st_mtime_ns for p in html.rglob("*.html")}
    time.sleep(0.05)
    # Edit one header: a comment of io/blkif.h changes.
    texts = dict(TEXTS, **{"io/blkif.h": TEXTS["io/blkif.h"].replace("ring", "queue")})
    written, _ = _stage(model, out, texts=texts)
    assert written == 1
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    changed = {p.relative_to(html).as_posix() for p in html.rglob("*.html")
               if p.stat().st_mtime_ns != before.get(p)}
    # The header's page, and (Sphinx's rule) the page whose toctree lists it.
    pages = {c for c in changed if c not in ("genindex.html", "search.html")}
    assert pages == {"headers/io/blkif.h.html", "headers/index.html"}


def test_failed_build_keeps_the_good_site(tmp_path, model):
    out = tmp_path / "site"
    _stage(model, out)
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    good = (out / "html").resolve()
    index = (out / "html" / "overview.html").read_text()
    bad = out / ".staging" / "src" / "broken.rst"
    bad.write_text("Broken\n======\n\n:c:macro:`NO_SUCH_MACRO`\n")
    assert not sphinx(out, jobs="1", strict=True, quiet=True)
    assert (out / "html").resolve() == good
    assert (out / "html" / "overview.html").read_text() == index
    assert not (out / ".staging" / "doctrees" / "environment.pickle").exists()
    bad.unlink()
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    assert (out / "html").resolve() != good and not good.exists()


def test_directives_for_another_sphinx_project(tmp_path, model):
    (tmp_path / "model.json").write_text(json.dumps(model_to_json(model)))
    (tmp_path / "conf.py").write_text(
        "extensions = ['headerparse.sphinxext']\nxen_model = 'model.json'\n"
        "xen_missing_refs = 'text'\nnitpicky = True\n")
    (tmp_path / "index.rst").write_text(
        "Xen docs\n========\n\n.. xen:auto-hypercall:: sched_op\n\n"
        ".. xen:auto-type:: struct sched_shutdown\n\nSee :xen:hypercall:`sched_op` and "
        ":c:struct:`sched_shutdown`.\n")
    from sphinx.cmd.build import build_main

    status = build_main(["-q", "-W", "-n", "-b", "html", str(tmp_path),
                         str(tmp_path / "_build")])
    assert status == 0
    html = (tmp_path / "_build" / "index.html").read_text()
    assert "SCHEDOP_shutdown" in html and 'id="c.sched_shutdown"' in html
    assert "&lt;script&gt;" in html


def _cli_build(tmp_path, monkeypatch, model) -> Path:
    """`headerparse build` with the extraction replaced by the synthetic model."""
    from headerparse import cli
    from headerparse.tree import HeaderTree

    tree = HeaderTree("synthetic", {k: v.encode() for k, v in TEXTS.items()})
    monkeypatch.setattr(site_cli, "open_args_tree", lambda args: tree)
    monkeypatch.setattr(site_cli, "extractor", lambda args: lambda tree: model)
    (tmp_path / "none").mkdir(exist_ok=True)   # an empty annotations directory: none
    monkeypatch.setenv("HEADERPARSE_ANNOTATIONS", str(tmp_path / "none"))
    out = tmp_path / "out"
    assert cli.main(["build", "-q", "-o", str(out), "-j", "1"]) == 0
    return out


def test_build_command_end_to_end(tmp_path, monkeypatch, model):
    out = _cli_build(tmp_path, monkeypatch, model)
    assert (out / "html" / "index.html").is_file()
    assert os.path.islink(out / "html")
    # Generated reST goes to the output dir, never into the repository.
    assert (out / ".staging" / "src" / "headers" / "sched.h.hrst").is_file()
    assert not list((paths.SOURCE).rglob("*.hrst"))


def test_warnings_point_at_the_header_line(tmp_path, model, capsys):
    out = tmp_path / "site"
    _stage(model, out)
    err = failed_probe(out, "Probe\n=====\n\n.. hp-loc: io/blkif.h:99\n\n"
                       ":c:macro:`NO_SUCH_MACRO`\n", capsys)
    assert "/src/xen/include/public/io/blkif.h:100: WARNING" in err, err


def test_a_dangling_link_in_header_text_fails_at_its_line(tmp_path, model, capsys):
    # Names in prose are linked text (one node, links resolved in one pass): a link
    # whose target no page declares is a warning at the header line, as a role is.
    out = tmp_path / "site"
    _stage(model, out)
    err = failed_probe(out, "Probe\n=====\n\n.. xen:links::\n\n"
                       "   c:macro NO_SUCH probe NO_SUCH\n\n.. hp-loc: io/blkif.h:40\n\n"
                       ".. xen:prose::\n\n   |See NO_SUCH here.\n", capsys)
    # The marker's line stands for line 40; the text is three lines further.
    assert "/src/xen/include/public/io/blkif.h:43: WARNING: C declaration not found: NO_SUCH" \
        in err, err


def test_pages_rendered_by_workers_equal_the_serial_render(model, pages):
    parallel = generate(model, synthetic_facts(model), TEXTS, jobs=3)
    assert list(parallel) == list(pages) and parallel == pages


def test_other_builders_get_ordinary_nodes(tmp_path, model):
    # The compact nodes (declarations, linked text, facts, tables) are drawn by the
    # HTML writer; for any other builder they become docutils' and Sphinx's own.
    from sphinx.cmd.build import build_main

    out = tmp_path / "site"
    _stage(model, out)
    status = build_main(["-q", "-b", "text", "-c", str(paths.REPO), "-d",
                         str(tmp_path / "doctrees"), str(out / ".staging" / "src"),
                         str(tmp_path / "text")])
    assert status == 0
    page = (tmp_path / "text" / "headers" / "sched.h.txt").read_text()
    assert "struct sched_shutdown" in page             # a declaration's signature
    assert "SHUTDOWN_suspend" in page and "Value:" in page  # a macro and its facts
    assert "Clean up, save suspend info, kill." in page     # its prose
    assert "sched_shutdown_t" in page                 # linked text, as text


def test_a_build_that_fails_before_sphinx_leaves_the_site_alone(tmp_path, monkeypatch, model):
    # Sphinx is prepared in a child process while the parent extracts; when the
    # extraction fails, the child is cancelled and its copy of the site removed.
    from headerparse import cli

    out = _cli_build(tmp_path, monkeypatch, model)
    good = (out / "html").resolve()

    def broken(tree):
        raise UsageError("extraction failed")

    monkeypatch.setattr(site_cli, "extractor", lambda args: broken)
    assert cli.main(["build", "-q", "-o", str(out), "-j", "1"]) != 0
    assert (out / "html").resolve() == good
    assert [p for p in (out / ".sites").iterdir()] == [good]


def test_an_interrupted_build_keeps_the_site_and_drops_the_environment(tmp_path, model,
                                                                        monkeypatch):
    from sphinx.application import Sphinx

    out = tmp_path / "site"
    _stage(model, out)
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    good = (out / "html").resolve()
    env = out / ".staging" / "doctrees" / "environment.pickle"
    assert env.exists()

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Sphinx, "build", interrupted)
    assert not sphinx(out, jobs="1", strict=True, quiet=True)
    assert (out / "html").resolve() == good
    assert not env.exists()
    assert [p for p in (out / ".sites").iterdir()] == [good]


def test_sphinx_failing_to_start_fails_the_build_with_its_message(tmp_path, monkeypatch,
                                                                  model, capfd):
    # Sphinx is set up in a child process: its failure still reaches the user,
    # and the build exits non-zero with the published site as it was.
    from sphinx.application import Sphinx

    from headerparse import cli

    out = _cli_build(tmp_path, monkeypatch, model)
    good = (out / "html").resolve()

    def broken(self, *args, **kwargs):
        raise RuntimeError("conf.py went wrong")

    monkeypatch.setattr(Sphinx, "__init__", broken)
    assert cli.main(["build", "-q", "-o", str(out), "-j", "1"]) == EXIT_FINDINGS
    assert "sphinx: RuntimeError: conf.py went wrong" in capfd.readouterr().err
    assert (out / "html").resolve() == good
