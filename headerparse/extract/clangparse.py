"""libclang front end: one translation unit per arch, walked into raw facts.

This is the only module that imports ``clang.cindex``. It knows nothing of
comments, markup or Sphinx: it returns per-arch facts (layouts, typedefs,
enums, which ``#define``s the preprocessor saw, macro values) and diagnostics,
and prints nothing. ``pipeline`` merges the arches into the model; what the
translation unit holds and how it is compiled is :mod:`.translation_unit`.
"""

from __future__ import annotations

import ctypes
import re
import struct
from pathlib import Path
from typing import Any

import clang.cindex as ci

from headerparse.extract import archfacts
from headerparse.extract.archfacts import ArchFacts, RawEnum, RawField, RawRecord, RawTypedef
from headerparse.extract.rows import Rows
from headerparse.extract.sourcewords import TreeText
from headerparse.extract.translation_unit import (
    MAIN,
    PRELUDE,
    PRELUDE_PATH,
    PROBE,
    Literal,
    compile_args,
    probe_source,
    tree_literals,
    with_literals,
)
from headerparse.model import Diagnostic, Layout, Loc, Member
from headerparse.targets import Target

__all__ = ["ArchFacts", "ClangUnavailable", "RawEnum", "RawField", "RawRecord", "RawTypedef",
           "parse_arch"]

_HANDLE = re.compile(r"__guest_handle_(?:64_)?(\w+)")
_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
_INT_KINDS = {
    ci.TypeKind.BOOL, ci.TypeKind.CHAR_U, ci.TypeKind.UCHAR, ci.TypeKind.CHAR16,
    ci.TypeKind.CHAR32, ci.TypeKind.USHORT, ci.TypeKind.UINT, ci.TypeKind.ULONG,
    ci.TypeKind.ULONGLONG, ci.TypeKind.UINT128, ci.TypeKind.CHAR_S, ci.TypeKind.SCHAR,
    ci.TypeKind.WCHAR, ci.TypeKind.SHORT, ci.TypeKind.INT, ci.TypeKind.LONG,
    ci.TypeKind.LONGLONG, ci.TypeKind.INT128, ci.TypeKind.ENUM,
}
# The walk compares kinds as the integers libclang returns, not as the bindings' enumerations.
_INT_KIND_IDS = frozenset(k.value for k in _INT_KINDS)
_BUILTIN_INT_KIND_IDS = frozenset(k.value for k in _INT_KINDS - {ci.TypeKind.ENUM})
_RECORD_KIND_IDS = frozenset((ci.CursorKind.STRUCT_DECL.value, ci.CursorKind.UNION_DECL.value))
_ARRAY_KIND_IDS = frozenset((ci.TypeKind.CONSTANTARRAY.value, ci.TypeKind.INCOMPLETEARRAY.value))
_STRUCT_DECL = ci.CursorKind.STRUCT_DECL.value
_ENUM_DECL = ci.CursorKind.ENUM_DECL.value
_TYPEDEF_DECL = ci.CursorKind.TYPEDEF_DECL.value
_VAR_DECL = ci.CursorKind.VAR_DECL.value
_MACRO_DEFINITION = ci.CursorKind.MACRO_DEFINITION.value
_INCLUSION_DIRECTIVE = ci.CursorKind.INCLUSION_DIRECTIVE.value
_MACRO_INSTANTIATION = ci.CursorKind.MACRO_INSTANTIATION.value
_RECORD = ci.TypeKind.RECORD.value
_ENUM = ci.TypeKind.ENUM.value
_ENUM_CONSTANT_DECL = ci.CursorKind.ENUM_CONSTANT_DECL.value
_UNSIGNED_KIND_IDS = frozenset(k.value for k in (
    ci.TypeKind.CHAR_U, ci.TypeKind.UCHAR, ci.TypeKind.CHAR16, ci.TypeKind.CHAR32,
    ci.TypeKind.USHORT, ci.TypeKind.UINT, ci.TypeKind.ULONG, ci.TypeKind.ULONGLONG,
    ci.TypeKind.UINT128))
