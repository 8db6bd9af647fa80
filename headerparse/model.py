"""The one model every stage shares: frozen dataclasses and their JSON form.

Parsing produces a :class:`Model`; annotations, checks and the site only read it.
The JSON form (``headerparse extract --json``) is versioned by ``SCHEMA_VERSION``
and documented in ``docs/model-json.md``; bump the version on any incompatible
change so that consumers can refuse what they do not understand. The encoding is
generic (:mod:`headerparse.jsonform`): a field's JSON key is its name.

That document is generated from these dataclasses: every field carries a ``#:``
comment saying what it means (``python3 tests/regen.py model-json`` rewrites it,
and a test fails while the two differ).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from headerparse.diagnostics import Diagnostic, Loc
from headerparse.jsonform import reader, shallow, to_json

SCHEMA_VERSION = 1


#: How a header is handled on one arch (:attr:`Header.status`).
HeaderStatus = Literal["parsed", "fragment", "not-included", "error-by-design", "other-arch",
                       "not-public", "tools-only", "unsupported", "errors"]
#: Who writes a member, as its comment says (:attr:`Field.direction`).
FieldDirection = Literal["IN", "OUT", "IN/OUT"]
RecordKind = Literal["struct", "union"]


@dataclass(frozen=True)
class Comment:
    """One C comment as written (``raw``) and with the comment syntax removed (``text``)."""

    #: The comment as written, delimiters included (CRLF read as LF); a block of
    #: consecutive comments is one ``Comment``, their texts joined.
    raw: str
    #: The comment without its syntax, `` * `` column, banners and indentation.
    text: str
    #: Where the comment starts.
    loc: Loc
    #: The line the comment ends on.
    end_line: int


@dataclass(frozen=True)
class Doc:
    """The comment block right before a symbol and the comment trailing its line."""

    #: The comment block right before the symbol (no blank line between), or null.
    before: Comment | None = None
    #: The comment after the symbol's code on its line, or null.
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

    #: The argument named, without the ``@``.
    name: str
    #: What the line says about it, after ``==`` or ``:``, continuation lines joined;
    #: ``@foreigndom[15:0]: FD`` gives name ``foreigndom`` and text ``[15:0] FD``.
    text: str
    #: The line of the header the ``@`` is on.
    line: int


@dataclass(frozen=True)
class Param:
    """One parameter of a backtick prototype."""

    #: Its C type, spaces normalised and array brackets kept: ``enum sched_op``,
    #: ``void *``, ``const struct mmu_update []``.
    type: str
    #: Its name; null when the prototype gives only the type.
    name: str | None


@dataclass(frozen=True)
class Prototype:
    """A backtick prototype: `` ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)``."""

    #: The function named, e.g. ``HYPERVISOR_sched_op``.
    name: str
    #: Its return type as written, e.g. ``long``.
    return_type: str
    #: The named parameters, in order (the ``...`` is not one).
    params: tuple[Param, ...]
    #: Whether the parameters end with ``...``: the call takes further arguments.
    variadic: bool
    #: The prototype as written, without the backtick.
    text: str
    #: Where the prototype is written.
    loc: Loc

    @property
    def arity(self) -> int:
        return len(self.params)


@dataclass(frozen=True)
class OpGroup:
    """A backtick op group: `` ` enum sched_op { // SCHEDOP_* => struct sched_* `` … `` ` } ``."""

    #: The group's name, e.g. ``sched_op``.
    name: str
    #: Where the opener is written.
    loc: Loc
    #: The line of the closer `` ` } ``; for a group never closed, the file's last line
    #: of comments and definitions.
    end_line: int
    #: The macros defined between opener and closer, in source order, e.g. ``SCHEDOP_yield``.
    members: tuple[str, ...]
    #: The left side of the opener's ``=>`` mapping, e.g. ``SCHEDOP_*``; null without one.
    pattern: str | None = None
    #: The right side of the mapping, e.g. ``struct sched_*`` or ``HYPERVISOR_*()``: the
    #: argument type of each member, the ``*`` standing for the member's part matched by
    #: the ``*`` of ``pattern``; null without a mapping.
    target: str | None = None
    #: The prose of the opener's own comment, else the comment block before it.
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

    #: Where the chapter goes in the contents, e.g. ``150``: lower first.
    order: int
    #: The chapter's short name, e.g. ``sched``.
    name: str
    #: The chapter's title, e.g. ``Guest Scheduler Operations``.
    title: str
    #: Where the ``incontents`` line is written.
    loc: Loc
    #: The comment holding the ``incontents`` line, without it and without group
    #: openers and closers.
    text: str


@dataclass(frozen=True)
class Header:
    """One ``*.h`` file of the tree and how each arch handles it."""

    #: Relative to the public include root, e.g. ``io/blkif.h``.
    path: str
    #: The headers it includes (on any arch), relative to the public include root.
    includes: tuple[str, ...]
    #: Its `` `incontents `` chapters.
    sections: tuple[Section, ...]
    #: arch -> how the arch handles the header: ``parsed`` (included directly),
    #: ``fragment`` (parsed through its parent), ``not-included`` (a fragment its
    #: parent does not include on that arch), ``error-by-design`` (``dom0_ops.h``),
    #: ``other-arch``, ``not-public`` (``foreign/``, ``sys/`` of Debian's packaging),
    #: ``tools-only`` (``domctl.h``, ``sysctl.h`` in the guest view: they ``#error``
    #: without ``__XEN_TOOLS__``), ``unsupported`` (errors only on a young port,
    #: riscv64 or ppc64, reported as XC003 warnings), ``errors`` (the compiler reported
    #: errors in it).
    status: Mapping[str, HeaderStatus]
    #: The reasons behind the statuses, joined by ``; ``.
    note: str = ""
    #: Its banner: the first comment that is not a licence tag.
    doc: Doc = EMPTY_DOC


@dataclass(frozen=True)
class Member:
    """One member of a struct/union on one arch, as the compiler lays it out."""

    #: Dotted from the outer type: ``id``, or ``u.mc_inject_v2.flags`` for a member of
    #: a nested record (whose members are listed after it); members of an anonymous
    #: struct or union are listed without a component of their own.
    path: str
    #: Its C type as the compiler spells it on this arch; an anonymous type's spelling
    #: names its file relative to the public include root.
    type: str
    #: In bytes from the start of the outer type.
    offset: int
    #: In bytes; 0 for a flexible array member.
    size: int
    #: For a bitfield, in bits from the start of the outer type; null otherwise.
    bit_offset: int | None = None
    #: For a bitfield, its width in bits; null otherwise.
    bit_size: int | None = None


@dataclass(frozen=True)
class Hole:
    """Padding the compiler inserted: ``offset``/``size`` in bytes from the start of the type."""

    #: In bytes from the start of the outer type.
    offset: int
    #: In bytes.
    size: int
    #: The path of the member the hole follows; null for a hole at the very start.
    after: str | None
    #: ``""`` for the outer type, or the path of the nested struct the hole is in.
    scope: str = ""


@dataclass(frozen=True)
class Layout:
    """A record as one arch's compiler lays it out."""

    #: The arch, e.g. ``x86_32``.
    arch: str
    #: ``sizeof`` in bytes.
    size: int
    #: ``_Alignof`` in bytes.
    align: int
    #: Every member, nested ones flattened, in declaration order.
    members: tuple[Member, ...]
    #: The padding of each struct scope, by offset; none for a union.
    holes: tuple[Hole, ...] = ()

    def member(self, path: str) -> Member | None:
        for m in self.members:
            if m.path == path:
                return m
        return None


