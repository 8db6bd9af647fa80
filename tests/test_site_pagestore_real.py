"""Rendering only the changed pages, on Debian's 4.17 headers: a comment edit renders the
pages that show the comment, and the site built after it is byte for byte the site a
build from nothing makes of the edited headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from headerparse.annotations.load import load_for_tree
from headerparse.checks.run import site_diagnostics
from headerparse.cli import site as site_cli
from headerparse.extract.pipeline import Options, extract
from headerparse.site.facts import site_facts, with_diagnostics
from headerparse.site.pages import site_of
from headerparse.site.pagestore import noting, recorded, warm
from headerparse.site.sphinxrun import sphinx
from headerparse.tree import HeaderTree, cache_dir

pytestmark = pytest.mark.slow

# A comment of sched.h that the sched_op hypercall page shows too (SCHEDOP_yield's).
OLD, NEW = b"Voluntarily yield the CPU.", b"Voluntarily give up the CPU."


def _tree(files: dict[str, bytes]) -> HeaderTree:
    return HeaderTree("Debian libxen-dev 4.17", files)


def _build(tree: HeaderTree, out: Path) -> str:
    said: list[str] = []
    site_cli.stage(extract(tree, Options(), cache=cache_dir()), tree, out, said.append)
    assert sphinx(out, strict=True, quiet=True)
    return "\n".join(said)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_an_edit_build_makes_the_cold_builds_site(xen_tree_417, tmp_path):
    files = dict(xen_tree_417.files)
    assert files["sched.h"].count(OLD) == 1
    out = tmp_path / "edited"
    _build(_tree(files), out)
    edited = _tree(dict(files, **{"sched.h": files["sched.h"].replace(OLD, NEW)}))
    said = _build(edited, out)
    rendered = int(re.search(r"\((\d+) rendered", said).group(1))
    assert rendered == 2, said      # headers/sched.h and hypercalls/sched_op
    html = _files(out / "html")
    assert NEW in html["hypercalls/sched_op.html"] and OLD not in html["hypercalls/sched_op.html"]
    _build(edited, tmp_path / "cold")
    cold = _files(tmp_path / "cold" / "html")
    assert html.keys() == cold.keys()
    assert [p for p in html if html[p] != cold[p]] == []


def test_what_a_page_reads_does_not_depend_on_the_pages_before_it(xen_tree_417):
    """A cache that one page filled would hide from the pages after it what they read."""
    model = extract(xen_tree_417, Options(), cache=cache_dir())
    texts = {p: d.decode("utf-8", "replace") for p, d in xen_tree_417.files.items()}
    aset, diags = load_for_tree(model, xen_tree_417)
    facts = with_diagnostics(site_facts(model, aset, (), texts), model,
                             site_diagnostics(xen_tree_417.files, model, aset, diags))

    def reads(order: int) -> dict[str, list[str]]:
        with noting():
            site = site_of(model, facts, texts)
            todo = site.page_jobs()[::order]
            warm(model, site)
            return {doc: recorded(render)()[1] for doc, _cost, render in todo}
    forward, backward = reads(1), reads(-1)
    assert forward == backward
    assert len(forward) > 100
    assert "sched.h" in forward["hypercalls/sched_op"]
    assert forward["headers/io/blkif.h"] == ["io/blkif.h"]
