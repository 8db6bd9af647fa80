"""What the walk (:mod:`.clangparse`) asks libclang, as rows of plain values: a record's
fields, a translation unit's top-level cursors with its macro definitions' places, and
what it asks of a record and of a member's type.

Each field costs seven libclang calls, a macro definition two or three, a record or a
type seven to ten, and through ctypes each call costs more than libclang's answer (of a
walk, ctypes and the interpreter took 85% and libclang 9%).  The C helper ``_rows.c``,
built at install time where a C compiler is, makes the calls of a whole record's fields,
a whole unit's cursors, a record or a type in one; without it the same rows come from
ctypes calls.  Both give the same rows (``tests/test_rows.py``).  The helper is handed
the addresses of libclang's functions the walk already loaded: this module does not
import the bindings.
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

# (canonical kind, declaration of the canonical type, size, canonical and own spellings, an
# array's innermost element kind (0: no array) and that element's declaration)
TypeRow = tuple[int, Any, int, str, str, int, Any]
# (file handle, line, column, its type's spelling, size and alignment, and where the
# cursor's extent starts: file handle, line, column)
RecordRow = tuple[int, int, int, str, int, int, int, int, int]

# _rows.c's Field and Child; a name field holds the first _NAME_MAX bytes of the name.
_FIELD = struct.Struct("<qiiQQQIII64s")
_CHILD = struct.Struct("<i32sQIII64s")
_NAME_MAX = 64
# Its TypeInfo and RecordInfo; a spelling field holds the first _SPELL_MAX bytes.
_TYPE = struct.Struct("<iiq32s32sII256s256s")
_RECORD = struct.Struct("<QIIqqQIII256s")
_SPELL_MAX = 256
_CONSTANT_ARRAY, _INCOMPLETE_ARRAY = 112, 114     # CXType_ConstantArray, _IncompleteArray
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
                     c_lib._expansion, c_lib._cstring, c_lib._dispose, c_lib.canonical,
                     c_lib.declaration, c_lib.element, c_lib.size, c_lib.align,
                     c_lib.type_spelling, c_lib.extent, c_lib.range_start)
        helper.hp_init((ctypes.c_void_p * len(functions))(
            *[ctypes.cast(f, ctypes.c_void_p).value for f in functions]))
        for name in ("fields", "children"):
            # PYFUNCTYPE: the call keeps the GIL, as the walk's own (see clangparse._Lib).
            self._calls[name] = ctypes.PYFUNCTYPE(
                ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint)(
                (f"hp_{name}", helper))
        for name in ("type", "record"):
            self._calls[name] = ctypes.PYFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(
                (f"hp_{name}", helper))
        self._grow("fields", _FIELD, 256)
        self._grow("children", _CHILD, 8192)
        self._grow("type", _TYPE, 1)
        self._grow("record", _RECORD, 1)

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

    def type_info(self, t: Any) -> TypeRow:
        """What the walk asks of a member's type ``t``."""
        if self._calls:
            _, buf, view = self._bufs["type"]
            self._calls["type"](ctypes.addressof(t), ctypes.addressof(buf))
            (canon_kind, elem_kind, size, decl, elem_decl, canon_len, type_len, canon,
             spelled) = _TYPE.unpack(view)
            if canon_len <= _SPELL_MAX and type_len <= _SPELL_MAX:
                make = self._cursor.from_buffer_copy
                return (canon_kind, make(decl), size, canon[:canon_len].decode(),
                        spelled[:type_len].decode(), elem_kind,
                        make(elem_decl) if elem_kind else None)
        c = self._c
        canon = c.canonical(t)
        elem_kind, elem_decl = 0, None
        if canon._kind_id in (_CONSTANT_ARRAY, _INCOMPLETE_ARRAY):
            elem = c.element(canon)
            while elem._kind_id in (_CONSTANT_ARRAY, _INCOMPLETE_ARRAY):
                elem = c.element(elem)
            elem_kind, elem_decl = elem._kind_id, c.declaration(elem)
        return (canon._kind_id, c.declaration(canon), c.size(t),
                c.string(c.type_spelling(canon)), c.string(c.type_spelling(t)),
                elem_kind, elem_decl)

    def record_info(self, cursor: Any) -> RecordRow:
        """What the walk asks of a record's cursor."""
        if self._calls:
            _, buf, view = self._bufs["record"]
            self._calls["record"](ctypes.addressof(cursor), ctypes.addressof(buf))
            (file, line, col, size, align, start_file, start_line, start_col, spell_len,
             spelled) = _RECORD.unpack(view)
            if spell_len <= _SPELL_MAX:
                return (file, line, col, spelled[:spell_len].decode(), size, align, start_file,
                        start_line, start_col)
        c = self._c
        file, line, col, _ = c.expansion(c.location(cursor))
        t = c.cursor_type(cursor)
        start_file, start_line, start_col, _ = c.expansion(c.range_start(c.extent(cursor)))
        return (file, line, col, c.string(c.type_spelling(t)), c.size(t), c.align(t),
                start_file, start_line, start_col)

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
