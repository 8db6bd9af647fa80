"""Comments and ``#define`` lines of one header, by plain text scanning.

libclang drops most comments and knows nothing of the backtick markup, so the
documentation side of headerparse reads the header text itself.  This module
does only the C-lexical part: where the comments are (not inside string or
character literals, across backslash-newlines), which ``#define`` lines exist,
and which comment documents which line.  Markup lives in :mod:`markup`.

Lines and columns are 1-based and count characters of the text as given (the
caller decodes bytes, with ``errors="replace"`` for non-UTF-8 headers).  CRLF
line endings are read as LF, so ``Comment.raw`` never contains ``\\r``.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from itertools import pairwise, repeat, takewhile

from headerparse.extract.commenttext import clean_comment, comment_lines, is_markup_line
from headerparse.extract.splice import Spliced, blank, code_mask, scanned
from headerparse.model import EMPTY_DOC, Comment, Diagnostic, Doc, Loc

__all__ = [
    "CommentIndex", "Define", "LexComment", "comment_diagnostics", "scan_comments",
    "scan_defines",
]


@dataclass(frozen=True)
class LexComment:
    """A comment and how it sits among the code around it."""

    comment: Comment
    code_before: bool   # code precedes it on its first line: a trailing comment
    code_after: bool    # code follows it on its last line
    terminated: bool = True   # False: a ``/*`` with no ``*/`` before the end of the file


@dataclass(frozen=True)
class Define:
    """One ``#define`` as written (not as any arch's preprocessor sees it)."""

    name: str
    line: int
    col: int
    params: tuple[str, ...] | None   # None: object-like
    body: str                        # comments removed, whitespace collapsed
    end_line: int                    # last line holding code of the directive
    conditional: bool                # inside an #if block other than the include guard


# ------------------------------------------------------------------ scanning


def scan_comments(text: str, file: str) -> list[LexComment]:
    """Every ``/* */`` and ``//`` comment of ``text``, in order."""
    src, logical_spans = scanned(text)
    origin, full, starts = src.origin, src.text, src.line_starts
    spans = ([(origin[s], origin[e - 1] + 1) for s, e, _ok in logical_spans] if origin.after
             else [(s, e) for s, e, _ok in logical_spans])
    out = []
    for k, (start, end) in enumerate(spans):
        raw = full[start:end]
        line = bisect.bisect_right(starts, start)
        begin = starts[line - 1]
        end_line = bisect.bisect_right(starts, end - 1) if "\n" in raw else line
        comment = Comment(raw, clean_comment(raw), Loc(file, line, start - begin + 1), end_line)
        out.append(LexComment(comment, _code_before(full, spans, k, begin),
                              _code_after(full, spans, k), logical_spans[k][2]))
    return out


def _code_before(text: str, spans: list[tuple[int, int]], k: int, line_begin: int) -> bool:
    """Whether code precedes comment ``k`` on its line: text that is no comment."""
    pos, j = spans[k][0], k - 1
    while True:
        prev_end = spans[j][1] if j >= 0 else 0
        if text[max(prev_end, line_begin):pos].strip():
            return True
        if prev_end <= line_begin:
            return False
        pos, j = spans[j][0], j - 1


def _code_after(text: str, spans: list[tuple[int, int]], k: int) -> bool:
    """Whether code follows comment ``k`` on its last line: text that is no comment."""
    pos, j = spans[k][1], k + 1
    eol = text.find("\n", pos)
    if eol < 0:
        eol = len(text)
    while True:
        next_start = spans[j][0] if j < len(spans) else eol
        if text[pos:min(next_start, eol)].strip():
            return True
        if next_start >= eol:
            return False
        pos, j = spans[j][1], j + 1


