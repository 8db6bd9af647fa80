"""A macro whose body is an integer literal gets its value from the literal, not from a
probe: the facts are the same as the probes give, whatever the preprocessor did to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.walks import count_walks

from headerparse.extract import archfacts, clangparse
from headerparse.extract.translation_unit import literal_macros
from headerparse.targets import TARGETS

ARCHS = ("x86_32", "x86_64", "arm32", "arm64")

LIT = b"""\
#ifndef LIT_H
#define LIT_H
#define PLAIN 12
#define HEX_BIG 0x80000000
#define HEX_ALL 0xffffffffU /* the widest unsigned int */
#define DEC_BIG 4294967296
#define LONGEST 0x7fffffffffffffffLL
#define TOO_BIG 0xffffffffffffffffUL
#define OCTAL 0755
#define PARENS (42UL)   // a trailing comment
#define SUFFIXED 7lu
#define NEGATIVE (-1)
#define SUM (1 + 2)
#define BAD_SUFFIX 5lL
#define CONTINUED 5 \\
    + 1
#define RUNS_ON 6 /* a comment that
    ends on the next line */ + 1
#define GONE 4
#if defined(__x86_64__) || defined(__aarch64__)
#define TWICE 64
#define ONLY_64 5
#else
#define TWICE 32
#endif
#if 0
#define SKIPPED 3
#endif
#define linux 9
#endif
"""

LATER = b"""\
#include "lit.h"
#undef GONE
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    include = tmp_path_factory.mktemp("literal") / "include"
    (include / "public").mkdir(parents=True)
    (include / "public" / "lit.h").write_bytes(LIT)
    (include / "public" / "later.h").write_bytes(LATER)
    return include


def _probes() -> list[str]:
    return sorted({line.split()[1] for line in LIT.decode().splitlines()
                   if line.startswith("#define ")} - {"LIT_H"})


def test_only_a_lone_literal_is_read_off_the_source() -> None:
    table = literal_macros({"lit.h": LIT, "later.h": LATER})
    values = {name: value for name, (_file, _at, value) in table.items()}
    assert values == {"PLAIN": 12, "HEX_BIG": 0x80000000, "HEX_ALL": 0xffffffff,
                      "DEC_BIG": 4294967296, "LONGEST": 2 ** 63 - 1, "OCTAL": 0o755,
                      "PARENS": 42, "SUFFIXED": 7, "ONLY_64": 5, "SKIPPED": 3, "linux": 9}
    file, at, _ = table["HEX_BIG"]
    assert (file, LIT[at:at + 7]) == ("lit.h", b"HEX_BIG")


def test_a_macro_a_pragma_names_is_probed() -> None:
    popped = literal_macros({"lit.h": LIT, "p.h": b'#pragma pop_macro("PLAIN")\n'})
    assert "PLAIN" not in popped and "HEX_BIG" in popped
    poisoned = literal_macros({"lit.h": LIT, "p.h": b"#pragma GCC /* c\n */ poison \\\n PLAIN\n"})
    assert "PLAIN" not in poisoned and "HEX_BIG" in poisoned
    # What a _Pragma does is not read: the whole tree is probed.
    assert literal_macros({"lit.h": LIT, "p.h": b'_Pragma("GCC poison PLAIN")\n'}) == {}


@pytest.mark.parametrize("arch", ARCHS)
def test_the_facts_are_the_probes(tree: Path, arch: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    probes = _probes()
    headers = ["later.h"]
    read = clangparse.parse_arch(tree, TARGETS[arch], headers, probes, {})
    monkeypatch.setattr(clangparse, "tree_literals", lambda root, prelude: {})
    probed = clangparse.parse_arch(tree, TARGETS[arch], headers, probes, {})
    assert json.dumps(archfacts.encode(read)) == json.dumps(archfacts.encode(probed))
    wide = arch in ("x86_64", "arm64")
    assert read.values["HEX_BIG"] == 0x80000000 and read.values["HEX_ALL"] == 0xffffffff
    assert read.values["TOO_BIG"] == 2 ** 64 - 1
    assert read.values["TWICE"] == (64 if wide else 32)
    assert ("ONLY_64" in read.values) == wide
    assert "GONE" not in read.values and "SKIPPED" not in read.values
    assert read.values["linux"] == 9 and "BAD_SUFFIX" in read.why_not
    assert (read.values["CONTINUED"], read.values["RUNS_ON"]) == (6, 7)


def test_a_literal_defined_elsewhere_too_is_probed(tree: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    walks = count_walks(monkeypatch)
    clangparse.parse_arch(tree, TARGETS["x86_64"], ["later.h"], _probes(), {})
    # clang predefines linux: the first walk meets that definition and gives up.
    assert walks == [True, False]
