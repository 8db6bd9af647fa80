"""``headerparse build``: extraction, pages, sphinx-build, and publishing the site.

A build renders every page but writes only the files whose text changed, so
Sphinx re-reads only those. Sphinx runs in a child process started before the
extraction (:func:`headerparse.site.sphinxrun.start`), which builds into a copy
of the published site (``-o DIR``, default ``_build/site``: the site is
``DIR/html``) and publishes it only on success.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    add_tree_options,
    annotations,
    extractor,
    leave_fast,
    open_args_tree,
    progress,
    report_errors,
)
from headerparse.paths import PAGE_SUFFIX, SOURCE
from headerparse.safeio import output_dir
from headerparse.site.pagestore import PageStore

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet
    from headerparse.model import Diagnostic, Model
    from headerparse.site.consumers import ConsumerPage
    from headerparse.site.facts import SiteFacts
    from headerparse.tree import HeaderTree

__all__ = ["cmd_build", "stage"]
SMALL_REBUILD = 8       # changed pages up to which one Sphinx process does the rebuild
PAGE_JOBS = 4           # processes rendering the pages, at most


def register(sub: Any) -> None:
    p = sub.add_parser("build", help="build the ABI site (extraction, pages, sphinx-build)")
    add_tree_options(p)
    p.add_argument("-o", "--output", default="_build/site", metavar="DIR",
                   help="output directory (default: _build/site); the site is DIR/html")
    p.add_argument("-j", "--jobs", default="auto", type=_jobs_arg,
                   help="sphinx-build parallel jobs: a number, or auto (default)")
    p.add_argument("--no-strict", action="store_true",
                   help="publish even when Sphinx warns (default: warnings fail the build)")
    p.add_argument("--full", action="store_true", help="drop the caches: rebuild every page")
    p.add_argument("-v", "--verbose", action="store_true", help="show sphinx-build's progress")
    p.add_argument("--consumer", action="append", default=[], metavar="NAME=DIR[:PROFILE]",
                   help="add a page comparing a project's copy of the headers with them "
                   "(as conform does; PROFILE defaults to NAME when it is a profile, else "
                   "generic); repeatable")
    p.add_argument("--history", metavar="GITDIR", help="for --consumer: a Xen git repository "
                   "whose release tags give each copy's best match (default: --tree when "
                   "it is one)")
    p.add_argument("--no-history", action="store_true",
                   help="no since-badges and release pages, even when --tree has release tags")
    p.set_defaults(func=cmd_build)


def _jobs_arg(value: str) -> str:
    if value == "auto" or (value.isdigit() and int(value) > 0):
        return value
    raise argparse.ArgumentTypeError(f"not a number of jobs: {value!r} (a number, or auto)")


def cmd_build(args: argparse.Namespace) -> int:
    from headerparse.site.sphinxrun import check_layout

    out = output_dir(args.output)
    check_layout(out)       # before any work: a refusal costs nothing
    with open(out / ".lock", "a+b") as lock:
        # Two builds into one output dir would publish each other's half-built copies.
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UsageError(f"another headerparse build is writing {out}") from exc
        leave_fast()
        return _build(args, out)


def _build(args: argparse.Namespace, out: Path) -> int:
    from headerparse.cli.conform import consumer_pages, locate_consumers
    from headerparse.site import sphinxrun
    from headerparse.site.version import site_conf

    say = progress(args)
    # The build holds some hundred thousand docutils nodes, each in reference
    # cycles (parent links) that live until the process ends anyway. The cyclic
    # collector kept re-scanning them all: a fifth of Sphinx's time on 4.17
    # (a third before the pages had fewer nodes), for about 150 MB less peak
    # memory. Reference counting still frees the rest.
    gc.disable()
    t0 = time.perf_counter()
    # Without --consumer, conform's modules are not even imported (a tenth of a second).
    located = locate_consumers(args.consumer) if args.consumer else []
    tree = open_args_tree(args)
    if args.full:
        shutil.rmtree(out / ".staging" / "doctrees", ignore_errors=True)
        PageStore.drop(out / ".staging")
    # Sphinx gets ready (imports, application, environment, a copy of the site)
    # in a child process while this one extracts and renders the pages.
    finish = sphinxrun.start(out, strict=not args.no_strict, quiet=not args.verbose,
                             header_root=_header_root(tree), conf=site_conf(tree))
    try:
        model = extractor(args)(tree)
        # A consumer that fails fails the build here, before any page is staged.
        consumers = consumer_pages(located, args, tree, model, say) if located else []
        history = _history(args, tree, say)
        t1 = time.perf_counter()
        written, removed = stage(model, tree, out, say, annotations(args, tree, model),
                                 consumers, history)
    except BaseException:
        finish(None)
        raise
    t2 = time.perf_counter()
    ok = finish(_jobs(args.jobs, out, written + removed))
    t3 = time.perf_counter()
    if not ok:
        say(f"sphinx-build failed; the site in {out / 'html'} was left as it was")
        return EXIT_FINDINGS
    say(f"site: {out / 'html' / 'index.html'} (extract {t1 - t0:.1f}s, pages {t2 - t1:.1f}s: "
        f"{written} written, {removed} removed; sphinx {t3 - t2:.1f}s)")
    # The site documents what compiled; CI must still hear that a header did not.
    return EXIT_FINDINGS if report_errors(model) else EXIT_OK


def _history(args: argparse.Namespace, tree: HeaderTree, say: Any) -> dict[str, Any] | None:
    """The tree's ABI history when it is a git repository with release tags (else None)."""
    from headerparse.site.history import tree_history
    from headerparse.tree import cache_dir

    if args.no_history:
        return None
    t0 = time.perf_counter()
    history = tree_history(tree, cache=None if args.no_cache else cache_dir(), say=say)
    if history is not None:
        say(f"history: {len(history['releases'])} releases, {len(history['symbols'])} symbols "
            f"({time.perf_counter() - t0:.1f}s)")
    return history


