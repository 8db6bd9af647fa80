"""Text helpers shared by the page generator and the Sphinx directives.

Nothing here knows Sphinx. Header text is never handed to a reST parser as markup:
short texts are escaped with :func:`rst_inline`, and prose and source lines are
passed as directive *content* that the directives turn into text nodes themselves,
so a comment saying ``<script>`` or ``*emphasis*`` always renders as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# An identifier, optionally preceded by a struct/union/enum keyword, or an op range
# such as ``SCHEDOP_*``. The keyword form is tried first so that ``struct foo`` links
# as a whole.
_TOKEN = re.compile(
    r"\b(?:(?P<kw>struct|union|enum)\s+(?P<tag>[A-Za-z_]\w*)"
    r"|(?P<range>[A-Za-z_]\w*_)\*"
    r"|(?P<ident>[A-Za-z_]\w*))")

# Characters with a meaning in reST inline markup; a backslash makes each literal.
_RST_SPECIAL = frozenset("\\`*_|[]<>:")


@dataclass(frozen=True)
class Token:
    """A run of text; ``key`` is the symbol name it may link to (None: plain text)."""

    text: str
    key: str | None = None


def tokens(text: str, known: Callable[[str], bool]) -> Iterator[Token]:
    """Split ``text`` into plain runs and names that ``known`` accepts.

    Keys are ``struct foo`` for tagged names, ``FOO_*`` for ranges, else the identifier.
    """
    pos = 0
    for start, end, key in candidates(text):
        if not known(key):
            continue
        if start > pos:
            yield Token(text[pos:start])
        yield Token(text[start:end], key)
        pos = end
    if pos < len(text):
        yield Token(text[pos:])


def candidates(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, key) of each name in ``text`` that :func:`tokens` would link if
    it were known: the same matches, without making tokens (the Sphinx directives
    ask this of every comment and source line on a page)."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ident":
            key = m[0]
        elif kind == "tag":
            key = f"{m['kw']} {m['tag']}"
        else:
            key = m["range"] + "*"
        yield m.start(), m.end(), key


def names_in(text: str, known: Callable[[str], bool]) -> set[str]:
    """The keys :func:`tokens` would link in ``text`` (without making its tokens:
    pages ask this of every comment and source line, so each distinct token is
    looked at once, from ``findall``'s groups rather than match objects)."""
    found: set[str] = set()
    for kw, tag, rng, ident in set(_TOKEN.findall(text)):
        # Exactly one form matched: the others' groups are empty.
        key = ident or (f"{kw} {tag}" if kw else rng + "*")
        if known(key):
            found.add(key)
    return found


def rst_escape(text: str) -> str:
    """``text`` as reST inline text that renders exactly as written, on one line."""
    text = " ".join(text.split())
    if not text:
        return ""
    out = [ch if ch not in _RST_SPECIAL else "\\" + ch for ch in text]
    # A line starting with "-", "1." or "#." would open a list: escape its first char.
    if out[0][0] != "\\":
        out[0] = "\\" + out[0]
    return "".join(out)


def rst_inline(text: str, link: Callable[[str], str | None],
               known: Callable[[str], bool]) -> str:
    """Escaped reST for ``text`` with known names replaced by the roles ``link`` gives."""
    parts: list[str] = []
    for tok in tokens(" ".join(text.split()), known):
        role = link(tok.key) if tok.key else None
        if role is None:
            parts.append(_escape_run(tok.text))
        else:
            # "\ " separates a role from adjacent text and renders as nothing.
            parts.append(("\\ " if parts and not parts[-1].endswith(" ") else "") + role)
            parts.append("\\ ")
    out = "".join(parts)
    out = out.removesuffix("\\ ")
    if out and out[0] not in "\\:":
        out = "\\" + out
    return out


def _escape_run(text: str) -> str:
    return "".join("\\" + ch if ch in _RST_SPECIAL else ch for ch in text)


def title(text: str, char: str) -> list[str]:
    """A reST section title and its underline (the text is escaped)."""
    esc = rst_escape(text)
    return [esc, char * max(len(esc), 4)]


# ------------------------------------------------------------------ prose blocks


@dataclass(frozen=True)
class Block:
    """A paragraph (reflowed) or a preformatted block (kept as written)."""

    pre: bool
    lines: tuple[str, ...]
    first: int          # index of the first line in the text


def blocks(text: str) -> list[Block]:
    """Split cleaned comment text into paragraphs and preformatted blocks.

    A block stays preformatted when its layout carries meaning: indentation,
    column alignment, list bullets, ASCII art. Plain running text is reflowed.
    """
    out: list[Block] = []
    lines = text.split("\n")
    start = None
    for i, line in enumerate([*lines, ""]):
        if line.strip():
            if start is None:
                start = i
            continue
        if start is not None:
            chunk = lines[start:i]
            out.append(Block(_preformatted(chunk), tuple(chunk), start))
            start = None
    return out


# Two spaces after a full stop are Xen's sentence spacing, not column alignment.
_STRUCTURE = re.compile(r"[^\s.:?!] {2,}\S|^\s*(?:[-*+o]|\d+[.)]|[a-z][.)])\s"
                        r"|[|+=~_-]{3,}|[{};]\s*$")


def _preformatted(lines: list[str]) -> bool:
    indents = {len(line) - len(line.lstrip()) for line in lines}
    if len(indents) > 1 or min(indents) > 0:
        return True
    return any(_STRUCTURE.search(line) for line in lines)


def first_sentence(text: str, limit: int = 160) -> str:
    """A one-line summary of a doc comment, for tables."""
    para = " ".join(text.strip().split("\n\n")[0].split())
    m = re.match(r"(.+?[.!?])(?:\s|$)", para)
    s = m.group(1) if m else para
    return s if len(s) <= limit else s[:limit - 1].rstrip() + "…"


def hex_of(value: int, name: str = "") -> str | None:
    """The hex spelling shown next to a decimal value, or None below 16 (where the
    two agree). Version numbers pack bytes, so they keep all eight digits:
    ``__XEN_LATEST_INTERFACE_VERSION__`` is ``0x00040e00``, not ``0x40e00``."""
    if value < 16:
        return None
    if "VERSION" in name.upper() and value <= 0xFFFFFFFF:
        return f"0x{value:08x}"
    return f"0x{value:x}"


def with_hex(value: int, name: str = "") -> str:
    """``265728 (0x00040e00)``; values below 16 as they are."""
    h = hex_of(value, name)
    return str(value) if h is None else f"{value} ({h})"
