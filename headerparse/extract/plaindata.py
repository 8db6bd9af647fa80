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
from collections.abc import Callable
from functools import cache
from typing import Any

from headerparse import diagnostics, model
from headerparse.extract import lexer

# The layout of an entry, part of the key of what is stored in it: 2 refers to a frozen
# dataclass met before by its number (1 wrote it again, each time it was met).
FORMAT = 2


@cache
def allowed() -> dict[str, type]:
    """The dataclasses an entry may hold, by name."""
    # The lexing's modules are imported here, not with this one: a cold run's parsers,
    # which need the cache and not them, then start before the imports.
    from headerparse.extract import markup, source

    modules = (model, diagnostics, lexer, markup, source)
    return {name: obj for mod in modules for name, obj in vars(mod).items()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj)
            and obj.__module__ == mod.__name__}


@cache
def _frozen(cls: type) -> bool:
    return cls.__dataclass_params__.frozen    # type: ignore[attr-defined]


def dumps(obj: Any) -> bytes:
    """``obj`` as JSON; TypeError for a value that has no data form.

    A frozen dataclass met again (a comment in a header's list and in its defines'
    docs: a third of a header's entry) is written as ``{"r": n}``, n counting the
    frozen dataclasses written in the order their JSON objects close, which is the
    order :func:`loads` builds them in.  The values are the same objects again
    when read, as they were when written.
    """
    memo: dict[int, int] = {}
    # No cycle can be built of frozen values: no check for one.
    return json.dumps(_enc(obj, memo), separators=(",", ":"), check_circular=False
                      ).encode("ascii")


def loads(blob: bytes) -> Any:
    """What :func:`dumps` gave ``blob`` for; ValueError when it is not such a blob."""
    try:
        # Arrays and scalars are read by the C parser; only the tagged objects (tuples,
        # sets, dicts, dataclasses) come through here.
        return json.loads(blob, object_hook=_decoder())
    except (KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValueError(f"not a cache entry: {type(exc).__name__}") from exc


_PLAIN = frozenset({str, int, bool, float, type(None)})
_Ids = dict[int, int]   # id of a frozen dataclass written -> its number
_Encoder = Callable[[Any, _Ids], Any]
# One encoder per type met, dataclasses' made from their fields: a cold run encodes
# 90,000 values of 4.17's headers, and a generic walk asking each value what it is
# cost a third of lexing them.
_ENCODERS: dict[type, _Encoder] = {}
_known = _ENCODERS.get


def _enc(o: Any, memo: _Ids) -> Any:
    encoder = _ENCODERS.get(type(o))
    if encoder is None:
        encoder = _ENCODERS[type(o)] = _encoder(type(o))
    return encoder(o, memo)


def _each(items: Any, memo: _Ids) -> list[Any]:
    # Plain values (most of them) are their own data form: no call for them; the
    # others, of a type met before, straight to its encoder.
    return [x if type(x) in _PLAIN else (_known(type(x)) or _enc)(x, memo) for x in items]


def _encoder(cls: type) -> _Encoder:
    if cls in _PLAIN:
        return _same
    if issubclass(cls, list):
        return _each
    if issubclass(cls, tuple):
        return lambda o, memo: {"t": _each(o, memo)}
    if issubclass(cls, (set, frozenset)):
        tag = "s" if issubclass(cls, set) else "f"
        return lambda o, memo: {tag: _each(o, memo)}
    if issubclass(cls, dict):
        return lambda o, memo: {"d": _each((x for kv in o.items() for x in kv), memo)}
    if issubclass(cls, lexer.CommentIndex):
        return lambda o, memo: {"i": 0}     # rebuilt from the comments: an index of them
    if dataclasses.is_dataclass(cls) and allowed().get(cls.__name__) is cls:
        return _dataclass_encoder(cls)
    if issubclass(cls, (str, int, float)):
        return _same                # a subclass of a plain type (an enum.IntEnum)
    raise TypeError(f"{cls.__name__} has no data form")


def _same(o: Any, memo: _Ids) -> Any:
    return o


def _dataclass_encoder(cls: type) -> _Encoder:
    """``{"o": name, "v": [fields]}`` in one display, plain fields with no call; built
    from the field names, which are identifiers, as ``dataclasses`` builds ``__init__``.
    A frozen one is numbered once its fields are written, or referred to when met again."""
    values = ", ".join(f"v if type(v := o.{f.name}) in plain else (known(type(v)) or enc)(v, memo)"
                       for f in dataclasses.fields(cls) if f.init)
    display = f"{{'o': {cls.__name__!r}, 'v': [{values}]}}"
    body = (f"    return {display}\n" if not _frozen(cls) else
            "    n = memo.get(key := id(o))\n"
            "    if n is not None:\n"
            "        return {'r': n}\n"
            f"    data = {display}\n"
            "    memo[key] = len(memo)\n"
            "    return data\n")
    namespace: dict[str, Any] = {"plain": _PLAIN, "enc": _enc, "known": _known}
    exec(f"def encode(o, memo):\n{body}", namespace)
    return namespace["encode"]


@cache
def _kinds() -> dict[str, tuple[type, bool]]:
    """Each allowed dataclass by name, and whether it is frozen (numbered when read)."""
    return {name: (cls, _frozen(cls)) for name, cls in allowed().items()}


def _decoder() -> Callable[[dict[str, Any]], Any]:
    """The object hook of one entry: it numbers the frozen dataclasses it builds, for
    the references after them.  (One call per object, dataclasses asked about first:
    they are most of an entry's objects, and the hook is half of reading one.)"""
    built: list[Any] = []
    keep = built.append
    kinds = _kinds()
    header_source = kinds["HeaderSource"][0]

    def hook(d: dict[str, Any]) -> Any:
        if len(d) == 2 and "o" in d:
            kind = kinds.get(d["o"])
            if kind is None:
                raise ValueError(f"not a cache entry: no data class {d['o']!r}")
            cls, frozen = kind
            obj = cls(*d["v"])
            if frozen:
                keep(obj)
            elif cls is header_source:
                obj.index = lexer.CommentIndex(obj.comments)
            return obj
        if len(d) == 1:
            (tag, v), = d.items()
            if tag == "t":
                return tuple(v)
            if tag == "r" and type(v) is int and 0 <= v < len(built):
                return built[v]
            if tag == "s":
                return set(v)
            if tag == "f":
                return frozenset(v)
            if tag == "d":
                return dict(zip(v[::2], v[1::2], strict=True))     # TypeError: a list key
            if tag == "i":
                return None
        raise ValueError("not a cache entry: an untagged object")
    return hook
