"""Which comment documents which symbol: the attachment rules for members and macros.

:class:`~headerparse.extract.lexer.CommentIndex` finds the comment block right above
a line and the comment trailing it. Which of those describes a *member* is decided
here, one rule each (tests/data/attach holds a labelled set read off real headers):

1. The comment trailing the member's line describes it.
2. A block above that is a direction marker (``/* IN parameters. */``) heads the
   members after it: it is their heading (and gives their direction), never a
   member's description.
3. ``@name: text`` lines describe the member they name, each its own; a member a
   block of such lines does not name gets nothing from it, and text before the
   first such line heads the group.
4. A block that is the record's own documentation (members declared by a macro
   expansion all sit on the macro's line) describes none of its members.
5. A block above a run of two or more member lines, the first of which has its
   own trailing comment, heads that run: it is not the first member's description.
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
               member_lines: Collection[int]) -> MemberDoc:
    """The description and heading of member ``name`` declared on ``line`` (rules 1-5)."""
    found = index.doc_for(line)
    before, trailing = found.before, found.trailing
    if before is None:
        return MemberDoc(found, None)
    if record_doc.before is not None and before.loc == record_doc.before.loc:
        return MemberDoc(_doc(None, trailing), None)                        # rule 4
    if is_direction_marker(before.text):
        return MemberDoc(_doc(None, trailing), before)                      # rule 2
    entries, lead = _at_entries(before)
    if entries:                                                             # rule 3
        return MemberDoc(_doc(entries.get(name), trailing), lead)
    if trailing is not None and _run(line, member_lines) >= 2:
        return MemberDoc(_doc(None, trailing), before)                      # rule 5
    return MemberDoc(found, None)


def _doc(before: Comment | None, trailing: Comment | None) -> Doc:
    return Doc(before, trailing) if before is not None or trailing is not None else EMPTY_DOC


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

# A one-line comment that names what follows rather than describing it.
_TITLE = re.compile(r"(?:Commands|Flags|Values|Subflags|Sub-flags|Bitfield values|Bits|"
                    r"Options|Operations|Possible values)\b[^\n]{0,60}\Z")


def is_title(c: Comment) -> bool:
    """``/* REQUEST CODES. */``, ``/* Commands to HYPERVISOR_vm_assist(). */``"""
    text = c.text.strip()
    if "\n" in text or not text:
        return False
    letters = [ch for ch in text if ch.isalpha()]
    return (bool(letters) and all(ch.isupper() for ch in letters)) or bool(_TITLE.match(text))


def macro_doc(index: CommentIndex, define: Define, run: Sequence[Define],
              entries: Mapping[str, Comment]) -> Doc:
    """The documentation of a ``#define`` (rules 7-10 of the module docstring).

    ``run`` is the run of ``#define`` lines it stands in, first to last; ``entries``
    the ``NAME: text`` entries of the header's comments that name its defines.
    """
    trailing = index.doc_for(define.line, define.end_line).trailing
    block = index.block_before(define.line)
    inherited = not block and run and run[0] is not define
    if inherited:
        block = index.block_before(run[0].line)
    before = _describe(block, define.name, entries)
    if before is not None and inherited and all(_has_trailing(index, d) for d in run):
        before = None       # it heads defines that each say what they are
    if before is None and trailing is None:
        before = entries.get(define.name)
    return _doc(before, trailing)


def _describe(block: list[Comment], name: str, entries: Mapping[str, Comment]) -> Comment | None:
    if not block:
        return None
    for c in block:
        own = {n: e for n, e in comment_entries(c).items() if n in entries}
        if own:     # a list of entries: each describes the define it names, and only that
            return _entry(c, own[name]) if name in own else None
    last = block[-1]
    return None if is_title(last) else last


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
