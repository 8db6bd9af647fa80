"""Enumerators and union arms in the ABI diff (issue 11, defect 12).

The values are Xen's own: ff10aa9d8f90 inserts ``XENMEM_access_r_pw`` before
``XENMEM_access_default`` in memory.h's ``xenmem_access_t`` (10 -> 11), and
between 4.17.0 and 4.20.0 ``struct vm_event_st`` gains ``u.io`` in its union
of unchanged size (layouts as clang gives them on x86_64).
"""

from __future__ import annotations

from types import SimpleNamespace

from headerparse.checks.abidiff import (
    Change,
    _Collector,
    _layout_changes,
    _macro_values,
    _macros,
    diff_findings,
)
from headerparse.model import EnumConst, Layout, Loc, Member

MEMORY = Loc("memory.h", 430)
ACCESS = ("n", "r", "w", "rw", "x", "rx", "wx", "rwx", "rx2rw", "n2rwx")


def _model(names: tuple[str, ...]) -> SimpleNamespace:
    consts = tuple(EnumConst(f"XENMEM_access_{n}", {"x86_64": i}, MEMORY)
                   for i, n in enumerate(names))
    enum = SimpleNamespace(archs=("x86_64",), constants=consts)
    return SimpleNamespace(macros=(), enums=(enum,))


def _changes(old: SimpleNamespace, new: SimpleNamespace, tools: dict) -> list[Change]:
    col = _Collector()
    _macros(col, _macro_values(old, "x86_64", set()), _macro_values(new, "x86_64", set()),
            new, "x86_64", tools)
    return col.changes()


def test_an_enumerator_that_moves_is_a_changed_constant() -> None:
    old = _model((*ACCESS, "default"))
    new = _model((*ACCESS, "r_pw", "default"))
    changes = _changes(old, new, {})
    moved = [c for c in changes if c.kind == "constant"]
    assert [(c.symbol, c.before, c.after, c.incompatible) for c in moved] == \
        [("XENMEM_access_default", 10, 11, True)]
    findings = diff_findings(changes)
    assert [(f.rule, f.severity) for f in findings if f.symbol == "XENMEM_access_default"] \
        == [("XC402", "error")]
    # In memory.h it sits in the __XEN__ || __XEN_TOOLS__ section: a warning there.
    tools = _changes(old, new, {"memory.h": {MEMORY.line}})
    assert [f.severity for f in diff_findings(tools) if f.rule == "XC402"] == ["warning"]


def test_a_removed_enumerator_is_gone_and_a_grown_count_is_a_note() -> None:
    old = _model((*ACCESS, "default", "COUNT"))
    new = _model((*ACCESS, "r_pw", "COUNT"))
    findings = {f.symbol: (f.rule, f.severity) for f in diff_findings(_changes(old, new, {}))}
    assert findings["XENMEM_access_default"] == ("XC403", "error")
    grown = _model((*ACCESS, "default", "r_pw", "COUNT"))
    findings = {f.symbol: (f.rule, f.severity) for f in diff_findings(_changes(old, grown, {}))}
    assert findings == {"XENMEM_access_COUNT": ("XC402", "note")}


def _vm_event(*arms: tuple[str, int]) -> Layout:
    head = [("version", "uint32_t", 0, 4), ("flags", "uint32_t", 4, 4),
            ("reason", "uint32_t", 8, 4), ("vcpu_id", "uint32_t", 12, 4),
            ("altp2m_idx", "uint16_t", 16, 2), ("_pad1", "uint16_t", 18, 2),
            ("_pad2", "uint32_t", 20, 4), ("u", "union (unnamed)", 24, 48)]
    members = head + [(f"u.{n}", "struct", 24, s) for n, s in arms]
    return Layout("x86_64", 384, 8, tuple(Member(p, t, o, s) for p, t, o, s in members))


def _layout_findings(old: Layout, new: Layout, key: str, union: bool = False) -> list:
    changes = [Change("layout", key, "vm_event.h", 400, ("x86_64",), before, after, detail,
                      bad) for detail, before, after, bad in _layout_changes(old, new, union)]
    return diff_findings(changes)


def test_a_new_union_arm_of_unchanged_size_is_a_note_of_its_own() -> None:
    old = _vm_event(("mem_sharing", 8), ("mem_access", 16), ("fast_singlestep", 8))
    new = _vm_event(("mem_sharing", 8), ("mem_access", 16), ("fast_singlestep", 8),
                    ("io", 24))
    [f] = _layout_findings(old, new, "struct vm_event_st")
    assert (f.rule, f.severity) == ("XC409", "note")
    assert "u.io" in f.message


def test_a_new_struct_member_or_a_grown_union_is_not_a_union_addition() -> None:
    old = _vm_event(("mem_sharing", 8))
    wider = Layout("x86_64", 384, 8, (*old.members[:-2], Member("u", "union (unnamed)", 24, 56),
                                      Member("u.mem_sharing", "struct", 24, 8),
                                      Member("u.big", "struct", 24, 56)))
    # The union grew (into bytes nothing else used): not a new arm of an unchanged union.
    assert "XC409" not in [f.rule for f in _layout_findings(old, wider, "struct vm_event_st")]
    # A member added to the top level of a struct (here in its tail padding) is not one.
    tail = Layout("x86_64", 384, 8, (*old.members, Member("extra", "uint32_t", 72, 4)))
    assert _layout_findings(old, tail, "struct vm_event_st") == []
    # The record itself a union of unchanged size: the same note.
    top = Layout("x86_64", 8, 8, (Member("a", "uint64_t", 0, 8),))
    more = Layout("x86_64", 8, 8, (*top.members, Member("b", "uint32_t", 0, 4)))
    assert [f.rule for f in _layout_findings(top, more, "union u", union=True)] == ["XC409"]
