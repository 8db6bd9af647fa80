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
   such a block also describes the uncommented members further down: it does not,
   unless it names them: ``The values of wc_sec and wc_nsec are ...``, two or more
   members of the run named, a lone mention being no description). A tag
   (``/* OP_PEEK / OP_CLEAN */``) over such a run heads it too; a section marker
   followed by prose (``IN/OUT variables.`` + paragraph) heads. A run is of members
   declared beside each other in one body. A member declared with its own body
   (``struct { ... } name;``) is documented from the line its declaration starts on;
   the first member of an anonymous ``union {`` from the comment above the union; a
   member below ``#define`` lines that each have a trailing comment (its values) from
   the block above those defines.
6. A member is looked up in the file that declares it, which for a nested record
   from another header is not the outer record's file.
   Comments that read as one are joined: consecutive one-line ``KEY: text`` comments
   (``IN variables: ...`` / ``OUT variables: ...``), and a note (``NB. ...``) with the
   comment it annotates.

For a ``#define``:

7. The comment trailing its line describes it.
8. The last comment of the block above describes it; earlier comments of the block
   head it. A title (``/* REQUEST CODES. */``, ``/* Commands to X. */``) heads the
   defines below it and describes none.
9. A define in a run of ``#define`` lines without a block of its own shares the
   block above the run's first define, unless every define of the run has its own
   trailing comment (the block is then their heading), or the block is the first
   define's alone: the run opens with a bit number and its mask (``_X_iommu``,
   ``X_iommu``) and the define is another flag, or the define before the run has a
   block of the same words (written again for each define it holds for). A block
   whose sentence has another symbol as subject (``X_enable_emulate and
   X_disable_emulate are unused``) describes none; a single capitalised word is a
   title (``/* Interrupts */``).
10. ``NAME: text`` entries of a comment describe the define they name, each its own
    (``GTF_permit_access: Allow @domid to map/access @frame.``; ``GTF_PAT, GTF_PWT,
    GTF_PCD: text`` names three), wherever the comment is in the header
    (``EVTCHNOP_alloc_unbound: ...`` on the sub-op's argument struct); a block of
    entries describes none of the defines it does not name. ``cmd: NAME`` followed
    by prose lines describes NAME with them; a comment opening with a call of a
    macro (``XEN_DEFINE_UUID(0x00112233, ...) will construct ...``) describes it.
11. An op of a group whose opener maps ops to argument structs (``GNTTABOP_* =>
    struct gnttab_*``) that nothing else describes takes its argument struct's
    comment (in :mod:`.merge`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from headerparse.extract.conditions import blank_comments
from headerparse.extract.lexer import CommentIndex, Define, LexComment, comment_entries
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
    if not block and (values := _above_values(index, first, code)) != first:
        first, block = values, index.block_before(values)
    if record_doc.before is not None and block and block[0].loc == record_doc.before.loc:
        return MemberDoc(_doc(None, trailing), None)                        # rule 4
    if not block:
        named = _naming(index, line, name, member_lines, code) if trailing is None else None
        return MemberDoc(_doc(named, trailing), None)
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
    if run >= 2 and (
            trailing is not None
            or is_tag(last) and any(_trails(index, first + i) for i in range(1, run))):
        return MemberDoc(_doc(None, trailing), last)                        # rule 5
    return MemberDoc(_doc(last, trailing), heads[-1] if heads else None)


def code_lines(text: str) -> list[str]:
    """``text``'s lines with its comments blanked (line numbers kept): where braces are."""
    return blank_comments(text).split("\n")


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


def _above_values(index: CommentIndex, line: int, code: Sequence[str]) -> int:
    """The first of the ``#define`` lines right above ``line`` when each has its own
    trailing comment: those are the member's values, and the block above them
    (``/* Coordination type of this processor */``) describes the member (rule 9)."""
    k = line
    while k > 1 and k - 1 <= len(code) and _DEFINE.match(code[k - 2]) \
            and index.doc_for(k - 1).trailing is not None:
        k -= 1
    return k


def _naming(index: CommentIndex, line: int, name: str, member_lines: Collection[int],
            code: Sequence[str]) -> Comment | None:
    """The block above the run of member lines ``line`` is in, when it names ``name``
    and another member of the run: ``/* ... The values of wc_sec and wc_nsec are ... */``
    over ``wc_version``, ``wc_sec`` and ``wc_nsec`` describes the two it names (one
    name alone, ``entries in mi_data``, is a mention)."""
    start = line
    while start - 1 in member_lines:
        start -= 1
    if start == line or "_" not in name:
        return None
    block = index.block_before(start)
    last = block[-1] if block else None
    if last is None or not _prose(last) or _opens_with_marker(last) or not _names(last, name):
        return None
    end = line
    while end + 1 in member_lines:
        end += 1
    declared = {n for ln in range(start, end + 1) if ln <= len(code)
                for n in _DECLARED.findall(code[ln - 1])}
    return last if len({n for n in declared if "_" in n and _names(last, n)}) >= 2 else None


_DECLARED = re.compile(r"(\w+)\s*(?:\[[^\]]*\]\s*)?(?:[;,]|:\s*\d)")


def _names(c: Comment, name: str) -> bool:
    # The look-up first: each name's pattern is compiled anew (~50 µs), most are not there.
    return name in c.text and re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)",
                                        c.text) is not None


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
    ``/* ability bits */``, ``/* Interrupts */``"""
    text = c.text.strip()
    if "\n" in text or not text:
        return False
    if text.isascii():      # ASCII letters are cased: all capitals is what isupper says
        capitals = text.isupper()
    else:
        letters = [ch for ch in text if ch.isalpha()]
        capitals = bool(letters) and all(ch.isupper() for ch in letters)
    return capitals or bool(_TITLE.match(text)) or bool(_WORD.fullmatch(text))


def is_tag(c: Comment) -> bool:
    """A comment that only names symbols (``/* XEN_DOMCTL_sendtrigger */``); a single
    capitalised word (``/* Hypercall */``) is a word, not a name."""
    text = c.text.strip()
    return bool(text) and "\n" not in text and bool(_TAG.match(text)) and any(
        ch == "_" or ch.isupper() for ch in text) and not _WORD.fullmatch(text)


_WORD = re.compile(r"[A-Z][a-z]+")


def is_code(c: Comment) -> bool:
    """Commented-out code: a retired ``#define``, a declaration."""
    return bool(_CODE.match(c.text.strip()))     # each alternative opens with \A


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
    if before is not None and inherited and before is block[-1] \
            and _first_alone(index, define, run, block, lines):
        before = None
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