def _jobs(jobs: str, out: Path, changed: int) -> str:
    """Sphinx's -j: one process when a few pages changed since a kept environment.

    Forking readers and merging their environments back costs more than reading a
    handful of pages (about 0.6 s of a one-header rebuild)."""
    env = out / ".staging" / "doctrees" / "environment.pickle"
    if jobs == "auto" and changed <= SMALL_REBUILD and env.exists():
        return "1"
    return jobs


def _header_root(tree: Any) -> str:
    if tree.checkout_root:
        return str(Path(tree.checkout_root) / "xen" / "include" / "public")
    desc = tree.description.split(" (")[0]
    return desc if Path(desc).is_dir() else ""


def stage(model: Model, tree: HeaderTree, out: Path, say: Any = None,
          bound: tuple[AnnotationSet, list[Diagnostic]] | None = None,
          consumers: Sequence[ConsumerPage] = (),
          history: dict[str, Any] | None = None) -> tuple[int, int]:
    """Render every page into ``out/.staging/src``; return (files written, removed).

    ``bound`` is the annotations with their diagnostics (by default, the tree's own, as
    every command binds them); the checks run on them here. ``consumers``: a page each,
    linked from the overview. ``history`` is the tree's ABI history
    (:func:`headerparse.site.history.tree_history`): badges and release pages.
    """
    from headerparse.annotations.load import load_for_tree
    from headerparse.site import pagestore
    from headerparse.site.history import SiteHistory
    from headerparse.site.pages import site_of
    from headerparse.site.render import environment, sync_tree
    from headerparse.site.version import site_version

    staging = out / ".staging"
    aset, annotation_diags = bound if bound is not None else load_for_tree(model, tree)
    texts = {p: data.decode("utf-8", "replace") for p, data in tree.files.items()}
    facts, model_key = _facts(model, tree, aset, annotation_diags, texts, staging)
    env = environment(cache=staging / "jinja")
    version = site_version(tree)
    env.globals["site_version"] = version.long
    env.globals["consumer_docs"] = [c.spec.docname for c in consumers]
    with pagestore.noting() as outside:
        site = site_of(model, facts, texts, env)
        marks = None
        if history is not None:
            subops = frozenset(site.facts.subops.by_name) if site.facts.subops else frozenset()
            marks = env.globals["history"] = SiteHistory(
                history, version.short.removeprefix("Xen "), subops)
        todo = site.page_jobs()
        pagestore.warm(model, site, marks)
        pagestore.check_globals(env)
        store = PageStore(staging, PAGE_SUFFIX, tree.files)
        # Everything a page reads but the header files it notes (see pagestore).
        store.base = pagestore.fingerprint(
            pagestore.code_key(), model_key, site.facts, sorted(tree.files),
            [version.long, version.short, env.globals["consumer_docs"]], history,
            store.key(sorted(outside)) or "unkeyed")
        pages, kept = _stale_pages(site, store, todo, outside)
    if marks is not None:
        pages.update(marks.render_pages(site.render))
    if consumers:
        from headerparse.site import consumers as consumer_pages

        pages.update(consumer_pages.render(site, list(consumers)))
    written, removed = sync_tree(staging / "src", pages, PAGE_SUFFIX, keep=kept)
    store.save()
    hand = {p.relative_to(SOURCE).with_suffix("").as_posix(): p.read_text("utf-8")
            for p in SOURCE.rglob("*.rst")}
    w2, r2 = sync_tree(staging / "src", hand, ".rst")
    if say:
        say(f"pages: {len(pages) + len(kept) + len(hand)} ({len(pages)} rendered, "
            f"{written + w2} changed, {removed + r2} removed)")
    return written + w2, removed + r2