# Where the scanner and clang could disagree on what is comment, or where
# clang reads a comment's text (a warning inside it), the skeleton must not
# blank it: a whole-file condition (None: key on the bytes) or a per-comment
# one (kept verbatim).
_SPLICE_BLANK = re.compile(r"\\[ \t\f\v]+\n")              # clang splices `\ ` + newline too
_RISKY_COMMENT = re.compile(r"\\\n|\?\?[=/'()!<>-]")          # "escaped newline" warnings
# Directives whose rest of line clang reads raw (a message, a header name).
_RAW_NAMES = "error|warning|include|include_next|import"
_RAW_DIRECTIVE = re.compile(rf"\s*#\s*({_RAW_NAMES})\b")


def _skeleton_unsafe(text: str) -> bool:
    """Whether ``text`` has what the scanner does not model like clang: CR, NUL,
    backslash-blank-newline.  (Searched for one by one: a pattern opening with a
    class of characters is tried at every offset, a twentieth of lexing a header.)"""
    return "\r" in text or "\0" in text or ("\\" in text and bool(_SPLICE_BLANK.search(text)))


def code_skeleton(text: str, comments: list[LexComment]) -> str | None:
    """``text`` as clang's parse depends on it: comment text blanked, line numbers kept.

    Each comment character becomes as many spaces as it has UTF-8 bytes (clang's
    columns count bytes), newlines stay, trailing whitespace is dropped.  Kept
    verbatim: comments on ``#error``/``#warning`` lines (clang reads the rest of
    the line raw into its message, comment and trailing blanks included) and on
    ``#include`` lines (``<a/*b>`` is a header name), block comments holding
    ``/*`` (a warning) and comments with line splices or trigraphs.  None when
    the file has what the scanner does not model like clang (CR, NUL,
    backslash-blank-newline) or an unterminated comment: the caller then keys on
    the bytes.  ``comments`` are ``scan_comments(text)``.
    """
    if _skeleton_unsafe(text) or not all(c.terminated for c in comments):
        return None
    # With no CR the spliced text's lines are the text's.
    starts = scanned(text)[0].line_starts
    spans = []
    for c in comments:
        start = starts[c.comment.loc.line - 1] + c.comment.loc.col - 1
        end = start + len(c.comment.raw)
        if text[start:end] != c.comment.raw:
            return None     # the scan does not match the text: trust nothing
        spans.append((start, end))
    mask = code_mask(text, spans)
    verbatim = [k for k, ((start, _end), c) in enumerate(zip(spans, comments, strict=True))
                if _verbatim(c.comment.raw, mask, start)]
    lines = (_blanked(text, spans, comments, verbatim) if verbatim or not text.isascii()
             else mask).split("\n")
    # Only what clang takes for blanks: a trailing NBSP is not one.
    stripped = list(map(str.rstrip, lines, repeat(" \t\f\v", len(lines))))
    for i in _raw_lines(mask, starts):
        stripped[i] = lines[i]
    return "\n".join(stripped)


def _verbatim(raw: str, mask: str, start: int) -> bool:
    """Whether the comment ``raw`` at ``start`` is kept verbatim in the skeleton."""
    if ((("\\" in raw or "??" in raw) and _RISKY_COMMENT.search(raw))
            or (raw.startswith("/*") and raw.find("/*", 2) >= 0)):
        return True
    begin = mask.rfind("\n", 0, start) + 1
    if mask.find("#", begin, start) < 0 and (begin < 2 or mask[begin - 2] != "\\"):
        return False        # no directive on its line
    return _RAW_DIRECTIVE.match(_logical_line_before(mask, start)) is not None


def _blanked(text: str, spans: list[tuple[int, int]], comments: list[LexComment],
             verbatim: list[int]) -> str:
    """``text`` with each comment blanked one space per UTF-8 byte, but those of
    ``verbatim``.  (Without such, an ASCII text blanked is its mask.)"""
    keep = set(verbatim)
    out: list[str] = []
    pos = 0
    for k, ((start, end), c) in enumerate(zip(spans, comments, strict=True)):
        out.append(text[pos:start])
        raw = c.comment.raw
        out.append(raw if k in keep else blank(raw, utf8=True))
        pos = end
    out.append(text[pos:])
    return "".join(out)


