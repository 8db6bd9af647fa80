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


def compose(text: str) -> N | None:
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
