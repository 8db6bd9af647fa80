"""What a real-data test does when something it needs is missing.

On a developer's machine the test is skipped, saying what is missing. In CI
(``CI`` set, as ``.ci/run`` has it) it fails: ``.ci/setup`` installs every
prerequisite (Debian packages, Debian's Xen headers, consumers' copies) and the
history bundle lies beside the checkout, so a missing one is a broken set-up,
which must not turn the real-data tests into silent skips.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs it: {message}", pytrace=False)
    pytest.skip(message)
