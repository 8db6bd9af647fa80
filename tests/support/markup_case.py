"""What the comment lexer and the markup parser make of one test header, as plain data.

Each ``tests/data/markup/<case>.h`` is a small header in Xen's style and
``<case>.expected.json`` is what headerparse reads from it:

``markup``
    the :class:`~headerparse.extract.markup.FileMarkup` (op groups, prototypes,
    ``incontents`` sections, diagnostics) in the model's JSON form;
``comments``
    every comment: where it is, whether code shares its first or last line, its
    cleaned text;
``defines``
    every ``#define`` with the documentation ``CommentIndex.doc_for`` gives it
    and the ``@arg`` lines of that documentation;
``structs``
    for each ``struct x {`` at the start of a line, its fields (indented lines
    ending with ``;``) with the direction of their own comments
    (``direction_of``) and of the marker comments above them
    (``field_directions``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from headerparse.extract.lexer import CommentIndex, LexComment, scan_comments, scan_defines
from headerparse.extract.markup import arg_lines, direction_of, field_directions, parse_markup
from headerparse.model import Comment, to_json


def _text(c: Comment | None) -> str | None:
    return c.text if c is not None else None


def _comment_json(c: LexComment) -> dict[str, Any]:
    cm = c.comment
    return {"line": cm.loc.line, "col": cm.loc.col, "end_line": cm.end_line,
            "code_before": c.code_before, "code_after": c.code_after,
            "terminated": c.terminated, "text": cm.text}


def _structs(text: str, comments: list[LexComment], index: CommentIndex) -> dict[str, Any]:
    """Fields of each top-level struct, found the simple way our test headers allow."""
    out: dict[str, Any] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    name, fields = None, []
    for no, line in enumerate(lines, 1):
        code = re.sub(r"/\*.*?\*/|//.*", "", line).rstrip()
        opener = re.match(r"struct (\w+) \{", code)
        if opener:
            name, fields = f"struct {opener.group(1)}", []
        elif name and code.startswith("}"):
            sections = field_directions(comments, [no for no, _ in fields])
            out[name] = [
                {"field": field, "line": no, "before": _text(index.doc_for(no).before),
                 "trailing": _text(index.doc_for(no).trailing),
                 "direction_of": direction_of(index.doc_for(no)), "marker": sections.get(no)}
                for no, field in fields]
            name = None
        elif name and code.startswith((" ", "\t")) and code.endswith(";"):
            fields.append((no, re.findall(r"\w+", code)[-1]))
    return out


def render_case(path: Path) -> dict[str, Any]:
    """What the lexer and markup parser make of one test header, as plain JSON data."""
    # Decode as headerparse's caller does: bytes that are not UTF-8 become U+FFFD.
    text = path.read_bytes().decode("utf-8", errors="replace")
    comments = scan_comments(text, path.name)
    defines = scan_defines(text, path.name)
    index = CommentIndex(comments)
    out: dict[str, Any] = {"markup": to_json(parse_markup(path.name, comments, defines)),
                           "comments": [_comment_json(c) for c in comments], "defines": []}
    for d in defines:
        doc = index.doc_for(d.line, d.end_line)
        out["defines"].append({
            "name": d.name, "line": d.line, "col": d.col, "end_line": d.end_line,
            "params": d.params, "body": d.body, "conditional": d.conditional,
            "before": _text(doc.before), "trailing": _text(doc.trailing),
            "args": to_json(arg_lines(doc.before)) if doc.before else [],
        })
    structs = _structs(text, comments, index)
    if structs:
        out["structs"] = structs
    return json.loads(json.dumps(out))    # tuples -> lists, as in the expected files
