"""Layouts compared by bytes, not by member names (issue 11, defect 3).

The layouts are those of Xen's own changes, as clang lays them out on x86_64:
62a72092a517 (sysctl livepatch ``pad`` becomes ``flags``), 21e3ef57e040
(``cpuid_policy`` renamed ``leaves``, a guest handle {p}), 2381dfab083f
(scaling fields re-nested into ``u.s``); and a real break next to them.
"""

from __future__ import annotations

from headerparse.checks.abidiff import Change, _layout_changes, diff_findings
from headerparse.model import Layout, Member


def lay(size: int, *members: tuple[str, str, int, int]) -> Layout:
    return Layout("x86_64", size, 8, tuple(Member(p, t, o, s) for p, t, o, s in members))


def incompatible(a: Layout, b: Layout) -> list[str]:
    return [d for d, _, _, bad in _layout_changes(a, b) if bad]


def test_padding_reused_at_the_same_bytes() -> None:
    old = lay(8, ("cmd", "uint32_t", 0, 4), ("pad", "uint32_t", 4, 4))
    new = lay(8, ("cmd", "uint32_t", 0, 4), ("flags", "uint32_t", 4, 4))
    assert incompatible(old, new) == []


def test_padding_partly_reused() -> None:
    old = lay(4, ("op", "uint8_t", 0, 1), ("pad", "uint8_t[3]", 1, 3))
    new = lay(4, ("op", "uint8_t", 0, 1), ("flag", "uint8_t", 1, 1),
              ("pad", "uint8_t[2]", 2, 2))
    assert incompatible(old, new) == []


def test_rename_of_a_handle_container() -> None:
    old = lay(16, ("nr", "uint32_t", 0, 4), ("cpuid_policy", "handle", 8, 8),
              ("cpuid_policy.p", "void *", 8, 8))
    new = lay(16, ("nr", "uint32_t", 0, 4), ("leaves", "handle", 8, 8),
              ("leaves.p", "void *", 8, 8))
    changes = [d for d, *_ in _layout_changes(old, new)]
    assert incompatible(old, new) == []
    assert "member cpuid_policy renamed to leaves (same bytes)" in changes


def test_renesting_keeps_the_bytes() -> None:
    old = lay(32, ("min", "uint32_t", 0, 4), ("cur", "uint32_t", 4, 4),
              ("u", "union", 8, 16), ("u.userspace", "struct", 8, 4),
              ("u.ondemand", "struct", 8, 16), ("turbo", "int32_t", 24, 4))
    new = lay(32, ("min", "uint32_t", 0, 4), ("u", "union", 4, 20), ("u.s", "struct", 4, 20),
              ("u.s.cur", "uint32_t", 4, 4), ("u.s.u", "union", 8, 16),
              ("u.s.u.userspace", "struct", 8, 4), ("u.s.u.ondemand", "struct", 8, 16),
              ("turbo", "int32_t", 24, 4))
    assert incompatible(old, new) == []


def test_a_removed_field_and_a_moved_field_stay_incompatible() -> None:
    old = lay(16, ("a", "uint32_t", 0, 4), ("b", "uint32_t", 4, 4), ("c", "uint64_t", 8, 8))
    new = lay(16, ("a", "uint32_t", 0, 4), ("c", "uint64_t", 8, 8))
    assert incompatible(old, new) == ["member b removed"]
    moved = lay(24, ("a", "uint32_t", 0, 4), ("x", "uint32_t", 4, 4), ("b", "uint32_t", 8, 4),
                ("c", "uint64_t", 16, 8))
    assert incompatible(old, moved) == ["size", "member b offset", "member c offset"]


def findings(a: Layout, b: Layout, key: str) -> list[tuple[str, str, str]]:
    changes = [Change("layout", key, "sysctl.h", 10, ("x86_64",), before, after, detail, bad)
               for detail, before, after, bad in _layout_changes(a, b)]
    return [(f.rule, f.severity, f.message) for f in diff_findings(changes)]


