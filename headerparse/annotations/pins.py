"""Pins: the value or shape of each symbol a hand-written statement relies on.

A file's ``symbols:`` section records what its statements were written against;
comparing it with the tree turns "the symbol vanished, changed value or changed
shape" into a diagnostic at the pin's file:line (XA203-XA206).
"""

from __future__ import annotations

import re
from typing import Any

from headerparse.annotations.parsed import Pin, Shape
from headerparse.model import Diagnostic, Loc, Model

_ANON = re.compile(r"\((?:unnamed|anonymous) (struct|union|enum) at [^)]*\)")


def check_pins(model: Model, refs: dict[str, tuple[str, Loc]],
               pins: dict[str, Pin]) -> list[Diagnostic]:
    """Each used symbol against its pin, and each pin against its uses."""
    out: list[Diagnostic] = []
    for symbol, (kind, loc) in refs.items():
        now = shape(model, symbol) if kind == "shape" else values(model, symbol)
        pin = pins.get(symbol)
        if pin is None:
            out.append(Diagnostic(
                "XA205", "error", loc, f"{symbol} is used but not pinned; add under "
                f"'symbols:'  {symbol}: {pin_text(now)}",
                why="a pin records the value or shape a statement was written against, "
                    "so that a change in the headers is caught", symbol=symbol))
        elif now is None:
            continue        # the symbol is gone: its use was reported already
        elif kind == "shape":
            out += _compare_shape(symbol, pin, now)
        elif not same_value(pin.value, now):
            out.append(Diagnostic(
                "XA203", "error", pin.loc, f"{symbol} changed value: pinned "
                f"{pin_text(pin.value)}, the tree has {pin_text(now)}; review the statements "
                f"using it (first at {loc.file}:{loc.line}), then update the pin",
                symbol=symbol))
    for key, pin in pins.items():
        if key not in refs:
            out.append(Diagnostic("XA206", "warning", pin.loc,
                                  f"pin of {pin.symbol} is used by no statement",
                                  symbol=pin.symbol))
    return out


def values(model: Model, symbol: str) -> Any:
    """A macro's or enum constant's value: an int, or arch -> int where they differ."""
    found: dict[str, int] = {}
    for m in model.macros_named(symbol):
        found.update(m.values)
    if not found:
        for e in model.enums:
            for c in e.constants:
                if c.name == symbol:
                    found.update(c.values)
    if not found:
        # Defined for no compiled configuration (EVTCHNOP_reset_cont is __XEN__ only):
        # a literal body still says what the value is.
        for m in model.macros_named(symbol):
            if re.fullmatch(r"\d+|0x[0-9a-fA-F]+", m.body.strip()):
                return int(m.body.strip(), 0)
        return None
    distinct = set(found.values())
    return distinct.pop() if len(distinct) == 1 else found


def shape(model: Model, key: str) -> Shape | None:
    """Size per arch (one int when equal) and "path: type" of each member."""
    lays = [lay for r in model.records_named(key) for lay in r.layouts.values()]
    if not lays:
        return None
    sizes = {lay.arch: lay.size for lay in lays}
    pref = next((lay for lay in lays if lay.arch == "x86_64"), lays[0])
    size: Any = lays[0].size if len(set(sizes.values())) == 1 else sizes
    return Shape(size, tuple(f"{m.path}: {_type(m.type)}" for m in pref.members))


def _type(spelling: str) -> str:
    # clang names an anonymous member type by where it was parsed, a cache path
    # that differs between machines: a pin must not depend on it.
    return _ANON.sub(r"(anonymous \1)", spelling)


def _compare_shape(symbol: str, pin: Pin, now: Shape) -> list[Diagnostic]:
    if not isinstance(pin.value, Shape):
        return [Diagnostic("XA204", "error", pin.loc, f"{symbol} is a struct: pin its shape, "
                           f"{{size: ..., members: [...]}}; the tree has {pin_text(now)}")]
    problems = []
    if not same_value(pin.value.size, now.size):
        problems.append(f"size {pin_text(pin.value.size)} -> {pin_text(now.size)}")
    if pin.value.members != now.members:
        gone = [m for m in pin.value.members if m not in now.members]
        new = [m for m in now.members if m not in pin.value.members]
        problems.append("members " + "; ".join(
            [f"removed {m!r}" for m in gone] + [f"added {m!r}" for m in new] or ["reordered"]))
    if not problems:
        return []
    return [Diagnostic("XA204", "error", pin.loc, f"{symbol} changed shape: "
                       f"{', '.join(problems)}; review the statements using it, then update "
                       "the pin", symbol=symbol)]


def same_value(pinned: Any, now: Any) -> bool:
    """Equal, comparing per-arch mappings on the arches both know."""
    if not isinstance(pinned, dict) and not isinstance(now, dict):
        return pinned == now
    if not isinstance(pinned, dict):
        return all(v == pinned for v in now.values())
    if not isinstance(now, dict):
        return all(v == now for v in pinned.values())
    common = set(pinned) & set(now)
    return bool(common) and all(pinned[k] == now[k] for k in common)


def pin_text(value: Any) -> str:
    """A pin as a one-line YAML value."""
    if isinstance(value, Shape):
        members = ", ".join(f'"{m}"' for m in value.members)
        return f"{{size: {pin_text(value.size)}, members: [{members}]}}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return "?" if value is None else str(value)


def layout_diff(lays: dict[str, Any]) -> str:
    """The first difference between the arches' layouts, in words."""
    sizes = {a: lay.size for a, lay in lays.items()}
    if len(set(sizes.values())) > 1:
        return "sizes " + ", ".join(f"{a} {n}" for a, n in sizes.items())
    paths = dict.fromkeys(m.path for lay in lays.values() for m in lay.members)
    for path in paths:
        where = {a: (m.offset, m.size) if (m := lay.member(path)) else None
                 for a, lay in lays.items()}
        if len(set(where.values())) > 1:
            return f"member {path}: " + ", ".join(
                f"{a} {'absent' if w is None else f'offset {w[0]} size {w[1]}'}"
                for a, w in where.items())
    return "member lists differ"
