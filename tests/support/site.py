"""Building the site on real headers, once per test session and tree.

The site goes to a directory under pytest's base temp dir; a second request for
the same tree rebuilds incrementally there, which costs seconds, not a full build.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from headerparse.cli import site as site_cli
from headerparse.extract.pipeline import Options, extract
from headerparse.site.sphinxrun import sphinx
from headerparse.site.version import site_conf
from headerparse.tree import HeaderTree, cache_dir

_BUILT: dict[str, Path] = {}


def build_site(tree: HeaderTree, base: Path) -> Path:
    """The output dir of a strict (-W -n) build of ``tree``; the site is ``out/html``."""
    key = tree.content_hash()
    if key in _BUILT:
        return _BUILT[key]
    out = base / f"site-{key[:12]}"
    model = extract(tree, Options(), cache=cache_dir())
    site_cli.stage(model, tree, out)
    assert sphinx(out, jobs="auto", strict=True, quiet=True, conf=site_conf(tree)), \
        "sphinx-build -W -n failed on the real headers (see the warnings above)"
    _BUILT[key] = out
    return out


def failed_probe(out: Path, text: str, capsys) -> str:
    """What a strict build of the staged site ``out`` says on stderr once a page of
    ``text`` is added to it, headers under ``/src/xen/include/public``; the build must
    fail."""
    (out / ".staging" / "src" / "probe.hrst").write_text(text)
    assert not sphinx(out, jobs="1", strict=True, quiet=True,
                      header_root="/src/xen/include/public")
    return capsys.readouterr().err


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on an ephemeral localhost port; yields the base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
