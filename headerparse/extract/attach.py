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

A macro without a comment of its own is described by a comment of its header that
starts with its name and a colon (``EVTCHNOP_alloc_unbound: Allocate a port ...``,
written on the sub-op's argument struct): :meth:`CommentIndex.named`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from headerparse.extract.lexer import CommentIndex
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
