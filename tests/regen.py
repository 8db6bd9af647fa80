#!/usr/bin/env python3
"""Rewrite the expected output of golden cases from what the code does now.

    python3 tests/regen.py                      # every suite
    python3 tests/regen.py markup extract/macros

Suites: extract, markup, annotations-schema, annotations-bind; generated files:
model-json (docs/model-json.md) (tests/support/golden.py).
Review the diff before committing; the extraction goldens are also checked against
GCC by test_extract.py::test_golden_layouts_match_gcc.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from support.golden import regen  # noqa: E402

if __name__ == "__main__":
    for path in regen(sys.argv[1:]):
        print(f"wrote {path}")
