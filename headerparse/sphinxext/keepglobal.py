"""An incremental build keeps the general index and objects.inv when nothing in them changed.

Sphinx writes ``genindex.html`` and ``objects.inv`` again on every build: on Debian's
4.17 headers, two fifths of Sphinx's part of a one-comment rebuild. Each is a function
of what every document declares, and a build writes into a copy of the published
site, which holds the last build's files:

* ``genindex.html``: every document's index entries, the set of documents, the
  configuration and the templates (the site's navigation does not come from the
  documents' tables of contents, see ``sitetheme``). The documents read again are
  compared before and after reading; when no document came or went, none of them
  changed its index entries and Sphinx does not write every page (which it does when
  the configuration or a template changed), the copy is this build's already.
* ``objects.inv``: the domains' objects, the project's name and version and the
  pages' URIs. Their digest is kept beside the doctrees with the size and time of the
  file it was written for; a copied file that is that file, for the same digest, is
  kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sphinx
from sphinx.application import Sphinx

from headerparse.site.pagestore import masked_digest

RECORD = "hp-inventory.json"


class _State:
    def __init__(self) -> None:
        self.before: dict[str, str] = {}
        self.docs_changed = False       # a document came or went
        self.index_same = False
        self.wrote_all = True


def _entries(env: Any, doc: str) -> str:
    return masked_digest(env.domains.index_domain.entries.get(doc))


def _outdated(app: Sphinx, env: Any, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    state = app._hp_keep = _State()     # type: ignore[attr-defined]
    state.docs_changed = bool(added or removed)
    return []


def _before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    state: _State = app._hp_keep       # type: ignore[attr-defined]
    state.before = {d: _entries(env, d) for d in docnames if d in env.all_docs}
    state.docs_changed = state.docs_changed or len(state.before) != len(docnames)


def _updated(app: Sphinx, env: Any) -> list[str]:
    state: _State | None = getattr(app, "_hp_keep", None)
    if state is not None:
        state.index_same = not state.docs_changed and all(
            _entries(env, d) == old for d, old in state.before.items())
    return []


def _inventory_digest(app: Sphinx) -> str:
    env, builder = app.env, app.builder
    parts: list[object] = [(sphinx.__version__, env.config.project, env.config.version)]
    for domain in env.domains.sorted():
        objects = sorted(domain.get_objects())
        uris = {d: builder.get_target_uri(d) for d in {o[3] for o in objects}}
        parts.append((domain.name, objects, sorted(uris.items())))
    return masked_digest(parts)


def _wrap(app: Sphinx) -> None:
    builder = app.builder
    if not all(hasattr(builder, m) for m in ("write_genindex", "dump_inventory",
                                                 "write_documents")):
        return
    write_documents, write_genindex = builder.write_documents, builder.write_genindex
    dump_inventory = builder.dump_inventory

    def written(docnames: Any) -> None:
        state = getattr(app, "_hp_keep", None)
        if state is not None:
            state.wrote_all = set(docnames) >= set(app.env.found_docs)
        write_documents(docnames)

    def genindex() -> None:
        state = getattr(app, "_hp_keep", None)
        out = Path(builder.outdir) / "genindex.html"
        if (state is not None and state.index_same and not state.wrote_all
                and not app.config.html_split_index and out.is_file()):
            return
        write_genindex()

    def inventory() -> None:
        record_path = Path(app.doctreedir) / RECORD
        out = Path(builder.outdir) / "objects.inv"
        digest = _inventory_digest(app)
        try:
            record = json.loads(record_path.read_text("utf-8"))
            st = out.stat()
            if record == {"digest": digest, "stat": [st.st_size, st.st_mtime_ns]}:
                return
        except (OSError, ValueError):
            pass
        dump_inventory()
        st = out.stat()
        tmp = record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"digest": digest, "stat": [st.st_size, st.st_mtime_ns]}),
                       encoding="utf-8")
        tmp.replace(record_path)

    builder.write_documents = written
    builder.write_genindex = genindex
    builder.dump_inventory = inventory


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _wrap)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("env-updated", _updated)
