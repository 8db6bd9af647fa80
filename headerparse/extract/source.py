"""One header's text and what the lexer and markup parser made of it.

A :class:`HeaderSource` depends on the file's path and bytes alone, which is what
lets the extraction cache it per file (``extract_cache``).  It also carries
the digest of the file's *code skeleton* (:func:`lexer.code_skeleton`): what
libclang's parse of the tree depends on, so that a comment edit does not
invalidate the per-arch facts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from headerparse.extract.lexer import (
    CommentIndex,
    Define,
    LexComment,
    code_skeleton,
    scan_comments,
    scan_defines,
)
from headerparse.extract.markup import FileMarkup, parse_markup
from headerparse.model import Diagnostic, Loc


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


def read_source(path: str, data: bytes) -> HeaderSource:
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
    markup = parse_markup(path, comments, defines)
    # U+FFFD stands for bytes of any length, so a skeleton of replaced text would
    # not know clang's byte columns: such a file is keyed on its bytes.
    skeleton = code_skeleton(text, comments) if valid else None
    digest = (hashlib.sha256(b"bytes\0" + data) if skeleton is None
              else hashlib.sha256(b"skeleton\0" + skeleton.encode()))
    return HeaderSource(path, text, comments, CommentIndex(comments), defines, markup, diags,
                  digest.hexdigest())
