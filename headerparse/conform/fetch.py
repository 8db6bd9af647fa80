"""Real consumer copies of the Xen headers, from Debian's source packages, cached.

Only the directories holding the copy are unpacked from each upstream tarball (a
few hundred kilobytes out of the whole source), under ``<cache>/consumers/<name>``.
The apt setup is private (lists and cache under ``<cache>/apt/src-<suite>``) and
derived from the machine's own Debian archive entry with ``deb-src``: no root, and
the system's apt state is left alone. Debian's own patches are not applied: the
copies are upstream's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from headerparse.tree import (
    TreeError,
    apt_get,
    archive_entry,
    c_locale,
    cache_dir,
    default_suite,
    locked,
    private_apt,
    run_tool,
)

Progress = Callable[[str], None] | None
_MARKER = "headerparse-consumer.json"


@dataclass(frozen=True)
class Package:
    """Where a consumer's copy comes from: a source package, or a binary one holding a tarball."""

    package: str
    members: tuple[str, ...]        # tar wildcards below the tarball's top directory
    binary: bool = False            # apt-get download (linux-source-*), not apt-get source


PACKAGES: dict[str, Package] = {
    "uboot": Package("u-boot", ("include/xen/*", "arch/arm/include/asm/xen/*")),
    "grub": Package("grub2", ("include/xen/*",)),
    "edk2": Package("edk2", ("OvmfPkg/Include/IndustryStandard/Xen/*",)),
    "qemu": Package("qemu", ("include/hw/xen/interface/*",)),
    "linux": Package("linux-source-6.1", (
        "include/xen/*", "arch/x86/include/asm/xen/*", "arch/arm/include/asm/xen/*",
        "arch/arm64/include/asm/xen/*", "arch/x86/include/asm/pvclock-abi.h"), binary=True),
}


def fetch_consumer(name: str, *, cache: Path | None = None, progress: Progress = None) -> Path:
    """The unpacked copy of consumer ``name`` (a key of :data:`PACKAGES`), fetched once."""
    if name not in PACKAGES:
        raise TreeError(f"no Debian package known for consumer {name!r}; "
                        f"known: {', '.join(PACKAGES)}")
    base = (cache or cache_dir())
    final = base / "consumers" / name
    if (final / _MARKER).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with locked(final.parent / f".{name}.lock"):
        if not (final / _MARKER).is_file():     # another process may have fetched it
            _fetch_into(PACKAGES[name], final, base, progress)
    return final


def _fetch_into(pkg: Package, final: Path, base: Path, progress: Progress) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        opts = _private_apt(base / "apt" / f"src-{default_suite()}")
        _say(progress, "updating private apt lists (deb-src)…")
        _check(apt_get(opts, "update"), "apt-get update")
        _say(progress, f"fetching {pkg.package}…")
        verb = ("download",) if pkg.binary else ("source", "--download-only")
        _check(apt_get(opts, *verb, pkg.package, cwd=tmp), f"apt-get {verb[0]} {pkg.package}")
        tarball = _tarball(tmp, pkg)
        _say(progress, f"unpacking {', '.join(pkg.members)} from {tarball.name}…")
        root = tmp / "root"
        _unpack(tarball, pkg.members, root)
        version = tarball.name
        (root / _MARKER).write_text(json.dumps({"package": pkg.package, "from": version},
                                               indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        root.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _say(progress: Progress, msg: str) -> None:
    if progress:
        progress(msg)


def _check(proc: subprocess.CompletedProcess[bytes], what: str) -> None:
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.decode("utf-8", "replace").split()[-30:])
        raise TreeError(f"{what} failed: {tail or f'exit status {proc.returncode}'}")


def _private_apt(apt_dir: Path, etc: Path = Path("/etc/apt")) -> list[str]:
    """The machine's main Debian archive entry with ``deb-src`` added; apt-get's -o options."""
    return private_apt(apt_dir, archive_entry(etc, default_suite()), types=("deb", "deb-src"))


def _tarball(tmp: Path, pkg: Package) -> Path:
    if pkg.binary:
        debs = sorted(tmp.glob(f"{pkg.package}_*.deb"))
        if not debs:
            raise TreeError(f"apt-get left no {pkg.package} .deb")
        inner = tmp / "deb"
        _check(run_tool(["dpkg-deb", "-x", str(debs[-1]), str(inner)], env=c_locale()),
               f"dpkg-deb -x {debs[-1].name}")
        found = sorted(inner.glob("usr/src/*.tar.*"))
    else:
        found = sorted(p for p in tmp.glob("*.orig.tar.*") if not p.name.endswith(".asc"))
    if not found:
        raise TreeError(f"no upstream tarball in what apt-get fetched for {pkg.package}")
    return found[0]


def _unpack(tarball: Path, members: tuple[str, ...], root: Path) -> None:
    """Only ``members`` (below the tarball's single top directory) into ``root``."""
    root.mkdir(parents=True)
    patterns = [f"*/{m}" for m in members]
    proc = run_tool(["tar", "-x", "-f", str(tarball), "-C", str(root), "--wildcards",
                     "--strip-components=1", *patterns], env=c_locale())
    # tar exits 2 when one pattern matched nothing: fine as long as something came out.
    if not any(root.rglob("*.h")):
        _check(proc, f"tar -x {tarball.name}")
        raise TreeError(f"{tarball.name} holds none of {', '.join(members)}")
