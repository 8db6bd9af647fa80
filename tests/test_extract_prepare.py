"""What a merge can work out from one arch's facts before the others are parsed
(:meth:`Merger.prepare`): the model is the one a merge without it gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from support.extract_case import case_files, write_tree

from headerparse.extract import merge
from headerparse.extract.attach import code_lines
from headerparse.extract.conditions import COMMENT
from headerparse.extract.frozen import maker
from headerparse.extract.pipeline import Options, extract
from headerparse.model import EMPTY_DOC, Field, Loc, Record, model_json_text
from headerparse.tree import HeaderTree, open_tree


def _merger_inputs(tree: HeaderTree, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """What the pipeline hands the Merger of ``tree``."""
    seen: list[tuple[Any, ...]] = []
    model = merge.Merger.model

    def keep(self: merge.Merger) -> Any:
        seen.append((self.tree, self.options, self.archs, self.sources, self.facts,
                     self.tools_only))
        return model(self)

    monkeypatch.setattr(merge.Merger, "model", keep)
    extract(tree, Options(), cache=None)
    monkeypatch.undo()
    return seen[0]


def _models(inputs: tuple[Any, ...], *archs: str) -> tuple[str, str, int, int]:
    """The model's JSON merged alone and after preparing ``archs``, in that order; the
    records whose fields the prepared merge found ready, and how many there are."""
    merge.FIELDS.clear()
    alone = model_json_text(merge.Merger(*inputs).model())
    merge.FIELDS.clear()
    merger = merge.Merger(*inputs)
    for arch in archs:
        merger.prepare(inputs[4][arch])
    documented = merger.field_docs.documented
    prepared = merger.model()
    redone = merger.field_docs.documented - documented
    return alone, model_json_text(prepared), len(prepared.records) - redone, \
        len(prepared.records)


# A record with a member x86 alone declares, and one that is the same everywhere.
DIFFERS = b"""\
#ifndef DIFFERS_H
#define DIFFERS_H
/* IN variables. */
struct differs {
    int a;          /* the first */
#if defined(__i386__) || defined(__x86_64__)
    /* x86 only */
    int x86_only;
#endif
    int b;
};
struct same {
    int c;          /* the same everywhere */
};
#endif
"""


def test_a_prepared_merge_gives_the_model_of_one_without(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    files = {**case_files("layout_traps"), **case_files("macros"), "differs.h": DIFFERS}
    inputs = _merger_inputs(open_tree(str(write_tree(tmp_path, files))), monkeypatch)
    assert len(inputs[2]) >= 4
    for arch in inputs[2]:
        alone, prepared, hits, records = _models(inputs, arch)
        assert prepared == alone, arch
        assert '"name": "x86_only"' in alone
        # Most records have the same members on every arch: their fields were ready;
        # a record with other members elsewhere (Arm's guest handles) was redone.
        assert 0 < hits < records, arch
    # Arches prepared in any order: the members of each record on all but the last,
    # which adds no list of its own (arm32 declares what arm64 does).
    alone, prepared, hits, records = _models(inputs, "arm64", "x86_64", "x86_32")
    assert prepared == alone and hits == records


@pytest.mark.slow
def test_a_prepared_merge_of_xen_417(xen_tree_417: HeaderTree,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _merger_inputs(xen_tree_417, monkeypatch)
    alone, prepared, hits, records = _models(inputs, "x86_64")
    assert prepared == alone
    assert records / 2 < hits < records
    alone, prepared, hits, records = _models(inputs, "arm32", "x86_32", "x86_64")
    assert prepared == alone and hits == records


def test_a_maker_builds_what_init_does() -> None:
    loc = Loc("xen.h", 3, 5)
    for cls, values in ((Loc, ("xen.h", 3, 5)),
                        (Field, ("u.a", "a", loc, EMPTY_DOC, "IN", False, None, True, None)),
                        (Record, ("struct s", "struct", "s", (), loc, EMPTY_DOC, (), {}, None))):
        made, init = maker(cls)(*values), cls(*values)
        assert made == init
        assert cls is Record or hash(made) == hash(init)   # a Record holds a dict
        assert list(vars(made).items()) == list(vars(init).items())
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.loc = None     # type: ignore[misc]


def test_a_maker_refuses_a_class_whose_init_does_more() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            assert self.n >= 0

    with pytest.raises(TypeError):
        maker(Checked)


# Comments as the pattern that defines them (conditions.COMMENT) reads them: unclosed,
# nested, beside strings and line ends.
ODD_TEXTS = ["/* open", "a /* b */ c // d\ne", "//", "/", "/*/", "/**/", "/*/ x */",
             "x//y/*z*/\n/* a\nb */ c /* d", "a/*b*/*/c", "//a\r\nb", "/*\n*//", "'/*' x */",
             "/*//*/x", "a/\n/b", "#include \"io/ring.h\" /* ring\n * buffers */\n"]


def _by_pattern(text: str) -> list[str]:
    """The code lines as COMMENT, the pattern that defines a comment, blanks them."""
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


def test_code_lines_blank_what_the_comment_pattern_matches() -> None:
    data = Path(__file__).parent / "data"
    texts = [p.read_text(encoding="utf-8", errors="replace")
             for p in sorted(data.rglob("*.h"))] + ODD_TEXTS
    assert len(texts) > len(ODD_TEXTS) + 3
    for text in texts:
        assert code_lines(text) == _by_pattern(text), text[:60]


@pytest.mark.slow
def test_code_lines_of_xen_417(xen_tree_417: HeaderTree) -> None:
    for path, data in xen_tree_417.files.items():
        text = data.decode("utf-8", errors="replace")
        assert code_lines(text) == _by_pattern(text), path
