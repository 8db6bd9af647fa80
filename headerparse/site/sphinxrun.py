"""Running Sphinx on the staged pages, and publishing the site it builds.

Output directory layout (``-o DIR``)::

    DIR/html        -> the published site (a symlink swapped atomically)
    DIR/.sites/     the site versions; the one ``html`` points at, and a build's new one
    DIR/.staging/   generated reST (never in the repository) and Sphinx's doctree cache

Sphinx builds HTML into a copy of the published site; only on success does
``html`` point at the copy. A failed build leaves the old site in place and drops
Sphinx's environment, so the next build re-reads (and re-reports) everything.

:func:`start` does the part that needs no pages (importing Sphinx, copying the
published site, setting up the application and loading its environment) in a
child process, while the caller extracts and renders; the build itself starts
when the caller says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headerparse.parallel import die_with_parent
from headerparse.paths import PAGE_SUFFIX, REPO
from headerparse.safeio import OutputError, raise_if_stopped


class SphinxBuild:
    """One Sphinx build of ``out/.staging/src`` into a new version of the site."""

    def __init__(self, out: Path, *, strict: bool, quiet: bool, header_root: str,
                 conf: dict[str, str] | None = None) -> None:
        self.out, self.strict, self.quiet, self.header_root = out, strict, quiet, header_root
        self.conf = dict(conf or {})
        self.staging = out / ".staging"
        self.new: Path | None = None
        self.app: Any = None
        self.error: BaseException | None = None
        self._contexts: list[Any] = []

    def prepare(self) -> None:
        """Everything before reading: the new site's directory and the application."""
        self.new = _new_version(self.out)
        (self.staging / "src").mkdir(parents=True, exist_ok=True)
        try:
            from sphinx.application import Sphinx
            from sphinx.util.docutils import docutils_namespace, patch_docutils

            # sphinx-build's own set-up: docutils' registries, patched for Sphinx.
            self._contexts = [patch_docutils(REPO), docutils_namespace()]
            for ctx in self._contexts:
                ctx.__enter__()
            self.app = Sphinx(
                self.staging / "src", REPO, self.new, self.staging / "doctrees", "html",
                confoverrides={"nitpicky": True, "xen_header_root": self.header_root,
                               **self.conf},
                status=None if self.quiet else sys.stdout, warning=sys.stderr,
                warningiserror=self.strict)
        except Exception as exc:   # noqa: BLE001 - reported by run(), as sphinx-build would
            self.error = exc

    def run(self, jobs: str) -> bool:
        """Build; publish the new site on success. True when it was published."""
        assert self.new is not None, "prepare() first"
        try:
            if self.error is None:
                self.app.parallel = (os.cpu_count() or 1) if jobs == "auto" else int(jobs)
                self.app.build()
                ok = self.app.statuscode == 0
            else:
                ok = False
        except BaseException as exc:  # noqa: BLE001 - as sphinx-build; signals too
            # An interrupted build must not keep an environment that says pages
            # were read which the published site does not have.
            self.error, ok = exc, False
        finally:
            for ctx in reversed(self._contexts):
                ctx.__exit__(None, None, None)
            self._contexts = []
        if self.error is not None:
            print(f"sphinx: {type(self.error).__name__}: {self.error}", file=sys.stderr)
        if not ok:
            shutil.rmtree(self.new, ignore_errors=True)
            # Pages read in this build would not be read again, and their warnings lost.
            (self.staging / "doctrees" / "environment.pickle").unlink(missing_ok=True)
            return False
        _prune(self.new, self.staging / "src")
        publish(self.out, self.new)
        return True

    def cancel(self) -> None:
        for ctx in reversed(self._contexts):
            ctx.__exit__(None, None, None)
        if self.new is not None:
            shutil.rmtree(self.new, ignore_errors=True)


def sphinx(out: Path, *, jobs: str = "auto", strict: bool = True, quiet: bool = True,
           header_root: str = "", conf: dict[str, str] | None = None) -> bool:
    """Build the staged pages into a new version of the site, in this process.
    ``conf``: configuration values to override (the title naming the Xen version)."""
    build = SphinxBuild(out, strict=strict, quiet=quiet, header_root=header_root, conf=conf)
    build.prepare()
    return build.run(jobs)


