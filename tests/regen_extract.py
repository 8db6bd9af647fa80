#!/usr/bin/env python3
"""Rewrite ``tests/data/extract/<case>.expected.json`` from the current extractor.

    python3 tests/regen_extract.py [CASE ...]

Review the diff before committing: the goldens are checked against GCC by
``test_extract.py::test_golden_layouts_match_gcc``, so a wrong golden fails there.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from extract_cases import CASES, DATA, project, run_case  # noqa: E402


def main(names: list[str]) -> int:
    for name in names or CASES:
        with tempfile.TemporaryDirectory() as tmp:
            data = project(run_case(name, Path(tmp)), name)
        out = DATA / f"{name}.expected.json"
        out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