@dataclass(frozen=True)
class Field:
    """Arch-independent facts about a member: where it is written and what it says."""

    #: Dotted from the outer type, as :attr:`Member.path`.
    path: str
    #: The last component of ``path``: the name as written.
    name: str
    #: Where the member is declared: in the header that declares it, which for a member
    #: of a nested record from another header is that header.
    loc: Loc
    #: What describes this member: the comment trailing its line, the comment above it
    #: that is not a heading, or its own ``@name:`` line (headerparse/extract/attach.py).
    doc: Doc = EMPTY_DOC
    #: Who writes it: from the field's comment (``/* IN: ... */``) or from a section
    #: comment among the fields such as ``/* IN variables. */``; null when neither says.
    direction: FieldDirection | None = None
    #: Whether it is a flexible array member (``type name[]``).
    flexible: bool = False
    #: For a ``XEN_GUEST_HANDLE(x)`` member, the handle's type ``x``; null otherwise.
    guest_handle: str | None = None
    #: Whether it is a bitfield.
    bitfield: bool = False
    #: The comment heading the group of members it is in (``/* IN parameters. */``, a
    #: title above members that each have their own trailing comment); null when none.
    heading: Comment | None = None


@dataclass(frozen=True)
class Record:
    """A struct or union definition (one per source location)."""

    #: ``struct X``, ``union X``, or the typedef name of an anonymous typedef'd record.
    key: str
    #: Whether it is a struct or a union.
    kind: RecordKind
    #: The tag ``X`` of ``struct X``; null for an anonymous record.
    tag: str | None
    #: The typedef names that name it, e.g. ``blkif_request_t``.
    typedefs: tuple[str, ...]
    #: Where it is defined.
    loc: Loc
    #: Its comments.
    doc: Doc
    #: Its members, nested ones flattened, in declaration order.
    fields: tuple[Field, ...]
    #: arch -> its layout there, one entry per arch that compiles the definition.
    layouts: Mapping[str, Layout]
    #: The macro whose expansion declared it (``DEFINE_XEN_GUEST_HANDLE``,
    #: ``DEFINE_RING_TYPES``); null when it is written out.
    expanded_from: str | None = None

    def layout(self, arch: str) -> Layout | None:
        return self.layouts.get(arch)

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(self.layouts)