_RAW_HASH = re.compile(rf"#[^\S\n]*(?:{_RAW_NAMES})\b")


def _raw_lines(mask: str, starts: list[int]) -> set[int]:
    """Indexes of the lines of ``#error``/``#warning``/``#include`` directives and of
    their continuations (``mask``'s lines start at ``starts``)."""
    out: set[int] = set()
    for m in _RAW_HASH.finditer(mask):
        i = bisect.bisect_right(starts, m.start()) - 1
        if mask[starts[i]:m.start()].strip():
            continue        # not the first token of its line
        while i not in out:
            out.add(i)
            if i + 1 >= len(starts) or mask[starts[i + 1] - 2] != "\\":
                break
            i += 1
    return out


def _logical_line_before(mask: str, offset: int) -> str:
    """The code before ``offset`` on its logical line (backslash-newlines spliced)."""
    begin = mask.rfind("\n", 0, offset) + 1
    while begin >= 2 and mask[begin - 2] == "\\":
        begin = mask.rfind("\n", 0, begin - 1) + 1
    return mask[begin:offset].replace("\\\n", "")


def comment_diagnostics(comments: list[LexComment]) -> list[Diagnostic]:
    """What the lexer could not make sense of: unterminated comments (rule XM100)."""
    return [Diagnostic("XM100", "error", c.comment.loc, "comment is not terminated before the "
                       "end of the file", why="everything after the /* is read as comment")
            for c in comments if not c.terminated]


# ------------------------------------------------------------------ #define


_GUARD_IF = re.compile(r"(?:ifndef\s+(\w+)|if\s+!\s*defined\s*\(?\s*(\w+)\s*\)?)\s*$")


def _code_only(src: Spliced, spans: list[tuple[int, int, bool]]
               ) -> tuple[str, Callable[[int], int]]:
    """The spliced text with each comment (``spans``) replaced by one space, and where
    each of its offsets is in the text."""
    parts: list[str] = []
    # Where each piece starts in the comment-free text, and how far its offsets are
    # from the spliced text's: a comment's space stands at the comment's start.
    starts: list[int] = [0]
    shifts: list[int] = [0]
    pos = at = 0
    for start, end, _ok in spans:
        parts.append(src.logical[pos:start])
        at += start - pos
        parts.append(" ")
        starts += [at, at + 1]
        shifts += [start - at, end - at - 1]
        at += 1
        pos = end
    parts.append(src.logical[pos:])
    origin = src.origin

    def where(offset: int) -> int:
        return origin[offset + shifts[bisect.bisect_right(starts, offset) - 1]]

    def unspliced(offset: int) -> int:      # no line splices: the text's offsets
        return offset + shifts[bisect.bisect_right(starts, offset) - 1]
    return "".join(parts), where if origin.after else unspliced


class _Directive:
    """One preprocessor line of the comment-free text."""

    def __init__(self, name: str, rest: str, rest_at: int, end_at: int) -> None:
        self.name, self.rest = name, rest
        self.rest_at, self.end_at = rest_at, end_at   # offsets in the comment-free text


_DIRECTIVE_HASH = re.compile(r"#[ \t]*(\w+)([^\n]*)")


def _directives(code: str) -> list[_Directive]:
    """The lines whose first token is ``#`` and a name: found from their ``#`` (a
    search from each line start cost more than the lexing of the rest)."""
    out = []
    for m in _DIRECTIVE_HASH.finditer(code):
        hash_at = m.start()
        line_at = code.rfind("\n", 0, hash_at) + 1
        if line_at == hash_at or not code[line_at:hash_at].strip(" \t\f\v"):
            out.append(_Directive(m.group(1), m.group(2), m.start(2),
                                  line_at + len(code[line_at:m.end()].rstrip())))
    return out


