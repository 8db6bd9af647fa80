"""Which views of a header see each line: a guest's, the toolstack's, the hypervisor's.

The extraction compiles one view (by default the toolstack's, ``__XEN_TOOLS__``
defined); whether a definition it saw is also a guest's depends only on the
``#if`` blocks around it. This reads those blocks and evaluates their conditions in
three-valued logic over ``defined(__XEN__)`` and ``defined(__XEN_TOOLS__)``: any other
condition (an interface version, an arch) is "unknown", which never excludes a line.

A block that contains ``#error`` and holds exactly when the guest view does not
(``#if !defined(__XEN__) && !defined(__XEN_TOOLS__)`` in domctl.h) refuses the
guest view for the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The three views, as the values of the two macros that select them.
GUEST = {"__XEN__": False, "__XEN_TOOLS__": False}
TOOLS = {"__XEN__": False, "__XEN_TOOLS__": True}
XEN = {"__XEN__": True, "__XEN_TOOLS__": False}
_VIEWS = (("guest", GUEST), ("tools", TOOLS), ("xen", XEN))

# A comment, as :func:`blank_comments` finds them (what it is tested against).
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)(.*)$")
_TOKEN = re.compile(r"\s*(\|\||&&|!(?!=)|\(|\)|[A-Za-z_]\w*|[^\s()&|!A-Za-z_]+|[&|!])")

_BLOCK = frozenset({"if", "ifdef", "ifndef", "elif", "else", "endif"})
Tri = bool | None        # None: unknown


@dataclass(frozen=True)
class Visibility:
    """Per line of a header, which views may see it (True), cannot (False)."""

    lines: tuple[frozenset[str], ...]      # index: line number - 1

    def views(self, line: int) -> frozenset[str]:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return frozenset(v for v, _ in _VIEWS)

    def tools_only(self, line: int) -> bool:
        """Seen by the toolstack's view and not by a guest's."""
        v = self.views(line)
        return "tools" in v and "guest" not in v

    def xen_only(self, line: int) -> bool:
        """Seen only when compiling the hypervisor (``#ifdef __XEN__``): not guest ABI."""
        v = self.views(line)
        return "xen" in v and not v & {"guest", "tools"}


def blank_comments(text: str) -> str:
    """``text`` with each comment (what :data:`COMMENT` matches) replaced by its newlines.

    Found with ``str.find`` rather than the pattern, whose engine steps through each
    comment a character at a time (the merge reads every header's code lines): the
    leftmost ``/*`` with a ``*/`` after it or ``//`` starts a comment, a ``/*`` never
    closed none.
    """
    parts: list[str] = []
    done = at = 0
    while (at := text.find("/", at)) >= 0:
        after = text[at + 1:at + 2]
        if after == "*" and (end := text.find("*/", at + 2)) >= 0:
            end += 2
        elif after == "/":
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
        else:
            at += 1
            continue
        parts += (text[done:at], "\n" * text.count("\n", at, end))
        done = at = end
    parts.append(text[done:])
    return "".join(parts)


def visibility(text: str, blanked: bool = False) -> Visibility:
    """Each line's views, from the ``#if`` blocks around it (``blanked``: the text's
    comments are already blanked)."""
    raw = (text if blanked else blank_comments(text)).split("\n")
    # frames: [conditions of the branches before, the current branch's condition, has #error]
    frames: list[list] = []
    refused: list[object] = []          # conditions every later line must also fail
    out: list[frozenset[str]] = []
    here = _views([])
    i = 0
    while i < len(raw):
        line, first = raw[i], i
        while line.endswith("\\") and i + 1 < len(raw):
            i += 1
            line = line[:-1] + " " + raw[i]
        out.extend([here] * (i - first + 1))
        m = _DIRECTIVE.match(line) if "#" in line else None
        if m:
            _directive(m.group(1), m.group(2).strip(), frames, refused)
            if m.group(1) in _BLOCK:
                here = _views([f[1] for f in frames] + refused)
        i += 1
    return Visibility(tuple(out))


def _directive(name: str, rest: str, frames: list[list], refused: list[object]) -> None:
    if name in ("if", "ifdef", "ifndef"):
        cond = _parse(rest) if name == "if" else ("defined", rest.split()[0] if rest else "")
        frames.append([[], cond if name != "ifndef" else ("not", cond), False])
    elif name in ("elif", "else") and frames:
        f = frames[-1]
        f[0].append(f[1])
        prior = ("not", ("or", *f[0]))
        f[1] = ("and", prior, _parse(rest)) if name == "elif" else prior
    elif name == "endif" and frames:
        f = frames.pop()
        if f[2]:
            refused.append(("not", f[1]))
    elif name == "error" and frames:
        cond = frames[-1][1]
        if _eval(cond, GUEST) is True and _eval(cond, TOOLS) is False:
            frames[-1][2] = True


def _views(conds: list[object]) -> frozenset[str]:
    return frozenset(v for v, env in _VIEWS if all(_eval(c, env) is not False for c in conds))


def _eval(cond: object, env: dict[str, bool]) -> Tri:
    if not isinstance(cond, tuple):
        return None
    op = cond[0]
    if op == "defined":
        return env.get(cond[1])
    if op == "not":
        v = _eval(cond[1], env)
        return None if v is None else not v
    vals = [_eval(c, env) for c in cond[1:]]
    if op == "and":
        return False if False in vals else (None if None in vals else True)
    if op == "or":
        return True if True in vals else (None if None in vals else False)
    return None


def _parse(text: str) -> object:
    """A condition as nested tuples; anything but defined/!/&&/|| is an unknown atom."""
    tokens = [t for t in _TOKEN.findall(text) if t]
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr() -> object:
        parts = [conj()]
        while peek() == "||":
            take()
            parts.append(conj())
        return parts[0] if len(parts) == 1 else ("or", *parts)

    def conj() -> object:
        parts = [unary()]
        while peek() == "&&":
            take()
            parts.append(unary())
        return parts[0] if len(parts) == 1 else ("and", *parts)

    def unary() -> object:
        t = peek()
        if t == "!":
            take()
            return ("not", unary())
        if t == "defined":
            take()
            paren = peek() == "("
            if paren:
                take()
            name = take() if peek() not in (None, ")") else ""
            if paren and peek() == ")":
                take()
            return ("defined", name)
        if t == "(":
            take()
            inner = expr()
            if peek() == ")":
                take()
            return _atom_rest(inner)
        return _atom()

    def _atom_rest(inner: object) -> object:
        # "(A) >= 3": a parenthesised part of a comparison is unknown as a whole.
        if peek() not in (None, "&&", "||", ")"):
            _atom()
            return "?"
        return inner

    def _atom() -> object:
        while peek() not in (None, "&&", "||", ")"):
            if take() == "(":
                depth = 1
                while depth and peek() is not None:
                    t = take()
                    depth += (t == "(") - (t == ")")
        return "?"

    return expr() if tokens else "?"
