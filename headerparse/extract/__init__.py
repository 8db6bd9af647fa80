"""Stage 1, extraction: a header tree in, one frozen :class:`~headerparse.model.Model` out.

``pipeline`` runs it: ``lexer`` and ``markup`` read each header's comments, ``#define``\\ s
and Xen's backtick markup (``source`` bundles them per header); ``clangparse`` (the one
module that imports libclang) parses one translation unit per arch into ``archfacts``;
``merge`` joins the arches and the sources into the model; ``cache`` keeps both kinds of
result keyed by content.
"""

from headerparse.extract.options import ExtractError, Options
from headerparse.extract.pipeline import cached_json, extract, extract_json, store_json

__all__ = ["ExtractError", "Options", "cached_json", "extract", "extract_json", "store_json"]
