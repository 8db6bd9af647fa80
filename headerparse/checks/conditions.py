"""Which lines of a header only the toolstack (and Xen) sees, read from its conditionals.

Public headers put what guests must not rely on under ``#if defined(__XEN__) ||
defined(__XEN_TOOLS__)``, and domctl.h/sysctl.h ``#error`` unless ``__XEN_TOOLS__``
is defined. Constants there are an interface between Xen and its own tools, built
together: changing one is worth a warning, not the error a guest-visible constant
deserves (issue 11, defect 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_IF = re.compile(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)")
_NEGATED = re.compile(r"!\s*defined\s*\(?\s*__XEN_TOOLS__")
_TOOLS = re.compile(r"__XEN_TOOLS__")
_ERROR = re.compile(r"\s*#\s*error\b")


def _tools_condition(kind: str, cond: str) -> bool | None:
    """True: the branch is tools-only; False: it excludes tools; None: unrelated."""
    if not _TOOLS.search(cond):
        return None
    if kind == "ifdef":
        return True
    if kind == "ifndef":
        return False
    return not _NEGATED.search(cond)


def tools_only_lines(text: str) -> set[int]:
    """1-based lines inside a tools-only branch; every line when the header #errors
    without ``__XEN_TOOLS__``."""
    lines = text.split("\n")
    stack: list[bool | None] = []
    out: set[int] = set()
    for n, line in enumerate(lines, 1):
        m = _IF.match(line)
        if m:
            kind, cond = m.group(1), m.group(2)
            if kind in ("if", "ifdef", "ifndef"):
                stack.append(_tools_condition(kind, cond))
            elif kind == "elif" and stack:
                stack[-1] = _tools_condition("if", cond)
            elif kind == "else" and stack and stack[-1] is not None:
                stack[-1] = not stack[-1]
            elif kind == "endif" and stack:
                stack.pop()
            continue
        if _ERROR.match(line) and stack and stack[-1] is False:
            return set(range(1, len(lines) + 1))        # the header is tools-only
        if any(s is True for s in stack):
            out.add(n)
    return out


def tools_only(files: Mapping[str, bytes]) -> dict[str, set[int]]:
    """Per header, its tools-only lines (headers without any are left out)."""
    out = {}
    for path, data in files.items():
        text = data.decode("utf-8", "replace")
        if "__XEN_TOOLS__" in text:
            lines = tools_only_lines(text)
            if lines:
                out[path] = lines
    return out
