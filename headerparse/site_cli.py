"""``headerparse build``: extraction, pages, sphinx-build, and publishing the site.

Output directory layout (``-o DIR``, default ``_build/site``)::

    DIR/html        -> the published site (a symlink swapped atomically)
    DIR/.sites/     the site versions; the one ``html`` points at, and a build's new one
    DIR/.staging/   generated reST (never in the repository) and Sphinx's doctree cache

A build renders every page but writes only the files whose text changed, so
Sphinx re-reads only those; it builds HTML into a copy of the published site and
only on success points ``html`` at the copy. A failed build leaves the old site in
place and drops Sphinx's environment, so the next build re-reads (and re-reports)
everything.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from headerparse import cli

REPO = Path(__file__).resolve().parents[1]
SUFFIX = ".hrst"
SMALL_REBUILD = 8       # changed pages up to which one Sphinx process does the rebuild
PAGE_JOBS = 4           # processes rendering the pages, at most


def add_parser(sub: Any) -> None:
    p = sub.add_parser("build", help="build the ABI site (extraction, pages, sphinx-build)")
    cli.add_tree_options(p)
    p.add_argument("-o", "--output", default="_build/site", metavar="DIR",
                   help="output directory (default: _build/site); the site is DIR/html")
    p.add_argument("-j", "--jobs", default="auto", help="sphinx-build parallel jobs")
    p.add_argument("--no-strict", action="store_true",
                   help="publish even when Sphinx warns (default: warnings fail the build)")
    p.add_argument("--full", action="store_true", help="drop the caches: rebuild every page")
    p.add_argument("-v", "--verbose", action="store_true", help="show sphinx-build's progress")
    p.set_defaults(func=cmd_build)


cli.EXTRA_COMMANDS.append(add_parser)


def cmd_build(args: argparse.Namespace) -> int:
    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a+b") as lock:
        # Two builds into one output dir would publish each other's half-built copies.
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise cli.UsageError(f"another headerparse build is writing {out}") from exc
        return _build(args, out)


def _build(args: argparse.Namespace, out: Path) -> int:
    say = cli._progress(args)
    # The build holds a few hundred thousand docutils nodes, each in reference
    # cycles (parent links) that live until the process ends anyway. The cyclic
    # collector kept re-scanning them all: a third of Sphinx's time on 4.17, for
    # about 200 MB less peak memory. Reference counting still frees the rest.
    gc.disable()
    t0 = time.perf_counter()
    model, tree = _load(args, say)
    t1 = time.perf_counter()
    written, removed = stage(model, tree, out, say)
    t2 = time.perf_counter()
    if args.full:
        shutil.rmtree(out / ".staging" / "doctrees", ignore_errors=True)
    # Sphinx's own closing line names the unpublished copy, so it is quiet by default.
    ok = sphinx(out, jobs=_jobs(args.jobs, out, written + removed),
                strict=not args.no_strict, quiet=not args.verbose,
                header_root=_header_root(tree))
    t3 = time.perf_counter()
    if not ok:
        say(f"sphinx-build failed; the site in {out / 'html'} was left as it was")
        return cli.EXIT_FINDINGS
    say(f"site: {out / 'html' / 'index.html'} (extract {t1 - t0:.1f}s, pages {t2 - t1:.1f}s: "
        f"{written} written, {removed} removed; sphinx {t3 - t2:.1f}s)")
    return cli.EXIT_OK


def _jobs(jobs: str, out: Path, changed: int) -> str:
    """Sphinx's -j: one process when a few pages changed since a kept environment.

    Forking readers and merging their environments back costs more than reading a
    handful of pages (about 0.6 s of a one-header rebuild)."""
    env = out / ".staging" / "doctrees" / "environment.pickle"
    if jobs == "auto" and changed <= SMALL_REBUILD and env.exists():
        return "1"
    return jobs


def _load(args: argparse.Namespace, say: Any) -> tuple[Any, Any]:
    from headerparse.extract import ExtractError, Options, extract
    from headerparse.tree import TreeError, cache_dir, open_tree

    try:
        tree = open_tree(args.tree, args.rev, progress=say)
        archs = tuple(a.strip() for a in args.arch.split(",") if a.strip()) if args.arch else None
        options = Options(archs=archs, tools=not args.no_tools,
                          interface_version=args.interface_version)
        model = extract(tree, options, progress=say,
                        cache=None if args.no_cache else cache_dir())
    except (TreeError, ExtractError) as exc:
        raise cli.UsageError(str(exc)) from exc
    return model, tree


def _header_root(tree: Any) -> str:
    if tree.checkout_root:
        return str(Path(tree.checkout_root) / "xen" / "include" / "public")
    desc = tree.description.split(" (")[0]
    return desc if Path(desc).is_dir() else ""


def stage(model: Any, tree: Any, out: Path, say: Any = None) -> tuple[int, int]:
    """Render every page into ``out/.staging/src``; return (files written, removed)."""
    from headerparse.site.facts import load_facts
    from headerparse.site.pages import generate
    from headerparse.site.render import sync_tree

    src = out / ".staging" / "src"
    facts = load_facts(model, tree)
    texts = {p: data.decode("utf-8", "replace") for p, data in tree.files.items()}
    pages = generate(model, facts, texts, jobs=min(os.cpu_count() or 1, PAGE_JOBS))
    written, removed = sync_tree(src, pages, SUFFIX)
    hand = {p.relative_to(REPO / "source").with_suffix("").as_posix(): p.read_text("utf-8")
            for p in (REPO / "source").rglob("*.rst")}
    w2, r2 = sync_tree(src, hand, ".rst")
    if say:
        say(f"pages: {len(pages) + len(hand)} ({written + w2} changed, {removed + r2} removed)")
    return written + w2, removed + r2


def sphinx(out: Path, *, jobs: str = "auto", strict: bool = True, quiet: bool = True,
           header_root: str = "") -> bool:
    """Build HTML into a copy of the published site; publish it only on success."""
    from sphinx.cmd.build import build_main

    staging = out / ".staging"
    sites = out / ".sites"
    sites.mkdir(parents=True, exist_ok=True)
    live = (out / "html").resolve() if (out / "html").is_symlink() else None
    for stale in sites.iterdir():       # left behind by a build that was killed
        if stale != live:
            shutil.rmtree(stale, ignore_errors=True)
    new = Path(tempfile.mkdtemp(prefix="site-", dir=sites))
    new.chmod(0o755)    # mkdtemp makes it private; a web server must read it
    current = (out / "html").resolve() if (out / "html").exists() else None
    if current is not None and current.is_dir():
        # copy2 keeps mtimes: Sphinx compares them with the sources' to skip
        # pages that are up to date.
        shutil.copytree(current, new, symlinks=True, copy_function=shutil.copy2,
                        dirs_exist_ok=True)
    argv = ["-b", "html", "-n", "-c", str(REPO), "-d", str(staging / "doctrees"),
            "-j", str(jobs), "-D", f"xen_header_root={header_root}"]
    if strict:
        argv += ["-W", "--keep-going"]
    if quiet:
        argv += ["-q"]
    status = build_main([*argv, str(staging / "src"), str(new)])
    if status != 0:
        shutil.rmtree(new, ignore_errors=True)
        # Pages read in this build would not be read again, and their warnings lost.
        (staging / "doctrees" / "environment.pickle").unlink(missing_ok=True)
        return False
    _prune(new, staging / "src")
    publish(out, new)
    return True


def _prune(html: Path, src: Path) -> None:
    """Remove pages of documents that no longer exist (Sphinx leaves them behind)."""
    docs = {p.relative_to(src).with_suffix("").as_posix()
            for p in src.rglob("*") if p.suffix in (SUFFIX, ".rst")}
    for page in html.rglob("*.html"):
        rel = page.relative_to(html).with_suffix("").as_posix()
        if rel.startswith("_") or rel in ("genindex", "search", "py-modindex"):
            continue
        if rel not in docs:
            page.unlink()


def publish(out: Path, new: Path) -> None:
    """Point ``out/html`` at ``new`` atomically and remove the previous version."""
    link = out / "html"
    old = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        legacy = out / ".sites" / f"legacy-{os.getpid()}"
        link.rename(legacy)
        old = legacy
    tmp = out / f".html-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(new.relative_to(out))
    os.replace(tmp, link)
    if old is not None and old != new:
        shutil.rmtree(old, ignore_errors=True)


def main() -> None:   # pragma: no cover - convenience for `python -m headerparse.site_cli`
    sys.exit(cli.main(["build", *sys.argv[1:]]))
