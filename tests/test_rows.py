"""The C helper's rows (a record's fields, a unit's cursors) equal those its ctypes calls give."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.walks import count_walks

from headerparse.extract import archfacts, clangparse
from headerparse.extract import rows as walk_rows
from headerparse.targets import TARGETS

DATA = Path(__file__).parent / "data" / "extract"
ARCHS = ("x86_32", "x86_64", "arm32", "arm64")
LONG = "a_member_whose_name_is_longer_than_the_sixty_four_bytes_a_row_holds_for_it"
TAG = "a_tag_spelled_longer_than_a_type_row_holds_" * 7      # 301 bytes
# Beside the layout traps: names longer than a row holds (a member's, a macro's, a tag's)
# next to short ones, an anonymous member (whose spelling, naming the header's full path,
# is longer too), an array of arrays of a record, and macros whose value the walk reads
# off their definition's offset.
EXTRA = f"""\
#include "xen.h"
#define TRAP_LITERAL 12
#define {LONG.upper()} 0x40
#define TRAP_SUM (TRAP_LITERAL + 1)
struct trap_long {{
    uint8_t before;
    uint32_t {LONG};
    union {{ uint16_t lo; uint32_t wide; }};
    uint8_t after:3;
    struct trap_elem {{ uint16_t e; }} elems[2][3];
}};
struct {TAG} {{ uint32_t x; }};
""".encode()
PROBES = sorted(["TRAP_LITERAL", LONG.upper(), "TRAP_SUM"])


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    include = tmp_path_factory.mktemp("rows") / "include"
    public = include / "public"
    public.mkdir(parents=True)
    for name in ("xen.h", "layout_traps.h"):
        (public / name).write_bytes((DATA / name).read_bytes())
    (public / "long.h").write_bytes(EXTRA)
    return include


def _native() -> walk_rows.Rows:
    found = clangparse._get_lib().rows
    if not found.native:
        # CI builds it (.ci/setup installs a C compiler): there it must be there.
        assert not os.environ.get("CI"), "the C helper was not built"
        pytest.skip("the C helper is not built here (no C compiler at install time)")
    return found


def _by_calls(monkeypatch: pytest.MonkeyPatch) -> walk_rows.Rows:
    monkeypatch.setattr(walk_rows, "helper_path", lambda: None)
    made = walk_rows.Rows(clangparse._get_lib(), clangparse.ci.Cursor)
    assert not made.native
    return made


def _facts(tree: Path, arch: str) -> archfacts.ArchFacts:
    return clangparse.parse_arch(tree, TARGETS[arch], ["layout_traps.h", "long.h"], PROBES, {})


@pytest.mark.parametrize("arch", ARCHS)
def test_the_helper_gives_the_facts_the_calls_give(tree: Path, arch: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _native()
    walks = count_walks(monkeypatch)
    native = _facts(tree, arch)
    # The literal macros' definitions were met where the tree has them (the byte offsets
    # agree): one walk, no second parse probing them all.
    assert walks == [False]
    monkeypatch.setattr(clangparse._get_lib(), "rows", _by_calls(monkeypatch))
    calls = _facts(tree, arch)
    assert json.dumps(archfacts.encode(native)) == json.dumps(archfacts.encode(calls))
    # What the rows must carry: a long member name in full, a bitfield, the members of an
    # anonymous union at the record's level; macros' places, a long name, the values.
    record, = (r for r in native.records if r.key == "struct trap_long")
    assert [(f[0], f[4]) for f in record.fields] == [
        ("before", False), (LONG, False), ("lo", False), ("wide", False), ("after", True),
        ("elems", False)]
    assert {"struct trap_elem", f"struct {TAG}"} <= {r.key for r in native.records}
    assert {("TRAP_LITERAL", "long.h", 2), (LONG.upper(), "long.h", 3)} <= native.defines
    assert (native.values["TRAP_LITERAL"], native.values[LONG.upper()],
            native.values["TRAP_SUM"]) == (12, 0x40, 13)


def test_a_long_member_name_is_asked_for_the_slow_way(tree: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    native = _native()
    asked: list[object] = []
    by_calls = native._fields_by_calls

    def counted(record_type: object) -> list[walk_rows.FieldRow]:
        asked.append(record_type)
        return by_calls(record_type)

    monkeypatch.setattr(native, "_fields_by_calls", counted)
    facts = clangparse.parse_arch(tree, TARGETS["x86_64"], ["long.h"], [], {})
    assert "struct trap_long" in {r.key for r in facts.records}
    assert len(asked) == 1      # trap_long's own fields; its anonymous union's came whole


def test_a_helper_that_does_not_load_leaves_the_calls(tmp_path: Path, tree: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / "_rows.so"
    damaged.write_bytes(b"not a shared library")
    monkeypatch.setattr(walk_rows, "helper_path", lambda: damaged)
    made = walk_rows.Rows(clangparse._get_lib(), clangparse.ci.Cursor)
    assert not made.native
    monkeypatch.setattr(clangparse._get_lib(), "rows", made)
    facts = clangparse.parse_arch(tree, TARGETS["x86_64"], ["long.h"], PROBES, {})
    record, = (r for r in facts.records if r.key == "struct trap_long")
    assert [p for p, *_ in record.fields] == ["before", LONG, "lo", "wide", "after", "elems"]
    assert facts.values["TRAP_SUM"] == 13
