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
