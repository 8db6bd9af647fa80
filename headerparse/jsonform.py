"""The JSON form of frozen dataclasses, driven by their type hints.

:func:`to_json` writes any value of the model as plain JSON data, :func:`shallow`
one dataclass at a time for ``json.dumps(default=...)``, and :func:`reader` builds
the function that reads a dataclass (or a tuple, mapping or optional of one) back.
Literal hints are plain strings; encoders and readers are built once per type.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

_ENCODERS: dict[type, Callable[[Any], Any]] = {}
_PLAIN = (str, int, bool, float, type(None))


def to_json(obj: Any) -> Any:
    """Plain JSON data for any model value (dataclasses, mappings, tuples)."""
    tp = type(obj)
    encoder = _ENCODERS.get(tp)
    if encoder is None:
        encoder = _ENCODERS[tp] = _make_encoder(tp)
    return encoder(obj)


def _make_encoder(tp: type) -> Callable[[Any], Any]:
    if tp in _PLAIN:
        return _identity
    if dataclasses.is_dataclass(tp):
        return _dataclass_encoder(tp)
    if issubclass(tp, Mapping):
        return lambda obj: {str(k): to_json(v) for k, v in obj.items()}
    if issubclass(tp, (list, tuple)):
        return lambda obj: [to_json(v) for v in obj]
    return _identity


def _dataclass_encoder(tp: type) -> Callable[[Any], Any]:
    """One dict display per dataclass, with no call for fields of plain type.

    A whole model is ~120,000 objects: a generic getattr loop over the fields
    cost a third of a second of every cache write, this a third of that.  The
    source is built from the field names, which are identifiers, as
    ``dataclasses`` builds ``__init__``.
    """
    try:
        hints = typing.get_type_hints(tp)
    except Exception:   # an unresolvable annotation: encode every field generically
        hints = {}
    items = []
    for f in dataclasses.fields(tp):
        plain = _is_plain(hints.get(f.name))
        items.append(f"{f.name!r}: obj.{f.name}" if plain else f"{f.name!r}: enc(obj.{f.name})")
    namespace: dict[str, Any] = {"enc": to_json}
    exec(f"def encode(obj):\n    return {{{', '.join(items)}}}\n", namespace)
    return namespace["encode"]


def _is_plain(hint: Any) -> bool:
    if hint in _PLAIN or typing.get_origin(hint) is typing.Literal:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return all(_is_plain(a) for a in typing.get_args(hint))
    return False


_SHALLOW: dict[type, Callable[[Any], dict[str, Any]]] = {}


def shallow(obj: Any) -> dict[str, Any]:
    """``to_json(obj)`` for a dataclass or mapping, one level deep: the encoder does the rest."""
    tp = type(obj)
    encoder = _SHALLOW.get(tp)
    if encoder is None:
        encoder = _SHALLOW[tp] = _make_shallow(tp)
    return encoder(obj)


def _make_shallow(tp: type) -> Callable[[Any], dict[str, Any]]:
    if dataclasses.is_dataclass(tp):
        # As _dataclass_encoder, without its calls: the encoder calls back for each value.
        items = ", ".join(f"{f.name!r}: obj.{f.name}" for f in dataclasses.fields(tp))
        namespace: dict[str, Any] = {}
        exec(f"def encode(obj):\n    return {{{items}}}\n", namespace)
        return namespace["encode"]
    if issubclass(tp, Mapping):     # a mapping that is not a dict
        return lambda obj: {str(k): v for k, v in obj.items()}
    raise TypeError(f"Object of type {tp.__name__} is not JSON serializable")


Reader = Callable[[Any], Any]
_READERS: dict[Any, Reader] = {}


def reader(tp: Any) -> Reader:
    """A function rebuilding a value of type ``tp`` from JSON, built once per type."""
    cached = _READERS.get(tp)
    if cached is not None:
        return cached
    _READERS[tp] = lambda data: _READERS[tp](data)   # placeholder for recursive types
    fn = _make_reader(tp)
    _READERS[tp] = fn
    return fn


def _make_reader(tp: Any) -> Reader:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        parts = [(f.name, reader(hints[f.name])) for f in dataclasses.fields(tp)]

        def read_dataclass(data: Any) -> Any:
            if data is None:
                return None
            return tp(**{n: r(data[n]) for n, r in parts if n in data})
        return read_dataclass
    if origin is tuple:
        inner = reader(args[0]) if args else _identity
        return lambda data: None if data is None else tuple(inner(v) for v in data)
    if origin in (Mapping, dict, collections.abc.Mapping):
        inner = reader(args[1]) if len(args) == 2 else _identity
        return lambda data: None if data is None else {k: inner(v) for k, v in data.items()}
    if origin in (typing.Union, types.UnionType):
        alts = [a for a in args if a is not type(None)]
        return reader(alts[0]) if len(alts) == 1 else _identity
    return _identity


def _identity(data: Any) -> Any:
    return data
