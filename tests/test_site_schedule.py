"""How ``-j N`` shares the site's documents among processes: evenly, and with the
same site as one process builds (pages, search index, inventory, byte for byte)."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.models import TEXTS, synthetic_facts, synthetic_model

from headerparse import paths
from headerparse.site.pages import generate
from headerparse.site.render import sync_tree
from headerparse.site.sphinxrun import sphinx
from headerparse.sphinxext import schedule


def _stage(out: Path) -> None:
    model = synthetic_model()
    src = out / ".staging" / "src"
    sync_tree(src, generate(model, synthetic_facts(model), TEXTS), paths.PAGE_SUFFIX)
    hand = {p.relative_to(paths.SOURCE).with_suffix("").as_posix(): p.read_text("utf-8")
            for p in paths.SOURCE.rglob("*.rst")}
    sync_tree(src, hand, ".rst")


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def serial_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    _stage(out)
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    return (out / "html").resolve()


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_parallel_build_equals_the_serial_one(tmp_path, serial_site, jobs):
    _stage(tmp_path)
    assert sphinx(tmp_path, jobs=jobs, strict=True, quiet=True)
    mine = _files((tmp_path / "html").resolve())
    assert len(mine) > 20 and {"searchindex.js", "objects.inv", "genindex.html"} <= set(mine)
    _same_site((tmp_path / "html").resolve(), serial_site)


def _same_site(a: Path, b: Path) -> None:
    mine, theirs = _files(a), _files(b)
    assert sorted(mine) == sorted(theirs)
    differ = [name for name in mine if not filecmp.cmp(mine[name], theirs[name], shallow=False)]
    assert differ == []


def _edit(out: Path) -> None:
    for page in (out / ".staging" / "src" / "headers").rglob("*.hrst"):
        page.write_text(page.read_text().replace("echoed", "returned unchanged"))


def _rebuilt(out: Path, jobs: str) -> Path:
    """The site after a first build and a rebuild (with ``jobs``) of an edited header
    page: Sphinx keeps the first build's environment and search index."""
    _stage(out)
    assert sphinx(out, jobs="1", strict=True, quiet=True)
    _edit(out)
    assert sphinx(out, jobs=jobs, strict=True, quiet=True)
    assert "returned unchanged" in (out / "html" / "headers" / "io" / "blkif.h.html").read_text()
    return (out / "html").resolve()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rebuild_after_an_edit_equals_a_full_build(tmp_path, jobs):
    # Among others, the search index keeps the index entries of the pages the
    # rebuild did not write (Sphinx's loaded index had lost them: the sched_op
    # sub-ops' entries, say, after an edit of io/blkif.h).
    full = tmp_path / "full"
    _stage(full)
    _edit(full)
    assert sphinx(full, jobs="1", strict=True, quiet=True)
    rebuilt = _rebuilt(tmp_path / "rebuilt", jobs)
    index = (rebuilt / "searchindex.js").read_text()
    assert '"schedop_shutdown (sub-op)"' in index
    _same_site(rebuilt, (full / "html").resolve())


def test_a_dangling_reference_fails_a_parallel_build(tmp_path, capsys):
    # Documents are resolved in the worker processes: their warnings must still
    # reach the main process and fail a strict build.
    _stage(tmp_path)
    src = tmp_path / ".staging" / "src"
    for i in range(6):      # the broken pages land in different shares
        (src / f"broken{i}.rst").write_text(f"Broken {i}\n========\n\n:c:macro:`NO_SUCH_{i}`\n")
    assert not sphinx(tmp_path, jobs="2", strict=True, quiet=True)
    err = capsys.readouterr().err
    assert all(f"NO_SUCH_{i}" in err for i in range(6)), err
    assert not (tmp_path / "html").exists()


def test_shares_are_even_and_cover_every_document():
    sizes = {f"d{i}": s for i, s in enumerate([600, 500, 500, 170, 150, 90, 80, 70]
                                               + [5] * 60)}
    groups = schedule.shares(sorted(sizes), 2, sizes.__getitem__)
    assert sorted(d for g in groups for d in g) == sorted(sizes)
    assert all(g == sorted(g) for g in groups)
    loads = [sum(sizes[d] for d in g) for g in groups]
    assert max(loads) - min(loads) <= 5        # the smallest document's cost
    assert schedule.shares(["a"], 4, lambda d: 1.0) == [["a"]]
    assert schedule.shares([], 2, lambda d: 1.0) == []


def _listener(fn):
    return SimpleNamespace(handler=fn)


def test_foreign_handlers_of_resolved_documents_keep_sphinxs_writing():
    def foreign(app, doctree, docname):     # an extension's: state a worker would lose
        pass

    ours = schedule.shares        # any function of this package
    builder = SimpleNamespace(indexer=None, events=SimpleNamespace(
        listeners={"doctree-resolved": [_listener(ours)]}))
    assert schedule.HTMLBuilder._shareable(builder)
    builder.events.listeners["doctree-resolved"].append(_listener(foreign))
    assert not schedule.HTMLBuilder._shareable(builder)


def test_the_site_configuration_uses_the_builder(tmp_path):
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    src.mkdir()
    (src / "index.rst").write_text("Title\n=====\n")
    # Inside docutils_namespace, as sphinx-build: an application registers its nodes
    # with docutils for the whole process, and a later strict build would then fail.
    with docutils_namespace():
        app = Sphinx(src, paths.REPO, tmp_path / "out", tmp_path / "dt", "html",
                     status=None, warning=None)
    assert isinstance(app.builder, schedule.HTMLBuilder)
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_event_debug_lines_do_not_copy_whole_pages(tmp_path):
    # Sphinx formats a debug line with repr() of each event's arguments; a page's
    # source or HTML must not be copied into it on every event.
    import sphinx.events
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    src.mkdir()
    (src / "index.rst").write_text("Title\n=====\n")
    with docutils_namespace():
        Sphinx(src, paths.REPO, tmp_path / "out", tmp_path / "dt", "html", status=None,
               warning=None)
    page = "x" * 1_000_000
    line = sphinx.events.repr(("docname", [page], {"body": page}))
    assert len(line) < 400 and line.startswith("('docname', ['xxx")
