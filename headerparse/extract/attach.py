"""Which comment documents which symbol: the attachment rules for members and macros.

:class:`~headerparse.extract.lexer.CommentIndex` finds the comment block right above
a line and the comment trailing it. Which of those describes a *member* is decided
here, one rule each (tests/data/attach holds a labelled set read off real headers):

1. The comment trailing the member's line describes it, unless it only gives a
   direction (``/* IN */``).
2. In the block above, direction markers (``/* IN parameters. */``), titles and tags
   head the members after them (giving their direction), and the last comment
   describes: ``/* IN */ /* Which domain to change the mapping for. */``.
3. ``@name: text`` lines describe the member they name, each its own; a member a
   block of such lines does not name gets nothing from it, and text before the
   first such line heads the group.
4. A block that is the record's own documentation (members declared by a macro
   expansion all sit on the macro's line) describes none of its members.
5. A block describes the member on the line below it only. Above a run of two or
   more member lines, the first of which has its own trailing comment, it heads the
   run and describes none of them (the labelled set shows readers split on whether
   such a block also describes the uncommented members further down: it does not).
6. A member is looked up in the file that declares it, which for a nested record
   from another header is not the outer record's file.

For a ``#define``:

7. The comment trailing its line describes it.
8. The last comment of the block above describes it; earlier comments of the block
   head it. A title (``/* REQUEST CODES. */``, ``/* Commands to X. */``) heads the
   defines below it and describes none.
9. A define in a run of ``#define`` lines without a block of its own shares the
   block above the run's first define, unless every define of the run has its own
   trailing comment (the block is then their heading).
10. ``NAME: text`` entries of a comment describe the define they name, each its own
    (``GTF_permit_access: Allow @domid to map/access @frame.``), wherever the comment
    is in the header (``EVTCHNOP_alloc_unbound: ...`` on the sub-op's argument
    struct); a block of entries describes none of the defines it does not name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from headerparse.extract.lexer import CommentIndex, Define, comment_entries
from headerparse.extract.markup import is_direction_marker
from headerparse.model import EMPTY_DOC, Comment, Doc, Loc

_AT_ENTRY = re.compile(r"^@([A-Za-z_]\w*)\s*:\s*(.*)$")


@dataclass(frozen=True)
class MemberDoc:
    doc: Doc                      # what describes the member itself
    heading: Comment | None       # what heads the group of members it is in


def member_doc(index: CommentIndex, line: int, name: str, record_doc: Doc,
               member_lines: Collection[int], code: Sequence[str] = ()) -> MemberDoc:
    """The description and heading of member ``name`` declared on ``line`` (rules 1-6).

    ``member_lines`` are the lines of the members declared beside it (same record or
    nested body); ``code`` the header's lines without their comments (line 1 first).
    """
    first = _declaration_start(line, code)                                  # rule 5
    trailing = index.doc_for(line).trailing
    if trailing is None and first != line:
        trailing = index.doc_for(first).trailing        # `struct {  /* timers */`
    if trailing is not None and (is_direction_marker(trailing.text) or is_code(trailing)):
        trailing = None                                                     # rule 2
    block = index.block_before(first)
    if not block and (opening := _anonymous_opening(line, code)) is not None:
        first, block = opening, index.block_before(opening)
    if record_doc.before is not None and block and block[0].loc == record_doc.before.loc:
        return MemberDoc(_doc(None, trailing), None)                        # rule 4
    if not block:
        return MemberDoc(_doc(_naming(index, line, name, member_lines), trailing), None)
    joined = index.doc_for(first).before
    entries, lead = _at_entries(joined) if joined is not None else ({}, None)
    if entries:                                                             # rule 3
        return MemberDoc(_doc(entries.get(name), trailing), lead)
    block = _notes_joined(block)
    heads = [c for c in block[:-1] if is_direction_marker(c.text) or is_tag(c) or is_title(c)]
    last = block[-1]
    if is_code(last) or is_direction_marker(last.text):
        return MemberDoc(_doc(None, trailing), (heads or [last])[-1])       # rule 2
    if _opens_with_marker(last):
        return MemberDoc(_doc(None, trailing), last)                        # rule 2
    run = _run(first, member_lines)
    if run >= 2 and not _names(last, name) and (
            trailing is not None
            or is_tag(last) and any(_trails(index, first + i) for i in range(1, run))):
        return MemberDoc(_doc(None, trailing), last)                        # rule 5
    return MemberDoc(_doc(last, trailing), heads[-1] if heads else None)


def code_lines(text: str) -> list[str]:
    """``text``'s lines with its comments blanked (line numbers kept): where braces are."""
    return _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text).split("\n")


_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_OPENING = re.compile(r"\s*(?:struct|union)\s*\{\s*\Z")


