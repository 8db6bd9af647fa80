"""The one model every stage shares: frozen dataclasses and their JSON form.

Parsing produces a :class:`Model`; annotations, checks and the site only read it.
The JSON form (``headerparse extract --json``) is versioned by ``SCHEMA_VERSION``
and documented in ``docs/model-json.md``; bump the version on any incompatible
change so that consumers can refuse what they do not understand.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from headerparse.diagnostics import Diagnostic, Loc

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Comment:
    """One C comment as written (``raw``) and with the comment syntax removed (``text``)."""

    raw: str
    text: str
    loc: Loc
    end_line: int


@dataclass(frozen=True)
class Doc:
    """The comment block right before a symbol and the comment trailing its line."""

    before: Comment | None = None
    trailing: Comment | None = None

    @property
    def text(self) -> str:
        parts = [c.text for c in (self.before, self.trailing) if c is not None and c.text]
        return "\n\n".join(parts)

    def __bool__(self) -> bool:
        return self.before is not None or self.trailing is not None


EMPTY_DOC = Doc()


@dataclass(frozen=True)
class ArgLine:
    """An ``@name == text`` or ``@name: text`` line of a doc comment."""

    name: str
    text: str
    line: int


@dataclass(frozen=True)
class Param:
    type: str
    name: str | None


@dataclass(frozen=True)
class Prototype:
    """A backtick prototype: `` ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)``."""

    name: str
    return_type: str
    params: tuple[Param, ...]
    variadic: bool
    text: str
    loc: Loc

    @property
    def arity(self) -> int:
        return len(self.params)


@dataclass(frozen=True)
class OpGroup:
    """`` ` enum sched_op { // SCHEDOP_* => struct sched_* `` … `` ` } ``."""

    name: str
    loc: Loc
    end_line: int
    members: tuple[str, ...]
    pattern: str | None = None      # "SCHEDOP_*"
    target: str | None = None       # "struct sched_*" or "HYPERVISOR_*()"
    doc: Doc = EMPTY_DOC

    def target_for(self, member: str) -> str | None:
        """The argument type the ``=>`` mapping names for ``member``, if any."""
        if not self.pattern or not self.target or "*" not in self.pattern:
            return None
        prefix, _, suffix = self.pattern.partition("*")
        if not (member.startswith(prefix) and member.endswith(suffix)):
            return None
        stem = member[len(prefix): len(member) - len(suffix) if suffix else None]
        return self.target.replace("*", stem, 1)


@dataclass(frozen=True)
class Section:
    """`` `incontents ORDER NAME Title ``: a chapter of the hypercall docs."""

    order: int
    name: str
    title: str
    loc: Loc
    text: str


@dataclass(frozen=True)
class Header:
    path: str
    includes: tuple[str, ...]
    sections: tuple[Section, ...]
    # arch -> "parsed" | "fragment" | "error-by-design" | "other-arch" | "not-public" | "errors"
    status: Mapping[str, str]
    note: str = ""
    doc: Doc = EMPTY_DOC


@dataclass(frozen=True)
class Member:
    """One member of a struct/union on one arch, as the compiler lays it out."""

    path: str
    type: str
    offset: int
    size: int
    bit_offset: int | None = None
    bit_size: int | None = None


@dataclass(frozen=True)
class Hole:
    """Padding the compiler inserted: ``offset``/``size`` in bytes from the start of the type."""

    offset: int
    size: int
    after: str | None  # the member path the hole follows; None at the very start
    scope: str = ""    # "" for the outer type, or the path of the nested struct


@dataclass(frozen=True)
class Layout:
    arch: str
    size: int
    align: int
    members: tuple[Member, ...]
    holes: tuple[Hole, ...] = ()

    def member(self, path: str) -> Member | None:
        for m in self.members:
            if m.path == path:
                return m
        return None


@dataclass(frozen=True)
class Field:
    """Arch-independent facts about a member: where it is written and what it says."""

    path: str
    name: str
    loc: Loc
    doc: Doc = EMPTY_DOC
    direction: str | None = None      # "IN", "OUT", "IN/OUT"
    flexible: bool = False            # flexible array member
    guest_handle: str | None = None   # XEN_GUEST_HANDLE(x) -> "x"
    bitfield: bool = False
    heading: Comment | None = None    # the comment heading its group: IN parameters, ...


@dataclass(frozen=True)
class Record:
    """A struct or union definition (one per source location)."""

    key: str                # "struct foo", "union foo", or typedef name of an anonymous one
    kind: str               # "struct" | "union"
    tag: str | None
    typedefs: tuple[str, ...]
    loc: Loc
    doc: Doc
    fields: tuple[Field, ...]
    layouts: Mapping[str, Layout]
    expanded_from: str | None = None   # the macro that declared it (DEFINE_RING_TYPES, ...)

    def layout(self, arch: str) -> Layout | None:
        return self.layouts.get(arch)

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(self.layouts)


@dataclass(frozen=True)
class EnumConst:
    name: str
    values: Mapping[str, int]
    loc: Loc
    doc: Doc = EMPTY_DOC


@dataclass(frozen=True)
class Enum:
    key: str
    loc: Loc
    doc: Doc
    constants: tuple[EnumConst, ...]
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Typedef:
    name: str
    loc: Loc
    doc: Doc
    underlying: Mapping[str, str]   # arch -> canonical spelling
    target: str | None              # record/enum key when it names one
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Macro:
    """A ``#define`` (one per source location) and what it evaluates to per arch."""

    name: str
    loc: Loc
    doc: Doc
    params: tuple[str, ...] | None  # None for object-like macros
    body: str
    archs: tuple[str, ...]          # archs whose preprocessor saw this definition
    values: Mapping[str, int] = field(default_factory=dict)
    why_not: Mapping[str, str] = field(default_factory=dict)  # arch -> why no integer value
    args: tuple[ArgLine, ...] = ()
    group: str | None = None

@dataclass(frozen=True)
class Hypercall:
    name: str                 # "sched_op"
    number: int
    macro: str                # "__HYPERVISOR_sched_op"
    loc: Loc
    note: str                 # trailing comment: "x86 only", "compat since 0x00030101"
    prototype: Prototype | None
    groups: tuple[str, ...]   # op groups whose enum the prototype names
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    schema: int
    tree: str                 # human description of where the headers came from
    tree_hash: str            # content hash of the header bytes
    archs: tuple[str, ...]
    options: Mapping[str, str]
    headers: tuple[Header, ...]
    records: tuple[Record, ...]
    enums: tuple[Enum, ...]
    typedefs: tuple[Typedef, ...]
    macros: tuple[Macro, ...]
    groups: tuple[OpGroup, ...]
    prototypes: tuple[Prototype, ...]
    hypercalls: tuple[Hypercall, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    # Look-ups. The model is immutable, so an index built on first use never goes
    # stale; names are looked up thousands of times per site build.
    def records_named(self, name: str) -> list[Record]:
        """Records a user may mean by ``name``: key ("struct foo"), tag or typedef name."""
        return list(self._records_by_name.get(" ".join(name.split()), ()))

    @cached_property
    def _records_by_name(self) -> dict[str, tuple[Record, ...]]:
        index: dict[str, list[Record]] = {}
        for r in self.records:
            for name in dict.fromkeys((r.key, r.tag, *r.typedefs)):
                index.setdefault(name, []).append(r)
        return {name: tuple(rs) for name, rs in index.items()}

    def macros_named(self, name: str) -> list[Macro]:
        return list(self._macros_by_name.get(name, ()))

    @cached_property
    def _macros_by_name(self) -> dict[str, tuple[Macro, ...]]:
        index: dict[str, list[Macro]] = {}
        for m in self.macros:
            index.setdefault(m.name, []).append(m)
        return {name: tuple(ms) for name, ms in index.items()}

    def group_of(self, macro: str) -> OpGroup | None:
        for g in self.groups:
            if macro in g.members:
                return g
        return None

    def hypercall(self, name: str) -> Hypercall | None:
        bare = name.removeprefix("__HYPERVISOR_").removeprefix("HYPERVISOR_")
        for h in self.hypercalls:
            if h.name == bare:
                return h
        return None

    def hypercalls_for_group(self, group: str) -> list[Hypercall]:
        return [h for h in self.hypercalls if group in h.groups]


# ---------------------------------------------------------------- JSON form


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
        return all(a in _PLAIN for a in typing.get_args(hint))
    return False


def model_to_json(model: Model) -> dict[str, Any]:
    data = to_json(model)
    data["$schema"] = f"headerparse-model/{SCHEMA_VERSION}"
    return data


def model_json_text(model: Model, indent: int | None = None) -> str:
    """``json.dumps(model_to_json(model), indent=indent)``, byte for byte, made faster.

    The encoder walks the model itself and asks :func:`_shallow` for one
    object's dict at a time, instead of a whole plain copy being built first
    and then walked (0.12 s against 0.16 s on 4.17).  Lists, tuples and the
    model's mappings (all keyed by strings) it encodes as ``to_json`` would.
    """
    data = _shallow(model)
    data["$schema"] = f"headerparse-model/{SCHEMA_VERSION}"
    # The model is a tree of frozen values: there is no cycle to look for.
    return json.dumps(data, indent=indent, default=_shallow, check_circular=False)


_SHALLOW: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _shallow(obj: Any) -> dict[str, Any]:
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


class SchemaError(ValueError):
    pass


Reader = Callable[[Any], Any]
_READERS: dict[Any, Reader] = {}


def _reader(tp: Any) -> Reader:
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
        parts = [(f.name, _reader(hints[f.name])) for f in dataclasses.fields(tp)]

        def read_dataclass(data: Any) -> Any:
            if data is None:
                return None
            return tp(**{n: r(data[n]) for n, r in parts if n in data})
        return read_dataclass
    if origin is tuple:
        inner = _reader(args[0]) if args else _identity
        return lambda data: None if data is None else tuple(inner(v) for v in data)
    if origin in (Mapping, dict, collections.abc.Mapping):
        inner = _reader(args[1]) if len(args) == 2 else _identity
        return lambda data: None if data is None else {k: inner(v) for k, v in data.items()}
    if origin in (typing.Union, types.UnionType):
        alts = [a for a in args if a is not type(None)]
        return _reader(alts[0]) if len(alts) == 1 else _identity
    return _identity


def _identity(data: Any) -> Any:
    return data


def diagnostics_from_json(data: list[dict[str, Any]]) -> tuple[Diagnostic, ...]:
    read = _reader(Diagnostic)
    return tuple(read(d) for d in data)


def model_from_json(data: dict[str, Any]) -> Model:
    tag = data.get("$schema", "")
    if tag != f"headerparse-model/{SCHEMA_VERSION}":
        raise SchemaError(f"unsupported model schema {tag!r}; this headerparse reads "
                          f"headerparse-model/{SCHEMA_VERSION}")
    body = {k: v for k, v in data.items() if k != "$schema"}
    return _reader(Model)(body)

