"""The backtick markup of Xen's public headers, as ``docs/xen-headers`` reads it.

Inside comments, a line starting with a backtick is markup:

* `` ` enum sched_op { // SCHEDOP_* => struct sched_* `` … `` ` } ``: the
  ``#define``s in between form an op group, and the ``=>`` mapping names the
  argument type of each member;
* `` ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...) ``: a
  hypercall prototype, possibly over several backtick lines;
* `` `incontents 150 sched Guest Scheduler Operations ``: a chapter of the docs.

Besides the markup proper this module reads the conventions around it: the
``@arg == text`` lines that describe hypercall arguments, and the IN/OUT
direction notes on struct fields.  Diagnostics use rules ``XM100``–``XM105``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from headerparse.extract.commenttext import clean_lines, comment_lines, is_markup_line
from headerparse.extract.lexer import CommentIndex, Define, LexComment, comment_diagnostics
from headerparse.model import (
    ArgLine,
    Comment,
    Diagnostic,
    Doc,
    Loc,
    OpGroup,
    Param,
    Prototype,
    Section,
)

__all__ = ["FieldDirections", "FileMarkup", "arg_lines", "direction_of", "field_directions",
           "parse_markup"]


@dataclass(frozen=True)
class FileMarkup:
    groups: tuple[OpGroup, ...]
    prototypes: tuple[Prototype, ...]
    sections: tuple[Section, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class _Line:
    """One markup line of a comment."""

    line: int
    col: int               # where the backtick is
    markup: str | None     # the text after the backtick, one space removed
    comment: int           # index of the comment in the file's list


def _lines_of(c: Comment, index: int) -> list[_Line]:
    """The markup lines of a comment: every reader of markup skips the other lines."""
    if "`" not in c.raw:
        return []           # markup lines start with a backtick
    out = []
    raws = c.raw.split("\n")
    for i, content in enumerate(comment_lines(c.raw)):
        if is_markup_line(content):
            offset = c.loc.col - 1 if i == 0 else 0
            body = content.lstrip()[1:]
            body = body[1:] if body[:1] in (" ", "\t") else body
            out.append(_Line(c.loc.line + i, raws[i].find("`") + 1 + offset, body, index))
    return out


def parse_markup(file: str, comments: list[LexComment], defines: list[Define],
                 index: CommentIndex | None = None) -> FileMarkup:
    """All the markup of one header (``index``: the caller's index of ``comments``).

    The diagnostics include the lexer's (unterminated comments, XM100), so a
    caller needs no other call to report everything wrong with the comments.
    """
    diags = comment_diagnostics(comments)
    lines = [ln for i, c in enumerate(comments) for ln in _lines_of(c.comment, i)]
    groups = _Groups(file, comments, defines, diags, index).run(lines)
    prototypes: list[Prototype] = []
    for block in _blocks(lines):
        prototypes.extend(_block_prototypes(file, block, diags))
    sections = _sections(file, comments, lines, diags)
    diags.sort(key=lambda d: (d.loc.line if d.loc else 0, d.rule))
    return FileMarkup(tuple(groups), tuple(prototypes), tuple(sections), tuple(diags))


# ------------------------------------------------------------------ op groups


_OPENER = re.compile(r"enum\s+(\w+)\s*\{(.*)$")
_MAPPING = re.compile(r"(\w*\*\w*)\s*=>\s*(\S.*?)$")
_CLOSER = re.compile(r"\}\s*;?$")


@dataclass
class _Open:
    name: str
    line: _Line
    pattern: str | None
    target: str | None
    closed: bool          # `` ` enum neg_errnoval { [ ... ] } ``: opened and closed at once


class _Groups:
    """Pairs ``` enum X {`` with ``` }`` and collects the defines in between."""

    def __init__(self, file: str, comments: list[LexComment], defines: list[Define],
                 diags: list[Diagnostic], index: CommentIndex | None = None) -> None:
        self.file, self.comments, self.defines, self.diags = file, comments, defines, diags
        self.index = index if index is not None else CommentIndex(comments)
        self.out: list[OpGroup] = []

    def _diag(self, rule: str, ln: _Line, message: str, why: str, symbol: str | None) -> None:
        self.diags.append(Diagnostic(rule, "warning", Loc(self.file, ln.line, ln.col), message,
                                     why=why, symbol=symbol))

    def run(self, lines: list[_Line]) -> list[OpGroup]:
        current: _Open | None = None
        for ln in lines:
            body = (ln.markup or "").strip()
            if ln.markup is None:
                continue
            if _CLOSER.match(body):
                if current is None:
                    self._diag("XM102", ln, "` } closes no group", "no ` enum NAME { is open "
                               "here, so this closer has nothing to end", None)
                else:
                    self._close(current, ln.line)
                    current = None
            elif "{" in body:
                opened = self._opener(ln, body)
                if opened and current is not None:
                    self._diag("XM101", current.line, f"group {current.name} is not closed "
                               f"before group {opened.name} opens", "its members are taken up "
                               "to the next opener", current.name)
                    self._close(current, ln.line)
                    current = None
                if opened and opened.closed:
                    self._close(opened, ln.line)
                elif opened:
                    current = opened
        if current is not None:
            self._diag("XM101", current.line, f"group {current.name} is not closed", "no ` } "
                       "before the end of the file; its members are taken up to there",
                       current.name)
            self._close(current, self._last_line(), to_end=True)
        return self.out

    def _opener(self, ln: _Line, body: str) -> _Open | None:
        m = _OPENER.match(body)
        if not m:
            self._diag("XM103", ln, f"malformed group opener: ` {body}", "expected "
                       "` enum NAME { or ` enum NAME { // PREFIX_* => TARGET*", None)
            return None
        mapping = m.group(2).partition("//")[2].strip()
        pattern = target = None
        if mapping:
            mm = _MAPPING.match(mapping)
            if mm:
                pattern, target = mm.group(1), mm.group(2)
            else:
                self._diag("XM103", ln, f"malformed mapping of group {m.group(1)}: {mapping}",
                           "expected PREFIX_* => struct prefix_* or PREFIX_* => FUNC_*(); "
                           "the group is kept without a mapping", m.group(1))
        return _Open(m.group(1), ln, pattern, target, "}" in m.group(2).partition("//")[0])

    def _close(self, g: _Open, end: int, to_end: bool = False) -> None:
        """Record group ``g`` closed on line ``end`` (or running to the end of the file)."""
        start, stop = g.line.line, end + 1 if to_end else end
        members = dict.fromkeys(d.name for d in self.defines if start < d.line < stop)
        self.out.append(OpGroup(g.name, Loc(self.file, start, g.line.col), end, tuple(members),
                                g.pattern, g.target, self._doc(g.line)))

    def _doc(self, ln: _Line) -> Doc:
        """Prose in the opener's own comment, else the comment block before it."""
        c = self.comments[ln.comment].comment
        prose = [content if not is_markup_line(content) else ""
                 for content in comment_lines(c.raw)]
        text = clean_lines(prose)
        if text:
            return Doc(before=Comment(c.raw, text, c.loc, c.end_line))
        return Doc(before=self.index.doc_for(c.loc.line).before)

    def _last_line(self) -> int:
        ends = [c.comment.end_line for c in self.comments] + [d.end_line for d in self.defines]
        return max(ends, default=0)


