"""docs/model-json.md is rendered from the model's ``#:`` comments (tests/support/model_doc.py).

test_golden.py compares the document with the code; these check that the renderer
refuses what would make the document wrong or incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from support import model_doc

from headerparse import model
from headerparse.model import HeaderStatus, Mapping


@dataclass(frozen=True)
class _HalfDocumented:
    """A dataclass with a field nobody documented."""

    #: What ``known`` means,
    #: over two lines.
    known: int
    unknown: str = ""


def test_a_field_without_a_doc_comment_fails_the_render() -> None:
    comments = model_doc.field_comments(_HalfDocumented)
    assert comments == {"known": "What ``known`` means, over two lines."}
    with pytest.raises(model_doc.ModelDocError, match=r"\.unknown has no #: comment"):
        model_doc.section(_HalfDocumented)


def test_every_model_field_is_documented() -> None:
    for cls in model_doc.ORDER:
        fields = set(cls.__dataclass_fields__)
        assert set(model_doc.field_comments(cls)) == fields, cls.__name__


@pytest.mark.parametrize(("hint", "text"), [
    (str, "string"),
    (tuple[str, ...], "[string]"),
    (tuple[str, ...] | None, "[string]|null"),
    (Mapping[str, model.Layout], "{string: Layout}"),
    (model.FieldDirection | None, '"IN"|"OUT"|"IN/OUT"|null'),
    (Mapping[str, HeaderStatus], '{string: "parsed"|"fragment"|"not-included"|"error-by-design"|'
                                 '"other-arch"|"not-public"|"tools-only"|"unsupported"|"errors"}'),
])
def test_types_in_json_terms(hint, text: str) -> None:
    assert model_doc.json_type(hint) == text


def test_an_example_the_code_would_not_write_fails_the_render(monkeypatch) -> None:
    bad = {"file": "sched.h", "line": 71}            # no "col": the code always writes one
    monkeypatch.setitem(model_doc.EXAMPLES, model.Loc, ("", bad))
    with pytest.raises(model_doc.ModelDocError, match="Loc example"):
        model_doc.render()


def test_a_dataclass_without_a_section_fails_the_render(monkeypatch) -> None:
    without = tuple(c for c in model_doc.ORDER if c is not model.Param)
    monkeypatch.setattr(model_doc, "ORDER", without)
    with pytest.raises(model_doc.ModelDocError, match=r"lacks \['Param'\]"):
        model_doc.render()
