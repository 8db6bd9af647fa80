"""Where the headers come from: a checkout, a public dir, an installed dir, a git rev, or Debian.

Every source is read into a :class:`HeaderTree` of bytes keyed by the path relative to the
public include root, so later stages never care which layout the user pointed at.
Debian's ``libxen-dev`` is fetched with the machine's own apt (no root needed) and cached.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from headerparse import treesafe
from headerparse.paths import EXTRA_FILES, HYPERCALL_DEFS, PUBLIC

if TYPE_CHECKING:
    import subprocess

Progress = Callable[[str], None] | None

PACKAGE = "libxen-dev"
_MARKER = "headerparse.json"        # written next to an extracted .deb: where it came from
_SUITE_RE = re.compile(r"[a-z0-9][a-z0-9.+-]*")
_TIMEOUT = 900                      # seconds; an apt mirror that stalls must not hang a CI run


class TreeError(Exception):
    """A user-facing problem with a header tree; the message is a complete sentence."""


@dataclass(frozen=True)
class HeaderTree:
    description: str
    files: Mapping[str, bytes]
    checkout_root: str | None = None
    extra: Mapping[str, bytes] = field(default_factory=dict)
    #: The repository and commit of a tree read at a git revision (``--rev``).
    git_rev: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        # Private sorted copies: callers mutating their dicts later must not change a tree
        # whose hash may already have been taken.
        object.__setattr__(self, "files", dict(sorted(self.files.items())))
        object.__setattr__(self, "extra", dict(sorted(self.extra.items())))
        # Every tree, read or patched, is refused whole when a name could not be written
        # below the public dir (absolute, '..', not UTF-8, too long, a file under a file).
        for problem in treesafe.problems(self.files):
            raise TreeError(f"{self.description}: {problem}.")

    def __hash__(self) -> int:
        return hash((self.description, self.content_hash()))

    @cached_property
    def _digest(self) -> str:
        h = hashlib.sha256()
        for path, data in sorted(self.files.items()):
            # Length prefixes keep ("a", b"bc") and ("ab", b"c") apart.
            name = path.encode("utf-8", "surrogateescape")
            h.update(b"%d:%s\0%d:" % (len(name), name, len(data)))
            h.update(data)
        return h.hexdigest()

    def git_source(self) -> tuple[Path, str] | None:
        """The git repository the headers come from and the revision they are at: a
        checkout's HEAD, or ``--rev``'s commit; None for a plain directory."""
        if self.checkout_root:
            return Path(self.checkout_root), "HEAD"
        if self.git_rev:
            return Path(self.git_rev[0]), self.git_rev[1]
        return None

    def content_hash(self) -> str:
        """sha256 over the sorted (path, bytes) pairs of :attr:`files`."""
        return self._digest

    def materialize(self, cache: Path | None = None) -> Path:
        """Write the headers to ``<cache>/trees/<hash>/include/public``; return ``.../include``.

        The directory is content-addressed and only ever appears complete (built in a temp dir
        and renamed), so concurrent runs can share it.
        """
        final = self.materialized_path(cache).parent
        trees = final.parent
        if not final.is_dir():
            trees.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=trees))
            try:
                self._write(tmp / "include" / "public")
                try:
                    tmp.rename(final)
                except OSError:
                    if not final.is_dir():      # lost a race only if the winner's dir exists
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return final / "include"

    def materialized_path(self, cache: Path | None = None) -> Path:
        """Where :meth:`materialize` puts (or has put) the headers' include directory."""
        return (cache or cache_dir()) / "trees" / self.content_hash() / "include"

    def _write(self, public: Path) -> None:
        public.mkdir(parents=True)
        for rel, data in self.files.items():
            parts = Path(rel).parts
            if not parts or Path(rel).is_absolute() or ".." in parts:
                raise TreeError(f"Header path {rel!r} in {self.description} is not relative.")
            target = public.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def cache_dir() -> Path:
    """$HEADERPARSE_CACHE, else $XDG_CACHE_HOME/headerparse, else ~/.cache/headerparse."""
    if os.environ.get("HEADERPARSE_CACHE"):
        return Path(os.environ["HEADERPARSE_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "headerparse"
    return Path.home() / ".cache" / "headerparse"


def default_suite(os_release: Path = Path("/etc/os-release")) -> str:
    """The machine's Debian suite (``VERSION_CODENAME``): the suite fetched when none is named."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "VERSION_CODENAME" and value.strip().strip("\"'"):
            return value.strip().strip("\"'")
    raise TreeError(
        f"Cannot tell this machine's Debian suite (no VERSION_CODENAME in {os_release}); "
        "name a suite such as bookworm, or pass --tree PATH to headers you already have."
    )


# --------------------------------------------------------------------------- open_tree


def open_tree(path: str | None, rev: str | None = None, *, cache: Path | None = None,
              progress: Progress = None) -> HeaderTree:
    """Read the public headers from ``path`` (at git revision ``rev`` if given).

    ``path`` None means Debian's libxen-dev for this machine's suite (fetched and cached).
    """
    if path is None:
        if rev is not None:
            raise TreeError(f"A revision ({rev}) needs a Xen git repository to read it from.")
        return open_tree(str(fetch_debian_headers(cache=cache, progress=progress)))
    root = Path(path).absolute()
    if not root.exists():
        raise TreeError(f"Header tree {root} does not exist.")
    if not root.is_dir():
        raise TreeError(f"Header tree {root} is not a directory.")
    if rev is not None:
        return _open_git(root, rev)
    if (root / PUBLIC / "xen.h").is_file():
        return _open_checkout(root)
    if _is_public_dir(root):
        if root.parts[-3:] == tuple(PUBLIC.split("/")) and _looks_like_checkout(root.parents[2]):
            return _open_checkout(root.parents[2])
        return _open_public(root)
    raise TreeError(_not_a_tree_message(root))


def _is_public_dir(root: Path) -> bool:
    return (root / "xen.h").is_file() and ((root / "sched.h").is_file()
                                           or (root / "arch-x86").is_dir())


def _looks_like_checkout(root: Path) -> bool:
    # Only promote .../xen/include/public to its checkout when the rest of Xen is really there.
    return (root / "xen" / "Makefile").is_file() or (root / HYPERCALL_DEFS).is_file()


def _not_a_tree_message(root: Path) -> str:
    hints = [c for c in (root / "xen", root / "usr/include/xen", root / "include/public")
             if _is_public_dir(c)]
    hint = f" Did you mean {hints[0]}?" if hints else ""
    return (
        f"{root} is not a Xen header tree: no xen.h under {root} (expected a Xen checkout with "
        f"{PUBLIC}/xen.h, the public dir itself, or an installed include dir such as "
        f"/usr/include/xen).{hint}"
    )


def _read_headers(public: Path) -> dict[str, bytes]:
    try:
        return treesafe.read_dir(public)
    except treesafe.Unsafe as exc:
        raise TreeError(f"{public}: {exc}.") from exc


def _open_checkout(root: Path) -> HeaderTree:
    extra = {}
    for name in EXTRA_FILES:
        path = root / name
        if not path.is_file() or \
                not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root)):
            continue
        try:
            extra[name] = treesafe.read_regular_file(path, name)
        except treesafe.Unsafe as exc:
            raise TreeError(f"{root}: {exc}.") from exc
    return HeaderTree(f"{root} (checkout)", _read_headers(root / PUBLIC), str(root), extra)


def _open_public(root: Path) -> HeaderTree:
    installed = (root / "foreign").is_dir() or (root / "sys").is_dir()
    description = f"{root} ({'installed' if installed else 'public headers'})"
    if root.parts[-3:] == ("usr", "include", "xen"):
        try:
            marker = json.loads((root.parents[2] / _MARKER).read_text(encoding="utf-8"))
            description = str(marker["description"])
        except (OSError, ValueError, KeyError, TypeError):
            pass                # not one of our Debian extractions: the path says enough
    return HeaderTree(description, _read_headers(root), None, {})


# --------------------------------------------------------------------------- git revisions


def run_tool(cmd: list[str], *, cwd: Path | None = None, input: bytes | None = None,
             env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``cmd``'s result (never raising on its exit status); TreeError when it is not
    installed or does not finish in time."""
    # Here, not at the top: a run that reads a directory starts no tool, and the import
    # is a 700th of a cold extraction, before its parsers can start.
    import subprocess

    try:
        return subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, env=env,
                              timeout=_TIMEOUT, check=False)
    except FileNotFoundError as e:
        raise TreeError(f"{cmd[0]} was not found on PATH.") from e
    except subprocess.TimeoutExpired as e:
        raise TreeError(f"{' '.join(cmd)} did not finish within {_TIMEOUT} seconds.") from e


def _git(root: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # Inherited GIT_DIR and friends (e.g. when run from a git hook) would point at another repo.
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")}
    return run_tool(["git", "-C", str(root), *args], input=input, env=env)


def _messages(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The last few lines of stderr, on one line, for a TreeError."""
    # apt's note about not sandboxing downloads into a root-owned dir is noise, not a cause.
    lines = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines()
             if line.strip() and "unsandboxed" not in line]
    return " ".join(lines[-3:])


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    return _messages(proc) or f"exit status {proc.returncode}"


def _open_git(root: Path, rev: str) -> HeaderTree:
    if not _git(root, "rev-parse", "--git-dir").returncode == 0:
        raise TreeError(f"{root} is not a git repository, so revision {rev} cannot be read.")
    if not rev or rev.startswith("-"):
        raise TreeError(f"{rev!r} is not a valid git revision.")
    proc = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if proc.returncode != 0:
        raise TreeError(f"Revision {rev} does not exist in the git repository {root}.")
    commit = proc.stdout.decode().strip()
    blobs, links = _ls_tree(root, commit, PUBLIC, *EXTRA_FILES)
    headers = {p[len(PUBLIC) + 1:]: oid for p, oid in blobs.items()
               if p.startswith(PUBLIC + "/") and p.endswith(".h")}
    headers.update(_linked_headers(root, headers, links))
    if "xen.h" not in headers:
        raise TreeError(f"Revision {rev} of {root} has no {PUBLIC}/xen.h; is it a Xen repository?")
    contents = cat_blobs(root, list(blobs.values()))
    at = rev if commit.startswith(rev) else f"{rev} ({commit[:12]})"
    extra = {name: contents[blobs[name]] for name in EXTRA_FILES if name in blobs}
    # No checkout_root: the worktree is at some other revision, so its files must not be used.
    return HeaderTree(f"{root} at {at}", {p: contents[o] for p, o in headers.items()}, None, extra,
                      (str(root), commit))


def _linked_headers(root: Path, headers: dict[str, str], links: dict[str, str]
                    ) -> dict[str, str]:
    """Committed header symlinks, read as a checkout reads them: the header they point
    at when it is in the tree; a TreeError when they leave it."""
    texts = cat_blobs(root, list(links.values())) if links else {}
    out = {}
    for path, oid in links.items():
        if not (path.startswith(PUBLIC + "/") and path.endswith(".h")):
            continue
        rel = path[len(PUBLIC) + 1:]
        target = texts[oid].decode("utf-8", "surrogateescape")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
        if target.startswith("/") or resolved.startswith("..") or resolved not in headers:
            raise TreeError(f"{PUBLIC}/{rel} is a symlink to {target}, outside the tree; "
                            "refused.")
        out[rel] = headers[resolved]
    return out


def _ls_tree(root: Path, commit: str, *paths: str) -> tuple[dict[str, str], dict[str, str]]:
    """Path -> blob id for the regular files below ``paths`` at ``commit``, and for the
    symlinks."""
    proc = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
    if proc.returncode != 0:
        raise TreeError(f"Cannot list {PUBLIC} at {commit} in {root}: {_stderr(proc)}.")
    blobs: dict[str, str] = {}
    links: dict[str, str] = {}
    for entry in proc.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            kind = links if fields[0] == b"120000" else blobs
            kind[os.fsdecode(name)] = fields[2].decode()
    return blobs, links


def cat_blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    """The bytes of each git object ``oids`` names, read in one ``cat-file --batch``."""
    proc = _git(root, "cat-file", "--batch", input="".join(f"{o}\n" for o in oids).encode())
    if proc.returncode != 0:
        raise TreeError(f"Cannot read objects from the git repository {root}: {_stderr(proc)}.")
    out, pos, contents = proc.stdout, 0, {}
    for oid in oids:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split()
        if len(header) != 3:
            raise TreeError(f"Object {oid} is missing from the git repository {root}.")
        size = int(header[2])
        contents[oid] = out[eol + 1:eol + 1 + size]
        pos = eol + 1 + size + 1            # the batch format ends each object with a newline
    return contents


# --------------------------------------------------------------------------- Debian


def fetch_debian_headers(suite: str | None = None, *, cache: Path | None = None,
                         progress: Progress = None) -> Path:
    """The include dir (``.../usr/include/xen``) of Debian's libxen-dev for ``suite``, cached.

    The machine's own suite uses the system apt configuration as is; another suite gets a
    private apt setup derived from the system's main Debian archive entry. A cached extraction
    is reused without network access; delete ``<cache>/debian/<suite>`` to refetch.
    """
    machine = default_suite() if suite is None else None
    suite = suite or machine or ""
    if not _SUITE_RE.fullmatch(suite):
        raise TreeError(f"{suite!r} is not a Debian suite name (such as bookworm).")
    base = (cache or cache_dir()) / "debian"
    final = base / suite
    include = final / "usr" / "include" / "xen"
    if include.is_dir():
        return include
    base.mkdir(parents=True, exist_ok=True)
    with locked(base / f".{suite}.lock"):
        if not include.is_dir():            # another process may have fetched it meanwhile
            # A leftover without headers (an odd package) would block the rename; we hold the lock.
            shutil.rmtree(final, ignore_errors=True)
            _fetch_into(suite, final, base.parent / "apt" / suite, progress)
    if not include.is_dir():
        raise TreeError(f"Debian's {PACKAGE} for {suite} has no usr/include/xen; "
                        "pass --tree PATH to headers you already have.")
    return include


@contextmanager
def locked(lock: Path) -> Iterator[None]:
    """Hold ``lock`` exclusively: one fetch of a package at a time, across processes
    (the conform fetcher shares it)."""
    with open(lock, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fetch_into(suite: str, final: Path, apt_dir: Path, progress: Progress) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{suite}-", dir=final.parent))
    try:
        deb = _download(suite, tmp, apt_dir, progress)
        # The file name mangles the epoch (":" -> "%3a"); the control field is exact.
        version = deb.name.split("_")[1]
        if progress:
            progress(f"extracting {PACKAGE} {version} ({suite})…")
        root = tmp / "root"
        try:
            version = run_tool(["dpkg-deb", "-f", str(deb), "Version"]).stdout.decode().strip() \
                or version
            proc = run_tool(["dpkg-deb", "-x", str(deb), str(root)])
        except TreeError as e:
            raise TreeError(f"Cannot unpack {deb.name} for {suite}: {e}") from e
        if proc.returncode != 0:
            raise TreeError(f"Cannot unpack {deb.name} for {suite}: {_stderr(proc)}.")
        marker = {"package": PACKAGE, "version": version, "suite": suite,
                  "description": f"Debian {PACKAGE} {version} ({suite})"}
        (root / _MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        root.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download(suite: str, dest: Path, apt_dir: Path, progress: Progress) -> Path:
    """Download the .deb into ``dest``: system apt for this machine's suite, else private apt."""
    failures: list[str] = []
    try:
        machine = default_suite()
    except TreeError:
        machine = None
    try:
        if suite == machine:
            if progress:
                progress(f"fetching {PACKAGE} for {suite}…")
            proc = apt_get([], "download", PACKAGE, cwd=dest)
            if proc.returncode == 0:
                return _the_deb(dest, suite)
            # Lists never updated (fresh container, no root): try a private apt setup instead.
            failures.append(f"system apt: {_stderr(proc)}")
        opts = _private_apt(suite, apt_dir, machine)
        if progress:
            progress(f"updating private apt lists for {suite}…")
        update = apt_get(opts, "update")
        if progress:
            progress(f"fetching {PACKAGE} for {suite}…")
        proc = apt_get(opts, "download", PACKAGE, cwd=dest)
        if proc.returncode == 0:
            return _the_deb(dest, suite)
        # apt-get update exits 0 on unreachable mirrors; its warnings explain the failure.
        failures.append(f"apt-get update: {_messages(update)}" if _messages(update) else "")
        failures.append(f"apt-get download: {_stderr(proc)}")
    except TreeError as e:
        failures.append(str(e))
    details = "; ".join(f.rstrip(".") for f in failures if f)
    raise TreeError(
        f"Could not fetch Debian's {PACKAGE} for {suite} ({details}). Check network access and "
        "the apt configuration, or pass --tree PATH to Xen headers you already have."
    )


def apt_get(opts: list[str], *args: str,
            cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """``apt-get -q`` with ``opts`` (a private setup's, :func:`private_apt`) and ``args``."""
    return run_tool(["apt-get", "-q", *opts, *args], cwd=cwd, env=c_locale())


def c_locale() -> dict[str, str]:
    """This process's environment, for a tool whose error text ends up in TreeError
    messages and in bug reports: in English (LC_ALL=C), and never asking."""
    return {**os.environ, "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}


def _the_deb(dest: Path, suite: str) -> Path:
    debs = sorted(dest.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise TreeError(f"apt-get reported success but left no {PACKAGE} .deb for {suite}.")
    return debs[-1]


# ----------------------------------------------------------- private apt for another suite


@dataclass(frozen=True)
class _AptSource:
    """One apt source entry, kept close to its original text so every option survives."""

    one_line: bool
    types: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()    # deb822: (name, raw value incl. continuations)
    line: tuple[str, ...] = ()                  # one-line: "deb", "[opts]"?, uri, suite, comps

    def render(self, suite: str | None = None, types: tuple[str, ...] = ()) -> str:
        """The entry, for ``suite`` instead of its own suites, of ``types`` instead of its own."""
        if self.one_line:
            # "deb", "[opts]"?, uri; then the suite and the components.
            kinds, middle = types or self.line[:1], self.line[1:-1 - len(self.components)]
            suites = (suite,) if suite else self.line[-1 - len(self.components):][:1]
            return "".join(" ".join((kind, *middle, *suites, *self.components)) + "\n"
                           for kind in kinds)
        lines = []
        for name, value in self.fields:
            if name.lower() == "suites" and suite:
                value = suite
            elif name.lower() == "types" and types:
                value = " ".join(types)
            # A value that starts on the next line (an inline Signed-By key) gets no space.
            lines.append(f"{name}:{'' if value.startswith(chr(10)) else ' '}{value}\n")
        return "".join(lines)


def _parse_deb822(text: str) -> Iterator[_AptSource]:
    stanzas: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            stanzas.append([])
        elif line[0] in " \t" and stanzas[-1]:
            name, value = stanzas[-1][-1]
            stanzas[-1][-1] = (name, f"{value}\n{line}")
        elif ":" in line:
            name, _, value = line.partition(":")
            stanzas[-1].append((name.strip(), value.strip()))
    for fields in filter(None, stanzas):
        get = {n.lower(): v for n, v in fields}
        if get.get("enabled", "yes").strip().lower() == "no":
            continue
        yield _AptSource(False, *(tuple(get.get(k, "").split()) for k in ("types", "suites",
                                                                        "components")),
                      fields=tuple(fields))


def _parse_one_line(text: str) -> Iterator[_AptSource]:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        match = re.fullmatch(r"(deb(?:-src)?)\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)", line)
        if match:
            kind, opts, uri, suite, comps = match.groups()
            tokens = (kind, *([opts.strip()] if opts else []), uri, suite, *comps.split())
            yield _AptSource(True, (kind,), (suite,), tuple(comps.split()), line=tokens)


def system_sources(etc: Path) -> Iterator[_AptSource]:
    """The machine's apt source entries under ``etc`` (one-line and deb822 files)."""
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*"))]
    for f in files:
        if not f.is_file() or f.suffix not in (".list", ".sources"):
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        yield from _parse_deb822(text) if f.suffix == ".sources" else _parse_one_line(text)


def main_archive(sources: Iterator[_AptSource], machine: str | None) -> _AptSource | None:
    """The entry serving the machine's own suite from the main component: the Debian archive."""
    for src in sources:
        if "deb" in src.types and "main" in src.components and machine in src.suites:
            return src
    return None


def _private_apt(suite: str, apt_dir: Path, machine: str | None,
                 etc: Path = Path("/etc/apt")) -> list[str]:
    """Write a private apt setup for ``suite`` under ``apt_dir``; return apt-get's -o options."""
    return private_apt(apt_dir, archive_entry(etc, machine), suite)


def archive_entry(etc: Path, machine: str | None) -> _AptSource:
    """The machine's main Debian archive entry (:func:`main_archive`); TreeError if none."""
    src = main_archive(system_sources(etc), machine)
    if src is None:
        raise TreeError(f"No apt source for the main Debian archive (suite "
                        f"{machine or 'of this machine'}, component main) was found in "
                        f"{etc}/sources.list or {etc}/sources.list.d")
    return src


def private_apt(apt_dir: Path, src: _AptSource, suite: str | None = None,
                types: tuple[str, ...] = ()) -> list[str]:
    """An apt setup under ``apt_dir`` with ``src`` alone (:meth:`_AptSource.render` of
    ``suite`` and ``types``), and nothing of the system's state; apt-get's -o options."""
    for sub in ("lists/partial", "cache/archives/partial"):
        (apt_dir / sub).mkdir(parents=True, exist_ok=True)
    # apt picks the parser from the extension, so keep the original format.
    source_list = apt_dir / ("sources.list" if src.one_line else "debian.sources")
    source_list.write_text(src.render(suite, types), encoding="utf-8")
    (apt_dir / "status").touch()
    return [f"-oDir::Etc::SourceList={source_list}", "-oDir::Etc::SourceParts=/nonexistent",
            f"-oDir::State::Lists={apt_dir / 'lists'}", f"-oDir::Cache={apt_dir / 'cache'}",
            f"-oDir::State::Status={apt_dir / 'status'}", "-oAcquire::Languages=none"]
