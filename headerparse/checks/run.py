"""All checks of one tree: prose and header facts against the annotations, layout, hygiene.

``run_checks`` is what ``headerparse check`` and ``headerparse review`` call; the
rule families live in :mod:`prose` (claims), :mod:`hygiene` (layout traps and
hygiene) and :mod:`abidiff` (version against version).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from headerparse.checks import abidiff, hygiene, prose, protos
from headerparse.checks.reference import Loaded, Reference, from_annotations
from headerparse.checks.rules import Finding
from headerparse.extract.commenttext import comment_lines
from headerparse.model import Comment, Diagnostic, Loc, Model, Prototype
from headerparse.variants import BY_NAME, slots

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet


@dataclass(frozen=True)
class CheckInput:
    files: Mapping[str, bytes]        # the header bytes the model was extracted from
    model: Model
    loaded: Loaded
    baseline: Model | None = None
    # Runtime-checked interface versions bumped since the last release (see abidiff).
    moved: frozenset[str] = frozenset()
    # The headers whose single-tree findings are wanted (review: the touched ones), None
    # for all: the checks that go header by header skip the others instead of finding
    # and dropping (what exists is still taken from the whole tree).
    only: frozenset[str] | None = None


#: A header that does not compile on an arch: errors on the established arches, warnings
#: on the young ports (the model's own diagnostics, see extract.merge).
COMPILE_RULES = ("XC001", "XC003")


def compile_findings(model: Model) -> list[Finding]:
    """The model's compile diagnostics as findings: a tree that does not compile says so."""
    return [Finding(d.rule, d.loc, d.message, d.symbol, archs=d.archs, severity=d.severity,
                    key=f"{d.loc.file if d.loc else ''}|{d.message}")
            for d in model.diagnostics if d.rule in COMPILE_RULES]


def run_checks(inp: CheckInput, only_files: Iterable[str] | None = None) -> list[Finding]:
    out = tree_findings(inp)
    if inp.baseline is not None:
        changes = abidiff.diff(inp.baseline, inp.model, inp.files, inp.moved)
        out += abidiff.diff_findings(changes)
    return in_files(out, only_files)


def tree_findings(inp: CheckInput) -> list[Finding]:
    """Every finding but the ABI diff's: what one tree says (and, with a baseline, which
    of its new symbols are undocumented)."""
    out: list[Finding] = compile_findings(inp.model)
    out += prose_findings(inp.model, inp.loaded.reference, inp.files, inp.only)
    out += fact_findings(inp.model, inp.loaded)
    out += protos.prototype_type_findings(inp.model, inp.files, inp.loaded.arg_types or {})
    out += hygiene.layout_findings(inp.model, inp.loaded.invariant, inp.loaded.translation,
                                   inp.only)
    out += hygiene.hygiene_findings(inp.model, inp.baseline, inp.files, inp.only)
    return in_files(out, inp.only)


def in_files(findings: list[Finding], only_files: Iterable[str] | None) -> list[Finding]:
    """``findings`` located in ``only_files`` (or nowhere); all of them when it is None."""
    if only_files is None:
        return findings
    keep = set(only_files)
    return [f for f in findings if f.loc is None or f.loc.file in keep]


