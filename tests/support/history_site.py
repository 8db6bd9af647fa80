"""The site of Xen 4.20.0 with its ABI history, built once per test session from the
Xen history bundle (``../shared/xen-history/`` beside the repository, as CI has it)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from headerparse.cli import site as site_cli
from headerparse.extract.pipeline import Options, extract
from headerparse.site.history import tree_history
from headerparse.site.sphinxrun import sphinx
from headerparse.site.version import site_conf
from headerparse.tree import cache_dir, open_tree
from support.need import unavailable

BUNDLE = Path(__file__).resolve().parents[3] / "shared" / "xen-history" / "xen-public.bundle"
REV = "RELEASE-4.20.0"
_BUILT: dict[str, Path] = {}


def bundle_site(base: Path) -> Path:
    """The output dir of a strict (-W -n) build at RELEASE-4.20.0; the site is ``out/html``.

    Skips the test when the bundle is missing. The history comes from the cache
    (each release's headers are extracted once ever), so only the first run pays it.
    """
    if REV in _BUILT:
        return _BUILT[REV]
    if not BUNDLE.is_file():
        unavailable(f"no Xen history bundle at {BUNDLE}")
    repo = base / "xen-public"
    if not repo.is_dir():
        subprocess.run(["git", "clone", "-q", str(BUNDLE), str(repo)], check=True)
    tree = open_tree(str(repo), REV)
    history = tree_history(tree, cache=cache_dir())
    assert history is not None, "the bundle's RELEASE-* tags gave no history"
    out = base / "site-history-4.20"
    model = extract(tree, Options(), cache=cache_dir())
    site_cli.stage(model, tree, out, history=history)
    assert sphinx(out, jobs="auto", strict=True, quiet=True, conf=site_conf(tree)), \
        "sphinx-build -W -n failed on the bundle's 4.20.0 with its history"
    _BUILT[REV] = out
    return out
