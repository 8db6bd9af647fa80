"""The annotation files as read, before binding: one entry per statement, with its line.

:mod:`.schema` produces these from YAML; :mod:`.bind` turns them into the
statements of an :class:`~headerparse.annotations.types.AnnotationSet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headerparse.annotations.types import Provenance, Scope
from headerparse.model import Loc


@dataclass(frozen=True)
class Selector:
    names: tuple[str, ...]          # variant and group names as written
    loc: Loc


@dataclass
class ArgEntry:
    position: int
    selector: Selector | None
    fields: dict[str, Any]
    loc: Loc


@dataclass
class AvailEntry:
    selector: Selector
    requires: str
    loc: Loc


@dataclass
class ReturnEntry:
    selector: Selector | None
    text: str
    loc: Loc


_UNSET: Any = object()


@dataclass
class ScopeEntry:
    scope: Scope
    loc: Loc
    summary: str = ""
    since: str = ""
    notes: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    overrides: str = ""
    xen_name: str = ""
    available: AvailEntry | None = None
    args: list[ArgEntry] = field(default_factory=list)
    returns: list[ReturnEntry] = field(default_factory=list)
    takes: Any = _UNSET              # sub-ops: record name, None for "no argument"
    takes_loc: Loc | None = None
    subops: list[ScopeEntry] = field(default_factory=list)
    cases: list[ScopeEntry] = field(default_factory=list)
    cond_loc: Loc | None = None
    no_args: bool = False            # "args: []": the call takes no arguments

    @property
    def has_takes(self) -> bool:
        return self.takes is not _UNSET


@dataclass
class StructEntry:
    name: str
    loc: Loc
    intent: str
    why: str
    provenance: tuple[Provenance, ...] = ()


@dataclass
class Pin:
    symbol: str
    value: Any                       # int | dict[arch, int] | Shape
    loc: Loc


@dataclass(frozen=True)
class Shape:
    size: Any                        # int | dict[arch, int]
    members: tuple[str, ...]


@dataclass
class ParsedFile:
    path: str
    family: str
    hypercalls: list[ScopeEntry]
    structs: list[StructEntry]
    pins: list[Pin]
