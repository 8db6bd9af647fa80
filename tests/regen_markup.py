"""Rewrite ``tests/data/markup/<case>.expected.json`` from what the code does now.

Usage: ``python3 tests/regen_markup.py [CASE...]`` (all cases when none is
named).  Only for an intended change of behaviour or a new case: review the
resulting diff as carefully as a code change, since it is the specification.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from test_markup import CASES, DATA, render_case  # noqa: E402


def main(argv: list[str]) -> int:
    for case in argv or CASES:
        target = DATA / f"{case}.expected.json"
        data = render_case(DATA / f"{case}.h")
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
