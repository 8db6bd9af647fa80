"""YAML composed with positions: every node knows its line, so every error can say file:line.

PyYAML's ``compose`` keeps the marks that ``load`` throws away; the nodes are
turned into small :class:`N` values, refusing what annotation files must not
use (duplicate keys, merge keys, custom tags, recursive aliases).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass
class N:
    """A YAML node with its position (1-based)."""

    kind: str                       # "map" | "seq" | "scalar"
    value: Any                      # dict[str, tuple[N, N]] | list[N] | scalar
    line: int
    col: int
    raw: str = ""                   # a scalar as written: "4.50", not 4.5


class YamlError(Exception):
    def __init__(self, rule: str, line: int, message: str) -> None:
        super().__init__(message)
        self.rule, self.line = rule, line


# libyaml composes the same nodes (with the same marks) several times faster; a file
# it refuses is composed again by the Python loader, whose messages the
# diagnostics are written against.
_FAST = getattr(yaml, "CSafeLoader", None)


# Bounds that no annotation, reference or waiver file comes near, and that a hostile
# one ("billion laughs": 9 aliases of 9 aliases of ...) would blow through.
MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000         # nodes after alias expansion


class YamlLimit(yaml.YAMLError):
    """A YAML text over the bounds; ``line`` says where it went over."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


def check_bounds(text: str) -> None:
    """Refuse, from the event stream alone, a text too big, too deep, or whose aliases
    expand past :data:`MAX_NODES` nodes (YamlLimit); syntax errors are left to the
    loader, which reports them with their position."""
    if len(text) > MAX_BYTES:
        raise YamlLimit(1, f"the file is more than {MAX_BYTES} bytes")
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = []         # [anchor, nodes] of each open collection
    total = 0
    for ev in yaml.parse(text, Loader=_FAST or yaml.SafeLoader):
        line = ev.start_mark.line + 1 if ev.start_mark else 1
        if isinstance(ev, yaml.CollectionEndEvent):
            anchor, nodes = stack.pop()
            if anchor:
                sizes[anchor] = nodes
            continue
        if not isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            continue
        n = sizes.get(ev.anchor or "", 1) if isinstance(ev, yaml.AliasEvent) else 1
        total += n
        for frame in stack:
            frame[1] += n
        if total > MAX_NODES:
            raise YamlLimit(line, f"YAML aliases expand to more than {MAX_NODES} nodes")
        if isinstance(ev, yaml.ScalarEvent) and ev.anchor:
            sizes[ev.anchor] = 1
        elif isinstance(ev, yaml.CollectionStartEvent):
            stack.append([ev.anchor, 1])
            if len(stack) > MAX_DEPTH:
                raise YamlLimit(line, f"YAML nested more than {MAX_DEPTH} deep")


def load_plain(text: str) -> Any:
    """``yaml.safe_load`` within the bounds of :func:`check_bounds` (YAMLError otherwise)."""
    check_bounds(text)
    return yaml.load(text, Loader=_FAST or yaml.SafeLoader)


def compose(text: str) -> N | None:
    try:
        check_bounds(text)
    except YamlLimit as exc:
        raise YamlError("XA111", exc.line, exc.message) from None
    except yaml.YAMLError:
        pass                    # a syntax error: reported below, with its position
    try:
        if _FAST is None:
            raise yaml.YAMLError("no libyaml")
        root = yaml.compose(text, Loader=_FAST)
    except yaml.YAMLError:
        root = _compose_slow(text)
    if root is None:
        return None
    return _convert(root, yaml.SafeLoader(""), set())


def _compose_slow(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise YamlError("XA101", *_syntax(exc)) from None
    except yaml.YAMLError as exc:
        raise YamlError("XA101", 1, f"YAML syntax: {exc}") from None


def _syntax(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Line and message of a YAML syntax error, pointing where the mistake usually is."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    msg = f"YAML syntax: {exc.problem or exc}"
    if exc.context and exc.context_mark is not None:
        msg += f" ({exc.context} at line {exc.context_mark.line + 1})"
        if "expected ':'" in (exc.problem or ""):
            # A plain scalar containing ": " was read as a key; the culprit is where it began.
            line = exc.context_mark.line + 1
            msg += "; text containing ': ' must be quoted"
    return line, msg


def _convert(node: yaml.Node, loader: yaml.SafeLoader, active: set[int]) -> N:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if id(node) in active:
        raise YamlError("XA111", line, "recursive YAML alias")
    if isinstance(node, yaml.ScalarNode):
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise YamlError("XA111", line, f"unsupported YAML tag {node.tag}") from None
        return N("scalar", value, line, col, node.value)
    active = active | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        return N("seq", [_convert(v, loader, active) for v in node.value], line, col)
    out: dict[str, tuple[N, N]] = {}
    for k, v in node.value:
        key_line = k.start_mark.line + 1
        if not isinstance(k, yaml.ScalarNode):
            raise YamlError("XA103", key_line, "a mapping key must be a plain word")
        if k.value == "<<":
            raise YamlError("XA111", key_line, "YAML merge keys ('<<') are not supported: "
                             "write each statement out")
        if k.value in out:
            first = out[k.value][0].line
            raise YamlError("XA105", key_line, f"duplicate key {k.value!r} "
                             f"(first at line {first})")
        out[k.value] = (N("scalar", k.value, key_line, k.start_mark.column + 1),
                        _convert(v, loader, active))
    return N("map", out, line, col)
