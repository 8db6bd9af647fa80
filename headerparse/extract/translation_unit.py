"""What one arch's translation unit is: the headers, a prelude for libc's types, probes
for every object-like macro, and the compiler arguments. No libclang here: the GCC
oracle and the benchmarks build the same unit.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from headerparse.targets import Target

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


def compile_args(include_dir: Path, target: Target, defines: dict[str, str | None]) -> list[str]:
    args = ["-target", target.triple, "-x", "c", "-std=gnu99", "-ferror-limit=0",
            "-nostdinc", "-isystem", str(stub_dir(include_dir)),
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


def probe_source(headers: list[str], probes: list[str], prefix: str = "public/",
                 unprobed: Iterable[str] = ()) -> str:
    """The unit's main file: the headers, then a probe of each name of ``probes`` not in
    ``unprobed`` (numbered by its place in ``probes``)."""
    lines = [f'#include "{prefix}{h}"' for h in headers]
    skip = set(unprobed)
    # Each probe gets its own line so that a diagnostic on it names the macro.
    for i, name in enumerate(probes):
        if name in skip:
            continue
        lines.append(f"#ifdef {name}\nstatic const __typeof__(({name})) {PROBE}{i} = ({name});"
                     "\n#endif")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ literal macros
#
# Two thirds of the object-like macros are a plain integer literal: the walk reads
# their value off the source instead of probing them (:func:`literal_macros`).

Literal = tuple[str, int, int]      # the file, the byte offset of the name in it, the value

# A physical line's end defining NAME as an integer literal (in at most one pair of
# parentheses), with nothing after it but comments that end on the line.  Only
# what C reads as that literal and nothing more matches: no sign, only valid
# suffixes, no line splice (a backslash matches nowhere), no comment running on.
_LITERAL_LINE = re.compile(
    rb"define[ \t]+([A-Za-z_]\w*)[ \t]+(\(?)[ \t]*"
    rb"(?:0[xX]([0-9a-fA-F]+)|([1-9][0-9]*)|(0[0-7]*))"
    rb"(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?"
    rb"[ \t]*(\)?)[ \t]*(?:/\*(?:[^*\n]|\*(?!/))*\*/[ \t]*)*(?://[^\n]*)?$", re.M)
# Everything below over-counts (in comments, say): that only leaves a macro probed.
_SPLICE = re.compile(rb"\\[ \t\f\v]*\r?\n")
_ANY_DEFINE = re.compile(rb"define[ \t]+([A-Za-z_]\w*)")
_UNDEF = re.compile(rb"undef(?:\s|/\*.*?\*/)*([A-Za-z_]\w*)", re.S)
# The rest of a #pragma's line (poison, push_macro, deprecated... name macros there).
_PRAGMA = re.compile(rb"pragma((?:[^\n/]|/(?!\*)|/\*.*?\*/)*)", re.S)
_WORD = re.compile(rb"[A-Za-z_]\w*")
# Text that may undefine, restore or forbid a macro where no #undef or #pragma line
# shows it, or that names a probe: a tree holding it gets every macro probed.
_OPAQUE = (b"_Pragma", PROBE.encode())
_LIMIT = 2 ** 63


def literal_macros(files: Mapping[str, bytes], prelude: str = PRELUDE) -> dict[str, Literal]:
    """The object-like macros of ``files`` (the whole tree, by path) whose value the
    walk may take from their definition instead of a probe, each with where its name
    is and its value.

    Such a macro has one ``#define`` in the tree, a literal below 2**63, and is never
    named by an ``#undef`` or ``#pragma``: it is defined at the end of the unit, where a
    probe would evaluate it, exactly when the walk met its definition, and the literal
    is then its value.  The walk checks the rest (:mod:`.clangparse`): that the
    definition it met is the one at that offset (not a comment's text), and that no
    other one was made, by the compiler, the prelude or the command line.
    """
    # One text for the scans of the whole tree: a pass per file costs more in calls.
    text = b"\n".join([prelude.encode(), *files.values()])
    if any(word in text for word in _OPAQUE):
        return {}
    code = _SPLICE.sub(b"", text)
    counts = Counter(_ANY_DEFINE.findall(code))
    barred = set(_UNDEF.findall(code))
    for m in _PRAGMA.finditer(code):
        barred.update(_WORD.findall(m.group(1)))
    found: dict[str, Literal] = {}
    for path, data in files.items():
        # clang ends lines at a lone CR too: the line ends matched here would not be its.
        if b"\r" in data:
            continue
        for m in _LITERAL_LINE.finditer(data):
            name, opened, hexa, dec, octal, closed = m.groups()
            if (opened == b"(") != (closed == b")") or counts[name] != 1 or name in barred:
                continue
            value = int(hexa, 16) if hexa else int(dec) if dec else int(octal, 8)
            if value < _LIMIT:
                found[name.decode()] = (path, m.start(1), value)
    return found


# The literal macros of the last tree read, with what its files were (path, size,
# modification time, inode): the arches of a tree parsed in one process share them,
# also with a process forked after the first (see :func:`tree_literals`).
_memo: tuple[str, list[tuple[str, int, int, int]], str, dict[str, Literal]] | None = None


def tree_literals(root: Path, prelude: str = PRELUDE) -> dict[str, Literal]:
    """:func:`literal_macros` of the tree under ``root``.

    Reading them takes a hundredth of a second: a process about to fork parsers of
    the tree may call this first, for all of them.
    """
    global _memo
    files = _listing(str(root))
    if _memo is None or _memo[:3] != (str(root), files, prelude):
        table = literal_macros({rel: Path(root, rel).read_bytes() for rel, *_ in files},
                               prelude)
        _memo = (str(root), files, prelude, table)
    return _memo[3]


def _listing(root: str) -> list[tuple[str, int, int, int]]:
    """Every regular file under ``root``, by path, with its size, mtime and inode."""
    out = []
    todo = [("", root)]
    while todo:
        prefix, directory = todo.pop()
        with os.scandir(directory) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    todo.append((f"{prefix}{e.name}/", e.path))
                elif e.is_file():
                    st = e.stat()
                    out.append((prefix + e.name, st.st_size, st.st_mtime_ns, st.st_ino))
    return sorted(out)


def with_literals(probed: dict[str, int], probes: list[str], literals: dict[str, Literal],
                  defined: set[str]) -> dict[str, int]:
    """The values of the probes, ``probed`` and those of the ``defined`` literal macros,
    in the order of ``probes`` (which the probed values have, and the facts' bytes keep)."""
    values = {}
    for name in probes:
        if name in defined:
            values[name] = literals[name][2]
        else:
            value = probed.get(name)
            if value is not None:
                values[name] = value
    return values