# No bitfield has these types: their fields need not be asked for a width.
_AGGREGATE_KIND_IDS = _ARRAY_KIND_IDS | {_RECORD, ci.TypeKind.POINTER.value}
_INCOMPLETEARRAY = ci.TypeKind.INCOMPLETEARRAY.value


class ClangUnavailable(RuntimeError):
    pass


_index: ci.Index | None = None


def load() -> None:
    """Load libclang and the walk's entry points now: a process that forks parsers
    does it once for all of them (a hundredth of a second each)."""
    _get_index()
    _get_lib()


def _get_index() -> ci.Index:
    global _index
    if _index is None:
        try:
            _index = ci.Index.create()
        except Exception as exc:  # the shared library failed to load
            raise ClangUnavailable(f"cannot load libclang: {exc}") from exc
    return _index


def parse_arch(include_dir: Path, target: Target, headers: list[str], probes: list[str],
               defines: dict[str, str | None], *, prelude: str = PRELUDE,
               root: Path | None = None, args: list[str] | None = None,
               prefix: str = "public/") -> ArchFacts:
    """Parse every header of ``headers`` for one target in a single translation unit.

    Records may share their RawField and Member objects: the facts are for
    :func:`archfacts.dumps` to encode, not to edit.  The keywords let another
    environment (a consumer's copy of the headers, with its own prelude, include
    dirs and spelling of the header paths) be parsed alike; facts are then kept
    for the files under ``root``.
    """
    index = _get_index()
    root = root if root is not None else include_dir / "public"
    # Another environment's arguments may include or undefine what the tree does not show.
    table = tree_literals(root, prelude) if args is None else {}
    literals = {name: table[name] for name in probes if name in table}
    while True:
        source = probe_source(headers, probes, prefix, literals)
        tu = index.parse(
            MAIN, args=args if args is not None else compile_args(include_dir, target, defines),
            unsaved_files=[(MAIN, source), (PRELUDE_PATH, prelude)],
            options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
            | ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES,
        )
        facts = _Walker(root, target.name).walk(tu, probes, literals)
        if facts is not None:
            return facts
        literals = {}       # a literal macro defined elsewhere too: probe them all


_CXLoc = tuple[int, int, int, int]     # file handle (0: no file), line, column, offset
# clang_getInstantiationLocation's four results, as it writes them into one buffer.
_EXPANSION = struct.Struct("=QIII")
# A member type's spelling, size, flexible?, guest handle, canonical declaration, nested
# record, and whether it may be a bitfield's.
_TypeInfo = tuple[str, int, bool, str | None, ci.Cursor, ci.Cursor | None, bool]


class _CXString(ctypes.Structure):
    # libclang's CXString: ``data`` is the C string itself unless the flags say
    # it is a pooled buffer (_CXS_STRINGBUF).
    _fields_ = [("data", ctypes.c_char_p), ("flags", ctypes.c_uint)]


_CXS_UNMANAGED, _CXS_STRINGBUF = 0, 2


