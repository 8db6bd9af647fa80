"""Which Xen a site documents, in words a reader recognises.

The site's title and every page name the Xen release, never the directory the
headers were read from (a path on the builder's machine tells a reader nothing).
In order of preference:

- a git revision (``--rev``) or a checkout: ``git describe`` of that commit
  (``RELEASE-4.17.0``, ``RELEASE-4.19.0-123-gabcdef``);
- Debian's package: the upstream part of its version (``4.17.7``);
- otherwise the headers' own ``__XEN_LATEST_INTERFACE_VERSION__`` (xen-compat.h),
  which names the release that last changed the interface (``0x00040e00`` is 4.14).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from headerparse.tree import HeaderTree

_INTERFACE = re.compile(
    rb"^\s*#\s*define\s+__XEN_LATEST_INTERFACE_VERSION__\s+(0x[0-9a-fA-F]+|\d+)", re.M)
_DEBIAN = re.compile(r"^Debian (?P<pkg>\S+) (?P<version>\S+) \((?P<suite>[^)]+)\)$")


@dataclass(frozen=True)
class SiteVersion:
    """``short`` goes into the title; ``long`` says where it came from."""

    short: str
    long: str
    interface: int | None


def interface_version(tree: HeaderTree) -> int | None:
    data = tree.files.get("xen-compat.h")
    m = _INTERFACE.search(data) if data else None
    return int(m.group(1), 0) if m else None


def interface_release(value: int) -> str:
    """``0x00040e00`` -> ``4.14``: the interface version packs major, minor and
    a zero patch byte."""
    return f"{value >> 16}.{(value >> 8) & 0xFF}"


def site_version(tree: HeaderTree) -> SiteVersion:
    iv = interface_version(tree)
    iface = (f"interface version 0x{iv:08x} (Xen {interface_release(iv)})"
             if iv is not None else "no __XEN_LATEST_INTERFACE_VERSION__")
    described = _git_version(tree)
    if described:
        return SiteVersion(f"Xen {described}", f"Xen {described}; {iface}", iv)
    m = _DEBIAN.match(tree.description)
    if m:
        upstream = re.split(r"[+~-]", m.group("version"))[0]
        return SiteVersion(f"Xen {upstream}", f"Xen {upstream} (Debian {m.group('pkg')} "
                           f"{m.group('version')}, {m.group('suite')}); {iface}", iv)
    if iv is not None:
        short = f"Xen {interface_release(iv)} interface"
        return SiteVersion(short, f"public headers with {iface}", iv)
    return SiteVersion("Xen public headers", f"public headers; {iface}", None)


def _git_version(tree: HeaderTree) -> str | None:
    """``git describe`` of the revision a tree was read at, or of a checkout's HEAD."""
    source = tree.git_source()
    if source is None:
        return None
    root, rev = source
    if not root.is_dir():
        return None
    try:
        proc = subprocess.run(["git", "-C", str(root), "describe", "--tags", "--always",
                               "--end-of-options", rev],
                              capture_output=True, check=False, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.decode("utf-8", "replace").strip()
    return out if proc.returncode == 0 and out else None


def site_conf(tree: HeaderTree) -> dict[str, str]:
    """Sphinx configuration values that name the version on every page."""
    v = site_version(tree)
    return {"html_title": f"Xen public ABI — {v.short}", "release": v.short,
            "version": v.short, "xen_site_version": v.long}