def _guard_index(directives: list[_Directive]) -> int | None:
    """Index of the include guard's ``#ifndef X`` (directly followed by a bare ``#define X``)."""
    for i, d in enumerate(directives[:-1]):
        m = _GUARD_IF.match(f"{d.name} {d.rest.strip()}") if d.name in ("ifndef", "if") else None
        nxt = directives[i + 1]
        if m and nxt.name == "define" and nxt.rest.split() == [m.group(1) or m.group(2)]:
            return i
    return None


_DEFINE_NAME = re.compile(r"\s+([A-Za-z_]\w*)")


def _parse_define(d: _Directive, origin: Callable[[int], int], src: Spliced,
                  conditional: bool) -> Define | None:
    m = _DEFINE_NAME.match(d.rest)
    if not m:
        return None
    after = d.rest[m.end():]
    params: tuple[str, ...] | None = None
    if after.startswith("("):
        close = after.find(")")
        inner = after[1:close] if close >= 0 else after[1:]
        params = tuple(p.strip() for p in inner.split(",")) if inner.strip() else ()
        after = after[close + 1:] if close >= 0 else ""
    at = origin(d.rest_at + m.start(1))
    starts = src.line_starts
    line = bisect.bisect_right(starts, at)
    end_line = bisect.bisect_right(starts, origin(max(d.end_at - 1, d.rest_at)))
    return Define(m.group(1), line, at - starts[line - 1] + 1, params, " ".join(after.split()),
                  end_line, conditional)


def scan_defines(text: str, file: str) -> list[Define]:
    """Every ``#define`` of ``text`` (directives inside comments are not directives)."""
    src, spans = scanned(text)
    code, origin = _code_only(src, spans)
    directives = _directives(code)
    guard = _guard_index(directives)
    # One flag per open #if: True when that block is the include guard.
    stack: list[bool] = []
    out = []
    for i, d in enumerate(directives):
        if d.name in ("if", "ifdef", "ifndef"):
            stack.append(i == guard)
        elif d.name == "endif" and stack:
            stack.pop()
        elif d.name == "define":
            define = _parse_define(d, origin, src, not all(stack))
            if define:
                out.append(define)
    return out


# ------------------------------------------------------------------ documentation


def _not_documentation(c: Comment) -> bool:
    """Markup only (`` ` enum sched_op { ``, `` ` } ``) or a licence tag: documents nothing."""
    if c.text.startswith("SPDX-License-Identifier:"):
        return True
    if "`" not in c.raw:
        return False    # markup lines start with a backtick: spare the line split
    lines = [ln for ln in comment_lines(c.raw) if ln.strip()]
    return bool(lines) and all(is_markup_line(ln) for ln in lines)


def comment_entries(c: Comment) -> dict[str, Comment]:
    """``NAME: text`` lines of a comment (a bullet before NAME allowed, several names
    separated by commas), each with the lines that continue it (indented further, up
    to a blank line or the next entry)."""
    return dict(_comment_entries(c)) if ":" in c.text else {}


# The attachment rules ask for the entries of each comment above a define, once for
# every define of a run under it: 6,000 asks of 2,000 comments on 4.17.
@functools.lru_cache(maxsize=4096)
def _comment_entries(c: Comment) -> tuple[tuple[str, Comment], ...]:
    lines = c.text.split("\n")
    out: dict[str, Comment] = {}
    i = 0
    while i < len(lines):
        m = _ENTRY.match(lines[i]) if ":" in lines[i] else None
        if not m:
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())
        text = [m.group(2)] if m.group(2) else []
        j = i + 1
        while j < len(lines) and lines[j].strip() \
                and not (":" in lines[j] and _ENTRY.match(lines[j])) \
                and len(lines[j]) - len(lines[j].lstrip()) > indent:
            text.append(lines[j].strip())
            j += 1
        # ``GTF_PAT, GTF_PWT, GTF_PCD: text``: one entry for each name listed.
        for name in _LIST.split(m.group(1)):
            out.setdefault(name, Comment(c.raw, " ".join(text),
                                         Loc(c.loc.file, c.loc.line + i, c.loc.col),
                                         c.end_line))
        i = j
    return tuple(out.items())


