"""libclang front end: one translation unit per arch, walked into raw facts.

This is the only module that imports ``clang.cindex``. It knows nothing of
comments, markup or Sphinx: it returns per-arch facts (layouts, typedefs,
enums, which ``#define``s the preprocessor saw, macro values) and diagnostics,
and prints nothing. ``extract`` merges the arches into the model.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

import clang.cindex as ci

from headerparse.archfacts import ArchFacts, RawEnum, RawField, RawRecord, RawTypedef
from headerparse.model import Diagnostic, Hole, Layout, Loc, Member
from headerparse.targets import Target

__all__ = ["ArchFacts", "ClangUnavailable", "RawEnum", "RawField", "RawRecord", "RawTypedef",
           "compile_args", "parse_arch", "probe_source", "stub_dir"]

# The wheel ships no compiler headers and the parse must not see the host's:
# this prelude gives the public headers what they expect from <stdint.h>,
# <stddef.h> and <string.h>, from clang's own predefined macros so that every
# target gets its own widths.
PRELUDE = """\
typedef __INT8_TYPE__ int8_t;   typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t; typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t; typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t; typedef __UINT64_TYPE__ uint64_t;
typedef __INTPTR_TYPE__ intptr_t; typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTMAX_TYPE__ intmax_t; typedef __UINTMAX_TYPE__ uintmax_t;
typedef __SIZE_TYPE__ size_t; typedef __PTRDIFF_TYPE__ ptrdiff_t;
typedef __PTRDIFF_TYPE__ ssize_t;
typedef __WCHAR_TYPE__ wchar_t;
#define INT8_C(c) c
#define INT16_C(c) c
#define INT32_C(c) c
#define INT64_C(c) __INT64_C(c)
#define UINT8_C(c) c
#define UINT16_C(c) c
#define UINT32_C(c) c ## U
#define UINT64_C(c) __UINT64_C(c)
#define __INT64_C(c) c ## LL
#define __UINT64_C(c) c ## ULL
#define INT8_MAX __INT8_MAX__
#define INT16_MAX __INT16_MAX__
#define INT32_MAX __INT32_MAX__
#define INT64_MAX __INT64_MAX__
#define UINT8_MAX __UINT8_MAX__
#define UINT16_MAX __UINT16_MAX__
#define UINT32_MAX __UINT32_MAX__
#define UINT64_MAX __UINT64_MAX__
#define SIZE_MAX __SIZE_MAX__
#define NULL ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)
void *memcpy(void *, const void *, size_t);
void *memset(void *, int, size_t);
"""

# Empty system headers for the few public headers that include libc ones
# (io/libxenvchan.h): the prelude already declares what they use.
STUB_SYSTEM_HEADERS = ("stdint.h", "stddef.h", "stdbool.h", "sys/types.h", "string.h",
                       "inttypes.h", "limits.h")

MAIN = "/__headerparse__/main.c"
PRELUDE_PATH = "/__headerparse__/prelude.h"
PROBE = "__hp_probe_"
_HANDLE = re.compile(r"__guest_handle_(?:64_)?(\w+)")
_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
_INT_KINDS = {
    ci.TypeKind.BOOL, ci.TypeKind.CHAR_U, ci.TypeKind.UCHAR, ci.TypeKind.CHAR16,
    ci.TypeKind.CHAR32, ci.TypeKind.USHORT, ci.TypeKind.UINT, ci.TypeKind.ULONG,
    ci.TypeKind.ULONGLONG, ci.TypeKind.UINT128, ci.TypeKind.CHAR_S, ci.TypeKind.SCHAR,
    ci.TypeKind.WCHAR, ci.TypeKind.SHORT, ci.TypeKind.INT, ci.TypeKind.LONG,
    ci.TypeKind.LONGLONG, ci.TypeKind.INT128, ci.TypeKind.ENUM,
}
_BUILTIN_INT_KINDS = _INT_KINDS - {ci.TypeKind.ENUM}
_RECORD_KINDS = (ci.CursorKind.STRUCT_DECL, ci.CursorKind.UNION_DECL)
_ARRAY_KINDS = (ci.TypeKind.CONSTANTARRAY, ci.TypeKind.INCOMPLETEARRAY)


class ClangUnavailable(RuntimeError):
    pass


_index: ci.Index | None = None


def _get_index() -> ci.Index:
    global _index
    if _index is None:
        try:
            _index = ci.Index.create()
            _register_evaluate()
        except Exception as exc:  # the shared library failed to load
            raise ClangUnavailable(f"cannot load libclang: {exc}") from exc
    return _index


def _register_evaluate() -> None:
    # clang_Cursor_Evaluate is in libclang but not wrapped by the Python bindings.
    lib = ci.conf.lib
    lib.clang_Cursor_Evaluate.argtypes = [ci.Cursor]
    lib.clang_Cursor_Evaluate.restype = ctypes.c_void_p
    lib.clang_EvalResult_getKind.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_getKind.restype = ctypes.c_int
    lib.clang_EvalResult_isUnsignedInt.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_isUnsignedInt.restype = ctypes.c_uint
    lib.clang_EvalResult_getAsUnsigned.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_getAsUnsigned.restype = ctypes.c_ulonglong
    lib.clang_EvalResult_getAsLongLong.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_getAsLongLong.restype = ctypes.c_longlong
    lib.clang_EvalResult_dispose.argtypes = [ctypes.c_void_p]
    lib.clang_EvalResult_dispose.restype = None


def _evaluate_int(cursor: ci.Cursor) -> int | None:
    lib = ci.conf.lib
    res = lib.clang_Cursor_Evaluate(cursor)
    if not res:
        return None
    try:
        if lib.clang_EvalResult_getKind(res) != 1:   # CXEval_Int
            return None
        if lib.clang_EvalResult_isUnsignedInt(res):
            return int(lib.clang_EvalResult_getAsUnsigned(res))
        return int(lib.clang_EvalResult_getAsLongLong(res))
    finally:
        lib.clang_EvalResult_dispose(res)


def compile_args(include_dir: Path, target: Target, defines: dict[str, str | None]) -> list[str]:
    args = ["-target", target.triple, "-x", "c", "-std=gnu99", "-ferror-limit=0",
            "-fparse-all-comments", "-nostdinc", "-isystem", str(stub_dir(include_dir)),
            "-I", str(include_dir), "-include", PRELUDE_PATH]
    for name, value in defines.items():
        args.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return args


def stub_dir(include_dir: Path) -> Path:
    """Empty libc headers beside the materialized tree (content never varies)."""
    stubs = include_dir.parent / "stub-include"
    for name in STUB_SYSTEM_HEADERS:
        p = stubs / name
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("/* headerparse: provided by the built-in prelude */\n")
    return stubs


def probe_source(headers: list[str], probes: list[str]) -> str:
    lines = [f'#include "public/{h}"' for h in headers]
    # Each probe gets its own line so that a diagnostic on it names the macro.
    for i, name in enumerate(probes):
        lines.append(f"#ifdef {name}\nstatic const __typeof__(({name})) {PROBE}{i} = ({name});"
                     "\n#endif")
    return "\n".join(lines) + "\n"


def parse_arch(include_dir: Path, target: Target, headers: list[str], probes: list[str],
               defines: dict[str, str | None]) -> ArchFacts:
    """Parse every header of ``headers`` for one target in a single translation unit."""
    index = _get_index()
    source = probe_source(headers, probes)
    tu = index.parse(
        MAIN, args=compile_args(include_dir, target, defines),
        unsaved_files=[(MAIN, source), (PRELUDE_PATH, PRELUDE)],
        options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
        | ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES,
    )
    walker = _Walker(include_dir / "public", target.name)
    facts = walker.walk(tu, probes)
    return facts


class _Walker:
    def __init__(self, public_root: Path, arch: str) -> None:
        self.root = os.path.normpath(str(public_root)) + os.sep
        self.facts = ArchFacts(arch)
        self._lines: dict[str, list[bytes]] = {}
        self._nested_seen: set[tuple[str, int]] = set()
        self._walked: dict[ci.Cursor, tuple[list[Member], list[RawField]]] = {}
        self._paths: dict[str, str | None] = {}

    def rel(self, f: ci.File | None) -> str | None:
        if f is None:
            return None
        name = f.name
        rel = self._paths.get(name, "")
        if rel == "":
            p = os.path.normpath(name)
            rel = self._paths[name] = p[len(self.root):] if p.startswith(self.root) else None
        return rel

    def portable(self, spelled: str) -> str:
        """A clang spelling without this machine's path to the tree.

        Anonymous types are spelled ``struct (unnamed struct at /abs/path/pmu.h:42:5)``,
        also inside diagnostics; the model keeps ``pmu.h:42:5``, so that it does not
        depend on where the tree was materialized (the facts cache relies on this).
        """
        return spelled.replace(self.root, "")

    def loc(self, cursor: ci.Cursor) -> Loc | None:
        loc = cursor.location
        rel = self.rel(loc.file)
        return Loc(rel, loc.line, loc.column) if rel is not None else None

    def walk(self, tu: ci.TranslationUnit, probes: list[str]) -> ArchFacts:
        probe_lines = self._diagnostics(tu)
        for c in tu.cursor.get_children():
            kind = c.kind
            if kind == ci.CursorKind.MACRO_DEFINITION:
                where = self.loc(c)
                if where is not None:
                    self.facts.defines.add((c.spelling, where.file, where.line))
            elif kind == ci.CursorKind.INCLUSION_DIRECTIVE:
                self._include(c)
            elif kind in _RECORD_KINDS:
                if c.is_definition():
                    self._record(c)
            elif kind == ci.CursorKind.TYPEDEF_DECL:
                self._typedef(c)
            elif kind == ci.CursorKind.ENUM_DECL:
                self._enum(c)
            elif kind == ci.CursorKind.VAR_DECL and c.spelling.startswith(PROBE):
                self._probe(c, probes, probe_lines)
        return self.facts

    # ------------------------------------------------------------ diagnostics

    def _diagnostics(self, tu: ci.TranslationUnit) -> dict[int, str]:
        """Report header diagnostics; return probe-line errors (line -> message)."""
        probe_errors: dict[int, str] = {}
        for d in tu.diagnostics:
            if d.severity < ci.Diagnostic.Warning:
                continue
            f = d.location.file
            if f is not None and f.name == MAIN:
                if d.severity >= ci.Diagnostic.Error:
                    probe_errors.setdefault(d.location.line, self.portable(d.spelling))
                continue
            rel = self.rel(f)
            sev = "error" if d.severity >= ci.Diagnostic.Error else "warning"
            loc = Loc(rel, d.location.line, d.location.column) if rel else None
            if rel is None and f is not None:
                loc = Loc(f.name, d.location.line, d.location.column)
            self.facts.diagnostics.append(Diagnostic(
                rule="XC001" if sev == "error" else "XC002", severity=sev, loc=loc,
                message=self.portable(d.spelling), why="reported by clang while parsing the header",
                archs=(self.facts.arch,)))
        return probe_errors

    def _include(self, c: ci.Cursor) -> None:
        src = self.loc(c)
        try:
            inc = c.get_included_file()
        except Exception:   # the include failed; clang already reported it
            return
        dst = self.rel(inc)
        if dst is not None:
            self.facts.files_seen.add(dst)
            if src is not None:
                self.facts.includes.setdefault(src.file, set()).add(dst)

    # ------------------------------------------------------------ records

    def _nested_record(self, decl: ci.Cursor) -> None:
        """A tagged record declared inside another one (C puts its tag at file scope)."""
        spelled = decl.type.spelling
        if "(" in spelled or not spelled.startswith(("struct ", "union ")):
            return
        parent = decl.lexical_parent
        if parent is None or parent.kind not in _RECORD_KINDS:
            return
        where = (decl.location.file.name if decl.location.file else "", decl.location.offset)
        if where not in self._nested_seen:
            self._nested_seen.add(where)
            self._record(decl)

    def _record(self, c: ci.Cursor) -> None:
        where = self.loc(c)
        if where is None:
            return
        kind = "struct" if c.kind == ci.CursorKind.STRUCT_DECL else "union"
        spelled = c.type.spelling
        tagged = spelled.startswith(kind + " ") and "(" not in spelled
        if tagged:
            tag: str | None = spelled[len(kind) + 1:]
            key = spelled
        elif _IDENT.match(spelled):
            # typedef'd anonymous record: clang names it after the typedef
            tag, key = None, spelled
        else:
            return                      # an anonymous record used by a member: inlined there
        size, align = c.type.get_size(), c.type.get_align()
        if size < 0:
            return
        members: list[Member] = []
        fields: list[RawField] = []
        self._members(c, "", 0, members, fields)
        holes = _holes(kind, size, members, fields)
        layout = Layout(self.facts.arch, size, align, tuple(members), tuple(holes))
        self.facts.records.append(RawRecord(kind, tag, key, where, self._expanded_from(c),
                                            layout, fields))

    def _members(self, rec: ci.Cursor, prefix: str, base_bits: int,
                 members: list[Member], fields: list[RawField]) -> None:
        """The members of ``rec``, flattened, at ``base_bits`` under ``prefix``."""
        # Most records are walked more than once (as a member of others, as a
        # nested record of their own): walk each once and shift the copies.
        walked = self._walked.get(rec)
        if walked is None:
            walked = self._walked[rec] = ([], [])
            self._walk_members(rec, *walked)
        own_members, own_fields = walked
        if not prefix and not base_bits:
            members.extend(own_members)
            fields.extend(_moved(f, "") for f in own_fields)
            return
        for m in own_members:
            # Only bitfields may start inside a byte; the others start at offset * 8.
            at = base_bits + (m.offset * 8 if m.bit_offset is None else m.bit_offset)
            members.append(Member(prefix + m.path, m.type, at // 8, m.size,
                                  None if m.bit_offset is None else at, m.bit_size))
        fields.extend(_moved(f, prefix) for f in own_fields)

    def _walk_members(self, rec: ci.Cursor, members: list[Member], fields: list[RawField]
                      ) -> None:
        """The members of ``rec`` itself: paths from it, offsets from its start."""
        # Each libclang call costs a ctypes round trip: with ~7000 members per arch
        # the walk is most of a parse, so every value below is asked for once.
        for f in rec.type.get_fields():
            name = f.spelling
            off_bits = f.get_field_offsetof()
            ftype = f.type
            canon = ftype.get_canonical()
            canon_kind = canon.kind
            decl = canon.get_declaration()
            if not _IDENT.match(name):
                # C11 anonymous struct/union member: its members are accessed directly.
                self._members(decl, "", off_bits, members, fields)
                continue
            path = name
            bits = f.get_bitfield_width() if f.is_bitfield() else None
            size = ftype.get_size()
            flexible = ftype.kind == ci.TypeKind.INCOMPLETEARRAY
            members.append(Member(
                path=path, type=self.portable(ftype.spelling),
                offset=off_bits // 8, size=0 if flexible or size < 0 else size,
                bit_offset=off_bits if bits is not None else None, bit_size=bits))
            # A builtin integer's spelling names no guest handle.
            handle = (None if canon_kind in _BUILTIN_INT_KINDS
                      else _HANDLE.search(canon.spelling))
            loc = f.location
            fields.append(RawField(path, name, loc.line, loc.column,
                                   bits is not None, flexible,
                                   handle.group(1) if handle else None))
            if canon_kind == ci.TypeKind.RECORD and decl.kind in _RECORD_KINDS:
                self._members(decl, path + ".", off_bits, members, fields)
                self._nested_record(decl)
            elif canon_kind in _ARRAY_KINDS:
                elem = canon.element_type
                while elem.kind in _ARRAY_KINDS:
                    elem = elem.element_type
                if elem.kind == ci.TypeKind.RECORD:
                    self._nested_record(elem.get_declaration())

    def _expanded_from(self, c: ci.Cursor) -> str | None:
        """The macro whose expansion declared ``c`` (DEFINE_RING_TYPES, ...), if any."""
        # The extent starts at the `struct` keyword, or at the macro use that expanded to it.
        loc = c.extent.start
        if loc.file is None:
            return None
        lines = self._lines.get(loc.file.name)
        if lines is None:
            try:
                lines = Path(loc.file.name).read_bytes().splitlines()
            except OSError:
                lines = []
            self._lines[loc.file.name] = lines
        if not 0 < loc.line <= len(lines):
            return None
        # clang's columns count bytes: slicing decoded text would be off after any
        # non-ASCII character earlier on the line (in a comment, say).
        rest = lines[loc.line - 1][loc.column - 1:].decode("utf-8", errors="replace")
        m = re.match(r"\s*(\w+)", rest)
        word = m.group(1) if m else ""
        return None if word in ("struct", "union", "typedef", "") else word

    # ------------------------------------------------------------ typedefs, enums

    def _typedef(self, c: ci.Cursor) -> None:
        where = self.loc(c)
        if where is None:
            return
        under = c.underlying_typedef_type
        decl = under.get_canonical().get_declaration()
        target = None
        if decl.kind in _RECORD_KINDS or decl.kind == ci.CursorKind.ENUM_DECL:
            target = self.portable(decl.type.spelling)
        self.facts.typedefs.append(RawTypedef(c.spelling, where,
                                              self.portable(under.get_canonical().spelling),
                                              target))

    def _enum(self, c: ci.Cursor) -> None:
        where = self.loc(c)
        if where is None or not c.is_definition():
            return
        consts = []
        for k in c.get_children():
            if k.kind == ci.CursorKind.ENUM_CONSTANT_DECL:
                kloc = self.loc(k) or where
                consts.append((k.spelling, k.enum_value, kloc))
        self.facts.enums.append(RawEnum(self.portable(c.type.spelling), where, consts))

    def _probe(self, c: ci.Cursor, probes: list[str], errors: dict[int, str]) -> None:
        name = probes[int(c.spelling[len(PROBE):])]
        line = c.location.line
        if line in errors:
            self.facts.why_not[name] = errors[line]
            return
        canon = c.type.get_canonical()
        if canon.kind not in _INT_KINDS:
            self.facts.why_not[name] = ("not an integer: its type is "
                                        f"{self.portable(canon.spelling)}")
            return
        value = _evaluate_int(c)
        if value is None:
            self.facts.why_not[name] = "not a constant expression"
        else:
            self.facts.values[name] = value


def _moved(f: RawField, prefix: str) -> RawField:
    """A copy of ``f`` (each record owns its fields) with ``prefix`` before its path."""
    return RawField(prefix + f.path, f.name, f.line, f.col, f.bitfield, f.flexible,
                    f.guest_handle)


def _holes(kind: str, size: int, members: list[Member], fields: list[RawField]) -> list[Hole]:
    """Padding between the members of each struct scope, and at the end of the type."""
    if kind != "struct":
        return []
    scopes: dict[str, list[Member]] = {}
    for m in members:
        scope = m.path.rpartition(".")[0]
        scopes.setdefault(scope, []).append(m)
    holes: list[Hole] = []
    for scope, ms in scopes.items():
        holes.extend(_scope_holes(scope, ms, size if scope == "" else None))
    return sorted(holes, key=lambda h: h.offset)


def _scope_holes(scope: str, ms: list[Member], end: int | None) -> list[Hole]:
    spans = []
    for m in ms:
        if m.bit_size is not None and m.bit_offset is not None:
            lo, hi = m.bit_offset // 8, (m.bit_offset + m.bit_size + 7) // 8
        else:
            lo, hi = m.offset, m.offset + m.size
        spans.append((lo, hi, m.path))
    spans.sort()
    holes = []
    cursor, last = (spans[0][0] if spans else 0), None
    for lo, hi, path in spans:
        if lo > cursor:
            holes.append(Hole(cursor, lo - cursor, last, scope))
        if hi >= cursor:
            cursor, last = hi, path
    if end is not None and end > cursor and spans:
        holes.append(Hole(cursor, end - cursor, last, scope))
    return holes
