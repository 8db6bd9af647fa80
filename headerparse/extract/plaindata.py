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
        return _dec(json.loads(blob))
    except (KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValueError(f"not a cache entry: {type(exc).__name__}") from exc


def _enc(o: Any) -> Any:
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    if isinstance(o, list):
        return ["l", *map(_enc, o)]
    if isinstance(o, tuple):
        return ["t", *map(_enc, o)]
    if isinstance(o, (set, frozenset)):
        return ["s" if isinstance(o, set) else "f", *map(_enc, o)]
    if isinstance(o, dict):
        return ["d", *(_enc(x) for kv in o.items() for x in kv)]
    if isinstance(o, lexer.CommentIndex):
        return ["i"]            # rebuilt from the comments: it is an index of them
    cls = type(o)
    if dataclasses.is_dataclass(o) and allowed().get(cls.__name__) is cls:
        return ["o", cls.__name__,
                *(_enc(getattr(o, f.name)) for f in dataclasses.fields(o) if f.init)]
    raise TypeError(f"{cls.__name__} has no data form")


def _dec(v: Any) -> Any:
    if not isinstance(v, list):
        if isinstance(v, dict):
            raise ValueError("not a cache entry: an untagged object")
        return v
    tag = v[0]
    if tag == "l":
        return [_dec(x) for x in v[1:]]
    if tag == "t":
        return tuple(_dec(x) for x in v[1:])
    if tag in ("s", "f"):
        items = [_dec(x) for x in v[1:]]
        return set(items) if tag == "s" else frozenset(items)
    if tag == "d":
        return {_dec(v[i]): _dec(v[i + 1]) for i in range(1, len(v) - 1, 2)}
    if tag == "i":
        return None
    if tag == "o":
        cls = allowed().get(v[1])
        if cls is None:
            raise ValueError(f"not a cache entry: no data class {v[1]!r}")
        obj = cls(*(_dec(x) for x in v[2:]))
        if isinstance(obj, source.HeaderSource):
            obj.index = lexer.CommentIndex(obj.comments)
        return obj
    raise ValueError(f"not a cache entry: tag {tag!r}")
