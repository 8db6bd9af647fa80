"""``xen/include/hypercall-defs.c``: the hypervisor's own table of hypercall handlers.

The file (Xen 4.17 and later) lists handler prototypes under ``prefix:`` lines
and ends in a table with one column per caller (``pv32 pv64 hvm32 hvm64 arm``)
naming the prefix of the handler serving each hypercall, or ``-``. It is run
through the C preprocessor with the build's ``CONFIG_*``; we evaluate it for a
full-featured build (every option on but the PV shim ones) and keep the
conditions that guard each row, so that "available if CONFIG_ARGO" stays visible.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from headerparse.model import Diagnostic, Loc
from headerparse.paths import HYPERCALL_DEFS

# Options a full-featured hypervisor is built without: the PV shim is a
# special-purpose build that drops most hypercalls.
_OFF = frozenset({"CONFIG_PV_SHIM", "CONFIG_PV_SHIM_EXCLUSIVE", "CPPCHECK"})
_PROTO = re.compile(r"(\w+)\s*\(([^()]*)\)\Z")
_DIRECTIVE = re.compile(r"(prefix|rettype|caller|handle|defhandle|table):\s*(.*)\Z")


@dataclass(frozen=True)
class DefsPrototype:
    name: str
    prefixes: tuple[str, ...]
    params: tuple[tuple[str, str], ...]   # (type, name)
    line: int
    guards: tuple[str, ...] = ()

    @property
    def arity(self) -> int:
        return len(self.params)

    @property
    def text(self) -> str:
        def one(t: str, n: str) -> str:
            return f"{t}{n}" if t.endswith("*") else f"{t} {n}"
        return f"{self.name}({', '.join(one(t, n) for t, n in self.params)})"


@dataclass(frozen=True)
class DefsRow:
    name: str
    cells: Mapping[str, str | None]       # column -> handler prefix, None for "-"
    line: int
    guards: tuple[str, ...] = ()


@dataclass(frozen=True)
class HypercallDefs:
    path: str
    columns: tuple[str, ...]
    rows: tuple[DefsRow, ...]
    prototypes: tuple[DefsPrototype, ...]

    def row(self, name: str) -> DefsRow | None:
        return next((r for r in self.rows if r.name == name), None)

    def handler(self, row: DefsRow, column: str) -> DefsPrototype | None:
        """The prototype of the handler serving ``row`` for ``column``, if any."""
        prefix = row.cells.get(column)
        if prefix is None:
            return None
        return next((p for p in self.prototypes if p.name == row.name and prefix in p.prefixes),
                    None)


class _Error(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def parse_hypercall_defs(text: str, path: str = HYPERCALL_DEFS) -> tuple[HypercallDefs | None,
                                                                  list[Diagnostic]]:
    """The table of ``text``; on malformed input, None and a diagnostic with file:line."""
    try:
        return _Parser(path).parse(text), []
    except _Error as exc:
        return None, [Diagnostic("XA220", "error", Loc(path, exc.line),
                                 f"cannot read hypercall-defs.c: {exc}",
                                 why="availability and arity cannot be derived from it")]


def _strip_comments(text: str) -> str:
    # Blank comments out but keep their newlines so that line numbers stay true.
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*", blank, text, flags=re.S)


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.macros: dict[str, str] = {}
        self.stack: list[tuple[bool, bool, str]] = []   # (active, taken, condition text)
        self.prefixes: tuple[str, ...] = ()
        self.columns: tuple[str, ...] | None = None
        self.rows: list[DefsRow] = []
        self.protos: list[DefsPrototype] = []

    def parse(self, text: str) -> HypercallDefs:
        lines = _strip_comments(text).splitlines()
        for n, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                self._directive(n, line)
            elif all(active for active, _, _ in self.stack):
                self._content(n, line)
        if self.stack:
            raise _Error(len(lines), "unterminated #if")
        if self.columns is None:
            raise _Error(len(lines), "no 'table:' line")
        return HypercallDefs(self.path, self.columns, tuple(self.rows), tuple(self.protos))

    # ------------------------------------------------------------ preprocessor

    def _directive(self, n: int, line: str) -> None:
        word, _, rest = line[1:].strip().partition(" ")
        rest = rest.strip()
        active = all(a for a, _, _ in self.stack)
        if word in ("ifdef", "ifndef"):
            value = self._defined(rest) == (word == "ifdef")
            self.stack.append((value, value, f"{word} {rest}"))
        elif word == "if":
            value = _Expr(rest, self, n).value() != 0
            self.stack.append((value, value, rest))
        elif word in ("elif", "else"):
            if not self.stack:
                raise _Error(n, f"#{word} without #if")
            _, taken, cond = self.stack.pop()
            value = not taken and (word == "else" or _Expr(rest, self, n).value() != 0)
            self.stack.append((value, taken or value, rest if word == "elif" else f"not {cond}"))
        elif word == "endif":
            if not self.stack:
                raise _Error(n, "#endif without #if")
            self.stack.pop()
        elif word == "define" and active:
            name, _, body = rest.partition(" ")
            self.macros[name] = body.strip()
        elif word == "undef" and active:
            self.macros.pop(rest, None)
        elif word in ("include", "error", "pragma", "undef", "define", "warning"):
            pass
        else:
            raise _Error(n, f"unsupported preprocessor line {line!r}")

    def _defined(self, name: str) -> bool:
        if name in self.macros:
            return True
        return name.startswith("CONFIG_") and name not in _OFF

    def _guards(self) -> tuple[str, ...]:
        return tuple(cond for _, _, cond in self.stack if cond.strip() != "ifndef CPPCHECK")

    def _expand(self, words: list[str]) -> list[str]:
        out: list[str] = []
        for w in words:
            out.extend(self.macros.get(w, w).split())
        return out

    # ------------------------------------------------------------ content

    def _content(self, n: int, line: str) -> None:
        m = _DIRECTIVE.match(line)
        if m:
            key, value = m.group(1), m.group(2).split()
            if key == "prefix":
                self.prefixes = tuple(self._expand(value))
            elif key == "table":
                if not value:
                    raise _Error(n, "'table:' names no columns")
                self.columns = tuple(value)
            return
        if self.columns is not None:
            self._row(n, line)
            return
        m = _PROTO.match(line)
        if not m:
            raise _Error(n, f"expected a prototype like 'name(type arg, ...)', got {line!r}")
        if not self.prefixes:
            raise _Error(n, f"prototype {m.group(1)} before any 'prefix:' line")
        self.protos.append(DefsPrototype(m.group(1), self.prefixes, _params(m.group(2), n),
                                         n, self._guards()))

    def _row(self, n: int, line: str) -> None:
        assert self.columns is not None
        words = line.split()
        if len(words) != len(self.columns) + 1:
            raise _Error(n, f"table row has {len(words) - 1} cells, the table has "
                            f"{len(self.columns)} columns")
        cells = {}
        for col, cell in zip(self.columns, words[1:], strict=True):
            cells[col] = None if cell == "-" else cell.split(":", 1)[0]
        # Xen ignores a later row for the same hypercall only by #if; a real
        # duplicate would be a build error there, so it is one here too.
        if any(r.name == words[0] for r in self.rows):
            raise _Error(n, f"second table row for {words[0]}")
        self.rows.append(DefsRow(words[0], cells, n, self._guards()))


def _params(text: str, n: int) -> tuple[tuple[str, str], ...]:
    text = text.strip()
    if not text or text == "void":
        return ()
    out = []
    for part in text.split(","):
        part = part.strip()
        m = re.match(r"(.*?)(\w+)\s*\Z", part)
        if not m or not m.group(1).strip():
            raise _Error(n, f"parameter {part!r} has no type and name")
        out.append((" ".join(m.group(1).split()), m.group(2)))
    return tuple(out)


class _Expr:
    """``#if`` expressions: defined(X), !, &&, ||, parentheses, integers, names."""

    _TOKEN = re.compile(r"\s*(defined|\w+|&&|\|\||[!()])")

    def __init__(self, text: str, parser: _Parser, line: int) -> None:
        self.parser, self.line, self.toks = parser, line, []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = self._TOKEN.match(text, pos)
            if not m:
                raise _Error(line, f"cannot evaluate #if {text!r}")
            self.toks.append(m.group(1))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def value(self) -> int:
        v = self._or()
        if self.i != len(self.toks):
            raise _Error(self.line, f"unexpected {self.toks[self.i]!r} in #if")
        return v

    def _next(self) -> str:
        if self.i >= len(self.toks):
            raise _Error(self.line, "#if expression ends too early")
        self.i += 1
        return self.toks[self.i - 1]

    def _peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _or(self) -> int:
        v = self._and()
        while self._peek() == "||":
            self._next()
            v = int(self._and() or v)
        return v

    def _and(self) -> int:
        v = self._unary()
        while self._peek() == "&&":
            self._next()
            v = int(self._unary() and v)
        return v

    def _unary(self) -> int:
        tok = self._next()
        if tok == "!":
            return int(not self._unary())
        if tok == "(":
            v = self._or()
            if self._next() != ")":
                raise _Error(self.line, "missing ')' in #if")
            return v
        if tok == "defined":
            paren = self._peek() == "("
            if paren:
                self._next()
            name = self._next()
            if paren and self._next() != ")":
                raise _Error(self.line, "missing ')' after defined(")
            return int(self.parser._defined(name))
        if tok.isdigit():
            return int(tok)
        if re.fullmatch(r"\w+", tok):
            body = self.parser.macros.get(tok, "0")
            return int(body) if body.isdigit() else int(self.parser._defined(tok) and bool(body))
        raise _Error(self.line, f"unexpected {tok!r} in #if")
