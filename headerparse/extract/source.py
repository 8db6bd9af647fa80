"""One header's text and what the lexer and markup parser made of it.

A :class:`HeaderSource` depends on the file's path and bytes alone, which is what
lets the extraction cache it per file (``extract_cache``).  It also carries
the digest of the file's *code skeleton* (:func:`lexer.code_skeleton`): what
libclang's parse of the tree depends on, so that a comment edit does not
invalidate the per-arch facts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from headerparse.extract.attach import call_entries, macro_doc, runs
from headerparse.extract.lexer import (
    CommentIndex,
    Define,
    LexComment,
    code_skeleton,
    scan_comments,
    scan_defines,
)
from headerparse.extract.markup import FileMarkup, arg_lines, parse_markup
from headerparse.model import EMPTY_DOC, ArgLine, Diagnostic, Doc, Loc

_GUARD = re.compile(r"_H_*\Z|_H_[A-Z0-9_]*\Z")
MacroDoc = tuple[Doc, tuple[ArgLine, ...]]


@dataclass
class HeaderSource:
    path: str
    text: str
    comments: list[LexComment]
    index: CommentIndex
    defines: list[Define]
    markup: FileMarkup
    diagnostics: list[Diagnostic] = field(default_factory=list)
    code_digest: str = ""    # of the code skeleton, or of the bytes when there is none
    # Per define, its doc and @argument lines; None for an include guard, which is no
    # macro of the model.  They depend on this header alone, so they are worked out
    # where it is lexed (on both cores of a cold run) and cached with it, not in the
    # merge, which runs on one core after the parse.
    macro_docs: list[MacroDoc | None] = field(default_factory=list)


def read_source(path: str, data: bytes, docs: bool = True) -> HeaderSource:
    """What the lexer and markup parser make of one header; with ``docs`` False its
    defines are left undocumented (:attr:`Options.docs`)."""
    diags = []
    try:
        text = data.decode("utf-8")
        valid = True
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        text = data.decode("utf-8", errors="replace")
        valid = False
        diags.append(Diagnostic(
            "XE002", "warning", Loc(path, line, 1),
            f"bytes that are not UTF-8 (first at byte {exc.start}); shown as U+FFFD",
            why="Xen headers are expected to be UTF-8 (mostly ASCII) text"))
    comments = scan_comments(text, path)
    defines = scan_defines(text, path)
    index = CommentIndex(comments)
    markup = parse_markup(path, comments, defines, index)
    # U+FFFD stands for bytes of any length, so a skeleton of replaced text would
    # not know clang's byte columns: such a file is keyed on its bytes.
    skeleton = code_skeleton(text, comments) if valid else None
    digest = (hashlib.sha256(b"bytes\0" + data) if skeleton is None
              else hashlib.sha256(b"skeleton\0" + skeleton.encode()))
    macro_docs = (_macro_docs(text, comments, index, defines) if docs
                  else [None if _guard(d) else _NO_DOC for d in defines])
    return HeaderSource(path, text, comments, index, defines, markup, diags,
                        digest.hexdigest(), macro_docs)


_NO_DOC: MacroDoc = (EMPTY_DOC, ())


def _guard(d: Define) -> bool:
    return not d.body and d.params is None and bool(_GUARD.search(d.name))


def _macro_docs(text: str, comments: list[LexComment], index: CommentIndex,
                defines: list[Define]) -> list[MacroDoc | None]:
    lines = text.split("\n")
    in_runs = runs(defines, lines)
    names = {d.name for d in defines}
    entries = {**call_entries(comments, names), **index.entries(names)}
    # A run of defines shares its heading comment: its @argument lines are read once.
    args_of: dict[tuple[str, int], tuple[ArgLine, ...]] = {}
    out: list[MacroDoc | None] = []
    for d in defines:
        if _guard(d):
            out.append(None)
            continue
        doc = macro_doc(index, d, in_runs[f"{d.name}:{d.line}"], entries, lines)
        args: tuple[ArgLine, ...] = ()
        if doc.before:
            key = (doc.before.raw, doc.before.loc.line)
            if key not in args_of:
                args_of[key] = arg_lines(doc.before)
            args = args_of[key]
        out.append((doc, args))
    return out