# ------------------------------------------------------------------ prototypes


_PROTO_NAME = re.compile(r"(?<!\w)(HYPERVISOR_\w+)\s*\(")
_TYPE_WORDS = frozenset("void char short int long float double signed unsigned _Bool bool".split())
_TAG_WORDS = frozenset("const volatile struct union enum".split())


def _blocks(lines: list[_Line]) -> list[list[_Line]]:
    """Runs of consecutive markup lines within one comment."""
    out: list[list[_Line]] = []
    for ln in lines:
        if ln.markup is None:
            continue
        prev = out[-1][-1] if out else None
        if prev and prev.comment == ln.comment and prev.line + 1 == ln.line:
            out[-1].append(ln)
        else:
            out.append([ln])
    return out


def _block_prototypes(file: str, block: list[_Line], diags: list[Diagnostic]) -> list[Prototype]:
    texts = [ln.markup or "" for ln in block]
    joined = "\n".join(texts)
    starts = [0]
    for t in texts[:-1]:
        starts.append(starts[-1] + len(t) + 1)
    out: list[Prototype] = []
    pos = 0
    for m in _PROTO_NAME.finditer(joined):
        if m.start() < pos:
            continue
        row = joined.count("\n", 0, m.start())
        if texts[row].lstrip().startswith("@"):
            continue     # prose of an argument that mentions a hypercall
        close = _matching_paren(joined, m.end() - 1)
        if close is None:
            diags.append(Diagnostic("XM104", "warning", Loc(file, block[row].line,
                                                            block[row].col),
                                    f"prototype {m.group(1)} has no closing parenthesis",
                                    why="the markup block ends first", symbol=m.group(1)))
            break
        ret, ret_row = _return_type(joined[pos:m.start()], row)
        params, variadic, pieces = _params(joined[m.end():close])
        text = f"{ret} {m.group(1)}({', '.join(pieces)})".strip()
        out.append(Prototype(m.group(1), ret, params, variadic, text,
                             Loc(file, block[ret_row].line, block[ret_row].col)))
        pos = close + 1
    return out