def _stale_pages(site: Any, store: PageStore, todo: list, outside: set[str]
                 ) -> tuple[dict[str, str], set[str]]:
    """The pages ``store`` cannot vouch for, rendered, and the others' docnames."""
    before = frozenset(outside)
    pages, kept = site.pages_since(store, todo, jobs=min(os.cpu_count() or 1, PAGE_JOBS))
    if outside != before:       # the fingerprint would have missed it
        raise RuntimeError(f"read outside a page after the fingerprint: {outside - before}")
    return pages, kept


def _facts(model: Model, tree: HeaderTree, aset: AnnotationSet,
           annotation_diags: list[Diagnostic], texts: dict[str, str],
           staging: Path) -> tuple[SiteFacts, str]:
    """The pages' facts with the checks' findings, and the model's digest for the page
    store. The checks (a third of the page stage of a one-header rebuild) run in a
    forked child while this process derives the rest."""
    from headerparse.parallel import WorkerFailed, can_fork, fork_map
    from headerparse.site import pagestore
    from headerparse.site.facts import site_facts, with_diagnostics

    def facts() -> tuple[SiteFacts, str]:
        # The facts read the comments and texts of the headers that define hypercalls
        # and sub-ops: an edit elsewhere reuses the last build's.
        model_key = pagestore.masked_digest(model)
        base = pagestore.fingerprint(pagestore.code_key(), model_key, aset)
        return pagestore.reuse(staging / pagestore.FACTS, base, tree.files, lambda: site_facts(
            model, aset, (), pagestore.Texts(texts))), model_key

    def checks() -> Any:
        # Imported by the child that runs them, not before the fork by this process.
        from headerparse.checks.run import site_diagnostics

        return site_diagnostics(tree.files, model, aset, annotation_diags)

    jobs: list[Callable[[], Any]] = [facts, checks]
    try:
        mine, found = fork_map(lambda job: job(), jobs) if can_fork() else [j() for j in jobs]
    except WorkerFailed as exc:
        if exc.error is not None:      # the checks' own error, as without the fork
            raise exc.error from None
        raise
    facts, model_key = mine
    return with_diagnostics(facts, model, found), model_key
