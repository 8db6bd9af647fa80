"""Records' members, documented: the part of a merge that needs the sources and the
member lists, and no layout.

A record's :class:`~headerparse.model.Field` list depends on its header texts and on
the distinct member lists the arches give it (x86_32 and x86_64 mostly declare the
same lines; Arm's guest handles add members): nothing else of the facts.  So it can
be worked out from one arch's facts while the others are still being parsed
(:meth:`FieldDocs.prepare`); the merge then finds each record whose member list is
the same on every arch in :data:`FIELDS`, and computes the others again, reusing
each member's documentation where its neighbourhood is the same.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence

from headerparse.extract.archfacts import ArchFacts, RawField, RawRecord
from headerparse.extract.attach import MemberDoc, code_lines, member_doc
from headerparse.extract.frozen import maker
from headerparse.extract.markup import FieldDirections, direction_of
from headerparse.extract.reuse import Memo
from headerparse.extract.source import HeaderSource
from headerparse.model import EMPTY_DOC, Doc, Field, Loc

# A record's documented members, by what they are made of (see :mod:`.reuse`):
# 4.17 and 4.20 have some 1,300 records each, so a review's two merges fit, and a
# process merging many releases (a site build) keeps no more than about four.
FIELDS: Memo[tuple[Field, ...]] = Memo(6_000)
_FILE = operator.itemgetter(7)     # of a RawField: the declaring header, or None
_FIELD = maker(Field)
_LOC = maker(Loc)
_UNDOCUMENTED = MemberDoc(EMPTY_DOC, None)

# One distinct member list of a record: its file and its members.
MemberList = tuple[str, tuple[RawField, ...]]


def _member_list(r: RawRecord) -> MemberList:
    return r.loc.file, r.fields


class FieldDocs:
    """The documented members of the records of one set of sources."""

    def __init__(self, sources: Mapping[str, HeaderSource], docs: bool,
                 archs: Sequence[str] = ()) -> None:
        self.sources, self.docs = sources, docs
        self._order = {arch: i for i, arch in enumerate(archs)}
        self._code: dict[str, list[str]] = {}
        self._directions: dict[str, FieldDirections] = {}
        # What documents a member and the direction its own comment gives, by what
        # decides them (see _member): a nested record's members are documented again
        # in each record holding it, and the arches' member lists share most members.
        self._members: dict[tuple, tuple[MemberDoc, str | None]] = {}
        # Of prepare(): the records of the arches prepared so far, by definition site.
        self._sites: dict[tuple[str, str, int], list[RawRecord]] = {}
        self._distinct: dict[tuple[str, str, int], list[MemberList]] = {}
        # The members each definition site has as prepared so far (:meth:`prepared`).
        self._prepared: dict[tuple[str, str, int], tuple[Field, ...]] = {}
        # fields() by the line and the member list objects it was given (see there).
        self._given: dict[tuple, tuple[Field, ...]] = {}
        # How many times it documented members, not finding them ready (what tests count).
        self.documented = 0

    def record_doc(self, file: str, line: int) -> Doc:
        src = self.sources.get(file) if self.docs else None
        return src.index.doc_for(line) if src else EMPTY_DOC

    def prepare(self, facts: ArchFacts) -> None:
        """Documents the members of the records of the arches prepared so far, ``facts``'
        included, as if they were the only ones: the merge of all arches then finds in
        :data:`FIELDS` each record that no other arch gives another member list, and
        the documentation of the others' members.  The arches may come in any order."""
        for r in facts.records:
            at = (r.key, r.loc.file, r.loc.line)
            site = self._sites.setdefault(at, [])
            site.append(r)
            # In the merge's order of arches: the first list of a member decides its line.
            site.sort(key=lambda x: self._order.get(x.layout.arch, len(self._order)))
            distinct: list[MemberList] = []
            for raw in site:
                members = _member_list(raw)
                if members not in distinct:
                    distinct.append(members)
            if distinct != self._distinct.get(at):     # else FIELDS has it already
                self._distinct[at] = distinct
                self._prepared[at] = self.fields(site, self.record_doc(r.loc.file, r.loc.line))

    def prepared(self) -> list[tuple[Field, ...]]:
        """The documented members of each record as the arches prepared so far give them:
        the merge's, for each record that the other arches give the same member lists."""
        return list(self._prepared.values())

    def fields(self, raws: Iterable[RawRecord], record_doc: Doc) -> tuple[Field, ...]:
        """Each member of the record ``raws`` (one per arch) define once, documented by
        the rules of :mod:`.attach`; the same members in the same header texts as an
        earlier merge's are that merge's."""
        # The arches decoded together share one tuple per distinct member list
        # (archfacts.Interned): asked again for the same ones (the merge, after the
        # arches prepared), the answer is found by their identities.  (The lists live as
        # long as this object's sources and facts, so their ids name them.  Lists equal
        # but not shared only miss here.)
        raws = list(raws)
        given = (raws[0].loc.line if raws else 0,
                 *dict.fromkeys((r.loc.file, id(r.fields)) for r in raws))
        found = self._given.get(given)
        if found is None:
            found = self._given[given] = self._fields(raws, record_doc)
        return found

    def _fields(self, raws: list[RawRecord], record_doc: Doc) -> tuple[Field, ...]:
        # The arches mostly agree on a record's members: each distinct member list is
        # read once, not once an arch.
        distinct: dict[MemberList, None] = {}
        line = 0
        for r in raws:
            line = line or r.loc.line
            distinct[_member_list(r)] = None
        files: set[str] = set()
        for own, members in distinct:
            files.update(map(_FILE, members))      # None: ``own``
            files.add(own)      # whose text gave ``record_doc`` (the first list's)
        files.discard(None)     # type: ignore[arg-type]
        docs = self.docs
        key = (docs, line, tuple(distinct),
               tuple((file, src.text if docs and (src := self.sources.get(file)) else None)
                     for file in sorted(files)))
        return FIELDS.get(key, lambda: self._document(tuple(distinct), record_doc))

    def _document(self, distinct: tuple[MemberList, ...], record_doc: Doc
                  ) -> tuple[Field, ...]:
        self.documented += 1
        lines: dict[str, set[int]] = {}
        first: dict[str, tuple[RawField, str, str]] = {}   # path -> (member, file, body)
        # The members declared beside each one: same file, same enclosing body.
        beside: dict[tuple[str, str], set[int]] = {}
        for own, members in distinct:
            for m in members:
                path, line, file = m[0], m[2], m[7] or own
                seen = first.get(path)
                if seen is None:
                    body = path.rpartition(".")[0]
                    first[path] = (m, file, body)
                else:
                    body = seen[2]
                at = lines.get(file)
                if at is None:
                    at = lines[file] = set()
                at.add(line)
                at = beside.get((file, body))
                if at is None:
                    at = beside[(file, body)] = set()
                at.add(line)
        docs = self.docs
        sections = {file: self._directions_of(file, src)(lines[file])
                    for file in lines if docs and (src := self.sources.get(file))}
        before = record_doc.before
        record = (before.loc.file, before.loc.line, before.loc.col) if before else None
        near = {k: frozenset(v) for k, v in beside.items()}
        out = []
        for m, file, body in first.values():
            path, name, line, col, bitfield, flexible, guest_handle, _file = m
            src = self.sources.get(file) if docs else None
            if src is None:
                found, direction = _UNDOCUMENTED, None
            else:
                found, direction = self._member(src, file, line, name, record,
                                                near[(file, body)], record_doc)
                direction = direction or sections[file].get(line)
            out.append(_FIELD(path, name, _LOC(file, line, col), found.doc, direction,
                              flexible, guest_handle, bitfield, found.heading))
        return tuple(out)

    def _member(self, src: HeaderSource, file: str, line: int, name: str,
                record: tuple[str, int, int] | None, near: frozenset[int],
                record_doc: Doc) -> tuple[MemberDoc, str | None]:
        """:func:`~.attach.member_doc` and the direction the member's own comment gives.
        They depend on the member's file, line and name, the members declared beside it
        and, of the record, only where its doc comment is (rule 4)."""
        key = (file, line, name, record, near)
        found = self._members.get(key)
        if found is None:
            found = self._members[key] = (
                member_doc(src.index, line, name, record_doc, near, self._code_of(file)),
                direction_of(src.index.doc_for(line)))
        return found

    def _directions_of(self, file: str, src: HeaderSource) -> FieldDirections:
        found = self._directions.get(file)
        if found is None:
            found = self._directions[file] = FieldDirections(src.comments)
        return found

    def _code_of(self, file: str) -> list[str]:
        """``file``'s lines without comments, once per file: where member bodies start."""
        code = self._code.get(file)
        if code is None:
            code = self._code[file] = code_lines(self.sources[file].text)
        return code
