"""Prototype argument types the headers state, against the annotations' (XC106).

Xen's headers state hypercall prototypes twice over: backtick prototypes
(`` ` HYPERVISOR_multicall(multicall_entry_t call_list[], unsigned long nr_calls)``)
and prose ones (kexec.h's "Prototype for this hypercall is: int kexec_op(unsigned
long cmd, void *args)"). Xen fixed both by hand: a4180b03fffa (``int cmd`` where the
handler takes ``unsigned long``), d2bbb0d4554a (``uint32_t nr_calls`` where it takes
``unsigned long``). An argument is compared, per variant, by what a guest puts in the
register: a pointer, or an integer of a width and signedness (an enum's signedness is
the compiler's choice, so only its width counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from headerparse.checks.rules import Finding
from headerparse.model import Loc, Model, Param
from headerparse.variants import BY_NAME, Variant, slots

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# "int kexec_op(unsigned long cmd, void *args)" inside prose; backtick lines are the
# model's prototypes already.
_PROSE = re.compile(r"\b(?:HYPERVISOR_)?([a-z]\w*)\s*\(([^()`]*)\)")
_INTS = {"char": 1, "short": 2, "int": 4, "long long": 8}
_FIXED = re.compile(r"(u?)int(8|16|32|64)(?:_aligned)?_t")


@dataclass(frozen=True)
class Stated:
    """One prototype the headers state: where, how, and its parameters."""

    hypercall: str
    params: tuple[Param, ...]
    loc: Loc
    text: str


def stated_prototypes(model: Model, files: Mapping[str, bytes]) -> list[Stated]:
    """Backtick prototypes (the model's) and prose ones found in comments."""
    names = {h.name for h in model.hypercalls}
    out = [Stated(p.name.removeprefix("HYPERVISOR_"), p.params, p.loc, p.text)
           for p in model.prototypes if p.name.removeprefix("HYPERVISOR_") in names]
    for path, data in sorted(files.items()):
        out += _prose(path, data.decode("utf-8", "replace"), names)
    return out


def _prose(path: str, text: str, names: set[str]) -> Iterable[Stated]:
    for c in _COMMENT.finditer(text):
        body = c.group(0)
        for m in _PROSE.finditer(body):
            start = body.rfind("\n", 0, m.start()) + 1
            end = body.find("\n", m.start())
            line = body[start:end if end >= 0 else len(body)]
            if m.group(1) not in names or "`" in line or not _typed(body[start:m.start()]) \
                    or _LEGACY.search(_paragraph(body, start)):
                continue
            params = _params(m.group(2))
            if params is None:
                continue
            at = c.start() + m.start()
            loc = Loc(path, text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at))
            yield Stated(m.group(1), params, loc, " ".join(m.group(0).split()))


# sched.h: "Versions of Xen prior to 3.0.2 provided only the following legacy version
# of this hypercall: long sched_op(int cmd, unsigned long arg)" is history, not the call.
_LEGACY = re.compile(r"\b(?:legacy|prior to|obsolete|deprecated|older)\b", re.I)


def _paragraph(body: str, line_start: int) -> str:
    """The comment's text from the blank line before ``line_start`` to it."""
    before = body[:line_start]
    blank = max(before.rfind("\n *\n"), before.rfind("\n\n"))
    return before[blank + 1:] if blank >= 0 else before


def _typed(before: str) -> bool:
    """A return type right before the name: a prototype, not a call in prose."""
    return re.search(r"\b(?:int|long|void)\s*$", before) is not None


def _params(text: str) -> tuple[Param, ...] | None:
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part in ("...", "void", ""):
            continue
        m = re.fullmatch(r"(.*?[\s*])(\w+)\s*(\[\s*\])?", part)
        if m is None or not m.group(1).strip():
            return None
        out.append(Param(m.group(1).strip() + (" *" if m.group(3) else ""), m.group(2)))
    return tuple(out)


# --------------------------------------------------------------------------- types


