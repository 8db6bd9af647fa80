"""Where headerparse finds its own files, and where a tree keeps the files it reads.

Every command resolves these the same way; nothing else computes a path from
``__file__``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

#: The package itself.
PACKAGE = Path(__file__).resolve().parent
#: The project checkout (or the directory the package was installed from): conf.py,
#: source/, templates/ live here.
REPO = Path(__file__).resolve().parents[1]
#: Hand-written reST pages of the site, copied beside the generated ones.
SOURCE = REPO / "source"
#: jinja2 templates of the generated pages.
TEMPLATES = REPO / "templates"
#: Suffix of generated reST pages (the Sphinx project reads ``.rst`` and ``.hrst``).
PAGE_SUFFIX = ".hrst"
#: Public headers within a Xen checkout.
PUBLIC = "xen/include/public"
#: Xen's table of hypercalls and their per-variant handlers, within a checkout.
HYPERCALL_DEFS = "xen/include/hypercall-defs.c"
#: Xen's list of the structs its compat layer translates or checks, within a checkout.
XLAT_LST = "xen/include/xlat.lst"
#: The tags of Xen's releases, as a git ref glob.
RELEASE_TAGS = "RELEASE-*"
#: The files of a checkout besides the public headers that a tree carries along.
EXTRA_FILES = (HYPERCALL_DEFS, XLAT_LST)
#: The environment variable that points every command at another annotations directory.
ANNOTATIONS_ENV = "HEADERPARSE_ANNOTATIONS"


def annotations_dir(override: str | Path | None = None) -> Path:
    """The annotation files: ``override``, else ``$HEADERPARSE_ANNOTATIONS``, else the
    checkout's ``source/annotations``."""
    if override:
        return Path(override)
    if os.environ.get(ANNOTATIONS_ENV):
        return Path(os.environ[ANNOTATIONS_ENV])
    here = SOURCE / "annotations"
    return here if here.is_dir() else Path("source/annotations")


def code_digest(files: Iterable[Path], salt: str = "") -> str:
    """A digest of ``salt`` and some of headerparse's own files (named as in the
    checkout): what keys a cache on the code that filled it, so that changed code
    never serves what older code computed."""
    h = hashlib.blake2b(salt.encode(), digest_size=20)
    for path in files:
        h.update(b"\0" + path.resolve().relative_to(REPO).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()