class _Lib:
    """The libclang entry points the walk calls, without the bindings' per-call wrappers.

    The bindings check every returned cursor against the null cursor (two more
    calls), wrap files and strings in objects and resolve kinds to enumerations:
    with ~50000 calls per arch that doubles the walk.  Cursors and types here are
    the bindings' structures (kinds read from their ``_kind_id`` field), so the
    bindings' own methods still work on them where the walk is not hot.  The calls
    keep the GIL (``PYFUNCTYPE``): each is far shorter than releasing and taking it
    back, which cost a sixth of a call.
    """

    def __init__(self) -> None:
        lib = ci.conf.lib
        cur, typ, loc = ci.Cursor, ci.Type, ci.SourceLocation

        def fn(name: str, argtypes: list, restype: object) -> Any:
            # A fresh function object: the bindings' own keeps its errcheck.
            return ctypes.PYFUNCTYPE(restype, *argtypes)((name, lib))

        self.location = fn("clang_getCursorLocation", [cur], loc)
        self.extent = fn("clang_getCursorExtent", [cur], ci.SourceRange)
        self.range_start = fn("clang_getRangeStart", [ci.SourceRange], loc)
        self.spelling = fn("clang_getCursorSpelling", [cur], _CXString)
        self.cursor_type = fn("clang_getCursorType", [cur], typ)
        self.is_definition = fn("clang_isCursorDefinition", [cur], ctypes.c_uint)
        self.lexical_parent = fn("clang_getCursorLexicalParent", [cur], cur)
        self.field_offset = fn("clang_Cursor_getOffsetOfField", [cur], ctypes.c_longlong)
        self.bit_width = fn("clang_getFieldDeclBitWidth", [cur], ctypes.c_int)
        self.underlying = fn("clang_getTypedefDeclUnderlyingType", [cur], typ)
        self.canonical = fn("clang_getCanonicalType", [typ], typ)
        self.declaration = fn("clang_getTypeDeclaration", [typ], cur)
        self.element = fn("clang_getElementType", [typ], typ)
        self.size = fn("clang_Type_getSizeOf", [typ], ctypes.c_longlong)
        self.align = fn("clang_Type_getAlignOf", [typ], ctypes.c_longlong)
        self.type_spelling = fn("clang_getTypeSpelling", [typ], _CXString)
        self.file_name = fn("clang_getFileName", [ctypes.c_void_p], _CXString)
        self._cstring = fn("clang_getCString", [_CXString], ctypes.c_char_p)
        self._dispose = fn("clang_disposeString", [_CXString], None)
        # The four out-pointers as plain addresses into one buffer: byref objects
        # cost as much again as the call.
        ptr = ctypes.c_void_p
        self._expansion = fn("clang_getInstantiationLocation", [loc, ptr, ptr, ptr, ptr], None)
        self._visit_fields = fn("clang_Type_visitFields",
                                [typ, ci.callbacks["fields_visit"], ctypes.py_object],
                                ctypes.c_uint)
        self._visit_children = fn("clang_visitChildren",
                                  [cur, ci.callbacks["cursor_visit"], ctypes.py_object],
                                  ctypes.c_uint)
        # clang_Cursor_Evaluate and its results: in libclang, not wrapped by the bindings.
        self._evaluate = fn("clang_Cursor_Evaluate", [cur], ptr)
        self._eval_kind = fn("clang_EvalResult_getKind", [ptr], ctypes.c_int)
        self._eval_unsigned = fn("clang_EvalResult_isUnsignedInt", [ptr], ctypes.c_uint)
        self._eval_as_unsigned = fn("clang_EvalResult_getAsUnsigned", [ptr], ctypes.c_ulonglong)
        self._eval_as_signed = fn("clang_EvalResult_getAsLongLong", [ptr], ctypes.c_longlong)
        self._eval_dispose = fn("clang_EvalResult_dispose", [ptr], None)
        self._num_diagnostics = fn("clang_getNumDiagnostics", [ptr], ctypes.c_uint)
        self._diagnostic = fn("clang_getDiagnostic", [ptr, ctypes.c_uint], ptr)
        self._severity = fn("clang_getDiagnosticSeverity", [ptr], ctypes.c_int)
        self._diagnostic_loc = fn("clang_getDiagnosticLocation", [ptr], loc)
        self._diagnostic_text = fn("clang_getDiagnosticSpelling", [ptr], _CXString)
        self._diagnostic_dispose = fn("clang_disposeDiagnostic", [ptr], None)
        self.included = fn("clang_getIncludedFile", [cur], ptr)
        self.enum_type = fn("clang_getEnumDeclIntegerType", [cur], typ)
        self.enum_signed = fn("clang_getEnumConstantDeclValue", [cur], ctypes.c_longlong)
        self.enum_unsigned = fn("clang_getEnumConstantDeclUnsignedValue", [cur],
                                ctypes.c_ulonglong)
        self._field_cb = ci.callbacks["fields_visit"](_collect_field)
        self._child_cb = ci.callbacks["cursor_visit"](_collect_child)
        self._buf = ctypes.create_string_buffer(_EXPANSION.size)
        at = ctypes.addressof(self._buf)
        self._outs = (at, at + 8, at + 12, at + 16)
        self.rows = Rows(self, ci.Cursor)

    def string(self, cx: _CXString) -> str:
        # Read in place and disposed of only when libclang owns a copy: most
        # spellings are references to its identifier table, which need neither call.
        flags = cx.flags
        s = self._cstring(cx) if flags == _CXS_STRINGBUF else cx.data
        if flags != _CXS_UNMANAGED:
            self._dispose(cx)
        return s.decode() if s is not None else ""

    def evaluate_int(self, c: ci.Cursor) -> int | None:
        res = self._evaluate(c)
        if not res:
            return None
        try:
            if self._eval_kind(res) != 1:   # CXEval_Int
                return None
            return self._eval_as_unsigned(res) if self._eval_unsigned(res) \
                else self._eval_as_signed(res)
        finally:
            self._eval_dispose(res)

    def diagnostics(self, tu: ci.TranslationUnit) -> list[tuple[int, _CXLoc, str]]:
        """Severity, place and text of each diagnostic of ``tu`` from a warning up."""
        out = []
        for i in range(self._num_diagnostics(tu.obj)):
            d = self._diagnostic(tu.obj, i)
            severity = self._severity(d)
            if severity >= ci.Diagnostic.Warning:
                out.append((severity, self.expansion(self._diagnostic_loc(d)),
                            self.string(self._diagnostic_text(d))))
            self._diagnostic_dispose(d)
        return out

    def expansion(self, loc: ci.SourceLocation) -> _CXLoc:
        """File handle (0: none), line, column and offset: ``SourceLocation``'s, in one call."""
        self._expansion(loc, *self._outs)
        return _EXPANSION.unpack_from(self._buf)

    def fields(self, t: ci.Type) -> list[ci.Cursor]:
        out: list[ci.Cursor] = []
        self._visit_fields(t, self._field_cb, out)
        return out

    def children(self, c: ci.Cursor) -> list[ci.Cursor]:
        """The children of ``c`` but macro expansions (as bare cursors: no TU attached)."""
        out: list[ci.Cursor] = []
        self._visit_children(c, self._child_cb, out)
        return out


