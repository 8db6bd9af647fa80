"""Frozen dataclass values built at a third of ``__init__``'s cost.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
(its own ``__setattr__`` refuses): a call per field, some 1 µs for a
:class:`~headerparse.model.Field`.  The merge builds tens of thousands of model
values; :func:`maker` gives a function that takes the fields in order and hands
the new value its ``__dict__`` in one piece.  The value is the one ``__init__``
makes: the same fields in the same order (what ``vars`` and so the model's JSON
see), equal, hashing alike, and as frozen.  Only for classes whose ``__init__``
does nothing else (no ``__post_init__``, no slots, every field an init field).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


def maker(cls: type) -> Callable[..., Any]:
    """A function building ``cls`` from all its fields, positionally, in field order."""
    fields = dataclasses.fields(cls)
    if (hasattr(cls, "__post_init__") or hasattr(cls, "__slots__")
            or not all(f.init for f in fields)):
        raise TypeError(f"{cls.__name__} is not built by its fields alone")
    names = [f.name for f in fields]
    # Built from the field names, which are identifiers, as ``dataclasses`` builds
    # ``__init__``.
    display = ", ".join(f"{n!r}: {n}" for n in names)
    namespace: dict[str, Any] = {"new": object.__new__, "put": object.__setattr__, "cls": cls}
    exec(f"def make({', '.join(names)}):\n"
         f"    o = new(cls)\n"
         f"    put(o, '__dict__', {{{display}}})\n"
         f"    return o\n", namespace)
    make = namespace["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make
