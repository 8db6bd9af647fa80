"""Comment attachment measured on real headers: a set labelled by reading Xen 4.17's
headers (tests/data/attach/labels-4.17.tsv, written by a person who did not run
headerparse), against what extraction attaches (headerparse/extract/attach.py).

Columns: header, kind (member|macro), symbol (``struct TAG.path`` or a macro name),
line, description (its first 40 characters, comment markers stripped, or ``-``),
heading (likewise), direction (IN, OUT, IN/OUT or ``-``), and ``ambiguous: why`` where the
labeller found the reading open to argument (those are scored too, and reported apart).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from headerparse.extract import Options, extract
from headerparse.model import Comment, Doc, Model
from headerparse.tree import cache_dir

LABELS = Path(__file__).parent / "data" / "attach" / "labels-4.17.tsv"


@dataclass(frozen=True)
class Label:
    header: str
    kind: str
    symbol: str
    line: int
    description: str
    heading: str
    direction: str
    ambiguous: bool = False


def labels() -> list[Label]:
    out = []
    for row in LABELS.read_text(encoding="utf-8").splitlines():
        if row.strip() and not row.startswith("#"):
            cols = row.split("\t")
            out.append(Label(cols[0], cols[1], cols[2], int(cols[3]), cols[4], cols[5],
                             cols[6], len(cols) > 7 and cols[7].startswith("ambiguous")))
    return out


def _norm(text: str) -> str:
    text = re.sub(r"/\*+|\*+/|^\s*\*+", " ", text, flags=re.M)
    return " ".join(text.split())[:40].rstrip()


def _matches(label: str, comment: Comment | None) -> bool:
    if label == "-":
        return comment is None or not comment.text.strip()
    return comment is not None and _norm(comment.text) == _norm(label)


def _described(label: str, doc: Doc) -> bool:
    if label == "-":
        return not doc
    return any(_matches(label, c) for c in (doc.before, doc.trailing))


def _member(model: Model, lab: Label):
    key, _, path = lab.symbol.partition(".")
    for r in model.records_named(key):
        for f in r.fields:
            if f.path == path and f.loc.file == lab.header and f.loc.line == lab.line:
                return f
    for r in model.records_named(key):      # declared elsewhere than the label says
        for f in r.fields:
            if f.path == path:
                return f
    return None


@dataclass
class Score:
    found: int = 0
    description: int = 0
    clear: int = 0              # found and not marked ambiguous
    clear_right: int = 0
    heading: int = 0
    direction: int = 0
    wrong: list[str] | None = None


def score(model: Model, items: list[Label]) -> Score:
    s = Score(wrong=[])
    for lab in items:
        if lab.kind == "macro":
            hits = [m for m in model.macros_named(lab.symbol) if m.loc.file == lab.header]
            # A name defined on several lines (#if branches): the labelled one.
            hits.sort(key=lambda m: m.loc.line != lab.line)
            if not hits:
                s.wrong.append(f"not found: {lab.symbol}")
                continue
            s.found += 1
            doc = hits[0].doc
            ok = _described(lab.description, doc)
            s.description += ok
            s.heading += 1          # macros have no heading in the model: not scored
            s.direction += 1
        else:
            f = _member(model, lab)
            if f is None:
                s.wrong.append(f"not found: {lab.symbol}")
                continue
            s.found += 1
            ok = _described(lab.description, f.doc)
            s.description += ok
            s.heading += _matches(lab.heading, f.heading) if lab.heading != "-" \
                else f.heading is None or _matches(lab.heading, f.heading)
            s.direction += (f.direction or "-") == lab.direction
        if not lab.ambiguous:
            s.clear += 1
            s.clear_right += ok
        if not ok:
            s.wrong.append(f"{lab.header}:{lab.line} {lab.symbol}: want {lab.description!r}")
    return s


@pytest.mark.slow
def test_attachment_on_labelled_real_members_and_macros(xen_tree_417) -> None:
    items = labels()
    assert len(items) >= 200 and len({i.header for i in items}) >= 8
    model = extract(xen_tree_417, Options(), cache=cache_dir())
    s = score(model, items)
    assert s.found >= 0.98 * len(items), s.wrong[:20]
    rate, clear = s.description / s.found, s.clear_right / s.clear
    print(f"attachment: {s.description}/{s.found} = {rate:.3f} of all labels, "
          f"{s.clear_right}/{s.clear} = {clear:.3f} of those not marked ambiguous; "
          f"headings {s.heading}/{s.found}; directions {s.direction}/{s.found}")
    assert clear >= 0.98, "\n".join(s.wrong)
    assert rate >= 0.98, "\n".join(s.wrong)
