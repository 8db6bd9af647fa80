"""What a header tree may hold, checked before any parser sees it (issue 15).

Every tree, from a directory, a git revision or a patched copy, goes through
:func:`problems`: names that are relative, UTF-8 and of sane length, no file
that is also a directory, no ``#include`` that leaves the tree, and no macro
whose expansion would cost more than :data:`MAX_EXPANSION` tokens (25 doubling
``#define`` lines expand to 2^25 tokens: libclang would need minutes and
gigabytes).  :func:`read_dir` reads a directory without ever leaving it.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

MAX_HEADER_BYTES = 16 * 1024 * 1024     # Xen's largest public header is ~100 KB
MAX_TREE_BYTES = 256 * 1024 * 1024
MAX_FILES = 20_000
MAX_DEPTH = 32                          # directories below the public dir
MAX_NAME = 200                          # bytes of one path component
MAX_EXPANSION = 1_000_000               # tokens one macro, or one header, may expand to
MAX_NESTING = 256                       # parentheses, as clang's -fbracket-depth


class Unsafe(Exception):
    """The tree is refused; the message names the file (and line) and says why."""


# --------------------------------------------------------------------------- reading


def read_dir(public: Path) -> dict[str, bytes]:
    """The ``*.h`` files below ``public``; symlinks are read only when they stay inside."""
    root = os.path.realpath(public)
    files: dict[str, bytes] = {}
    total = 0
    for rel, full, link in _walk(root):
        target = full
        if link:    # only a link can lead out: the others are where the walk found them
            target = os.path.realpath(full)
            if not _inside(Path(target), Path(root)):
                raise Unsafe(f"{rel} is a symlink to {target}, outside the tree; refused")
        data = _read_regular(Path(target), rel)
        total += len(data)
        if total > MAX_TREE_BYTES or len(files) >= MAX_FILES:
            raise Unsafe(f"the tree holds more than {MAX_TREE_BYTES} bytes or {MAX_FILES} "
                         "headers; refused")
        files[rel] = data
    return files


def _walk(root: str, rel: str = "", depth: int = 0) -> Iterator[tuple[str, str, bool]]:
    """``(relative path, full path, is a symlink)`` of each ``*.h``, directories in name
    order, each before what is below it; symlinked directories are checked, not entered."""
    here = os.path.join(root, rel) if rel else root
    try:
        with os.scandir(here) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise Unsafe(f"cannot read the directory {exc.filename}: {exc.strerror}") from exc
    dirs = [e for e in entries if _is_dir(e)]
    for d in dirs:
        if d.is_symlink() and not _inside(Path(os.path.realpath(d.path)), Path(root)):
            raise Unsafe(f"{posixpath.join(rel, d.name)} is a symlink to "
                         f"{os.path.realpath(d.path)}, outside the tree; refused")
    if depth >= MAX_DEPTH:
        raise Unsafe(f"{rel or '.'}: directories nested more than {MAX_DEPTH} deep; refused")
    for e in entries:
        if e.name.endswith(".h") and not _is_dir(e):
            path = posixpath.join(rel, e.name) if rel else e.name
            problem = path_problem(path)
            if problem:
                raise Unsafe(problem)
            yield path, e.path, e.is_symlink()
    for d in dirs:
        if not d.is_symlink():
            yield from _walk(root, posixpath.join(rel, d.name) if rel else d.name, depth + 1)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()       # as os.walk sorts them: a link to a directory is one
    except OSError:
        return False


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def read_regular_file(path: Path, rel: str) -> bytes:
    """``path``'s bytes if it is a regular file within the size cap; Unsafe otherwise."""
    return _read_regular(path, rel)


