"""Parallel reading and writing that keep every core busy to the end (the site's conf.py).

``extensions = [..., "headerparse.sphinxext.schedule"]`` replaces the ``html``
builder by :class:`HTMLBuilder`, which differs from Sphinx's only in how ``-j N``
shares the documents among processes. Sphinx's own way loses much of what a
second core could give a site like this one, whose pages range from 1 KB to 600 KB:

- Reading: Sphinx cuts the sorted list of documents into slices and forks a
  reader for each. Sorted, the big header pages (``headers/io/*``, ``sysctl.h``,
  ``vm_event.h``) fall into one slice, which is also the last one started: for a
  third of the reading one process worked and the other core was idle. Here each
  of the ``N`` readers gets a share of about equal cost.
- Writing: Sphinx's main process resolves every document and feeds the search
  index, one after another, while ``N - 1`` processes write the HTML; with two
  cores that is one writer, and the main process is the bottleneck. Here each of
  ``N`` processes resolves, indexes and writes its share; the main process merges
  what each added to the search index and to the image list, in the order Sphinx
  adds it, so the site is the same. One of them also makes the general index
  and ``objects.inv``, which Sphinx made after all pages, in the main process.

A document's cost is estimated from its source's size: a fixed part plus a part
per byte, fitted on Debian's 4.17 headers (reading about 8 ms + 0.3 ms/KB,
writing 6 ms + 0.16 ms/KB); only the evenness of the shares depends on it.

It also keeps a rebuild's search index whole (:mod:`.searchkeep`).

Written against Sphinx 9's builder (its ``_read_parallel``/``_write_parallel``,
the search index's tables); with another Sphinx, or an extension that reacts to
resolved documents in ways a worker process would not hand back, the builder
shares the work as Sphinx does.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.locale import __
from sphinx.util import parallel
from sphinx.util.display import status_iterator

from headerparse import __version__
from headerparse.parallel import deal
from headerparse.sphinxext import searchkeep

#: The fixed part of a document's cost, in bytes of source (reading, writing).
READ_FIXED, WRITE_FIXED = 26_000, 40_000
#: The general index and objects.inv, as a part of all documents' writing.
INDICES_SHARE = 0.05
#: Stands for them in a writer's share (no document has an empty name).
_INDICES = ""

#: The search index's per-document tables (docname -> value), and its two
#: word -> docnames tables (Sphinx 9's IndexBuilder).
_PER_DOC = ("_titles", "_filenames", "_all_titles", "_index_entries")
_WORDS = ("_mapping", "_title_mapping")

#: Modules whose handlers of the events a document's resolution and indexing emit
#: only change that document (so a worker can run them).
_PURE = ("headerparse.", "sphinx.domains.", "furo")
_RESOLVE_EVENTS = ("doctree-resolved", "missing-reference", "warn-missing-reference")


def shares(docnames: Sequence[str], n: int, cost: Callable[[str], float]) -> list[list[str]]:
    """``docnames`` in at most ``n`` non-empty groups of about equal total cost (the
    largest first, each to the least loaded group); each group sorted."""
    names = sorted(docnames)        # equal costs go by name
    groups = deal([cost(d) for d in names], min(n, len(names)))
    return [[names[i] for i in sorted(g)] for g in groups if g]


def _size_cost(env: Any, fixed: int) -> Callable[[str], float]:
    def cost(docname: str) -> float:
        try:
            return fixed + os.path.getsize(env.doc2path(docname))
        except OSError:
            return fixed
    return cost


def _sphinx9() -> bool:
    return (sphinx.version_info[0] == 9
            and hasattr(StandaloneHTMLBuilder, "_read_parallel")
            and hasattr(StandaloneHTMLBuilder, "_write_parallel"))


class HTMLBuilder(StandaloneHTMLBuilder):
    """Sphinx's HTML builder, with the documents of ``-j N`` shared evenly."""

    #: Whether a writer process made the general index and objects.inv.
    _indices_written = False

    def _read_parallel(self, docnames: list[str], nproc: int) -> None:
        if not _sphinx9():
            super()._read_parallel(docnames, nproc)
            return
        groups = shares(docnames, nproc, _size_cost(self.env, READ_FIXED))
        progress = status_iterator(groups, __("reading sources... "), "purple",
                                   len(groups), self.config.verbosity)
        # As Sphinx: clear all outdated documents at once, before forking.
        for docname in docnames:
            self.events.emit("env-purge-doc", self.env, docname)
            self.env.clear_doc(docname)

        def read_process(docs: list[str]) -> bytes:
            self.env._app = self._app
            for docname in docs:
                self.read_doc(docname, _cache=False)
            return pickle.dumps(self.env, pickle.HIGHEST_PROTOCOL)

        def merge(docs: list[str], otherenv: bytes) -> None:
            self.env.merge_info_from(docs, pickle.loads(otherenv), self._app)
            next(progress)

        tasks = parallel.ParallelTasks(nproc)
        for group in groups:
            tasks.add_task(read_process, group, merge)
        tasks.join()

    def _write_parallel(self, docnames: Sequence[str], nproc: int) -> None:
        if not (_sphinx9() and self._shareable()):
            super()._write_parallel(docnames, nproc)
            return
        from sphinx.builders import _write_docname

        def write(docname: str) -> None:
            _write_docname(docname, env=self.env, builder=self, tags=self.tags)

        # As Sphinx: the first document in this process, so that the workers
        # inherit the compiled templates.
        write(docnames[0])
        rest = list(docnames[1:])
        cost = _size_cost(self.env, WRITE_FIXED)
        # The general index and objects.inv need only the environment, complete
        # now: one writer makes them (a share of their own, about 5% of the writing)
        # instead of this process after all the others.
        indices = sum(map(cost, rest)) * INDICES_SHARE
        groups = shares([*rest, _INDICES], self._app.parallel,
                        lambda d: indices if d == _INDICES else cost(d))
        progress = status_iterator(groups, __("writing output... "), "darkgreen",
                                   len(groups), self.config.verbosity)

        def write_process(docs: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
            images = dict(self.images)
            for docname in docs:
                if docname == _INDICES:
                    super(HTMLBuilder, self).gen_indices()
                    super(HTMLBuilder, self).dump_inventory()
                else:
                    write(docname)
            added = {k: v for k, v in self.images.items() if images.get(k) != v}
            return _index_share(self.indexer, docs), added

        results: list[tuple[dict[str, Any], dict[str, str]]] = []

        def collect(_docs: list[str], result: tuple[dict[str, Any], dict[str, str]]) -> None:
            results.append(result)
            next(progress)

        tasks = parallel.ParallelTasks(len(groups))
        for group in groups:
            tasks.add_task(write_process, group, collect)
        tasks.join()
        self._indices_written = True
        self._merge_written(rest, results)

    def _merge_written(self, docnames: list[str],
                       results: list[tuple[dict[str, Any], dict[str, str]]]) -> None:
        """The writers' additions to the image list and the search index."""
        indexed: dict[str, Any] = {}
        for share, images in results:
            indexed.update(share)
            self.images.update(images)
        if self.indexer is not None:
            # In the order this process would have fed them.
            for docname in docnames:
                if docname in indexed:
                    _add_to_index(self.indexer, docname, indexed[docname])

    def prepare_writing(self, docnames: Any) -> None:
        super().prepare_writing(docnames)
        if self.indexer is not None and _sphinx9():
            searchkeep.distinct_words(self.indexer)

    def load_indexer(self, docnames: Any) -> None:
        if self.indexer is None or not _sphinx9():
            super().load_indexer(docnames)
            return
        fmt = self.indexer_format
        self.indexer_format = capture = searchkeep.Capture(fmt)
        try:
            super().load_indexer(docnames)
        finally:
            self.indexer_format = fmt
        keep = set(self.env.all_docs).difference(docnames)
        searchkeep.restore_entries(self.indexer, capture.frozen, keep)

    def dump_search_index(self) -> None:
        if self.indexer is not None and _sphinx9():
            searchkeep.tidy(self.indexer)
        super().dump_search_index()

    def gen_indices(self) -> None:
        if not self._indices_written:
            super().gen_indices()

    def dump_inventory(self) -> None:
        if not self._indices_written:
            super().dump_inventory()

    def _shareable(self) -> bool:
        """Whether resolving and indexing may run in worker processes: every handler
        of the events they emit is known to change only the document, and the search
        index has the tables that are handed back."""
        if self.indexer is not None and not all(
                hasattr(self.indexer, t) for t in (*_PER_DOC, *_WORDS)):
            return False
        listeners = self.events.listeners
        return all(getattr(listener.handler, "__module__", "").startswith(_PURE)
                   for event in _RESOLVE_EVENTS for listener in listeners.get(event, ()))


def _index_share(indexer: Any, docs: Sequence[str]) -> dict[str, Any]:
    """What feeding ``docs`` added to the search index, per document."""
    if indexer is None:
        return {}
    mine = set(docs)
    out: dict[str, Any] = {}
    for docname in docs:
        if docname in indexer._titles:
            out[docname] = {"tables": {t: getattr(indexer, t).get(docname) for t in _PER_DOC},
                            **{w: [] for w in _WORDS}}
    for table in _WORDS:
        for word, names in getattr(indexer, table).items():
            for docname in names & mine:
                if docname in out:
                    out[docname][table].append(word)
    return out


def _add_to_index(indexer: Any, docname: str, share: dict[str, Any]) -> None:
    for table, value in share["tables"].items():
        if value is not None:
            getattr(indexer, table)[docname] = value
    for table in _WORDS:
        words = getattr(indexer, table)
        for word in share[table]:
            words.setdefault(word, set()).add(docname)


def setup(app: Any) -> dict[str, Any]:
    app.add_builder(HTMLBuilder, override=True)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
