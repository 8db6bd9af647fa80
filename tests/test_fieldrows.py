"""A record's fields from the C helper equal those its ctypes calls give, field by field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from headerparse.extract import archfacts, clangparse, fieldrows
from headerparse.targets import TARGETS

DATA = Path(__file__).parent / "data" / "extract"
ARCHS = ("x86_32", "x86_64", "arm32", "arm64")
LONG = "a_member_whose_name_is_longer_than_the_sixty_four_bytes_a_row_holds_for_it"
# Beside the layout traps: a name longer than a row holds, next to short ones and to an
# anonymous member (whose spelling, naming the header's full path, is longer too).
EXTRA = f"""\
#include "xen.h"
struct trap_long {{
    uint8_t before;
    uint32_t {LONG};
    union {{ uint16_t lo; uint32_t wide; }};
    uint8_t after:3;
}};
""".encode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    include = tmp_path_factory.mktemp("fieldrows") / "include"
    public = include / "public"
    public.mkdir(parents=True)
    for name in ("xen.h", "layout_traps.h"):
        (public / name).write_bytes((DATA / name).read_bytes())
    (public / "long.h").write_bytes(EXTRA)
    return include


def _native() -> fieldrows.FieldRows:
    rows = clangparse._get_lib().rows
    if not rows.native:
        # CI builds it (.ci/setup installs a C compiler): there it must be there.
        assert not os.environ.get("CI"), "the C helper was not built"
        pytest.skip("the C helper is not built here (no C compiler at install time)")
    return rows


def _by_calls(monkeypatch: pytest.MonkeyPatch) -> fieldrows.FieldRows:
    monkeypatch.setattr(fieldrows, "helper_path", lambda: None)
    rows = fieldrows.FieldRows(clangparse._get_lib())
    assert not rows.native
    return rows


def _facts(tree: Path, arch: str) -> str:
    facts = clangparse.parse_arch(tree, TARGETS[arch], ["layout_traps.h", "long.h"], [], {})
    return json.dumps(archfacts.encode(facts))


@pytest.mark.parametrize("arch", ARCHS)
def test_the_helper_gives_the_facts_the_calls_give(tree: Path, arch: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _native()
    native = _facts(tree, arch)
    monkeypatch.setattr(clangparse._get_lib(), "rows", _by_calls(monkeypatch))
    assert native == _facts(tree, arch)
    # The cases the rows must carry: a long name in full, a bitfield, the members of an
    # anonymous union at the record's level.
    assert LONG in native and '"after", "uint8_t"' in native.replace("'", '"')
    assert '"lo", "uint16_t"' in native and '"wide", "uint32_t"' in native


def test_a_long_name_is_asked_for_the_slow_way(tree: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _native()
    asked: list[object] = []
    by_calls = rows._by_calls

    def counted(record_type: object) -> list[fieldrows.Row]:
        asked.append(record_type)
        return by_calls(record_type)

    monkeypatch.setattr(rows, "_by_calls", counted)
    facts = clangparse.parse_arch(tree, TARGETS["x86_64"], ["long.h"], [], {})
    assert "struct trap_long" in {r.key for r in facts.records}
    assert len(asked) == 1      # trap_long's own fields; its anonymous union's came whole


def test_a_helper_that_does_not_load_leaves_the_calls(tmp_path: Path, tree: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / "_fieldrows.so"
    damaged.write_bytes(b"not a shared library")
    monkeypatch.setattr(fieldrows, "helper_path", lambda: damaged)
    rows = fieldrows.FieldRows(clangparse._get_lib())
    assert not rows.native
    monkeypatch.setattr(clangparse._get_lib(), "rows", rows)
    facts = clangparse.parse_arch(tree, TARGETS["x86_64"], ["long.h"], [], {})
    record, = (r for r in facts.records if r.key == "struct trap_long")
    assert [p for p, *_ in record.fields] == ["before", LONG, "lo", "wide", "after"]
