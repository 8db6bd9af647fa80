"""The bounds a tree must keep before libclang parses it (headerparse/treesafe.py)."""

from __future__ import annotations

import pytest

from headerparse import treesafe

COPYING = b"#define D(x) ((x) + (x))\n/* a comment */\n"


def _nested(name: str, depth: int) -> str:
    return f"{name}({_nested(name, depth - 1)})" if depth else "1"


def test_a_nested_use_of_a_copying_macro_is_refused_at_its_line() -> None:
    code = f"struct s {{ int a[{_nested('D', 30)}]; }};\n".encode()
    problems = list(treesafe.parse_problems({"a.h": COPYING + code}))
    assert problems == [f"a.h:3: this use of D expands to more than {treesafe.MAX_EXPANSION} "
                        "tokens; refused (headerparse bounds the cost of every input)"]


@pytest.mark.parametrize("name", ["XD", "D_", "_D", "D1"])
def test_a_longer_identifier_is_no_use_of_the_macro(name: str) -> None:
    # Calls of the name inside a longer identifier copy nothing.
    code = f"int {name}(int);\nint a = {_nested(name, 30)};\n".encode()
    assert list(treesafe.parse_problems({"a.h": COPYING + code})) == []


def test_a_use_after_an_identifier_ending_the_line_is_found() -> None:
    code = f"int x\n= {_nested('D', 30)};\n".encode()
    assert [p.split(":")[:2] for p in treesafe.parse_problems({"a.h": COPYING + code})] \
        == [["a.h", "4"]]


@pytest.mark.parametrize("before", [b"", b"  \t", b"int x; # no \\\n", b"/* # */\n"])
def test_a_copying_macro_is_found_wherever_its_line_starts(before: bytes) -> None:
    # A '#' after code is no directive, but the line after it may hold one.
    code = before + b"#  define D(x) ((x) + (x))\nint a = " + _nested("D", 30).encode() + b";\n"
    problems = list(treesafe.parse_problems({"a.h": code}))
    assert len(problems) == 1 and "this use of D expands" in problems[0]


def test_a_hash_after_code_is_neither_a_define_nor_an_include() -> None:
    code = b'int x; # define D(x) ((x) + (x))\nint y; #include "../../etc/passwd"\n' \
        + f"int a = {_nested('D', 30)};\n".encode()
    assert list(treesafe.parse_problems({"a.h": code})) == []


def test_an_include_leaving_the_tree_is_refused_at_its_line() -> None:
    code = b'/* #include "../x.h" */\n  #  include "../../x.h"\n'
    assert list(treesafe.parse_problems({"a/b.h": code})) == [
        'a/b.h:2: #include "../../x.h... leaves the header tree; refused']