def site_diagnostics(files: Mapping[str, bytes] | None, model: Model, aset: AnnotationSet,
                     annotation_diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """What the site's findings page shows besides the model's own: the annotations'
    diagnostics, then every check's findings (none without the tree's bytes)."""
    diags = list(annotation_diags)
    if files is None:
        return diags
    found = run_checks(CheckInput(files, model, from_annotations(aset, diags)))
    # The site lists the model's own diagnostics (compile errors included) already.
    return diags + [f.diagnostic() for f in found if f.rule not in COMPILE_RULES]


# --------------------------------------------------------------------------- contexts


def contexts(model: Model, ref: Reference) -> list[tuple[Comment, prose.Context]]:
    """The comments that talk about a hypercall, with the hypercall (and op) they document."""
    out: list[tuple[Comment, prose.Context]] = []
    for m in model.macros:
        if m.doc.before is None:
            continue
        ctx = _macro_context(model, ref, m.name, m.group)
        if ctx is not None:
            out.append((m.doc.before, ctx))
    for p in model.prototypes:
        hc = model.hypercall(p.name)
        if hc is None or hc.prototype is None or hc.prototype.loc != p.loc:
            continue
        comment = _comment_at(model, p.loc)
        if comment is not None:
            out.append((comment, prose.Context(hc.name, None, _params(hc), p.name)))
    return out


def _params(hc) -> tuple[str, ...]:
    proto = hc.prototype
    return tuple(p.name or f"arg{i}" for i, p in enumerate(proto.params, 1)) if proto else ()


def _macro_context(model: Model, ref: Reference, name: str,
                   group: str | None) -> prose.Context | None:
    if name.startswith("__HYPERVISOR_"):
        hc = model.hypercall(name)
        return prose.Context(hc.name, None, _params(hc), name) if hc else None
    if group is None:
        return None
    calls = model.hypercalls_for_group(group)
    if not calls:
        return None
    known = ref.hypercalls()
    # The hypercall the annotations describe, else the one that is not a compat alias.
    calls.sort(key=lambda h: (h.name not in known, h.name.endswith("_compat"), h.number))
    hc = calls[0]
    return prose.Context(hc.name, name, _params(hc), name)


def _comment_at(model: Model, loc: Loc) -> Comment | None:
    """The documenting comment that contains ``loc`` (prototypes live inside comments)."""
    for m in model.macros:
        c = m.doc.before
        if c is not None and c.loc.file == loc.file and c.loc.line <= loc.line <= c.end_line:
            return c
    for h in model.headers:
        for c in (h.doc.before,):
            if c is not None and c.loc.file == loc.file and c.loc.line <= loc.line <= c.end_line:
                return c
    for g in model.groups:
        c = g.doc.before
        if c is not None and c.loc.file == loc.file and c.loc.line <= loc.line <= c.end_line:
            return c
    return None


# --------------------------------------------------------------------------- prose


def prose_findings(model: Model, ref: Reference, files: Mapping[str, bytes],
                   only: frozenset[str] | None = None) -> list[Finding]:
    if not ref.facts:
        return []
    out: list[Finding] = []
    seen: set[tuple] = set()
    for comment, ctx in contexts(model, ref):
        if ctx.hypercall not in ref.hypercalls():
            continue
        if only is not None and comment.loc.file not in only:
            continue
        text, starts = _comment_text(comment)
        raw_lines = files.get(comment.loc.file, b"").decode("utf-8", "replace").split("\n")
        for claim in prose.claims(text, ctx):
            for c in prose.contradictions(claim, ctx, ref):
                loc = _loc_of(comment, starts, claim.offset, text, raw_lines)
                key = (c.rule, loc.file, claim.text, c.variants)
                if key in seen:
                    continue
                seen.add(key)
                out.append(Finding(c.rule, loc, c.message(ctx), ctx.symbol, c.variants,
                                   key=f"{claim.kind}|{claim.arg}|{claim.text}"))
    return out


def _comment_text(c: Comment) -> tuple[str, list[int]]:
    """The comment's lines without comment syntax, joined; and where each line starts."""
    lines = comment_lines(c.raw)
    starts, pos = [], 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln) + 1
    return "\n".join(lines), starts


def _loc_of(c: Comment, starts: list[int], offset: int, text: str,
            raw_lines: list[str]) -> Loc:
    idx = max(i for i, s in enumerate(starts) if s <= offset) if starts else 0
    line = c.loc.line + idx
    content = text[starts[idx]:].split("\n", 1)[0] if starts else ""
    col = offset - (starts[idx] if starts else 0) + 1
    if 0 < line <= len(raw_lines) and content:
        at = raw_lines[line - 1].find(content)
        if at >= 0:
            col += at
    return Loc(c.loc.file, line, col)


# --------------------------------------------------------------------------- facts


def fact_findings(model: Model, loaded: Loaded) -> list[Finding]:
    ref = loaded.reference
    out = _stale(model, ref) + _values(model, ref)
    out += _arity(model, ref, loaded.arity or {})
    out += _arg_types(model)
    return out


