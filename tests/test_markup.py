"""The comment lexer and the backtick markup parser, by example.

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

After an intended change of behaviour, regenerate with
``python3 tests/regen_markup.py`` and review the diff like code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from headerparse.extract.lexer import (
    CommentIndex,
    LexComment,
    clean_comment,
    scan_comments,
    scan_defines,
)
from headerparse.extract.markup import arg_lines, direction_of, field_directions, parse_markup
from headerparse.model import Comment, Doc, Loc, to_json

DATA = Path(__file__).parent / "data" / "markup"
CASES = sorted(p.stem for p in DATA.glob("*.h"))
XEN417 = Path("/tmp/xen417/root/usr/include/xen")


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


@pytest.mark.parametrize("case", CASES)
def test_case(case: str) -> None:
    expected = json.loads((DATA / f"{case}.expected.json").read_text(encoding="utf-8"))
    actual = render_case(DATA / f"{case}.h")
    for key in sorted(set(expected) | set(actual)):
        assert actual.get(key) == expected.get(key), f"{case}: {key} differs"


def test_every_case_has_expected_output() -> None:
    missing = [c for c in CASES if not (DATA / f"{c}.expected.json").exists()]
    assert not missing, f"run python3 tests/regen_markup.py for {missing}"


# Small rules that read better as a table than as a header.

@pytest.mark.parametrize(("raw", "text"), [
    ("/* Clean up, save suspend info, kill.         */", "Clean up, save suspend info, kill."),
    ("/*****\n * banner\n *****/", "banner"),
    ("/*\n * one\n *\n *\n * two\n */", "one\n\ntwo"),
    ("/**/", ""),
    ("// c99", "c99"),
    ("/* ` enum sched_op { // SCHEDOP_* => struct sched_* */",
     "` enum sched_op { // SCHEDOP_* => struct sched_*"),
])
def test_clean_comment(raw: str, text: str) -> None:
    assert clean_comment(raw) == text


def _doc(text: str) -> Doc:
    return Doc(trailing=Comment(f"/* {text} */", text, Loc("x.h", 1), 1))


@pytest.mark.parametrize(("text", "direction"), [
    ("IN", "IN"), ("OUT: the handle", "OUT"), ("IN/OUT variables.", "IN/OUT"),
    ("[IN] domain", "IN"), ("[OUT]", "OUT"), ("IN - server id", "IN"), ("IN or OUT", "IN/OUT"),
    ("INDEX of the widget", None), ("in lower case", None), ("OUTPUT", None), ("", None),
])
def test_direction_of(text: str, direction: str | None) -> None:
    assert direction_of(_doc(text)) == direction


# ------------------------------------------------------------------ real headers


def _real_headers() -> dict[str, str]:
    if not XEN417.is_dir():
        pytest.skip(f"no Xen 4.17 headers at {XEN417}")
    return {str(p.relative_to(XEN417)): p.read_bytes().decode("utf-8", errors="replace")
            for p in sorted(XEN417.rglob("*.h"))}


@pytest.mark.slow
def test_real_xen_417_headers() -> None:
    parsed = {}
    for rel, text in _real_headers().items():
        comments, defines = scan_comments(text, rel), scan_defines(text, rel)
        parsed[rel] = (comments, defines, parse_markup(rel, comments, defines))

    # The real headers carry no markup mistakes.
    assert [d.render() for _, _, m in parsed.values() for d in m.diagnostics] == []

    sched_comments, sched_defines, sched = parsed["sched.h"]
    op = next(g for g in sched.groups if g.name == "sched_op")
    assert (op.pattern, op.target) == ("SCHEDOP_*", "struct sched_*")
    assert op.members[0] == "SCHEDOP_yield" and op.members[-1] == "SCHEDOP_pin_override"
    assert len(op.members) == 8
    assert op.target_for("SCHEDOP_shutdown") == "struct sched_shutdown"
    proto = next(p for p in sched.prototypes if p.name == "HYPERVISOR_sched_op")
    assert proto.variadic and proto.arity == 2 and proto.return_type == "long"

    suspend = next(d for d in sched_defines if d.name == "SHUTDOWN_suspend")
    doc = CommentIndex(sched_comments).doc_for(suspend.line, suspend.end_line)
    assert doc.trailing is not None
    assert doc.trailing.text == "Clean up, save suspend info, kill."

    xen = parsed["xen.h"][2]
    mmu = next(p for p in xen.prototypes if p.name == "HYPERVISOR_mmu_update")
    assert mmu.arity == 4 and mmu.return_type == "enum neg_errnoval"
    hcalls = next(g for g in xen.groups if g.name == "hypercall_num")
    assert hcalls.target_for("__HYPERVISOR_sched_op") == "HYPERVISOR_sched_op()"

    counts = [sum(len(getattr(m, kind)) for _, _, m in parsed.values())
              for kind in ("groups", "prototypes", "sections")]
    assert counts == [13, 22, 13]
