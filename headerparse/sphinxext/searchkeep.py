"""Keeping the search index's index entries of the pages an incremental build did not write.

Sphinx (7.4 to 9 at least; sphinx-doc/sphinx#12599) collects each written page's
index entries into the environment, but pickles the environment before writing and
does not read the entries back from the ``searchindex.js`` it loads: after a
one-header edit, ``indexentries`` holds the rewritten pages' entries only, and
searching for a header or hypercall by its index entry finds nothing until a full
build. Here the entries are kept beside the doctrees when the index is dumped, and
those of the pages not written again are put back when the next build loads the
index. The entries are dumped in docname order, and the words no page has any more
are dropped (Sphinx keeps them, with an empty list), so that an incremental build's
index is byte for byte a full build's.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

KEPT = "hp-index-entries.pickle"
_FORMAT = 1


def _path(app: Sphinx) -> Path:
    return Path(app.doctreedir) / KEPT


def _wrap(app: Sphinx) -> None:
    builder = app.builder
    if not hasattr(builder, "load_indexer") or not hasattr(builder, "dump_search_index"):
        return      # not an HTML builder: no search index
    load, dump = builder.load_indexer, builder.dump_search_index

    def load_indexer(docnames: Any) -> None:
        load(docnames)
        keep = set(app.env.all_docs).difference(docnames)
        entries = builder.indexer._index_entries        # load_indexer's caller made it
        for doc, kept in _read(app).items():
            if doc in keep and doc not in entries:
                entries[doc] = kept

    def dump_search_index() -> None:
        indexer = builder.indexer
        if indexer is not None:
            live = set(app.env.all_docs)
            ordered = {d: e for d, e in sorted(indexer._index_entries.items()) if d in live}
            indexer._index_entries.clear()
            indexer._index_entries.update(ordered)
            # Pruning leaves the words that only the pages read again had, with no page.
            indexer.prune(live)
            for mapping in (indexer._mapping, indexer._title_mapping):
                for word in [w for w, docs in mapping.items() if not docs]:
                    del mapping[word]
        dump()
        if indexer is not None:
            tmp = _path(app).with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps((_FORMAT, dict(indexer._index_entries))))
            tmp.replace(_path(app))

    builder.load_indexer = load_indexer
    builder.dump_search_index = dump_search_index


def _read(app: Sphinx) -> dict[str, list[tuple[str, str, str]]]:
    try:
        fmt, entries = pickle.loads(_path(app).read_bytes())
    except (OSError, ValueError, TypeError, EOFError, pickle.UnpicklingError):
        return {}
    return entries if fmt == _FORMAT and isinstance(entries, dict) else {}


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", _wrap)