def _matching_paren(text: str, open_at: int) -> int | None:
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _return_type(before: str, row: int) -> tuple[str, int]:
    """The return type: on the name's line, or alone on the backtick line above it.

    ``before`` is the block text since the previous prototype, so a return type
    is never taken from inside another prototype's parameter list.
    """
    rows = before.split("\n")
    same = " ".join(rows[-1].split()).rstrip(";")
    if same:
        return same, row
    above = rows[-2].strip() if len(rows) >= 2 else ""
    if above and not above.startswith("@"):
        return " ".join(above.split()), row - 1
    return "", row


def _split_top(text: str) -> list[str]:
    """Split at the commas that are not inside brackets or parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [" ".join(p.split()) for p in parts]


def _params(inner: str) -> tuple[tuple[Param, ...], bool, list[str]]:
    """(params, variadic, the normalised parameter texts) of a parameter list."""
    pieces = [p for p in _split_top(inner) if p]
    variadic = "..." in pieces
    params = tuple(_param(p) for p in pieces if p != "...")
    if len(params) == 1 and params[0] == Param("void", None):
        params = ()
    return params, variadic, pieces


def _param(text: str) -> Param:
    """``const struct mmu_update reqs[]`` -> Param("const struct mmu_update []", "reqs")."""
    m = re.match(r"(.*?)((?:\s*\[[^\]]*\])*)$", text)
    base, arrays = (m.group(1).strip(), m.group(2).replace(" ", "")) if m else (text, "")
    name_m = re.search(r"[A-Za-z_]\w*$", base)
    name = name_m.group() if name_m else None
    head = base[:name_m.start()] if name_m else base
    words = re.findall(r"\w+", head)
    if (name is None or not head.strip() or name in _TYPE_WORDS
            or ("*" not in head and all(w in _TAG_WORDS for w in words))):
        name, head = None, base
    return Param(_norm_type(f"{head} {arrays}"), name)


def _norm_type(t: str) -> str:
    t = " ".join(t.split())
    t = re.sub(r"\*\s+(?=\*)", "*", t)      # "* *" -> "**"
    t = re.sub(r"(?<=[\w\]])\*", " *", t)   # "op*" -> "op *"
    return t.strip()


# ------------------------------------------------------------------ sections


_INCONTENTS = re.compile(r"incontents\s+(\d+)\s+(\S+)\s+(\S.*?)\s*$")


def _sections(file: str, comments: list[LexComment], lines: list[_Line],
              diags: list[Diagnostic]) -> list[Section]:
    out = []
    for ln in lines:
        body = (ln.markup or "").strip()
        if not body.startswith("incontents"):
            continue
        m = _INCONTENTS.match(body)
        loc = Loc(file, ln.line, ln.col)
        if not m:
            diags.append(Diagnostic("XM105", "warning", loc, f"malformed `incontents: {body}",
                                    why="expected `incontents ORDER NAME Title"))
            continue
        c = comments[ln.comment].comment
        out.append(Section(int(m.group(1)), m.group(2), m.group(3), loc, _section_text(c)))
    return out


def _section_text(c: Comment) -> str:
    """The comment without its ``incontents`` line and group openers and closers."""
    kept = []
    for content in comment_lines(c.raw):
        body = content.lstrip()[1:].strip() if is_markup_line(content) else None
        drop = body is not None and (body.startswith("incontents") or "{" in body
                                     or _CLOSER.match(body) is not None)
        kept.append("" if drop else content)
    return clean_lines(kept)


# ------------------------------------------------------------------ argument lines


_ARG = re.compile(r"@(?P<name>[A-Za-z_][\w.]*)(?P<bits>\[[^\]]*\])?\s*(?:==|:(?!\S))\s*"
                  r"(?P<text>.*)$")
_ELLIPSIS = re.compile(r"(?P<name>\.\.\.)\s*==\s*(?P<text>.*)$")
# In backtick markup the separator may be left out: `` ` @pa   The machine address``.
_LOOSE_ARG = re.compile(r"@(?P<name>[A-Za-z_]\w*)\s+(?P<text>\S.*)$")
_SAME_LINE = re.compile(r"\s;\s+(?=@\w+\s*==)")


def _start_arg(text: str, markup: bool) -> list[tuple[str, str]]:
    """The (name, text) pairs an argument line starts, or [] if it starts none."""
    out = []
    for part in _SAME_LINE.split(text):
        m = _ARG.match(part) or _ELLIPSIS.match(part) or (markup and _LOOSE_ARG.match(part))
        if not m:
            break
        bits = m.groupdict().get("bits") or ""
        out.append((m.group("name"), " ".join(f"{bits} {m.group('text')}".split())))
    return out


def arg_lines(comment: Comment) -> tuple[ArgLine, ...]:
    """The ``@name == text`` / ``@name: text`` lines of a comment, continuations joined.

    A following line continues the argument when it starts with ``==`` (another
    value, kept on its own line) or is indented deeper than the ``@`` (prose,
    joined with a space).  ``@foreigndom[15:0]: FD`` gives name ``foreigndom``
    and text ``[15:0] FD``.
    """
    if "@" not in comment.raw and "..." not in comment.raw:
        return ()               # no line can start an argument
    out: list[ArgLine] = []
    current: list = []          # [name, text, line, indent] of the open argument
    for i, content in enumerate(comment_lines(comment.raw)):
        markup = is_markup_line(content)
        text = content.lstrip()[1:] if markup else content
        text = text[1:] if markup and text[:1] in (" ", "\t") else text
        stripped = text.strip()
        indent = len(text) - len(text.lstrip())
        started = _start_arg(stripped, markup)
        if started:
            _flush(out, current)
            for name, body in started[:-1]:
                out.append(ArgLine(name, body, comment.loc.line + i))
            current = [*started[-1], comment.loc.line + i, indent]
        elif current and stripped.startswith("=="):
            current[1] += "\n" + " ".join(stripped.split())
        elif current and stripped and indent > current[3] and not stripped.startswith("@"):
            current[1] += " " + " ".join(stripped.split())
        else:
            _flush(out, current)
            current = []
    _flush(out, current)
    return tuple(out)


def _flush(out: list[ArgLine], current: list) -> None:
    if current:
        out.append(ArgLine(current[0], current[1].strip(), current[2]))


# ------------------------------------------------------------------ directions


_DIRECTION = re.compile(r"\[?(IN/OUT|IN or OUT|IN|OUT)\]?(?![\w/])")
_MARKER = re.compile(r"\[?(IN/OUT|IN or OUT|IN|OUT)\]?(?:\s+(?:variables?|parameters?|params?"
                     r"|fields?|values?|arguments?|args?))?\s*[.:]?$")


def _direction(word: str) -> str:
    return "IN/OUT" if "OUT" in word and "IN" in word else word


def is_direction_marker(text: str) -> bool:
    """A comment that only says which way the members after it go: ``IN parameters.``"""
    # A marker is five words at most ("IN or OUT params ."), the first opening with
    # [, I or O: most comments are told from their first words, not all of them.
    words = text.split(None, 5)
    if not words or len(words) > 5 or words[0][0] not in "[IO":
        return False
    return _MARKER.match(" ".join(words)) is not None


def direction_of(doc: Doc) -> str | None:
    """IN, OUT or IN/OUT when a field's trailing (else before) comment starts with one."""
    for c in (doc.trailing, doc.before):
        m = _DIRECTION.match(c.text.lstrip()) if c is not None else None
        if m:
            return _direction(m.group(1))
    return None


