"""What one arch's translation unit is: the headers, a prelude for libc's types, probes
for every object-like macro, and the compiler arguments. No libclang here: the GCC
oracle and the benchmarks build the same unit.
"""

from __future__ import annotations

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


def probe_source(headers: list[str], probes: list[str], prefix: str = "public/") -> str:
    lines = [f'#include "{prefix}{h}"' for h in headers]
    # Each probe gets its own line so that a diagnostic on it names the macro.
    for i, name in enumerate(probes):
        lines.append(f"#ifdef {name}\nstatic const __typeof__(({name})) {PROBE}{i} = ({name});"
                     "\n#endif")
    return "\n".join(lines) + "\n"