def start(out: Path, *, strict: bool, quiet: bool, header_root: str,
          conf: dict[str, str] | None = None) -> Callable[[str | None], bool]:
    """Prepare a build in a child process; return ``finish(jobs)``, which lets it
    build (``jobs=None``: cancels it) and says whether the site was published.

    Where ``fork`` is missing the build is prepared when ``finish`` is called."""
    if not hasattr(os, "fork"):
        def later(jobs: str | None) -> bool:
            return jobs is not None and sphinx(out, jobs=jobs, strict=strict, quiet=quiet,
                                               header_root=header_root, conf=conf)
        return later
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                                # the child: never returns
        os.close(write)
        code = 2
        try:
            # A killed build must not publish: the child hears of its parent's death
            # (SIGTERM, so that it removes its half-built copy).
            die_with_parent(parent, signal.SIGTERM)
            code = _child(out, read, strict, quiet, header_root, conf)
        except BaseException:   # noqa: BLE001 - terminated: exit non-zero, nothing published
            code = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(read)

    def finish(jobs: str | None) -> bool:
        try:
            try:
                with os.fdopen(write, "w") as pipe:
                    pipe.write(jobs or "")
            except BrokenPipeError:
                pass                            # the child is gone: its status says why
            _pid, status = os.waitpid(pid, 0)
        except BaseException:
            # Interrupted while Sphinx builds: it must not publish after we are gone.
            _stop(pid)
            raise
        return jobs is not None and os.waitstatus_to_exitcode(status) == 0

    return finish


def _stop(pid: int) -> None:
    """Terminate the Sphinx child (it removes its copy), then kill it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def check_layout(out: Path) -> None:
    """Refuse an output dir whose ``html``, ``.sites`` or ``.staging`` headerparse did not
    make: a build replaces and deletes there, and must never touch the user's files."""
    sites = out / ".sites"
    for d in (sites, out / ".staging"):
        if d.is_symlink() or (d.exists() and not d.is_dir()):
            raise OutputError(f"{d} is not a directory headerparse made (a symlink or a "
                              "file); move it away or choose another -o")
    html = out / "html"
    if html.is_symlink():
        target = Path(os.path.realpath(html))
        if target.parent != Path(os.path.realpath(sites)) or not target.name.startswith("site-"):
            raise OutputError(f"{html} points at {target}, not at a site headerparse "
                              "published; move it away or choose another -o")
    elif html.exists() or html.is_symlink():
        raise OutputError(f"{html} is not a site headerparse published (a real "
                          f"{'directory' if html.is_dir() else 'file'}); move it away or "
                          "choose another -o")


def _child(out: Path, read: int, strict: bool, quiet: bool, header_root: str,
           conf: dict[str, str] | None) -> int:
    build = SphinxBuild(out, strict=strict, quiet=quiet, header_root=header_root, conf=conf)
    build.prepare()
    with os.fdopen(read) as pipe:
        jobs = pipe.read()          # the parent writes once, when the pages are staged
    if not jobs:
        build.cancel()
        return 0
    return 0 if build.run(jobs) else 1


def _new_version(out: Path) -> Path:
    """A new directory under ``out/.sites`` holding a copy of the published site."""
    sites = out / ".sites"
    sites.mkdir(parents=True, exist_ok=True)
    check_layout(out)
    live = (out / "html").resolve() if (out / "html").is_symlink() else None
    for stale in sites.iterdir():       # left behind by a build that was killed
        # Only what a build makes: site-* directories (never through a symlink).
        if stale != live and stale.name.startswith("site-") and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    new = Path(tempfile.mkdtemp(prefix="site-", dir=sites))
    new.chmod(0o755)    # mkdtemp makes it private; a web server must read it
    current = (out / "html").resolve() if (out / "html").exists() else None
    if current is not None and current.is_dir():
        # copy2 keeps mtimes: Sphinx compares them with the sources' to skip
        # pages that are up to date.
        shutil.copytree(current, new, symlinks=True, copy_function=shutil.copy2,
                        dirs_exist_ok=True)
    return new


def _prune(html: Path, src: Path) -> None:
    """Remove pages of documents that no longer exist (Sphinx leaves them behind)."""
    docs = {p.relative_to(src).with_suffix("").as_posix()
            for p in src.rglob("*") if p.suffix in (PAGE_SUFFIX, ".rst")}
    for page in html.rglob("*.html"):
        rel = page.relative_to(html).with_suffix("").as_posix()
        if rel.startswith("_") or rel in ("genindex", "search", "py-modindex"):
            continue
        if rel not in docs:
            page.unlink()


def publish(out: Path, new: Path) -> None:
    """Point ``out/html`` at ``new`` atomically and remove the previous version."""
    check_layout(out)
    link = out / "html"
    old = link.resolve() if link.is_symlink() else None
    tmp = out / f".html-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    raise_if_stopped()
    tmp.symlink_to(new.relative_to(out))
    os.replace(tmp, link)
    if old is not None and old != new:
        shutil.rmtree(old, ignore_errors=True)
