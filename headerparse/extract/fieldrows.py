"""A record's fields as rows of plain values: what the walk (:mod:`.clangparse`) asks
libclang of each field.

Each field costs seven libclang calls, and through ctypes each call costs more than
libclang's answer (of a walk, ctypes and the interpreter take 85% and libclang 9%).
The C helper ``_fieldrows.c``, built at install time where a C compiler is, makes the
calls of a whole record in one; without it the same rows come from ctypes calls, field
by field.  Both give the same rows (``tests/test_fieldrows.py``).  The helper is handed
the addresses of libclang's functions the walk already loaded: this module does not
import the bindings.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import re
import struct
from pathlib import Path
from typing import Any

# (name, offset in bits, bit width, the type's kind and data, file handle, line, column)
Row = tuple[str, int, int, int, int, int, int, int, int]

# _fieldrows.c's Row; its name field holds the first NAME_MAX bytes of the name.
_ROW = struct.Struct("<qiiQQQIII64s")
_NAME_MAX = 64
_IDENT_SO_FAR = re.compile(rb"[A-Za-z_]\w*\Z")


def helper_path() -> Path | None:
    """The built helper beside this module, if there is one."""
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_fieldrows{suffix}"
        if path.is_file():
            return path
    return None


class FieldRows:
    """``rows(record_type)``: the fields of a record type of ``c_lib``'s translation units."""

    def __init__(self, c_lib: Any) -> None:
        self._c = c_lib
        self._fields: Any = None
        self._cap = 0
        self._buf: Any = None
        self._view = memoryview(b"")
        path = helper_path()
        if path is None:
            return
        try:
            helper = ctypes.CDLL(str(path))
        except OSError:     # built for another machine, or damaged: the ctypes way
            return
        functions = (c_lib._visit_fields, c_lib.spelling, c_lib.field_offset, c_lib.cursor_type,
                     c_lib.bit_width, c_lib.location, c_lib._expansion, c_lib._cstring,
                     c_lib._dispose)
        addresses = (ctypes.c_void_p * len(functions))(
            *[ctypes.cast(f, ctypes.c_void_p).value for f in functions])
        helper.hp_init(addresses)
        # PYFUNCTYPE: the call keeps the GIL, as the walk's own (see clangparse._Lib).
        self._fields = ctypes.PYFUNCTYPE(ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
                                         ctypes.c_uint)(("hp_fields", helper))
        self._grow(256)

    @property
    def native(self) -> bool:
        """Whether the rows come from the C helper."""
        return self._fields is not None

    def __call__(self, record_type: Any) -> list[Row]:
        if self._fields is None:
            return self._by_calls(record_type)
        n = self._fields(ctypes.addressof(record_type), ctypes.addressof(self._buf), self._cap)
        if n > self._cap:
            self._grow(n)
            n = self._fields(ctypes.addressof(record_type), ctypes.addressof(self._buf), n)
        rows = []
        for offset, bits, kind, t0, t1, file, line, col, size, raw in _ROW.iter_unpack(
                self._view[:n * _ROW.size]):
            if size > _NAME_MAX and _IDENT_SO_FAR.match(raw):
                # An identifier longer than the row holds (an anonymous member's spelling
                # is no identifier, and its name is not used): this record the slow way.
                return self._by_calls(record_type)
            rows.append((raw[:size].decode(), offset, bits, kind, t0, t1, file, line, col))
        return rows

    def _grow(self, cap: int) -> None:
        self._cap = cap
        self._buf = ctypes.create_string_buffer(_ROW.size * cap)
        self._view = memoryview(self._buf).cast("B")

    def _by_calls(self, record_type: Any) -> list[Row]:
        c = self._c
        rows = []
        for f in c.fields(record_type):
            t = c.cursor_type(f)
            file, line, col, _ = c.expansion(c.location(f))
            rows.append((c.string(c.spelling(f)), c.field_offset(f), c.bit_width(f),
                         t._kind_id, t.data[0] or 0, t.data[1] or 0, file, line, col))
        return rows