def _declaration_start(line: int, code: Sequence[str]) -> int:
    """Where the declaration of the member named on ``line`` starts: the ``struct {``
    line of ``struct { ... } name;``, else ``line``."""
    if not 0 < line <= len(code) or not code[line - 1].lstrip().startswith("}"):
        return line
    depth = 0
    for i in range(line - 1, -1, -1):
        depth += code[i].count("}") - code[i].count("{")
        if depth <= 0 and "{" in code[i]:
            return i + 1
    return line


def _anonymous_opening(line: int, code: Sequence[str]) -> int | None:
    """The ``union {`` line right above ``line`` when it opens an anonymous (C11)
    struct or union: the comment above that line is about its first member."""
    if not 1 < line <= len(code) or not _OPENING.match(code[line - 2]):
        return None
    depth = 0
    for i in range(line - 2, len(code)):
        depth += code[i].count("{") - code[i].count("}")
        if depth <= 0:
            return line - 1 if re.match(r"\s*\}\s*;", code[i]) else None
    return None


def _naming(index: CommentIndex, line: int, name: str,
            member_lines: Collection[int]) -> Comment | None:
    """The block above the run of member lines ``line`` is in, when it names ``name``:
    ``/* ... The values of wc_sec and wc_nsec are ... */`` over ``wc_version``,
    ``wc_sec`` and ``wc_nsec`` describes the two it names."""
    start = line
    while start - 1 in member_lines:
        start -= 1
    if start == line:
        return None
    block = index.block_before(start)
    last = block[-1] if block else None
    return last if last is not None and _prose(last) and _names(last, name) \
        and not _opens_with_marker(last) else None