_LIST = re.compile(r"\s*,\s*")


def selector_entries(c: Comment, names: Collection[str]) -> dict[str, Comment]:
    """``key: NAME`` lines naming one of ``names``, each with the prose lines after it
    up to a blank line: ``cmd: MMUEXT_TLB_FLUSH_LOCAL`` / ``No additional arguments.``
    (lines that are ``key: text`` entries themselves say what an argument is instead)."""
    if not _SELECTOR_HINT.search(c.text):
        return {}           # no line can be one: spare the split
    lines = c.text.split("\n")
    out: dict[str, Comment] = {}
    for i, line in enumerate(lines):
        m = _SELECTOR.match(line)
        if not m or m.group(1) not in names:
            continue
        text = list(takewhile(lambda t: t.strip() and not _ENTRY.match(t)
                              and not _SELECTOR.match(t), lines[i + 1:]))
        if text:
            out.setdefault(m.group(1), Comment(c.raw, " ".join(t.strip() for t in text),
                                               Loc(c.loc.file, c.loc.line + i + 1, c.loc.col),
                                               c.end_line))
    return out


_SELECTOR = re.compile(r"^\s*[a-z]\w*\s*:\s+([A-Z][A-Z0-9_]*[A-Z0-9])\s*$")
_SELECTOR_HINT = re.compile(r":\s+[A-Z]")        # in every line _SELECTOR matches
_NAME = r"[A-Za-z_][A-Za-z0-9_]*[A-Za-z0-9]"
_ENTRY = re.compile(rf"^\s*(?:[*\-]\s+)?({_NAME}(?:\s*,\s*{_NAME})*)\s*:(?:\s+(\S.*))?$")

