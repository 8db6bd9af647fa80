"""The site's search index (for :class:`.schedule.HTMLBuilder`): a rebuild's is a full build's.

A rebuild writes only the changed pages; Sphinx loads the previous
``searchindex.js`` for the others. Sphinx 9's ``IndexBuilder.load`` restores their
words and titles but not their index entries, so after any rebuild the search
index had lost the entries of every page it did not write: on the site, the
``main`` entries that put the hypercall section explaining a constant
(``SHUTDOWN_suspend`` -> ``sched_op``) first, and every sub-op's and hypercall's
entry. It also kept words whose pages no longer use them, with no pages.

:func:`restore_entries` puts the kept pages' entries back (from the index Sphinx
loaded, kept by :class:`Capture`), :func:`tidy` drops the words without pages and
orders the entries by page, as a full build feeds them; the index a rebuild dumps
is then the one a full build of the same pages dumps. :func:`distinct_words`
spares the index builder the repeats of each page's words.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Capture:
    """A search index format that keeps what it loaded (``frozen``), so that the
    index entries come from the one reading of the file Sphinx does."""

    def __init__(self, fmt: Any) -> None:
        self.fmt, self.frozen = fmt, None

    def load(self, stream: Any) -> Any:
        self.frozen = self.fmt.load(stream)
        return self.frozen


def restore_entries(indexer: Any, frozen: Any, keep: Iterable[str]) -> None:
    """Put the index entries of the ``keep`` pages back from the loaded index."""
    entries = getattr(indexer, "_index_entries", None)
    try:
        names, table = frozen["docnames"], frozen.get("indexentries", {})
    except (KeyError, TypeError):
        return      # no index loaded (Sphinx warned if it should have been)
    if entries is None:
        return
    kept = set(keep)
    restored: dict[str, list[tuple[str, str, str]]] = {}
    # Each page's entries in the order the file lists them for each key, which is
    # the order a full build fed them in.
    for key, hits in table.items():
        for doc, anchor, main in hits:
            name = names[doc]
            if name in kept:
                restored.setdefault(name, []).append((key, anchor, "main" if main else ""))
    for name in sorted(restored):
        entries.setdefault(name, restored[name])


def distinct_words(indexer: Any) -> None:
    """Each page's words, once each: Sphinx stems and files every occurrence of a
    word (229,000 on 4.17's pages, 41,000 distinct per page), and filing a word
    twice for a page changes nothing (the page joins a set)."""
    collect = getattr(indexer, "_word_collector", None)
    if collect is None:
        return

    def distinct(doctree: Any) -> Any:
        store = collect(doctree)
        store.words = list(dict.fromkeys(store.words))
        return store

    indexer._word_collector = distinct


def tidy(indexer: Any) -> None:
    """Before dumping: no words without pages, index entries in page order."""
    for table in ("_mapping", "_title_mapping"):
        words = getattr(indexer, table, None)
        if words is not None:
            for word in [w for w, pages in words.items() if not pages]:
                del words[word]
    entries = getattr(indexer, "_index_entries", None)
    if entries is not None:
        ordered = sorted(entries.items())
        entries.clear()
        entries.update(ordered)