@dataclass(frozen=True)
class EnumConst:
    """One enumerator of an enum."""

    #: As written.
    name: str
    #: arch -> its value.
    values: Mapping[str, int]
    #: Where it is declared.
    loc: Loc
    #: Its comments.
    doc: Doc = EMPTY_DOC


@dataclass(frozen=True)
class Enum:
    """An enum definition (one per source location)."""

    #: ``enum X``, the typedef name of an anonymous typedef'd enum, or clang's name of
    #: an anonymous one: ``enum (unnamed at arch-x86/cpufeatureset.h:38:1)``.
    key: str
    #: Where it is defined.
    loc: Loc
    #: Its comments.
    doc: Doc
    #: Its enumerators, in source order.
    constants: tuple[EnumConst, ...]
    #: The arches that compile the definition.
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Typedef:
    """A typedef (one per source location)."""

    #: The name it defines.
    name: str
    #: Where it is defined.
    loc: Loc
    #: Its comments.
    doc: Doc
    #: arch -> the canonical spelling of the type it names.
    underlying: Mapping[str, str]
    #: The record or enum key when it names one, e.g. ``struct x``; null otherwise.
    target: str | None
    #: The arches that compile the definition.
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Macro:
    """A ``#define`` (one per source location) and what it evaluates to per arch."""

    #: The name it defines.
    name: str
    #: Where it is defined.
    loc: Loc
    #: What describes it: its trailing comment, the block above it (or above the run of
    #: ``#define`` lines it stands in), or a ``NAME: text`` entry naming it
    #: (headerparse/extract/attach.py).
    doc: Doc
    #: The parameter names of a function-like macro; null for an object-like one.
    params: tuple[str, ...] | None
    #: The replacement text as written.
    body: str
    #: The arches whose preprocessor saw this definition.
    archs: tuple[str, ...]
    #: arch -> its integer value, where the body is an integer constant expression.
    values: Mapping[str, int] = field(default_factory=dict)
    #: arch -> why it has no integer value there.
    why_not: Mapping[str, str] = field(default_factory=dict)
    #: The ``@name == text`` lines of its doc comment.
    args: tuple[ArgLine, ...] = ()
    #: The op group it is a member of, e.g. ``sched_op``; null outside any group.
    group: str | None = None


@dataclass(frozen=True)
class Hypercall:
    """One ``__HYPERVISOR_*`` number of the hypercall table."""

    #: Without the prefix, e.g. ``sched_op``.
    name: str
    #: The hypercall number, e.g. ``29``.
    number: int
    #: The macro defining the number, e.g. ``__HYPERVISOR_sched_op``.
    macro: str
    #: Where the macro is defined.
    loc: Loc
    #: The macro's trailing comment, e.g. ``x86 only`` or ``compat since 0x00030101``;
    #: empty without one.
    note: str
    #: The backtick prototype of ``HYPERVISOR_<name>``; null without one.
    prototype: Prototype | None
    #: The op groups whose enum a parameter of the prototype names, e.g. ``sched_op``.
    groups: tuple[str, ...]
    #: The arches whose preprocessor saw the macro.
    archs: tuple[str, ...]