def test_renames_and_padding_reuse_are_a_note_of_their_own() -> None:
    # 62a72092a517: livepatch's pad becomes flags.
    old = lay(8, ("cmd", "uint32_t", 0, 4), ("pad", "uint32_t", 4, 4))
    new = lay(8, ("cmd", "uint32_t", 0, 4), ("flags", "uint32_t", 4, 4))
    assert findings(old, new, "struct xen_sysctl_livepatch_action") == [
        ("XC410", "note", "struct xen_sysctl_livepatch_action: pad reused (padding)")]
    # 21e3ef57e040: a handle renamed; its .p follows it and is not named again.
    old = lay(16, ("nr", "uint32_t", 0, 4), ("cpuid_policy", "handle", 8, 8),
              ("cpuid_policy.p", "void *", 8, 8))
    new = lay(16, ("nr", "uint32_t", 0, 4), ("leaves", "handle", 8, 8),
              ("leaves.p", "void *", 8, 8))
    assert findings(old, new, "struct xen_domctl_cpu_policy") == [
        ("XC410", "note",
         "struct xen_domctl_cpu_policy: cpuid_policy renamed to leaves (same bytes)")]


def test_a_rename_beside_a_break_is_said_besides_the_error() -> None:
    old = lay(16, ("a", "uint32_t", 0, 4), ("b", "uint32_t", 4, 4), ("c", "uint64_t", 8, 8))
    new = lay(16, ("alpha", "uint32_t", 0, 4), ("c", "uint64_t", 8, 8))
    assert [(r, sev) for r, sev, _ in findings(old, new, "struct s")] == [
        ("XC410", "note"), ("XC401", "error")]
    unchanged = lay(16, ("a", "uint32_t", 0, 4), ("b", "uint32_t", 4, 4), ("c", "uint64_t", 8, 8))
    assert findings(old, unchanged, "struct s") == []


def test_a_rename_is_said_once_not_again_by_the_records_that_embed_it() -> None:
    # 21e3ef57e040 again: xen_domctl embeds xen_domctl_cpu_policy in its union u.
    def policy(name: str, prefix: str = "") -> list[tuple[str, str, int, int]]:
        return [(f"{prefix}nr", "uint32_t", 0, 4), (f"{prefix}{name}", "handle", 8, 8),
                (f"{prefix}{name}.p", "void *", 8, 8)]
    changes = []
    for key, prefix in (("struct xen_domctl_cpu_policy", ""),
                        ("struct xen_domctl", "u.cpu_policy.")):
        old = lay(16, *policy("cpuid_policy", prefix))
        new = lay(16, *policy("leaves", prefix))
        changes += [Change("layout", key, "domctl.h", 1, ("x86_64",), before, after, d, bad)
                    for d, before, after, bad in _layout_changes(old, new)]
    assert [f.symbol for f in diff_findings(changes)] == ["struct xen_domctl_cpu_policy"]


def test_not_compiling_takes_every_header_that_includes_a_broken_one():
    from dataclasses import replace

    from support.models import synthetic_model

    from headerparse.checks.abidiff import not_compiling
    from headerparse.model import Header

    model = synthetic_model()
    chain = [Header("a.h", ("b.h",), (), {"x86_64": "parsed"}),
             Header("b.h", ("c.h",), (), {"x86_64": "parsed"}),
             Header("c.h", (), (), {"x86_64": "errors", "arm64": "parsed"}),
             Header("d.h", ("b.h",), (), {"x86_64": "parsed"}),
             Header("e.h", ("a.h",), (), {"x86_64": "parsed"}),
             Header("f.h", (), (), {"x86_64": "parsed"})]
    model = replace(model, headers=(*model.headers, *chain))
    assert not_compiling(model, "x86_64") == {"a.h", "b.h", "c.h", "d.h", "e.h"}
    assert not_compiling(model, "arm64") == set()