def shape(ctype: str, v: Variant, model: Model, depth: int = 0) -> tuple[str, int, str] | None:
    """(pointer|int|enum, width in bytes, signedness) of a type on ``v``; None if unknown."""
    t = " ".join(re.sub(r"\b(?:const|volatile)\b", " ", ctype).split())
    word = v.bits // 8
    if "*" in t or "[" in t or t.startswith("XEN_GUEST_HANDLE"):
        return ("pointer", word, "")
    if t.startswith("enum "):
        return ("enum", 4, "")
    if m := _FIXED.fullmatch(t):
        return ("int", int(m.group(2)) // 8, "unsigned" if m.group(1) else "signed")
    if t in ("xen_ulong_t", "xen_long_t"):
        wide = 8 if v.family == "arm" else word
        return ("int", wide, "unsigned" if t == "xen_ulong_t" else "signed")
    words = t.split()
    sign = "unsigned" if "unsigned" in words else "signed"
    base = " ".join(w for w in words if w not in ("unsigned", "signed")) or "int"
    if base in ("long", "long int"):
        return ("int", word, sign)
    if base in _INTS:
        return ("int", _INTS[base], sign)
    if t in ("size_t", "uintptr_t"):
        return ("int", word, "unsigned")
    return _typedef(t, v, model, depth)


def _typedef(t: str, v: Variant, model: Model, depth: int) -> tuple[str, int, str] | None:
    if depth > 3:
        return None
    for td in model.typedefs:
        if td.name == t and v.arch in td.underlying:
            return shape(td.underlying[v.arch], v, model, depth + 1)
    return None


def _agree(a: tuple[str, int, str], b: tuple[str, int, str]) -> bool:
    if "pointer" in (a[0], b[0]):
        return a[0] == b[0]
    if "enum" in (a[0], b[0]):
        return True         # a backtick "enum" names the op group of values, not a C type
    return a == b


# --------------------------------------------------------------------------- the rule


#: (hypercall, register position, variant) -> (declared C type, where it is declared)
Declared = Mapping[tuple[str, int, str], tuple[str, Loc | None]]


def prototype_type_findings(model: Model, files: Mapping[str, bytes],
                            declared: Declared) -> list[Finding]:
    """XC106: a stated prototype whose argument has another type than the declared one."""
    if not declared:
        return []
    out = []
    for st in stated_prototypes(model, files):
        for i, p in enumerate(st.params):
            bad = _disagreeing(st, i, model, declared)
            if not bad:
                continue
            want = sorted({declared[(st.hypercall, pos, v)][0] for v, pos in bad.items()})
            variants = tuple(sorted(bad))
            name = p.name or f"argument {i + 1}"
            out.append(Finding(
                "XC106", _param_loc(st, p, files), f"the prototype '{st.text}' gives {name} "
                f"the type {p.type}, "
                f"but {st.hypercall} takes {' or '.join(want)} there "
                f"({', '.join(variants)})", f"HYPERVISOR_{st.hypercall}", variants,
                key=f"{st.hypercall}|{name}|{p.type}"))
    return out


def _param_loc(st: Stated, p: Param, files: Mapping[str, bytes]) -> Loc:
    """Where the parameter is written: a prototype spans lines, the type sits on one."""
    if not p.name:
        return st.loc
    lines = files.get(st.loc.file, b"").decode("utf-8", "replace").split("\n")
    word = re.compile(rf"\b{re.escape(p.name)}\b")
    for n in range(st.loc.line, min(st.loc.line + 8, len(lines)) + 1):
        m = word.search(lines[n - 1], st.loc.col if n == st.loc.line else 0)
        if m:
            return Loc(st.loc.file, n, m.start() + 1)
    return st.loc


def _disagreeing(st: Stated, i: int, model: Model, declared: Declared) -> dict[str, int]:
    """variant -> register position, where the declared type differs from the stated."""
    out = {}
    for (hc, _pos, vname) in declared:
        v = BY_NAME.get(vname)
        if hc != st.hypercall or v is None or v.arch not in model.archs:
            continue
        pos = 1 + sum(slots(q.type, v) for q in st.params[:i])
        got = declared.get((hc, pos, vname))
        # A 64-bit argument in two registers of a 32-bit guest: declared as its halves.
        if got is None or vname in out or slots(st.params[i].type, v) > 1:
            continue
        a, b = shape(st.params[i].type, v, model), shape(got[0], v, model)
        if a is not None and b is not None and not _agree(a, b):
            out[vname] = pos
    return out