def _collect_field(field: ci.Cursor, out: list[ci.Cursor]) -> int:
    out.append(field)
    return 1    # CXVisit_Continue


def _collect_child(child: ci.Cursor, _parent: ci.Cursor, data: list[ci.Cursor]) -> int:
    if child._kind_id == _MACRO_INSTANTIATION:   # half of them, and the walk wants none
        return 1
    data.append(child)
    return 1    # CXChildVisit_Continue


_lib: _Lib | None = None
_TypeData = ctypes.c_void_p * 2


def _get_lib() -> _Lib:
    global _lib
    if _lib is None:
        _lib = _Lib()
    return _lib


class _Walker:
    def __init__(self, public_root: Path, arch: str) -> None:
        self.facts = ArchFacts(arch)
        self.c = _get_lib()
        self.text = TreeText(public_root)
        self.portable = self.text.portable
        self._nested_seen: set[tuple[str, int]] = set()
        # Keyed by declaration (a cursor's first pointer, as clang_hashCursor): hashing
        # and comparing the bindings' cursors costs two libclang calls a lookup.
        self._walked: dict[int, tuple[list[Member], list[RawField]]] = {}
        self._nested_done: set[int] = set()
        self._types: dict[int, _TypeInfo] = {}
        self._names: dict[int, str] = {}
        self._rels: dict[int, str | None] = {}

    def file_name(self, handle: int) -> str:
        name = self._names.get(handle)
        if name is None:
            name = self._names[handle] = self.c.string(self.c.file_name(handle))
        return name

    def rel_handle(self, handle: int) -> str | None:
        """The public-relative path of a libclang file handle (None: not a public header)."""
        if not handle:
            return None
        rel = self._rels.get(handle, "")
        if rel == "":
            rel = self._rels[handle] = self.text.rel(self.file_name(handle))
        return rel

    def loc(self, cursor: ci.Cursor) -> Loc | None:
        f, line, col, _ = self.c.expansion(self.c.location(cursor))
        rel = self.rel_handle(f)
        return Loc(rel, line, col) if rel is not None else None

    def walk(self, tu: ci.TranslationUnit, probes: list[str], literals: dict[str, Literal]
             ) -> ArchFacts | None:
        """The facts of ``tu``, whose probes leave out the macros of ``literals``; None when
        one of those was defined somewhere else as well (then nothing tells its value)."""
        probe_lines = self._diagnostics(tu)
        c_lib = self.c
        defined: set[str] = set()       # the literal macros met at their definition
        for kind, c, f, line, offset, name in c_lib.rows.children(tu.cursor):
            if kind == _MACRO_DEFINITION:
                rel = self.rel_handle(f)
                if rel is None and not literals:   # the compiler's, prelude's, command line's
                    continue
                if rel is not None:
                    self.facts.defines.add((name, rel, line))
                if name in literals:
                    if literals[name][:2] != (rel, offset):
                        return None
                    defined.add(name)
            elif kind == _INCLUSION_DIRECTIVE:
                self._include(c)
            elif kind in _RECORD_KIND_IDS:
                if c_lib.is_definition(c):
                    self._record(c)
            elif kind == _TYPEDEF_DECL:
                self._typedef(c)
            elif kind == _ENUM_DECL:
                self._enum(c)
            elif kind == _VAR_DECL:
                name = c_lib.string(c_lib.spelling(c))
                if name.startswith(PROBE):
                    self._probe(c, name, probes, probe_lines)
        if defined:
            self.facts.values = with_literals(self.facts.values, probes, literals, defined)
        return self.facts

    # ------------------------------------------------------------ diagnostics

    def _diagnostics(self, tu: ci.TranslationUnit) -> dict[int, str]:
        """Report header diagnostics; return probe-line errors (line -> message)."""
        probe_errors: dict[int, str] = {}
        for severity, (f, line, col, _), spelled in self.c.diagnostics(tu):
            error = severity >= ci.Diagnostic.Error
            if f and self.file_name(f) == MAIN:
                if error:
                    probe_errors.setdefault(line, self.portable(spelled))
                continue
            rel = self.rel_handle(f)
            loc = Loc(rel, line, col) if rel else None
            if rel is None and f:
                loc = Loc(self.file_name(f), line, col)
            self.facts.diagnostics.append(Diagnostic(
                rule="XC001" if error else "XC002", severity="error" if error else "warning",
                loc=loc, message=self.portable(spelled),
                why="reported by clang while parsing the header", archs=(self.facts.arch,)))
        return probe_errors

    def _include(self, c: ci.Cursor) -> None:
        src = self.loc(c)
        dst = self.rel_handle(self.c.included(c))     # None too when the include failed
        if dst is not None:
            self.facts.files_seen.add(dst)
            if src is not None:
                self.facts.includes.setdefault(src.file, set()).add(dst)

    # ------------------------------------------------------------ records

    def _nested_record(self, decl: ci.Cursor) -> None:
        """A tagged record declared inside another one (C puts its tag at file scope)."""
        # Asked once per declaration: members of the same record type are many.
        if decl.data[0] in self._nested_done:
            return
        self._nested_done.add(decl.data[0])
        c_lib = self.c
        spelled = c_lib.string(c_lib.type_spelling(c_lib.cursor_type(decl)))
        if "(" in spelled or not spelled.startswith(("struct ", "union ")):
            return
        if c_lib.lexical_parent(decl)._kind_id not in _RECORD_KIND_IDS:
            return
        f, _, _, offset = c_lib.expansion(c_lib.location(decl))
        where = (self.file_name(f) if f else "", offset)
        if where not in self._nested_seen:
            self._nested_seen.add(where)
            self._record(decl)

    def _record(self, c: ci.Cursor) -> None:
        f, line, col, spelled, size, align, *start = self.c.rows.record_info(c)
        rel = self.rel_handle(f)
        if rel is None:
            return
        where = Loc(rel, line, col)
        kind = "struct" if c._kind_id == _STRUCT_DECL else "union"
        tagged = spelled.startswith(kind + " ") and "(" not in spelled
        if tagged:
            tag: str | None = spelled[len(kind) + 1:]
            key = spelled
        elif _IDENT.match(spelled):
            # typedef'd anonymous record: clang names it after the typedef
            tag, key = None, spelled
        else:
            return                      # an anonymous record used by a member: inlined there
        if size < 0:
            return
        members: list[Member] = []
        fields: list[RawField] = []
        self._members(c, "", 0, members, fields)
        holes = archfacts.holes(kind, size, members)
        layout = Layout(self.facts.arch, size, align, tuple(members), tuple(holes))
        self.facts.records.append(RawRecord(kind, tag, key, where, self._expanded_from(*start),
                                            layout, tuple(fields)))

    def _members(self, rec: ci.Cursor, prefix: str, base_bits: int,
                 members: list[Member], fields: list[RawField]) -> None:
        """The members of ``rec``, flattened, at ``base_bits`` under ``prefix``."""
        # Most records are walked more than once (as a member of others, as a
        # nested record of their own): walk each once and shift the copies.
        walked = self._walked.get(rec.data[0])
        if walked is None:
            walked = self._walked[rec.data[0]] = ([], [])
            self._walk_members(rec, *walked)
        own_members, own_fields = walked
        member = archfacts.member
        if not prefix and not base_bits:
            # Shared, not copied: the facts are only ever encoded (archfacts.dumps).
            members.extend(own_members)
            fields.extend(own_fields)
            return
        for m in own_members:
            # Only bitfields may start inside a byte; the others start at offset * 8.
            at = base_bits + (m.offset * 8 if m.bit_offset is None else m.bit_offset)
            members.append(member(prefix + m.path, m.type, at // 8, m.size,
                                  None if m.bit_offset is None else at, m.bit_size))
        fields.extend([(prefix + f[0], *f[1:]) for f in own_fields])

    def _walk_members(self, rec: ci.Cursor, members: list[Member], fields: list[RawField]
                      ) -> None:
        """The members of ``rec`` itself: paths from it, offsets from its start."""
        # With ~7000 members per arch the walk is most of a parse: a field's values come
        # in one row (:mod:`.rows`), and what depends on its type alone is asked
        # for once per type (:meth:`_type`).
        types = self._types
        member = archfacts.member
        for name, off_bits, width, kind, t0, t1, handle_file, line, col in self.c.rows.fields(
                self.c.cursor_type(rec)):
            info = types.get(t0)
            if info is None:
                info = self._type(ci.Type(kind, _TypeData(t0, t1)))
            spelled, size, flexible, handle, decl, nested, scalar = info
            if not _IDENT.match(name):
                # C11 anonymous struct/union member: its members are accessed directly.
                self._members(decl, "", off_bits, members, fields)
                continue
            # -1: not a bitfield (in C; C++'s value-dependent widths answer -1 too).
            bits = width if width >= 0 and scalar else None
            if bits is None:
                members.append(member(name, spelled, off_bits // 8, size, None, None))
            else:
                members.append(member(name, spelled, off_bits // 8, size, off_bits, bits))
            fields.append((name, name, line, col, bits is not None, flexible, handle,
                           self.rel_handle(handle_file)))
            if nested is decl:
                self._members(decl, name + ".", off_bits, members, fields)
                self._nested_record(decl)
            elif nested is not None:
                self._nested_record(nested)

    def _type(self, ftype: ci.Type) -> _TypeInfo:
        """What a member of type ``ftype`` takes from its type: its spelling, size,
        whether it is a flexible array, the guest handle it names, the canonical type's
        declaration and the record it nests (``decl`` itself when the member is one).

        A type's first field asks for these, the others reuse them: within one
        translation unit a type is one pointer (clang uniques its types), the key.
        """
        canon_kind, decl, size, canon_spelled, spelled, elem_kind, elem_decl = \
            self.c.rows.type_info(ftype)
        flexible = ftype._kind_id == _INCOMPLETEARRAY
        # A builtin integer's spelling names no guest handle.
        handle = (None if canon_kind in _BUILTIN_INT_KIND_IDS
                  else _HANDLE.search(canon_spelled))
        nested: ci.Cursor | None = None
        if canon_kind == _RECORD and decl._kind_id in _RECORD_KIND_IDS:
            nested = decl
        elif elem_kind == _RECORD:      # an array's innermost element
            nested = elem_decl
        info = self._types[ftype.data[0]] = (
            self.portable(spelled),
            0 if flexible or size < 0 else size, flexible,
            handle.group(1) if handle else None, decl, nested,
            canon_kind not in _AGGREGATE_KIND_IDS)
        return info

    def _expanded_from(self, f: int, line: int, col: int) -> str | None:
        """The macro whose expansion declared a record (DEFINE_RING_TYPES, ...), if any,
        from where its extent starts: at the `struct` keyword, or at the macro use that
        expanded to it."""
        if not f:
            return None
        word = self.text.word_at(self.file_name(f), line, col)
        return None if word in ("struct", "union", "typedef", "") else word

    # ------------------------------------------------------------ typedefs, enums

    def _typedef(self, c: ci.Cursor) -> None:
        where = self.loc(c)
        if where is None:
            return
        c_lib = self.c
        canon = c_lib.canonical(c_lib.underlying(c))
        decl = c_lib.declaration(canon)
        target = None
        if decl._kind_id in _RECORD_KIND_IDS or decl._kind_id == _ENUM_DECL:
            target = self.portable(c_lib.string(c_lib.type_spelling(c_lib.cursor_type(decl))))
        self.facts.typedefs.append(RawTypedef(
            c_lib.string(c_lib.spelling(c)), where,
            self.portable(c_lib.string(c_lib.type_spelling(canon))), target))

    def _enum(self, c: ci.Cursor) -> None:
        where = self.loc(c)
        c_lib = self.c
        if where is None or not c_lib.is_definition(c):
            return
        consts = []
        for k in c_lib.children(c):
            if k._kind_id == _ENUM_CONSTANT_DECL:
                # The bindings' Cursor.enum_value: the enum's integer type tells the sign.
                t = c_lib.cursor_type(k)
                if t._kind_id == _ENUM:
                    t = c_lib.enum_type(c_lib.declaration(t))
                value = (c_lib.enum_unsigned(k) if t._kind_id in _UNSIGNED_KIND_IDS
                         else c_lib.enum_signed(k))
                consts.append((c_lib.string(c_lib.spelling(k)), value, self.loc(k) or where))
        self.facts.enums.append(RawEnum(
            self.portable(c_lib.string(c_lib.type_spelling(c_lib.cursor_type(c)))), where, consts))

    def _probe(self, c: ci.Cursor, spelled: str, probes: list[str], errors: dict[int, str]
               ) -> None:
        name = probes[int(spelled[len(PROBE):])]
        _, line, _, _ = self.c.expansion(self.c.location(c))
        if line in errors:
            self.facts.why_not[name] = errors[line]
            return
        canon = self.c.canonical(self.c.cursor_type(c))
        if canon._kind_id not in _INT_KIND_IDS:
            self.facts.why_not[name] = ("not an integer: its type is "
                                        f"{self.portable(self.c.string(self.c.type_spelling(canon)))}")
            return
        value = self.c.evaluate_int(c)
        if value is None:
            self.facts.why_not[name] = "not a constant expression"
        else:
            self.facts.values[name] = value

