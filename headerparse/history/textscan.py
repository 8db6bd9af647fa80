"""Definitions in a header's text that no compiled arch sees, and why none sees them.

The history answers "since when" and "removed when" for what the headers *say*,
and they say more than any arch compiles: ia64's headers (until 4.3), the
hypervisor's own view (``#ifdef __XEN__``), ``dom0_ops.h`` (which ``#error``\\ s
by design), a type local to an inline function.  The extraction lists every
``#define`` whatever the preprocessor took; struct and union tags come from the
compiler only, so this module reads them from the text: a small scan, comments
blanked, with the ``#if`` nesting kept to tell *why* a definition is unseen.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable

from headerparse.extract.conditions import blank_comments

_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
_DIRECTIVE = re.compile(r"\s*#\s*(\w+)(.*)")
_RECORD = re.compile(r"\b(struct|union)\s+([A-Za-z_]\w*)\s*\{")
_ARCH_FILE = re.compile(r"(?:^|/)arch-([a-z0-9]+?)(?:_(?:32|64))?(?:/|\.h$)")
# A positive test of one of these in an #if hides its branch from every compiled arch
# (headerparse compiles the toolstack's view: __XEN_TOOLS__, never __XEN__ or ia64).
_GUARDS = (("__ia64__", "ia64 only"), ("__XEN__", "__XEN__ only (the hypervisor's view)"))
# Arch header names -> the target family that compiles them.
_FAMILY = {"x86": "x86", "arm": "arm", "riscv": "riscv", "ppc": "ppc"}


class TextScan:
    """One header's text: the guard of each line, and its struct/union definitions."""

    def __init__(self, data: bytes) -> None:
        text = blank_comments(data.decode("utf-8", "replace"))
        self.guards: list[str] = []          # per 0-based line: "" or the hiding reason
        stack: list[str] = []
        code: list[str] = []
        continued = False
        for line in text.split("\n"):
            directive = continued or _DIRECTIVE.match(line)
            self.guards.append(next((g for g in stack if g), ""))
            code.append("" if directive else line)
            if directive and not continued:
                _follow(stack, *_DIRECTIVE.match(line).groups())  # type: ignore[union-attr]
            continued = bool(directive) and line.rstrip().endswith("\\")
        self.records: dict[str, tuple[int, str]] = {}     # key -> (1-based line, guard)
        joined = "\n".join(code)
        if "{" not in joined:
            return
        starts = _function_bodies(joined)
        line_starts = [0] + [m.end() for m in re.finditer("\n", joined)]
        for m in _RECORD.finditer(joined):
            line = bisect_right(line_starts, m.start()) - 1
            guard = self.guards[line] or ("local to a function" if starts(m.start()) else "")
            self.records.setdefault(f"{m.group(1)} {m.group(2)}", (line + 1, guard))

    def guard(self, line: int) -> str:
        """Why the 1-based ``line`` is hidden by an #if ("" when no guard says so)."""
        return self.guards[line - 1] if 0 < line <= len(self.guards) else ""


def _follow(stack: list[str], word: str, rest: str) -> None:
    if word in ("if", "ifdef", "ifndef"):
        stack.append(_guard(word, rest))
    elif word == "elif" and stack:
        stack[-1] = _guard("if", rest)
    elif word == "else" and stack:
        stack[-1] = ""
    elif word == "endif" and stack:
        stack.pop()


def _guard(word: str, condition: str) -> str:
    if word == "ifndef" or "!" in condition or "__XEN_TOOLS__" in condition:
        return ""
    return next((why for name, why in _GUARDS
                 if re.search(rf"\b{name}\b", condition)), "")


def _function_bodies(code: str) -> Callable[[int], bool]:
    """A test: is an offset of ``code`` inside a function body (a brace opened after ')')?"""
    spans: list[tuple[int, int]] = []
    opened: list[tuple[int, bool]] = []
    for m in re.finditer(r"[{}]", code):
        if m.group() == "{":
            at = m.start() - 1
            while at >= 0 and code[at].isspace():
                at -= 1
            opened.append((m.start(), at >= 0 and code[at] == ")"))
        elif opened:
            start, body = opened.pop()
            if body:
                spans.append((start, m.start()))
    return lambda at: any(s < at < e for s, e in spans)


def file_reason(path: str, families: Iterable[str]) -> str:
    """Why a header's definitions are unseen from its name: another arch's header, dom0_ops.h."""
    m = _ARCH_FILE.search(path)
    if m and _FAMILY.get(m.group(1)) not in set(families):
        return f"{m.group(1)} only"
    if path.rsplit("/", 1)[-1] == "dom0_ops.h":
        return "dom0_ops.h only (it #errors by design)"
    return ""


_TAG = re.compile(rb"\b(struct|union)\s+([A-Za-z_]\w*)\s*\{")


def tag_candidates(data: bytes) -> set[str]:
    """The ``struct X`` keys a header's text seems to open, #ifs, macros and functions
    all taken: a superset of :attr:`TextScan.records`' keys at the regex engine's speed."""
    return {f"{m[0].decode()} {m[1].decode()}"
            for m in _TAG.findall(_COMMENT.sub(b" ", data))}