def _read_regular(path: Path, rel: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Unsafe(f"cannot read header {rel}: {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unsafe(f"{rel} is not a regular file; refused")
        if st.st_size > MAX_HEADER_BYTES:
            raise Unsafe(f"{rel} is {st.st_size} bytes, more than {MAX_HEADER_BYTES}; refused")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_HEADER_BYTES + 1)[:MAX_HEADER_BYTES]
    except OSError as exc:
        raise Unsafe(f"cannot read header {rel}: {exc.strerror}") from exc
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- checking


def path_problem(rel: str) -> str | None:
    """Why ``rel`` cannot name a header of a tree; None when it can."""
    shown = rel.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    try:
        raw = rel.encode("utf-8")
    except UnicodeEncodeError:
        return f"the header name {shown!r} is not UTF-8; refused"
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return f"the header path {shown!r} is not a plain relative path; refused"
    if any(ord(c) < 32 or ord(c) == 127 for c in rel):
        return f"the header path {shown!r} has control characters; refused"
    if len(parts) > MAX_DEPTH or any(len(p.encode()) > MAX_NAME for p in parts) or \
            len(raw) > 1024:
        return f"the header path {shown[:120]!r}... is too long or too deep; refused"
    return None


def problems(files: Mapping[str, bytes]) -> Iterator[str]:
    """Every reason to refuse ``files`` as a tree (names, sizes); cheap, run on every tree."""
    for rel in files:
        problem = path_problem(rel)
        if problem:
            yield problem
    dirs = {posixpath.dirname(p) for p in files}
    dirs |= {d for p in list(dirs) for d in _parents(p)}
    for rel in files:
        if rel in dirs:
            yield f"{rel} is both a header and a directory; refused"
    for rel, data in files.items():
        if len(data) > MAX_HEADER_BYTES:
            yield f"{rel} is {len(data)} bytes, more than {MAX_HEADER_BYTES}; refused"


def parse_problems(files: Mapping[str, bytes]) -> Iterator[str]:
    """Every reason not to hand ``files`` to a C parser: includes that leave the tree,
    macros that expand beyond bounds.  Run before a parse, not on cache hits."""
    for rel, data in files.items():
        yield from _include_problems(rel, data, files)
    yield from _expansion_problems(files)


def _parents(d: str) -> Iterator[str]:
    while d:
        yield d
        d = posixpath.dirname(d)


_INCLUDE = re.compile(rb'#[ \t]*include(?:_next)?[ \t]*([<"])([^>"\n]*)[>"]')


def directives(pattern: re.Pattern[bytes], data: bytes) -> Iterator[tuple[int, re.Match[bytes]]]:
    """The matches of ``pattern`` (from a ``#``) that only blanks precede on their line,
    with where the line begins: what ``^[ \t]*`` + ``pattern`` finds line by line.
    (Searched for from the ``#``: a pattern opening with ``^`` is tried at every byte,
    which cost half of checking a tree.)"""
    pos = 0
    while (m := pattern.search(data, pos)) is not None:
        begin = data.rfind(b"\n", 0, m.start()) + 1
        if data[begin:m.start()].strip(b" \t"):
            pos = m.start() + 1     # not a directive: another may start on the next line
            continue
        yield begin, m
        pos = m.end()


def _include_problems(rel: str, data: bytes, files: Mapping[str, bytes]) -> Iterator[str]:
    for _, m in directives(_INCLUDE, data):
        target = m.group(2).decode("utf-8", "replace")
        line = data.count(b"\n", 0, m.start()) + 1
        # The tree is materialized as <dir>/include/public/<rel>; -I <dir>/include.
        here = posixpath.normpath(posixpath.join("public", posixpath.dirname(rel), target))
        from_root = posixpath.normpath(target)
        # A quoted include is looked up beside its file first, then below -I.
        found_here = m.group(1) == b'"' and here.startswith("public/") and \
            here[len("public/"):] in files
        if target.startswith("/") or (m.group(1) == b'"' and here.startswith("..")) or \
                (not found_here and from_root.startswith("..")):
            yield (f"{rel}:{line}: #include {m.group(1).decode()}{target}... leaves the "
                   "header tree; refused")


# --------------------------------------------------------------------------- macro cost

_DEFINE = re.compile(rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)\n]*\))?((?:[^\n]*\\\n)*"
                     rb"[^\n]*)")
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")
Cost = dict[str, int]       # "" -> constant tokens; a parameter -> times it is copied


