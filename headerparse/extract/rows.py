"""What the walk (:mod:`.clangparse`) asks libclang, as rows of plain values: a record's
fields, and a translation unit's top-level cursors with its macro definitions' places.

Each field costs seven libclang calls, a macro definition two or three, and through
ctypes each call costs more than libclang's answer (of a walk, ctypes and the
interpreter took 85% and libclang 9%).  The C helper ``_rows.c``, built at install
time where a C compiler is, makes the calls of a whole record, or of a whole unit, in
one; without it the same rows come from ctypes calls.  Both give the same rows
(``tests/test_rows.py``).  The helper is handed the addresses of libclang's functions
the walk already loaded: this module does not import the bindings.
"""

from __future__ import annotations

import ctypes
import importlib.machinery
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (name, offset in bits, bit width, the type's kind and data, file handle, line, column)
FieldRow = tuple[str, int, int, int, int, int, int, int, int]
# (cursor kind, cursor (None for a macro definition from the helper), and a macro
# definition's file handle, line, byte offset and name)
ChildRow = tuple[int, Any, int, int, int, str]

# _rows.c's Field and Child; a name field holds the first _NAME_MAX bytes of the name.
_FIELD = struct.Struct("<qiiQQQIII64s")
_CHILD = struct.Struct("<i32sQIII64s")
_NAME_MAX = 64
_IDENT_SO_FAR = re.compile(rb"[A-Za-z_]\w*\Z")
_MACRO_DEFINITION = 501     # CXCursor_MacroDefinition


def helper_path() -> Path | None:
    """The built helper beside this module, if there is one."""
    here = Path(__file__).parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = here / f"_rows{suffix}"
        if path.is_file():
            return path
    return None


class Rows:
    """The rows of ``c_lib``'s translation units (:class:`.clangparse._Lib`, whose cursor
    class is ``cursor``)."""

    def __init__(self, c_lib: Any, cursor: type) -> None:
        self._c, self._cursor = c_lib, cursor
        self._calls: dict[str, Callable[..., int]] = {}
        self._bufs: dict[str, tuple[int, Any, memoryview]] = {}
        path = helper_path()
        if path is None:
            return
        try:
            helper = ctypes.CDLL(str(path))
        except OSError:     # built for another machine, or damaged: the ctypes way
            return
        functions = (c_lib._visit_fields, c_lib._visit_children, c_lib.spelling,
                     c_lib.field_offset, c_lib.cursor_type, c_lib.bit_width, c_lib.location,
                     c_lib._expansion, c_lib._cstring, c_lib._dispose)
        helper.hp_init((ctypes.c_void_p * len(functions))(
            *[ctypes.cast(f, ctypes.c_void_p).value for f in functions]))
        for name in ("fields", "children"):
            # PYFUNCTYPE: the call keeps the GIL, as the walk's own (see clangparse._Lib).
            self._calls[name] = ctypes.PYFUNCTYPE(
                ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint)(
                (f"hp_{name}", helper))
        self._grow("fields", _FIELD, 256)
        self._grow("children", _CHILD, 8192)

    @property
    def native(self) -> bool:
        """Whether the rows come from the C helper."""
        return bool(self._calls)

    def fields(self, record_type: Any) -> list[FieldRow]:
        """The fields of the record type ``record_type``."""
        if not self._calls:
            return self._fields_by_calls(record_type)
        rows = []
        for offset, bits, kind, t0, t1, file, line, col, size, raw in self._run(
                "fields", _FIELD, record_type):
            if size > _NAME_MAX and _IDENT_SO_FAR.match(raw):
                # An identifier longer than a row holds (an anonymous member's spelling is
                # no identifier, and its name is not used): this record the slow way.
                return self._fields_by_calls(record_type)
            rows.append((raw[:size].decode(), offset, bits, kind, t0, t1, file, line, col))
        return rows

    def children(self, cursor: Any) -> list[ChildRow]:
        """The children of ``cursor`` but macro expansions."""
        if not self._calls:
            return self._children_by_calls(cursor)
        rows = []
        make = self._cursor.from_buffer_copy
        for kind, raw_cursor, file, line, offset, size, raw in self._run(
                "children", _CHILD, cursor):
            if kind != _MACRO_DEFINITION:
                rows.append((kind, make(raw_cursor), 0, 0, 0, ""))
                continue
            # A definition's cursor is not needed, but to ask for a name longer than a row.
            name = raw[:size].decode() if size <= _NAME_MAX else self._c.string(
                self._c.spelling(make(raw_cursor)))
            rows.append((kind, None, file, line, offset, name))
        return rows

    def _run(self, name: str, row: struct.Struct, arg: Any) -> list[tuple]:
        cap, buf, view = self._bufs[name]
        n = self._calls[name](ctypes.addressof(arg), ctypes.addressof(buf), cap)
        if n > cap:
            cap, buf, view = self._grow(name, row, n)
            n = self._calls[name](ctypes.addressof(arg), ctypes.addressof(buf), cap)
        # Read whole before the walk goes on: it asks again, into the same buffer.
        return list(row.iter_unpack(view[:n * row.size]))

    def _grow(self, name: str, row: struct.Struct, cap: int) -> tuple[int, Any, memoryview]:
        buf = ctypes.create_string_buffer(row.size * cap)
        self._bufs[name] = (cap, buf, memoryview(buf).cast("B"))
        return self._bufs[name]

    def _fields_by_calls(self, record_type: Any) -> list[FieldRow]:
        c = self._c
        rows = []
        for f in c.fields(record_type):
            t = c.cursor_type(f)
            file, line, col, _ = c.expansion(c.location(f))
            rows.append((c.string(c.spelling(f)), c.field_offset(f), c.bit_width(f),
                         t._kind_id, t.data[0] or 0, t.data[1] or 0, file, line, col))
        return rows

    def _children_by_calls(self, cursor: Any) -> list[ChildRow]:
        c = self._c
        rows: list[ChildRow] = []
        for k in c.children(cursor):
            if k._kind_id != _MACRO_DEFINITION:
                rows.append((k._kind_id, k, 0, 0, 0, ""))
                continue
            file, line, _, offset = c.expansion(c.location(k))
            rows.append((_MACRO_DEFINITION, k, file, line, offset, c.string(c.spelling(k))))
        return rows
