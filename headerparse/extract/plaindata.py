"""Cache entries as data, not code: the extraction's dataclasses to JSON and back.

A shared cache directory (a CI cache restored from another job) is writable by
more than the user who runs headerparse; a pickle read from it would run
whatever its writer put there (issue 15).  An entry here is JSON whose every
array is tagged with what it stands for; decoding builds only the dataclasses
of :data:`MODULES`, field by field, and anything else is a ``ValueError``: a
damaged or hostile entry is a cache miss.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

from headerparse import diagnostics, model
from headerparse.extract import lexer, markup, source

# Whose dataclasses an entry may hold.
MODULES = (model, diagnostics, lexer, markup, source)


@cache
def allowed() -> dict[str, type]:
    return {name: obj for mod in MODULES for name, obj in vars(mod).items()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj)
            and obj.__module__ == mod.__name__}


def dumps(obj: Any) -> bytes:
    """``obj`` as JSON; TypeError for a value that has no data form."""
    return json.dumps(_enc(obj), separators=(",", ":")).encode("ascii")


def loads(blob: bytes) -> Any:
    """What :func:`dumps` gave ``blob`` for; ValueError when it is not such a blob."""
    try:
        # Arrays and scalars are read by the C parser; only the tagged objects (tuples,
        # sets, dicts, dataclasses) come through here.
        return json.loads(blob, object_hook=_dec)
    except (KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValueError(f"not a cache entry: {type(exc).__name__}") from exc


def _enc(o: Any) -> Any:
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    if isinstance(o, list):
        return [_enc(x) for x in o]
    if isinstance(o, tuple):
        return {"t": [_enc(x) for x in o]}
    if isinstance(o, (set, frozenset)):
        return {"s" if isinstance(o, set) else "f": [_enc(x) for x in o]}
    if isinstance(o, dict):
        return {"d": [_enc(x) for kv in o.items() for x in kv]}
    if isinstance(o, lexer.CommentIndex):
        return {"i": 0}         # rebuilt from the comments: it is an index of them
    cls = type(o)
    if dataclasses.is_dataclass(o) and allowed().get(cls.__name__) is cls:
        return {"o": cls.__name__,
                "v": [_enc(getattr(o, f.name)) for f in dataclasses.fields(o) if f.init]}
    raise TypeError(f"{cls.__name__} has no data form")


def _dec(d: dict[str, Any]) -> Any:
    if len(d) == 1:
        (tag, v), = d.items()
        if tag == "t":
            return tuple(v)
        if tag == "s":
            return set(v)
        if tag == "f":
            return frozenset(v)
        if tag == "d":
            return dict(zip(v[::2], v[1::2], strict=True))     # TypeError: a list key
        if tag == "i":
            return None
    elif len(d) == 2 and "o" in d:
        cls = allowed().get(d["o"])
        if cls is None:
            raise ValueError(f"not a cache entry: no data class {d['o']!r}")
        obj = cls(*d["v"])
        if isinstance(obj, source.HeaderSource):
            obj.index = lexer.CommentIndex(obj.comments)
        return obj
    raise ValueError("not a cache entry: an untagged object")