def field_directions(comments: Sequence[LexComment], field_lines: list[int]) -> dict[int, str]:
    """Directions set by marker comments such as ``/* IN variables. */`` in a struct body.

    A marker holds for the field lines after it up to the next marker.  Only
    markers among the fields, or in the run of comments right above the first
    field, count: ``comments`` may be the whole file's (in file order, as
    ``scan_comments`` gives them), and a marker of the struct before must not
    leak into this one.
    """
    return FieldDirections(comments)(field_lines)


class FieldDirections:
    """:func:`field_directions` for the records of one file: each comment is read
    once, and a record above the file's first marker comment is answered at once
    (most files have no marker)."""

    def __init__(self, comments: Sequence[LexComment]) -> None:
        self._comments = comments
        self._starts = [c.comment.loc.line for c in comments]
        self._ends = [c.comment.end_line for c in comments]
        self._markers = [_marker(c) for c in comments]
        self._first = next((i for i, d in enumerate(self._markers) if d), len(comments))

    def __call__(self, field_lines: Iterable[int]) -> dict[int, str]:
        lines = sorted(set(field_lines))
        if not lines:
            return {}
        first, last = lines[0], lines[-1]
        # Comments do not overlap, so file order is end-line order and those starting
        # by ``last`` are a prefix: the walk goes up from the last field.
        i = bisect.bisect_right(self._starts, last)
        if i <= self._first:
            return {}       # no marker comment starts by the last field
        markers: list[tuple[int, str]] = []
        reach = first
        for k in self._upwards(i):
            c = self._comments[k]
            start, end = self._starts[k], self._ends[k]
            inside = first <= start <= last
            leading = end < first and end >= reach - 1 and not c.code_before
            if end < first and not leading:
                break
            if leading:
                reach = start
            if (inside or leading) and (d := self._markers[k]):
                markers.append((end, d))
        markers.sort()
        out: dict[int, str] = {}
        for line in lines:
            current = [d for end, d in markers if end < line]
            if current:
                out[line] = current[-1]
        return out

    def _upwards(self, i: int) -> Iterator[int]:
        """The comments before ``i``, by end line, the last first; comments ending on
        the same line in file order (what a stable sort by end line, reversed, gives)."""
        ends = self._ends
        while i > 0:
            j = i - 1
            end = ends[j]
            while j > 0 and ends[j - 1] == end:
                j -= 1
            yield from range(j, i)
            i = j


def _marker(c: LexComment) -> str | None:
    """The direction a comment with no code beside it gives the fields after it."""
    text = c.comment.text
    if c.code_before or c.code_after or ("IN" not in text and "OUT" not in text):
        return None
    m = _MARKER.match(" ".join(text.split()))
    return _direction(m.group(1)) if m else None