def _known_names(model: Model) -> set[str]:
    names = {m.name for m in model.macros}
    names |= {c.name for e in model.enums for c in e.constants}
    names |= {h.name for h in model.hypercalls}
    return names


def _stale(model: Model, ref: Reference) -> list[Finding]:
    names = _known_names(model)
    out, seen = [], set()
    for f in ref.facts:
        for kind, name in (("hypercall", f.hypercall), ("op", f.op), ("condition", f.when)):
            if name and name not in names and (kind, name) not in seen:
                seen.add((kind, name))
                out.append(Finding("XC101", f.loc, f"the annotations describe {kind} {name}, "
                                   "which the headers do not define", name))
    for s in ref.symbols:
        if s.name not in names:
            out.append(Finding("XC101", s.loc, f"the annotations name {s.name}, which the "
                               "headers do not define", s.name))
    return out


def _values(model: Model, ref: Reference) -> list[Finding]:
    out = []
    for s in ref.symbols:
        if s.value is None:
            continue
        values = {v for m in model.macros_named(s.name) for v in m.values.values()}
        values |= {v for e in model.enums for c in e.constants if c.name == s.name
                   for v in c.values.values()}
        if values and s.value not in values:
            got = ", ".join(str(v) for v in sorted(values))
            out.append(Finding("XC104", s.loc, f"the annotations record {s.name} = {s.value}, "
                               f"the headers define {got}", s.name))
    return out


def _arity(model: Model, ref: Reference, arity: Mapping[str, Mapping[str, int]]) -> list[Finding]:
    """Prototypes without '...' for calls that take more arguments on some variant."""
    out = []
    for hc in model.hypercalls:
        p = hc.prototype
        if p is None or p.variadic:
            continue
        more: dict[int, set[str]] = {}
        for f in ref.facts:
            if f.hypercall == hc.name and f.arg > _registers(p, f.variant) and f.used:
                more.setdefault(f.arg, set()).add(f.variant)
        for variant, n in arity.get(hc.name, {}).items():
            if n > _registers(p, variant):
                more.setdefault(n, set()).add(variant)
        if more:
            n = max(more)
            variants = tuple(sorted(set().union(*more.values())))
            out.append(Finding(
                "XC102", p.loc, f"the prototype of {p.name} takes {p.arity} argument(s) and no "
                f"'...', but the annotations say argument {n} is used on "
                f"{', '.join(variants)}", p.name, variants, key=f"{p.name}|{n}"))
    return out


def _registers(p: Prototype, variant: str) -> int:
    """Argument registers the prototype fills on ``variant``: annotations count registers,
    and a 32-bit guest passes a 64-bit argument (update_descriptor's u64) in two."""
    v = BY_NAME.get(variant)
    return sum(slots(a.type, v) for a in p.params) if v is not None else p.arity


_TYPE_NAME = re.compile(r"\b(?:struct|union)\s+(\w+)|\b(\w+_t)\b")


def _arg_types(model: Model) -> list[Finding]:
    """'@arg ==' text naming a type other than the op group's '=>' mapping."""
    records = {k for r in model.records for k in (r.key, *r.typedefs)}
    out = []
    for m in model.macros:
        g = model.group_of(m.name) if m.group else None
        expected = g.target_for(m.name) if g else None
        if not expected or not expected.startswith(("struct ", "union ")):
            continue
        hits = model.records_named(expected)
        if not hits:
            continue
        accepted = {expected, *(t for r in hits for t in r.typedefs)}
        for a in m.args:
            if a.name != "arg":
                continue
            named = {f"struct {s}" if s else t for s, t in _TYPE_NAME.findall(a.text)}
            named = {n for n in named if n in records or n.removeprefix("struct ") in records}
            if named and not named & accepted:
                loc = Loc(m.loc.file, a.line, 1)
                out.append(Finding(
                    "XC103", loc, f"@arg of {m.name} names {', '.join(sorted(named))}, but "
                    f"the mapping of {g.name} gives {expected}", m.name,
                    key=f"{m.name}|{','.join(sorted(named))}"))
    return out
