"""Extraction: synthetic header + expected output pairs, checked against GCC too."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from support.extract_case import DATA, case_files, run_case, write_tree

from headerparse.model import model_from_json, model_json_text, model_to_json
from headerparse.targets import DEFAULT_ARCHS
from headerparse.tree import open_tree


def test_layout_traps_by_arch(tmp_path: Path) -> None:
    model = run_case("layout_traps", tmp_path)
    (u64,) = model.records_named("struct trap_u64")
    assert u64.layout("x86_32").member("id").offset == 4
    assert u64.layout("x86_64").member("id").offset == 8
    assert [h.offset for h in u64.layout("arm32").holes] == [4]
    assert u64.typedefs == ("trap_u64_t",)
    assert [f.direction for f in u64.fields] == ["IN", "OUT"]
    (anon,) = model.records_named("trap_anon_t")
    assert anon.tag is None and anon.key == "trap_anon_t"
    (handle,) = model.records_named("struct trap_handle")
    assert handle.fields[0].guest_handle == "domid_t"
    assert handle.layout("x86_32").size == 8 and handle.layout("arm64").size == 16
    (bits,) = model.records_named("struct trap_bits")
    low = bits.layout("x86_64").member("low")
    assert (low.bit_offset, low.bit_size) == (8, 3)
    assert bits.fields[-1].flexible and bits.layout("x86_64").member("data").size == 0
    (nested,) = model.records_named("struct trap_nested")
    paths = [m.path for m in nested.layout("x86_64").members]
    assert "value" in paths and "lo" in paths and "pair.b" in paths and "inner.z" in paths
    assert model.records_named("struct trap_inner"), "a tagged struct declared inside is a record"


def test_macros_per_arch(tmp_path: Path) -> None:
    model = run_case("macros", tmp_path)
    values = {m.name: m for m in model.macros}
    assert values["MAC_LONG_BITS"].values == {"x86_32": 32, "x86_64": 64, "arm32": 32, "arm64": 64}
    assert values["MAC_SIZEOF"].values["x86_32"] == 12
    assert values["MAC_SIZEOF"].values["arm32"] == 16
    assert values["MAC_NEGATIVE"].values["arm64"] == -22
    assert values["MAC_BIG"].values["x86_32"] == 2**64 - 1
    assert set(values["MAC_ONLY_64"].archs) == {"x86_64", "arm64"}
    assert "x86_32" in values["MAC_STRING"].why_not
    assert values["MAC_FUNC"].params == ("x",)
    assert values["MAC_PLAIN"].doc.text == "A plain constant."
    assert values["MAC_LONG_BITS"].doc.trailing.text == "32 or 64"


def test_broken_header_keeps_the_rest(tmp_path: Path) -> None:
    model = run_case("broken", tmp_path)
    errors = [d for d in model.diagnostics if d.severity == "error"]
    assert errors and all(d.loc.file == "broken.h" and d.loc.line == 12 for d in errors)
    assert set(errors[0].archs) == set(DEFAULT_ARCHS)
    assert model.records_named("struct broken_after")
    assert model.macros_named("BROKEN_VALUE")[0].values["arm64"] == 7
    header = next(h for h in model.headers if h.path == "broken.h")
    assert set(header.status.values()) == {"errors"}


def test_model_json_round_trip(tmp_path: Path) -> None:
    model = run_case("layout_traps", tmp_path)
    data = json.loads(json.dumps(model_to_json(model)))
    assert data["$schema"] == "headerparse-model/1"
    assert model_from_json(data) == model


@pytest.mark.parametrize("indent", [None, 1])
def test_model_json_text_is_the_json_of_the_plain_form(indent: int | None, tmp_path: Path
                                                       ) -> None:
    model = run_case("layout_traps", tmp_path)
    assert model_json_text(model, indent) == json.dumps(model_to_json(model), indent=indent)


def _instances(value: object) -> list[object]:
    """Every dataclass instance below ``value`` (the model itself excluded)."""
    out: list[object] = []
    stack = [getattr(value, f.name) for f in dataclasses.fields(value)]  # type: ignore[arg-type]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif dataclasses.is_dataclass(v):
            out.append(v)
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
    return out


def test_model_values_hold_their_fields_alone(tmp_path: Path) -> None:
    # model_json_text encodes each value's __dict__ (``vars``) as its JSON object: an
    # attribute that is no field (a cached property's value, one set after __init__)
    # would be written into every model.
    model = run_case("layout_traps", tmp_path)
    values = _instances(model)
    assert {type(v).__name__ for v in values} >= {"Record", "Field", "Macro", "Doc", "Loc",
                                                   "Layout", "Member", "Comment"}
    for v in values:
        assert list(vars(v)) == [f.name for f in dataclasses.fields(v)], type(v)  # type: ignore[arg-type]


def test_model_json_text_falls_back_for_a_value_without_a_dict(tmp_path: Path) -> None:
    model = run_case("layout_traps", tmp_path)
    odd = dataclasses.replace(model, options=MappingProxyType(dict(model.options)))
    assert model_json_text(odd) == json.dumps(model_to_json(model))


def test_cache_serves_an_unchanged_tree(tmp_path: Path) -> None:
    from headerparse.extract.cache import STATS

    first = run_case("macros", tmp_path)
    facts = list((tmp_path / "cache" / "facts").glob("*.bin"))
    assert len(facts) == len(first.archs)
    STATS.clear()
    assert run_case("macros", tmp_path) == first
    assert STATS["facts.hit"] == len(first.archs) and not STATS["facts.miss"]
    files = case_files("macros")
    files["macros.h"] = files["macros.h"].replace(b"29", b"30")
    write_tree(tmp_path, files)
    from headerparse.extract.pipeline import Options, extract
    changed = extract(open_tree(str(tmp_path / "public")), Options(), cache=tmp_path / "cache")
    assert changed.macros_named("MAC_PLAIN")[0].values["x86_64"] == 30
    assert len(list((tmp_path / "cache" / "facts").glob("*.bin"))) == 2 * len(first.archs)


def test_header_statuses_are_explicit(tmp_path: Path) -> None:
    files = case_files("macros")
    files.update({
        "arch-x86/xen.h": b"#include \"xen-x86_64.h\"\n",
        "arch-x86/xen-x86_64.h": b"struct only_x86 { uint32_t a; };\n",
        "arch-arm.h": b"struct only_arm { uint64_t a; };\n",
        "dom0_ops.h": b"#error \"compatibility interface only\"\n",
        "foreign/x86_32.h": b"struct not_public { int a; };\n",
    })
    model_tree = open_tree(str(write_tree(tmp_path, files)))
    from headerparse.extract.pipeline import Options, extract
    model = extract(model_tree, Options(), cache=None)
    status = {h.path: h.status for h in model.headers}
    assert status["arch-arm.h"] == {"x86_32": "other-arch", "x86_64": "other-arch",
                                    "arm32": "parsed", "arm64": "parsed"}
    assert status["dom0_ops.h"]["x86_64"] == "error-by-design"
    assert status["foreign/x86_32.h"]["arm64"] == "not-public"
    assert status["arch-x86/xen-x86_64.h"]["x86_64"] == "fragment"
    assert not [d for d in model.diagnostics if d.severity == "error"]
    (only_arm,) = model.records_named("struct only_arm")
    assert set(only_arm.layouts) == {"arm32", "arm64"}


@pytest.mark.parametrize("name", ["layout_traps", "macros"])
def test_golden_layouts_match_gcc(name: str, tmp_path: Path) -> None:
    """The goldens above are not our own say-so: GCC lays the types out the same way."""
    gcc = pytest.importorskip("oracle.gcc")
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    tree = open_tree(str(write_tree(tmp_path, case_files(name))))
    inc = tree.materialize(tmp_path / "cache")
    mismatches = []
    for arch in DEFAULT_ARCHS:
        if gcc.compiler_for(arch) is None:
            pytest.fail(f"no GCC for {arch}: .ci/setup installs the cross compilers")
        types = {key: [m[0] for m in t["members"] if m[4] is None]
                 for key, t in expected["layouts"][arch].items()}
        got = gcc.gcc_layouts(inc, arch, ["xen.h", f"{name}.h"], types)
        for key, t in expected["layouts"][arch].items():
            g = got.get(key)
            if g is None or (g["size"], g["align"]) != (t["size"], t["align"]):
                mismatches.append(f"{arch} {key}: ours={t['size']}/{t['align']} gcc={g}")
                continue
            for path, off, *_rest in (m for m in t["members"] if m[4] is None):
                if g["offsets"].get(path) != off:
                    mismatches.append(f"{arch} {key} {path}: ours={off} "
                                      f"gcc={g['offsets'].get(path)}")
        names = [n for n, m in expected["macros"].items() if m["values"].get(arch) is not None]
        values = gcc.gcc_macro_values(inc, arch, ["xen.h", f"{name}.h"], names)
        for n in names:
            if values.get(n) != expected["macros"][n]["values"][arch]:
                mismatches.append(f"{arch} {n}: ours={expected['macros'][n]['values'][arch]} "
                                  f"gcc={values.get(n)}")
    assert not mismatches, "\n".join(mismatches)


def test_riscv_and_ppc_when_the_tree_has_them(tmp_path: Path) -> None:
    files = case_files("macros")
    files["arch-riscv.h"] = b"struct rv_only { unsigned long a; char b; };\n"
    files["arch-ppc.h"] = b"struct ppc_only { unsigned long a; char b; };\n"
    from headerparse.extract.pipeline import Options, extract
    model = extract(open_tree(str(write_tree(tmp_path, files))), Options(), cache=None)
    assert model.archs == (*DEFAULT_ARCHS, "riscv64", "ppc64")
    (rv,) = model.records_named("struct rv_only")
    assert set(rv.layouts) == {"riscv64"} and rv.layout("riscv64").size == 16
    (ppc,) = model.records_named("struct ppc_only")
    assert set(ppc.layouts) == {"ppc64"}
    status = {h.path: h.status for h in model.headers}
    assert status["arch-riscv.h"]["ppc64"] == "other-arch"


def test_headers_a_young_port_cannot_compile_are_warnings(tmp_path: Path) -> None:
    files = case_files("macros")
    files["arch-riscv.h"] = b"struct rv_only { unsigned long a; };\n"
    files["io/protocols.h"] = (b"#if defined(__x86_64__) || defined(__i386__) || defined(__arm__)"
                               b" || defined(__aarch64__)\n#define P 1\n#else\n"
                               b"#error \"arch fixup needed here\"\n#endif\n")
    from headerparse.extract.pipeline import Options, extract
    model = extract(open_tree(str(write_tree(tmp_path, files))), Options(), cache=None)
    (diag,) = [d for d in model.diagnostics if d.loc and d.loc.file == "io/protocols.h"]
    assert (diag.rule, diag.severity, diag.archs) == ("XC003", "warning", ("riscv64",))
    status = next(h.status for h in model.headers if h.path == "io/protocols.h")
    assert status["riscv64"] == "unsupported" and status["x86_64"] == "parsed"


def test_guest_view_and_interface_version(tmp_path: Path) -> None:
    files = case_files("macros")
    files["tools.h"] = (b"#if !defined(__XEN__) && !defined(__XEN_TOOLS__)\n"
                        b"#error \"tools only\"\n#endif\nstruct tools_only { int a; };\n")
    files["compat.h"] = (b"#define HC_X 29\n#if __XEN_INTERFACE_VERSION__ < 0x100\n"
                         b"#undef HC_X\n#define HC_X 6\n#endif\n")
    from headerparse.extract.pipeline import Options, extract
    tree = open_tree(str(write_tree(tmp_path, files)))
    guest = extract(tree, Options(tools=False, interface_version="0x50"), cache=None)
    assert not [d for d in guest.diagnostics if d.severity == "error"]
    status = next(h for h in guest.headers if h.path == "tools.h")
    assert set(status.status.values()) == {"tools-only"} and "__XEN_TOOLS__" in status.note
    first, second = sorted(guest.macros_named("HC_X"), key=lambda m: m.loc.line)
    assert first.values == {} and first.why_not["x86_64"] == "redefined at compat.h:4"
    assert second.values["arm32"] == 6
    tools = extract(tree, Options(tools=True, interface_version="0x200"), cache=None)
    assert tools.records_named("struct tools_only")
    (only,) = tools.macros_named("HC_X")[:1]
    assert only.values["x86_32"] == 29