class _Macros:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.defs: dict[str, tuple[list[str] | None, list[str], str, int]] = {}
        for rel, data in files.items():
            if b"define" not in data:
                continue
            for begin, m in directives(_DEFINE, data):
                params = None
                if m.group(2) is not None:
                    params = [p.strip() for p in m.group(2)[1:-1].decode("latin-1").split(",")]
                body = m.group(3).decode("latin-1").replace("\\\n", " ")
                # The offset: lines are counted only for the one reported.
                self.defs[m.group(1).decode()] = (params, _TOKEN.findall(body), rel, begin)
        self.memo: dict[str, Cost] = {}
        self.active: set[str] = set()

    def macro(self, name: str) -> Cost:
        """The cost of ``name``'s body, symbolic in its parameters."""
        if name in self.memo:
            return self.memo[name]
        if name in self.active:         # a macro is not expanded inside itself
            return {"": 1}
        params, body, _rel, _line = self.defs[name]
        self.active.add(name)
        try:
            cost, _ = self.seq(body, 0, set(params or ()), 0)
        finally:
            self.active.discard(name)
        self.memo[name] = cost
        return cost

    def seq(self, toks: list[str], i: int, params: set[str], depth: int,
            stop: tuple[str, ...] = ()) -> tuple[Cost, int]:
        """Cost of the tokens from ``i`` up to a ``stop`` token at this nesting level."""
        if depth > MAX_NESTING:
            raise Unsafe(f"parentheses nested more than {MAX_NESTING} deep")
        total: Cost = {}
        # Constant tokens are counted here and added once: the sums are capped alike.
        plain = 0
        while i < len(toks) and toks[i] not in stop:
            t = toks[i]
            i += 1
            if t == "(":
                inner, i = self.seq(toks, i, params, depth + 1, (")",))
                _add(total, inner, 1)
                i += 1
                plain += 2
            elif t in params:
                _add(total, {t: 1}, 1)
            elif t in self.defs and self.defs[t][0] is None:
                _add(total, self.macro(t), 1)
            elif t in self.defs and i < len(toks) and toks[i] == "(":
                args, i = self.args(toks, i + 1, params, depth + 1)
                _add(total, self.call(t, args), 1)
            else:
                plain += 1
        if plain:
            _add(total, {"": plain}, 1)
        return total, i

    def args(self, toks: list[str], i: int, params: set[str], depth: int
             ) -> tuple[list[Cost], int]:
        out = []
        while True:
            cost, i = self.seq(toks, i, params, depth, (",", ")"))
            out.append(cost)
            if i >= len(toks) or toks[i] == ")":
                return out, i + 1
            i += 1

    def call(self, name: str, args: list[Cost]) -> Cost:
        params = self.defs[name][0] or []
        body = self.macro(name)
        out: Cost = {"": body.get("", 0)}
        for k, p in enumerate(params):
            times = body.get(p, 0) + (body.get("__VA_ARGS__", 0) if p == "..." else 0)
            if times and k < len(args):
                _add(out, args[k], times)
        return out


def _add(total: Cost, more: Cost, times: int) -> None:
    for k, v in more.items():
        total[k] = min(total.get(k, 0) + v * times, MAX_EXPANSION * 16)


def _expansion_problems(files: Mapping[str, bytes]) -> Iterator[str]:
    macros = _Macros(files)
    name = ""
    try:
        for name, (_params, _body, rel, at) in macros.defs.items():
            if sum(macros.macro(name).values()) > MAX_EXPANSION:
                line = files[rel].count(b"\n", 0, at) + 1
                yield (f"{rel}:{line}: macro {name} expands to more than {MAX_EXPANSION} "
                       "tokens; refused (headerparse bounds the cost of every input)")
                return
        yield from _code_problems(files, macros)
    except (Unsafe, RecursionError) as exc:
        where = macros.defs[name][2] if name in macros.defs else name
        yield f"{where}: {exc or 'macros nested too deeply'}; refused"


_DIRECTIVE = re.compile(rb"#(?:[^\n]*\\\n)*[^\n]*")


def _withoutdirectives(data: bytes) -> bytes:
    """``data`` without its preprocessor lines (continuations included)."""
    parts = []
    pos = 0
    for begin, m in directives(_DIRECTIVE, data):
        parts.append(data[pos:begin])
        pos = m.end()
    parts.append(data[pos:])
    return b"".join(parts)


def _code_problems(files: Mapping[str, bytes], macros: _Macros) -> Iterator[str]:
    """Uses outside #define lines: F(F(F(...))) in a declaration costs as much, where F
    copies an argument more than once; only calls of such macros are costed."""
    copying = [n for n, d in macros.defs.items() if d[0] is not None
               and any(v > 1 for k, v in macros.macro(n).items() if k)]
    if not copying:
        return
    # No \b before the names: a pattern opening with an alternation is searched for
    # by its first letters, three times faster; a name inside a longer identifier is
    # skipped below (no call of a name can start inside one).
    call = re.compile("(?:" + "|".join(map(re.escape, copying)) + r")\s*\(")
    for rel, data in files.items():
        code = _withoutdirectives(data).decode("latin-1")
        done = 0
        for m in call.finditer(code):
            if m.start() < done or (m.start() and _WORD.match(code, m.start() - 1)):
                continue        # inside a call already costed, or inside an identifier
            done = _closing(code, m.end() - 1)
            cost, _ = macros.seq(_TOKEN.findall(code[m.start():done]), 0, set(), 0)
            if sum(cost.values()) > MAX_EXPANSION:
                line = code.count("\n", 0, m.start()) + 1
                yield (f"{rel}:{line}: this use of {m.group().rstrip('( ')} expands to more "
                       f"than {MAX_EXPANSION} tokens; refused (headerparse bounds the cost of "
                       "every input)")
                return


_WORD = re.compile(r"\w")


def _closing(code: str, at: int) -> int:
    """Just past the parenthesis closing the one at ``at`` (or the end of the text)."""
    depth = 0
    for m in _PARENS.finditer(code, at):
        depth += 1 if m.group() == "(" else -1
        if depth == 0:
            return m.end()
    return len(code)


_PARENS = re.compile(r"[()]")