@dataclass(frozen=True)
class Model:
    """Everything extracted from one tree of headers: the top level of the JSON form."""

    #: ``SCHEMA_VERSION``, 1.
    schema: int
    #: Where the headers came from: ``Debian libxen-dev 4.17.… (bookworm)``, a path, or
    #: ``path at REV``.
    tree: str
    #: SHA-256 over the header paths and bytes.
    tree_hash: str
    #: The extraction arches: ``["x86_32", "x86_64", "arm32", "arm64"]``, then ``riscv64`` and
    #: ``ppc64`` where the tree has those ports.
    archs: tuple[str, ...]
    #: ``tools`` (``"true"`` when ``__XEN_TOOLS__`` was defined) and ``interface_version``
    #: (the value of ``__XEN_INTERFACE_VERSION__``, ``latest`` by default).
    options: Mapping[str, str]
    #: Every ``*.h`` of the tree.
    headers: tuple[Header, ...]
    #: Structs and unions, one per definition (source location).
    records: tuple[Record, ...]
    #: Enums, one per definition.
    enums: tuple[Enum, ...]
    #: Typedefs, one per definition.
    typedefs: tuple[Typedef, ...]
    #: Macros, one per definition.
    macros: tuple[Macro, ...]
    #: The backtick op groups (`` ` enum sched_op { // SCHEDOP_* => struct sched_* ``).
    groups: tuple[OpGroup, ...]
    #: The backtick prototypes (`` ` long HYPERVISOR_sched_op(...) ``).
    prototypes: tuple[Prototype, ...]
    #: The ``__HYPERVISOR_*`` table.
    hypercalls: tuple[Hypercall, ...]
    #: Compiler and markup diagnostics.
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


def model_to_json(model: Model) -> dict[str, Any]:
    data = to_json(model)
    data["$schema"] = f"headerparse-model/{SCHEMA_VERSION}"
    return data


def model_json_text(model: Model, indent: int | None = None,
                    known: Mapping[int, str] | None = None) -> str:
    """``json.dumps(model_to_json(model), indent=indent)``: :func:`model_json_parts`, joined."""
    return "".join(model_json_parts(model, indent, known))


def model_json_parts(model: Model, indent: int | None = None,
                     known: Mapping[int, str] | None = None) -> list[str]:
    """``json.dumps(model_to_json(model), indent=indent)``, byte for byte, made faster, in
    parts to write one after the other (joined, 9 MB on 4.17 would be one more copy).

    The encoder walks the model itself, so no plain copy is built first.  Every value
    below the model is a frozen dataclass whose ``__dict__`` holds its fields, in
    order, and nothing else (no slots, no cached properties, no attribute set after
    ``__init__``: what ``tests/test_extract.py`` checks on real models), so
    ``vars`` gives the dict :func:`~headerparse.jsonform.shallow` would build, from
    C and without building it: 0.065 s against 0.1 s on 4.17.  Anything without a
    ``__dict__`` (a mapping that is no dict) fails that pass, and the model is then
    encoded with :func:`~headerparse.jsonform.shallow`.

    ``known`` holds the text (:func:`value_json_text`) of some of the records' layouts
    and member lists and of the macros' docs, by their ``id``: a cold extraction's
    parsers encode the layouts of their arches while this process merges, and this
    process the others while it waits for the last one (four fifths of the text in all);
    each is put in place of a marker.
    """
    data = shallow(model)
    data["$schema"] = f"headerparse-model/{SCHEMA_VERSION}"
    texts: list[str] = []
    token = os.urandom(8).hex()
    if known and indent is None:
        def marker(value: Any) -> Any:
            text = known.get(id(value))
            if text is None:
                return value
            texts.append(text)
            return f"\0{token}{len(texts) - 1}"

        # Each record's and macro's own dict, some values swapped: the keys keep their order.
        data["records"] = [{**vars(r), "fields": marker(r.fields),
                            "layouts": {a: marker(lay) for a, lay in r.layouts.items()}}
                           for r in model.records]
        data["macros"] = [{**vars(m), "doc": marker(m.doc)} for m in model.macros]
    text = _encode(data, indent)
    if not texts:
        return [text]
    # A marker's JSON is its NUL escaped and this run's random token: no header's text
    # can be one.
    parts = re.split(r'"\\u0000' + token + r'(\d+)"', text)
    parts[1::2] = [texts[int(n)] for n in parts[1::2]]
    return parts


def value_json_text(value: object) -> str:
    """A value of the model as :func:`model_json_text` writes it inside the model."""
    return _encode(value)


def _encode(value: object, indent: int | None = None) -> str:
    # The model is a tree of frozen values: there is no cycle to look for.
    try:
        return json.dumps(value, indent=indent, default=vars, check_circular=False)
    except TypeError:
        return json.dumps(value, indent=indent, default=shallow, check_circular=False)


class SchemaError(ValueError):
    pass


def diagnostics_from_json(data: list[dict[str, Any]]) -> tuple[Diagnostic, ...]:
    read = reader(Diagnostic)
    return tuple(read(d) for d in data)


def model_from_json(data: dict[str, Any]) -> Model:
    tag = data.get("$schema", "")
    if tag != f"headerparse-model/{SCHEMA_VERSION}":
        raise SchemaError(f"unsupported model schema {tag!r}; this headerparse reads "
                          f"headerparse-model/{SCHEMA_VERSION}")
    body = {k: v for k, v in data.items() if k != "$schema"}
    return reader(Model)(body)

