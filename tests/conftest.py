"""Fixtures shared by the whole test suite.

Real Xen headers come from Debian's libxen-dev (fetched once into the user's cache, which
``.ci/run`` pre-fills). Off CI a failed fetch skips the test; in CI it fails it, so that a
broken fetch can never turn the real-data tests into silent skips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from support.need import unavailable

from headerparse.tree import HeaderTree, TreeError, fetch_debian_headers, open_tree

MakeTree = Callable[..., Path]


def _debian_tree(suite: str) -> HeaderTree:
    try:
        return open_tree(str(fetch_debian_headers(suite)))
    except TreeError as e:
        error = str(e)
    # Outside the except block, so that the report is the message and not a chained traceback.
    unavailable(f"Debian {suite}'s Xen headers are unavailable: {error}")


@pytest.fixture(scope="session")
def xen_tree_417() -> HeaderTree:
    """Xen 4.17 public headers: Debian bookworm's libxen-dev."""
    return _debian_tree("bookworm")


@pytest.fixture(scope="session")
def xen_tree_414() -> HeaderTree:
    """Xen 4.14 public headers: Debian bullseye's libxen-dev."""
    return _debian_tree("bullseye")


@pytest.fixture(scope="session")
def xen_tree_420() -> HeaderTree:
    """Xen 4.20 public headers: Debian trixie's libxen-dev."""
    return _debian_tree("trixie")


@pytest.fixture
def make_tree(tmp_path: Path) -> MakeTree:
    """Factory: ``make_tree({"sched.h": "...", "io/blkif.h": b"..."})`` -> a public dir.

    Each call makes a new directory. Unless ``complete=False``, empty ``xen.h`` and
    ``sched.h`` are added when missing so that ``open_tree`` accepts the directory.
    """
    count = 0

    def make(files: Mapping[str, str | bytes], *, complete: bool = True) -> Path:
        nonlocal count
        count += 1
        public = tmp_path / f"tree{count}" / "public"
        public.mkdir(parents=True)
        stubs = {"xen.h": "", "sched.h": ""} if complete else {}
        for rel, content in {**stubs, **files}.items():
            target = public / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return public

    return make
