"""An ABI oracle for the Xen public headers that owes nothing to headerparse.

GCC (native and Debian cross compilers) computes sizes, alignments, member
offsets and macro values; the tests compare headerparse's libclang answers
with these.  Nothing here imports headerparse, so a bug there cannot hide
itself by also being in the oracle.
"""

from .gcc import (
    ARCH_CC,
    ARCHES,
    DEFAULT_DEFINES,
    OracleError,
    Report,
    compiler_for,
    gcc_layouts,
    gcc_macro_values,
)

__all__ = [
    "ARCHES",
    "ARCH_CC",
    "DEFAULT_DEFINES",
    "OracleError",
    "Report",
    "compiler_for",
    "gcc_layouts",
    "gcc_macro_values",
]
