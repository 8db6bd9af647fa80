"""Every golden case of every suite: input beside expected output (tests/support/golden.py).

After an intended change of behaviour: ``python3 tests/regen.py SUITE[/CASE]`` and review
the diff like code.
"""

from __future__ import annotations

import pytest
from support.golden import GENERATED, SUITES

CASES = [(s, c) for s in SUITES.values() for c in s.cases()]


@pytest.mark.parametrize(("suite", "case"), CASES, ids=[f"{s.name}/{c}" for s, c in CASES])
def test_golden(suite, case: str) -> None:
    expected, actual = suite.compare(case)
    assert actual == expected, f"regenerate with tests/regen.py {suite.name}/{case} and review"


def test_every_case_has_its_expected_output() -> None:
    for suite in SUITES.values():
        assert suite.cases(), f"suite {suite.name} has no cases"
        missing = [c for c in suite.cases() if not suite.expected_file(c).is_file()]
        assert not missing, f"{suite.name}: run tests/regen.py for {missing}"
    assert len(SUITES["annotations-schema"].cases()) >= 30


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_file(name: str) -> None:
    expected, actual = GENERATED[name].compare()
    assert actual == expected, f"regenerate with tests/regen.py {name} and review"