_DEFINE = re.compile(r"\s*#\s*define\b")
# A symbol as the subject of the sentence: ``XENMEM_access_op_enable_emulate and ...``.
_SUBJECT = re.compile(r"\A(_*[A-Za-z0-9]*[A-Z][A-Za-z0-9]*_\w*)"
                      r"(?=\s*,|\s+(?:and|or|is|are|was|were|has|have)\b)")


def _related(a: str, b: str) -> bool:
    """Whether two defines name one thing: ``_XEN_DOMCTL_CDF_hvm`` and ``XEN_DOMCTL_CDF_hvm``,
    ``XENMEMF_node`` and ``XENMEMF_get_node``; not ``..._CDF_iommu`` and ``..._CDF_nested_virt``."""
    a, b = a.lstrip("_").lower(), b.lstrip("_").lower()
    n = len(os.path.commonprefix((a, b)))
    cut = a.rfind("_", 0, n) + 1
    sa, sb = a[cut:], b[cut:]
    return sa in sb or sb in sa


def _first_alone(index: CommentIndex, define: Define, run: Sequence[Define],
                 block: list[Comment], lines: Sequence[str]) -> bool:
    """Whether the block over a run is its first define's alone, not ``define``'s: the
    run opens with a bit number and its mask (``_XEN_DOMCTL_CDF_iommu``,
    ``XEN_DOMCTL_CDF_iommu``) and ``define`` is another flag; or the define before
    the run has a block of the same words (the header says it again for each define
    it holds for)."""
    if _related(define.name, run[0].name):
        return False
    if len(run) > 1 and run[0].name.startswith("_") and run[1].name == run[0].name[1:]:
        return True
    above = block[0].loc.line - 1
    if above < 1 or not _DEFINE.match(lines[above - 1]):
        return False
    previous = index.block_before(_above_conditionals(above, lines))
    return bool(previous) and previous[-1].text.strip() == block[-1].text.strip()


def _about_other(block: list[Comment], name: str) -> bool:
    """A block whose subject is another symbol: it opens with that symbol's name
    (``XENMEM_access_op_enable_emulate and ... are currently unused``)."""
    m = _SUBJECT.match(block[-1].text.strip())
    return m is not None and not (name.startswith(m.group(1)) or m.group(1).startswith(name))


def _describe(block: list[Comment], name: str, entries: Mapping[str, Comment],
              in_run: bool) -> Comment | None:
    if not block or _about_other(block, name):
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


def call_entries(comments: Iterable[LexComment], names: Collection[str]) -> dict[str, Comment]:
    """Comments that open with a call of one of ``names`` (``XEN_DEFINE_UUID(0x00112233,
    ...) will construct UUID ...``): the example's macro is their subject (rule 10)."""
    out: dict[str, Comment] = {}
    for c in comments:
        m = _CALL.match(c.comment.text)
        if m and m.group(1) in names and not (c.code_before or c.code_after):
            out.setdefault(m.group(1), c.comment)
    return out


_CALL = re.compile(r"\s*([A-Za-z_]\w*)\(")


def runs(defines: Sequence[Define], lines: Sequence[str]) -> dict[str, list[Define]]:
    """Each define's run: the defines around it with nothing between them but
    preprocessor conditionals (``lines`` is the header's text, line 1 first)."""
    out: dict[str, list[Define]] = {}
    current: list[Define] = []
    for d in sorted(defines, key=lambda d: d.line):
        between = lines[current[-1].end_line:d.line - 1] if current else []
        if between and not all(_CONDITIONAL.match(ln) for ln in between):
            current = []
        current.append(d)
        out[f"{d.name}:{d.line}"] = current
    return out