def _names(c: Comment, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", c.text) is not None


# ``IN variables: set ...`` / ``OUT variables: get ...``, ``OP_ENABLE: ...`` /
# ``OP_PEEK / OP_CLEAN: ...``: one line each, a key, a colon and what holds for it.
_KEYED = re.compile(r"[A-Za-z_]\w*(?:\s*[/,]\s*[A-Za-z_]\w*)*(?: [a-z]+)?:\s+\S[^\n]*\Z")
_NOTE = re.compile(r"N\.?B\b[.:]?")


def _notes_joined(block: list[Comment]) -> list[Comment]:
    """Comments that read as one: consecutive ``KEY: text`` lines (each says what holds
    in one case), and a note (``NB. ...``) with the comment it annotates."""
    keyed = 0
    while keyed < len(block) and _KEYED.match(block[-1 - keyed].text.strip()):
        keyed += 1
    if keyed >= 2:
        return [*block[:-keyed], _join(block[-keyed:])]
    if len(block) >= 2 and _NOTE.match(block[-1].text) and _prose(block[-2]) \
            and not is_title(block[-2]):
        return [*block[:-2], _join(block[-2:])]
    return block


def _join(comments: list[Comment]) -> Comment:
    return Comment("\n".join(c.raw for c in comments), "\n".join(c.text for c in comments),
                   comments[0].loc, comments[-1].end_line)


def _opens_with_marker(c: Comment) -> bool:
    """``IN/OUT variables.`` as a paragraph of its own, more text after: a heading."""
    head, _, rest = c.text.strip().partition("\n")
    return bool(rest.strip()) and is_direction_marker(head) and _SECTION.search(head) is not None


_SECTION = re.compile(r"\b(?:variables|parameters|params|fields|values|arguments|args)\b", re.I)


def _doc(before: Comment | None, trailing: Comment | None) -> Doc:
    return Doc(before, trailing) if before is not None or trailing is not None else EMPTY_DOC


def _trails(index: CommentIndex, line: int) -> bool:
    return index.doc_for(line).trailing is not None


def _run(line: int, member_lines: Collection[int]) -> int:
    """How many member lines follow one another from ``line`` on."""
    n = 0
    while line + n in member_lines:
        n += 1
    return n


def _at_entries(block: Comment) -> tuple[dict[str, Comment], Comment | None]:
    """``@name: text`` entries of a block, each as its own comment; and the text before
    the first entry, when there is some."""
    lines = block.text.split("\n")
    entries: dict[str, Comment] = {}
    lead: list[str] = []
    current: str | None = None
    texts: dict[str, list[str]] = {}
    for i, text in enumerate(lines):
        m = _AT_ENTRY.match(text.strip())
        if m:
            current = m.group(1)
            texts[current] = [m.group(2)]
            entries[current] = Comment(block.raw, "", Loc(block.loc.file, block.loc.line + i,
                                                          block.loc.col), block.end_line)
        elif current is not None:
            texts[current].append(text.strip())
        else:
            lead.append(text)
    if not entries:
        return {}, None
    out = {n: Comment(c.raw, " ".join(t for t in texts[n] if t).strip(), c.loc, c.end_line)
           for n, c in entries.items()}
    head = "\n".join(lead).strip()
    return out, Comment(block.raw, head, block.loc, block.end_line) if head else None


# ------------------------------------------------------------------ macros

# A one-line comment that names a category of what follows rather than describing it.
_CATEGORY = (r"(?:types?|bits|codes|flags|commands|values|definitions|constants|operations|"
             r"options)")
_TITLE = re.compile(r"(?:(?:Commands|Flags|Values|Subflags|Sub-flags|Bitfield values|Bits|"
                    r"Options|Operations|Possible values)\b[^\n]{0,60}"
                    r"|(?:[\w/()-]+ ){0,6}" + _CATEGORY + r"\.?(?::[^\n]*)?)\Z", re.I)
# Only names: "XEN_DOMCTL_sendtrigger", "OP_PEEK / OP_CLEAN": a tag, not prose.
_TAG = re.compile(r"[A-Za-z_]\w*(?:\(\))?(?:\s*(?:/|,|or|and)\s*[A-Za-z_]\w*(?:\(\))?)*\Z")
# Commented-out code: "#define XEN_SCHEDULER_SEDF 4 (Removed)", "uint32_t pad;".
_CODE = re.compile(r"\A#\s*(?:define|if|ifdef|ifndef|endif|include)\b|\A[^:.\n]*(?:;|\{|\A\})\Z")


def is_title(c: Comment) -> bool:
    """``/* REQUEST CODES. */``, ``/* Commands to HYPERVISOR_vm_assist(). */``,
    ``/* ability bits */``"""
    text = c.text.strip()
    if "\n" in text or not text:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    return (bool(letters) and all(ch.isupper() for ch in letters)) or bool(_TITLE.match(text))


def is_tag(c: Comment) -> bool:
    """A comment that only names symbols (``/* XEN_DOMCTL_sendtrigger */``)."""
    text = c.text.strip()
    return bool(text) and "\n" not in text and bool(_TAG.match(text)) and any(
        ch == "_" or ch.isupper() for ch in text)


def is_code(c: Comment) -> bool:
    """Commented-out code: a retired ``#define``, a declaration."""
    return bool(_CODE.search(c.text.strip()))


def _prose(c: Comment | None) -> bool:
    """Whether ``c`` can describe a symbol at all."""
    return c is not None and bool(c.text.strip()) and not (
        is_direction_marker(c.text) or is_tag(c) or is_code(c))


def macro_doc(index: CommentIndex, define: Define, run: Sequence[Define],
              entries: Mapping[str, Comment], lines: Sequence[str]) -> Doc:
    """The documentation of a ``#define`` (rules 7-10 of the module docstring).

    ``run`` is the run of ``#define`` lines it stands in, first to last; ``entries``
    the ``NAME: text`` entries of the header's comments that name its defines.
    """
    trailing = index.doc_for(define.line, define.end_line).trailing
    if trailing is not None and (is_direction_marker(trailing.text) or is_code(trailing)):
        trailing = None
    block = index.block_before(_above_conditionals(define.line, lines))
    inherited = not block and run and run[0] is not define
    if inherited:
        block = index.block_before(_above_conditionals(run[0].line, lines))
    before = _describe(block, define.name, entries, len(run) > 1)
    if before is not None and inherited and all(_has_trailing(index, d) for d in run):
        before = None       # it heads defines that each say what they are
    if before is None and trailing is None:
        before = entries.get(define.name)
    return _doc(before, trailing)


def _above_conditionals(line: int, lines: Sequence[str]) -> int:
    """``line``, or the first of the preprocessor conditionals right above it: a comment
    above ``#if __XEN_INTERFACE_VERSION__ < ...`` documents the define inside."""
    while line > 1 and _CONDITIONAL.match(lines[line - 2]):
        line -= 1
    return line


def _describe(block: list[Comment], name: str, entries: Mapping[str, Comment],
              in_run: bool) -> Comment | None:
    if not block:
        return None
    for c in block:
        own = {n: e for n, e in comment_entries(c).items() if n in entries}
        if own:     # a list of entries: each describes the define it names, and only that
            return _entry(c, own[name]) if name in own else None
    last = block[-1]
    # A title heads a run of defines; over a single one it is its description.
    return last if _prose(last) and not (in_run and is_title(last)) else None


def _entry(comment: Comment, entry: Comment) -> Comment:
    """An entry; the whole comment when it opens the comment (its subject is the name)."""
    return comment if entry.loc.line == comment.loc.line else entry


def _has_trailing(index: CommentIndex, d: Define) -> bool:
    return index.doc_for(d.line, d.end_line).trailing is not None


_CONDITIONAL = re.compile(r"\s*#\s*(?:if|ifdef|ifndef|elif|else|endif)\b")


def runs(defines: Sequence[Define], lines: Sequence[str]) -> dict[str, list[Define]]:
    """Each define's run: the defines around it with nothing between them but
    preprocessor conditionals (``lines`` is the header's text, line 1 first)."""
    out: dict[str, list[Define]] = {}
    current: list[Define] = []
    for d in sorted(defines, key=lambda d: d.line):
        between = lines[current[-1].end_line:d.line - 1] if current else []
        if current and not all(_CONDITIONAL.match(ln) for ln in between):
            current = []
        current.append(d)
        out[f"{d.name}:{d.line}"] = current
    return out
