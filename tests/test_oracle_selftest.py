"""The GCC oracle on a tiny synthetic tree whose answers are known by heart.

If these fail, the comparison in test_oracle.py cannot be trusted either way.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.need import unavailable

try:
    from tests.oracle import gcc
except ImportError:  # tests/ itself is on sys.path when it is not a package
    from oracle import gcc  # type: ignore[no-redef]

ARCHES = [
    pytest.param(a, marks=pytest.mark.skipif(gcc.compiler_for(a) is None,
                                             reason=f"no GCC for {a}"))
    for a in gcc.ARCHES
]
IS_32 = {"x86_32": True, "arm32": True, "x86_64": False, "arm64": False}

HEADERS = {
    "xen.h": """
        #ifndef T_XEN_H
        #define T_XEN_H
        struct pad { uint8_t a; uint64_t b; };
        typedef struct { uint16_t h; uint32_t w; } anon_t;
        struct outer {
            uint32_t x;
            union { uint16_t a; uint64_t b; };
            struct { uint8_t c; uint32_t d; } inner;
            uint32_t bits : 3;
            uint32_t after;
        };
        struct flex { uint32_t n; uint16_t items[]; };
        enum { NOT_A_MACRO = 7 };
        static inline void t_copy(void *d, const void *s) { memcpy(d, s, 4); }
        #define M_INT 42
        #define M_NEG (-1)
        #define M_BIG 0xfedcba9876543210ULL
        #define M_UINT (~0U)
        #define M_ULONG (~0UL)
        #define M_SIZEOF sizeof(struct pad)
        #define M_OFFSET __builtin_offsetof(struct outer, inner.d)
        #define M_REF (M_INT + 1)
        #define M_STR "abc"
        #define M_FLOAT 1.5
        #define M_TYPE uint64_t
        #define M_PTR ((void *)0)
        #define M_FN(x) ((x) + 1)
        #define M_EMPTY
        #define M_UNBAL (1
        #define M_COMMA (1, 2)
        #define M_UNDECL1 (NO_SUCH_THING + 1)
        #define M_UNDECL2 (NO_SUCH_THING + 2)
        #define M_AFTER 5
        #endif
    """,
}

UNCOMPUTABLE = ["M_STR", "M_FLOAT", "M_TYPE", "M_PTR", "M_FN", "M_EMPTY", "M_UNBAL",
                "M_COMMA", "M_UNDECL1", "M_UNDECL2", "NOT_A_MACRO", "M_NEVER_DEFINED"]


def make_tree(root: Path, headers: dict[str, str]) -> Path:
    """``root/public/<name>`` for each header; returns ``root`` (the include dir)."""
    for name, text in headers.items():
        path = root / "public" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path, HEADERS)


@pytest.mark.parametrize("arch", ARCHES)
def test_layout_of_known_structs(tree: Path, arch: str) -> None:
    types = {
        "struct pad": ["a", "b"],
        "anon_t": ["h", "w"],
        "struct outer": ["x", "a", "b", "inner", "inner.c", "inner.d", "after"],
    }
    got = gcc.gcc_layouts(tree, arch, ["xen.h"], types)
    if arch == "x86_32":  # the i386 ABI aligns 64-bit integers to 4 in structs
        assert got["struct pad"] == {"size": 12, "align": 4, "offsets": {"a": 0, "b": 4},
                                     "sizes": {"a": 1, "b": 8}}
        assert got["struct outer"]["offsets"]["b"] == 4
        assert got["struct outer"]["size"] == 28
    else:
        assert got["struct pad"] == {"size": 16, "align": 8, "offsets": {"a": 0, "b": 8},
                                     "sizes": {"a": 1, "b": 8}}
        assert got["struct outer"]["offsets"]["b"] == 8
        assert got["struct outer"]["size"] == 32
    assert got["anon_t"] == {"size": 8, "align": 4, "offsets": {"h": 0, "w": 4},
                             "sizes": {"h": 2, "w": 4}}
    outer = got["struct outer"]["offsets"]
    inner = outer["inner"]
    assert (outer["inner.c"], outer["inner.d"]) == (inner, inner + 4)
    assert outer["after"] == inner + 12  # inner is 8 bytes, then a 4-byte bitfield unit
    assert got["struct outer"]["sizes"] == {"x": 4, "a": 2, "b": 8, "inner": 8, "inner.c": 1,
                                            "inner.d": 4, "after": 4}


@pytest.mark.parametrize("arch", ARCHES)
def test_unanswerable_layout_questions_are_absent(tree: Path, arch: str) -> None:
    report = gcc.Report()
    types = {
        "struct outer": ["x", "bits", "no_such_member", "inner.nope", "after"],
        "struct flex": ["n", "items"],
        "struct no_such_type": ["x"],
        "struct pad; int": ["a"],  # not a type name: never pasted into C
    }
    got = gcc.gcc_layouts(tree, arch, ["xen.h"], types, report=report)
    assert set(got) == {"struct outer", "struct flex"}
    assert set(got["struct outer"]["offsets"]) == {"x", "after"}
    assert set(got["struct outer"]["sizes"]) == {"x", "after"}
    assert "struct outer no_such_member" in report.failed
    # A flexible array has an offset but no size
    assert got["struct flex"]["offsets"] == {"n": 0, "items": 4}
    assert got["struct flex"]["sizes"] == {"n": 4}
    assert "struct no_such_type" in report.failed
    assert "struct pad; int" in report.failed


@pytest.mark.parametrize("arch", ARCHES)
def test_macro_values(tree: Path, arch: str) -> None:
    names = ["M_INT", "M_NEG", "M_BIG", "M_UINT", "M_ULONG", "M_SIZEOF", "M_OFFSET",
             "M_REF", *UNCOMPUTABLE, "M_AFTER"]
    report = gcc.Report()
    got = gcc.gcc_macro_values(tree, arch, ["xen.h"], names, report=report)
    long_max = 2**32 - 1 if IS_32[arch] else 2**64 - 1
    assert got == {
        "M_INT": 42, "M_NEG": -1, "M_BIG": 0xFEDCBA9876543210, "M_UINT": 2**32 - 1,
        "M_ULONG": long_max, "M_SIZEOF": 12 if arch == "x86_32" else 16,
        "M_OFFSET": 16 if arch == "x86_32" else 20, "M_REF": 43, "M_AFTER": 5,
    }
    assert set(UNCOMPUTABLE) <= set(report.failed)
    assert report.failed["M_NEVER_DEFINED"].endswith("is not #defined")
    assert report.failed["NOT_A_MACRO"].endswith("is not #defined")


@pytest.mark.parametrize("arch", ARCHES)
def test_many_questions_take_few_compiles(tree: Path, arch: str) -> None:
    report = gcc.Report()
    types = {"struct pad": ["a", "b"]} | {f"struct missing{i}": ["x"] for i in range(200)}
    got = gcc.gcc_layouts(tree, arch, ["xen.h"], types, report=report)
    assert set(got) == {"struct pad"}
    assert report.compiles <= 5


CONFLICTING = {
    "xen.h": """
        #ifndef T_XEN_H
        #define T_XEN_H
        #include "native.h"
        #define HUB 1
        #endif
    """,
    "native.h": """
        #ifndef T_NATIVE_H
        #define T_NATIVE_H
        struct regs { uint64_t r; };
        #define REGS_KIND 64
        #endif
    """,
    # Another arch's variant: the same names, defined differently.
    "other.h": """
        #ifndef T_OTHER_H
        #define T_OTHER_H
        struct regs { uint16_t r; };
        #define REGS_KIND 16
        #define OTHER_ONLY 3
        #endif
    """,
    # Redefines a macro without any type conflict: must not win silently.
    "macro_only.h": """
        #define REGS_KIND 99
        #define MACRO_ONLY 4
    """,
    "broken.h": """
        #error "not for direct inclusion"
    """,
    "packs.h": """
        #pragma pack(1)
        struct packed { uint8_t a; uint32_t b; };
    """,
    "after_pack.h": """
        struct unpacked { uint8_t a; uint32_t b; };
    """,
}


@pytest.mark.parametrize("arch", ARCHES)
def test_conflicting_and_broken_headers(tmp_path: Path, arch: str) -> None:
    root = make_tree(tmp_path, CONFLICTING)
    headers = ["broken.h", "other.h", "macro_only.h", "native.h", "xen.h",
               "packs.h", "after_pack.h"]
    report = gcc.Report()
    types = {"struct regs": ["r"], "struct packed": ["b"], "struct unpacked": ["b"]}
    lay = gcc.gcc_layouts(root, arch, headers, types, report=report)
    assert set(report.broken_headers) == {"broken.h"}
    assert len(report.units) > 1
    # xen.h includes others, so its native.h is the one that counts
    assert lay["struct regs"]["size"] == 8
    assert lay["struct packed"]["offsets"]["b"] == 1
    assert lay["struct unpacked"]["offsets"]["b"] == 4  # the pack did not leak
    values = gcc.gcc_macro_values(root, arch, headers,
                                  ["REGS_KIND", "OTHER_ONLY", "MACRO_ONLY", "HUB"])
    assert values == {"REGS_KIND": 64, "OTHER_ONLY": 3, "MACRO_ONLY": 4, "HUB": 1}


def test_read_data_widths() -> None:
    asm = textwrap.dedent("""\
        hpo_v_0:
        \t.word\t-16
        \t.word\t-1
        \t.size\thpo_v_0, 8
        hpo_v_1:
        \t.zero\t8
        hpo_v_2:
        \t.xword\t300
    """)
    arm = gcc._read_data(asm, word=4)
    assert int.from_bytes(arm["hpo_v_0"], "little") == 2**64 - 16
    assert arm["hpo_v_1"] == bytes(8)
    assert int.from_bytes(arm["hpo_v_2"], "little") == 300
    x86 = gcc._read_data(asm, word=2)  # .word is 2 bytes on x86
    assert x86["hpo_v_0"] == b"\xf0\xff\xff\xff"


def test_unknown_arch_is_an_error() -> None:
    with pytest.raises(ValueError):
        gcc.compiler_for("mips")


def test_missing_tree_is_an_error(tmp_path: Path) -> None:
    arch = next((a for a in gcc.ARCHES if gcc.compiler_for(a)), None)
    if arch is None:
        unavailable("no GCC at all")
    with pytest.raises(gcc.OracleError):
        gcc.gcc_layouts(tmp_path, arch, ["xen.h"], {"struct x": []})


@pytest.mark.parametrize("arch", ARCHES)
def test_a_question_that_swallows_its_neighbours_is_isolated(tree: Path, arch: str) -> None:
    # An unclosed function body turns the following questions into local
    # declarations and GCC only complains at the end of the file: no line to
    # blame, so the oracle must split the batch until the culprit is alone.
    q = gcc._Question
    questions = [q("good1", "sizeof(int)", False), q("bad", "0); void f(void) { if (1", False),
                 q("good2", "sizeof(short)", False), q("good3", "3", False)]
    report = gcc.Report()
    answers = gcc._evaluate(arch, tree, ["xen.h"], questions, gcc.DEFAULT_DEFINES, report)
    assert answers == {0: 4, 2: 2, 3: 3}
    assert set(report.failed) == {"bad"}