class CommentIndex:
    """Which comment documents which line of one header.

    The documentation *before* a line is the block of comments ending on the
    line above it; comments on consecutive lines join into one.  Trailing
    comments, comments with code after them, markup-only comments and
    ``SPDX-License-Identifier`` tags are not documentation and end a block.
    """

    def __init__(self, comments: list[LexComment]) -> None:
        self._comments = list(comments)
        self._by_end: dict[int, list[int]] = {}
        self._by_start: dict[int, list[int]] = {}
        self._standalone_cache: dict[int, bool] = {}
        # A member's line is asked about three times by the merge: answered once.
        self._doc_cache: dict[tuple[int, int | None], Doc] = {}
        for i, c in enumerate(self._comments):
            self._by_end.setdefault(c.comment.end_line, []).append(i)
            self._by_start.setdefault(c.comment.loc.line, []).append(i)

    def _standalone(self, i: int) -> bool:
        """May comment ``i`` be (part of) the documentation of the line below it?"""
        if i not in self._standalone_cache:
            c = self._comments[i]
            self._standalone_cache[i] = (not c.code_before and not c.code_after
                                         and not _not_documentation(c.comment)
                                         and self._continues(i) is None)
        return self._standalone_cache[i]

    def _continues(self, i: int) -> int | None:
        """The trailing comment that comment ``i`` continues, if it does: it starts on
        the next line, alone on it, in the trailing comment's column or to its right
        (a trailing comment wrapped over several lines)."""
        c = self._comments[i]
        if c.code_before or c.code_after or i == 0:
            return None
        prev = self._comments[i - 1]
        if (prev.comment.end_line == c.comment.loc.line - 1
                and c.comment.loc.col > 1 and c.comment.loc.col >= prev.comment.loc.col - 2
                and (prev.code_before or self._continues(i - 1) is not None)):
            return i - 1 if prev.code_before else self._continues(i - 1)
        return None

    def _block_before(self, line: int) -> list[int]:
        """Indexes of the comments making up the block that ends on ``line - 1``."""
        ends = self._by_end.get(line - 1, [])
        if not ends or not self._standalone(ends[-1]):
            return []
        block = [ends[-1]]
        while block[0] > 0:
            prev = block[0] - 1
            first = self._comments[block[0]].comment.loc.line
            if self._comments[prev].comment.end_line < first - 1 or not self._standalone(prev):
                break
            block.insert(0, prev)
        return block

    def _wrapped(self, i: int) -> Comment:
        """Trailing comment ``i`` with the comments that continue it on the lines below."""
        parts = [self._comments[i].comment]
        k = i + 1
        while k < len(self._comments) and self._continues(k) == i:
            parts.append(self._comments[k].comment)
            k += 1
        return _join(parts) if len(parts) > 1 else parts[0]

    def block_before(self, line: int) -> list[Comment]:
        """The comments, each as written, of the block that ends on ``line - 1``."""
        return [self._comments[i].comment for i in self._block_before(line)]

    def entries(self, names: Collection[str]) -> dict[str, Comment]:
        """What the file's documentation comments say of ``names`` by naming them: each
        ``NAME: text`` entry as a comment of its own, and the prose of a block in which
        a comment is just the name (``/* XEN_DOMCTL_setvcpuaffinity */`` under
        ``/* Get/set which physical cpus a vcpu can execute on. */``)."""
        out: dict[str, Comment] = {}
        self._tagged(names, out)
        for i, c in enumerate(self._comments):
            if ":" in c.comment.text and self._standalone(i):
                for name, entry in comment_entries(c.comment).items():
                    if name in names:
                        # An entry that opens its comment makes the name its subject.
                        whole = entry.loc.line == c.comment.loc.line
                        out.setdefault(name, c.comment if whole else entry)
                for name, entry in selector_entries(c.comment, names).items():
                    out.setdefault(name, entry)
        return out

    def _tagged(self, names: Collection[str], out: dict[str, Comment]) -> None:
        seen: set[int] = set()
        for i, c in enumerate(self._comments):
            name = c.comment.text.strip()
            if i in seen or name not in names or not self._standalone(i):
                continue
            block = self._block_before(c.comment.end_line + 1)
            seen.update(block)
            prose = [self._comments[k].comment for k in block
                     if self._comments[k].comment.text.strip() not in names]
            tags = [self._comments[k].comment.text.strip() for k in block
                    if self._comments[k].comment.text.strip() in names]
            if prose:
                for tag in tags:
                    out.setdefault(tag, prose[-1])

    def doc_for(self, line: int, end_line: int | None = None) -> Doc:
        """The comment block right before ``line`` and the comment trailing it."""
        found = self._doc_cache.get((line, end_line))
        if found is None:
            found = self._doc_cache[(line, end_line)] = self._doc_for(line, end_line)
        return found

    def _doc_for(self, line: int, end_line: int | None) -> Doc:
        block = self._block_before(line)
        before = _join([self._comments[i].comment for i in block]) if block else None
        trailing = None
        starting = self._by_start.get(line, [])
        if end_line is not None and end_line != line and end_line in self._by_start:
            starting = sorted(starting + self._by_start[end_line])
        for i in starting:
            if self._comments[i].code_before:
                trailing = self._wrapped(i)
                break
        # Most symbols have no doc: share one empty Doc rather than build thousands.
        return Doc(before, trailing) if before is not None or trailing is not None else EMPTY_DOC


def _join(comments: list[Comment]) -> Comment:
    """Consecutive comments read as one: raw and text concatenated, loc of the first."""
    if len(comments) == 1:
        return comments[0]
    raw = comments[0].raw
    for prev, cur in pairwise(comments):
        # Same-line neighbours join with a space so raw line i stays loc.line + i.
        raw += (" " if cur.loc.line == prev.end_line else "\n") + cur.raw
    text = "\n".join(c.text for c in comments if c.text)
    return Comment(raw, text, comments[0].loc, comments[-1].end_line)
