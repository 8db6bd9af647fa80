"""The C-lexical ground of the lexer: the text with its line splices undone, and
where its comments are.

C splices backslash-newlines before it recognises comments, so the comments are
found in the spliced text, and offsets found there are mapped back to the text's
lines and columns.  :mod:`lexer` builds the comments and ``#define`` lines of a
header on these.
"""

from __future__ import annotations

import bisect
import functools
import re

__all__ = ["Origin", "Spliced", "blank", "code_mask", "comment_spans", "scanned"]


class Spliced:
    """The text with backslash-newlines spliced out, and where each char came from.

    C splices lines before it recognises comments, so ``// a \\`` continues onto
    the next line and a string literal may span lines; scanning the spliced text
    gets that right for free, and ``origin`` maps positions back for line/col.
    """

    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.logical = self.text.replace("\\\n", "")
        self.origin = Origin(self.text)
        # Line n (from 1) starts at line_starts[n - 1]: a bisect gives an offset's line.
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", self.text)]


class Origin:
    """Where each offset of the spliced text is in the text: ``origin[i]``, up to and
    including ``len(logical)`` (the end of the text).

    Each splice removed two characters: an offset moves by two for each splice at or
    before it.  (A list of every offset cost a tenth of lexing a header, and the
    look-ups are a few per comment and ``#define``.)
    """

    def __init__(self, text: str) -> None:
        # The spliced offset of the character after each splice.
        self.after = ([m.start() - 2 * i for i, m in enumerate(re.finditer(r"\\\n", text))]
                      if "\\\n" in text else [])

    def __getitem__(self, offset: int) -> int:
        return offset + 2 * bisect.bisect_right(self.after, offset) if self.after else offset


_INTERESTING = re.compile(r"""/\*|//|["']""")
_LITERAL = {'"': re.compile(r'"(?:[^"\\\n]|\\.)*"?'), "'": re.compile(r"'(?:[^'\\\n]|\\.)*'?")}


def comment_spans(logical: str) -> list[tuple[int, int, bool]]:
    """(start, end, terminated) of every comment in the spliced text."""
    spans = []
    pos = 0
    while True:
        m = _INTERESTING.search(logical, pos)
        if m is None:
            return spans
        tok = m.group()
        if tok == "/*":
            close = logical.find("*/", m.end())
            if close < 0:
                spans.append((m.start(), len(logical), False))
                return spans
            spans.append((m.start(), close + 2, True))
            pos = close + 2
        elif tok == "//":
            eol = logical.find("\n", m.end())
            end = len(logical) if eol < 0 else eol
            spans.append((m.start(), end, True))
            pos = end
        else:
            # A literal ends at its quote or, unterminated (an apostrophe in an
            # #error line), at the end of the line, so damage stays local.
            lit = _LITERAL[tok].match(logical, m.start())
            pos = lit.end() if lit else m.end()


@functools.lru_cache(maxsize=4)
def scanned(text: str) -> tuple[Spliced, list[tuple[int, int, bool]]]:
    """The spliced text and its comment spans: :func:`~headerparse.extract.lexer.scan_comments`
    and :func:`~headerparse.extract.lexer.scan_defines` of one header share them."""
    src = Spliced(text)
    return src, comment_spans(src.logical)


def code_mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the comments blanked (newlines kept): what is left is code."""
    out = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(blank(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


# Every byte but the newline to a space.
_SPACES = bytes(10 if b == 10 else 32 for b in range(256))


def blank(segment: str, *, utf8: bool = False) -> str:
    """``segment`` as spaces, newlines kept: one per character, or per UTF-8 byte."""
    if utf8 or segment.isascii():
        return segment.encode().translate(_SPACES).decode("ascii")
    return "\n".join(" " * len(part) for part in segment.split("\n"))
