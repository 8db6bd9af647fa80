"""Normative claims in comment prose, and where they contradict the annotations.

Precision comes first: a sentence yields a claim only when it has a normative
trigger ("must", "should pass zero", "optional", "ignored", "free for use", ...),
names (or clearly refers back to) a hypercall argument, and sits in a comment
whose hypercall the annotations describe.  Scope is read from the variants the
prose names ("x86 PV guests", "HVM and Arm guests", "32-bit"); prose that names
none speaks for every variant.  A claim is compared with the annotation of each
variant in its scope; anything not covered is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from headerparse.checks.reference import REQUIRED, ArgExpectation, Reference
from headerparse.variants import CALLING, register_positions

# ----------------------------------------------------------------- vocabulary

_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
             "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6}
# Hypercall argument registers (Xen's hypercall ABI), lower-case: name -> (index, family).
_REGISTERS = register_positions()
# Prose can only speak of the variants whose calling convention is known.
_NAMES = tuple(v.name for v in CALLING)
_ARG_WORD = r"(?:argument|arg|parameter|param|register)"
_ORDINAL_RE = re.compile(
    r"\b(" + "|".join(_ORDINALS) + r")\s+(?:hypercall\s+|extra\s+|additional\s+)?"
    + _ARG_WORD + r"\b(?!\s*\(s\)|s\b)", re.I)
_EXTRA_RE = re.compile(r"\b(?:an?\s+|the\s+)?(?:additional|extra)\s+(?:extra\s+)?"
                       r"(?:argument|parameter)\b(?!\s*\(s\)|s\b)", re.I)
_REG_RE = re.compile(r"(?<![\w/])(" + "|".join(sorted(_REGISTERS, key=len, reverse=True))
                     + r")(?![\w])", re.I)
_AT_RE = re.compile(r"@(\w+)")

_NEG = r"(?:not|never|n't)"
_MODAL = (r"(?:must|shall|should|ought\s+to|needs?\s+to|has\s+to|have\s+to|"
          r"(?:is|are)\s+(?:required|expected|supposed)\s+to|required\s+to)")
_ZERO = r"(?:0|0x0+|zero|null|nul)\b"

_TRIGGERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((k, re.compile(p, re.I)) for k, p in (
    ("optional", r"\b(?:optional(?:ly)?|may\s+be\s+omitted|need\s+not|needn't|"
                 r"(?:does|do)\s*(?:not|n't)\s+(?:need|have)\s+to|"
                 r"(?:is|are)\s*(?:not|n't)\s+(?:required|mandatory|necessary|needed))\b"),
    ("any", r"\b(?:free\s+for\s+(?:the\s+)?(?:\w+'s\s+|\w+\s+)?(?:own\s+)?use|"
            r"any\s+value|can\s+be\s+anything|may\s+be\s+anything|whatever\s+value|"
            r"arbitrary\s+values?|(?:is|are)\s*(?:not|n't)\s+(?:checked|validated)|"
            r"(?:does|do)\s*(?:not|n't)\s+matter)\b"),
    ("unused", r"\b(?:unused|ignored|ignores|(?:is|are)\s*(?:not|n't)\s+used|never\s+used|"
               r"(?:has|have)\s+no\s+(?:meaning|effect)|meaningless|never\s+reads?|"
               r"(?:is|are)\s*(?:not|n't)\s+(?:read|consumed|looked\s+at)|"
               r"(?:does|do)\s*(?:not|n't)\s+(?:use|read|look\s+at))\b"),
    ("zero", _MODAL + r"(?:\s+\w+){0,2}?\s+(?:be\s+(?:set\s+to\s+|zeroed|)|"
             r"(?:set|pass|leave|put|contain|hold|use|specify|provide|clear)\b[^.;:]{0,40}?"
             r"\b(?:to\s+|as\s+|in\s+|with\s+)?)" + _ZERO),
    ("zero", r"\b(?:is|are)\s+reserved\b(?!\s+for\s+(?:the\s+)?(?:guest|vm|os|domain)'?s?\b)"),
    ("value", _MODAL + r"(?:\s+(?:also|always|then|first|instead))?\s+"
              r"(?:be\s+(?:set\s+to\s+)?|set|pass|contain|hold|specify|provide|point|give|"
              r"supply|load|put)\b"),
    ("zero", r"\b(?:and\s+)?(?:0|zero|null)\s+otherwise\b"),
    ("value", r"\b(?:takes?|requires?)\s+an?\s+(?:additional|extra)\s+(?:extra\s+)?argument\b"),
    ("value", r"\b(?:is|are)\s+(?:required|mandatory)\b"),
))
_XEN_READER = re.compile(r"\b(?:xen|the\s+hypervisor)\s+(?:\w+\s+)?(?:ignores|never\s+reads?|"
                         r"does\s*(?:not|n't)\s+(?:use|read|look))|"
                         r"\b(?:ignored|not\s+used|unused|not\s+read)\s+by\s+(?:xen|the\s+hyp)",
                         re.I)
_TOOLS_READER = re.compile(r"\b(?:ignored|not\s+used|unused|not\s+read)\s+by\s+(?:the\s+)?"
                           r"(?:tool|toolstack|libx)", re.I)
_IMPERATIVE = re.compile(r"^\s*(?:do\s+not|don't|never)\s+use\b", re.I)

_SCOPE_TOKENS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (kind, val, re.compile(p, re.I)) for kind, val, p in (
        ("all", "all", r"\b(?:all|every|any)\s+(?:guests?|domains?|vms?|variants?|arch\w*)\b"),
        ("fam", "x86_32", r"\b(?:x86[_-]?32|i[36]86)\b"),
        ("fam", "x86_64", r"\b(?:x86[_-]?64|amd64)\b"),
        ("fam", "x86", r"\bx86\b(?![_-]?(?:32|64))"),
        ("fam", "arm64", r"\b(?:arm64|aarch64)\b"),
        ("fam", "arm32", r"\b(?:arm32|aarch32)\b"),
        ("fam", "arm", r"\barm\b(?![_-]?(?:32|64))"),
        ("mode", "pvh", r"\bpvh\b"),
        ("mode", "hvm", r"\b(?:hvm|fully[\s-]virtuali[sz]ed)\b"),
        ("mode", "pv", r"\b(?:pv|para-?virtuali[sz]ed)\b(?![\s-]*(?:h\b|ops|clock|shim|driver))"),
        ("bits", "32", r"\b32[\s-]?bit\b"),
        ("bits", "64", r"\b64[\s-]?bit\b"),
    ))
_ANAPHOR = re.compile(r"\b(?:it|its|this|that|these|the\s+(?:argument|register|value|parameter))"
                      r"\b|\b(?:pass|passes|passing|set|leave)\b", re.I)
_CONDITION = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Za-z0-9_]+\b")


@dataclass(frozen=True)
class Context:
    """Where a comment sits: the hypercall (and op) its prose is about."""

    hypercall: str
    op: str | None = None
    params: tuple[str, ...] = ()       # the prototype's parameter names, in order
    symbol: str = ""                    # what findings are reported against


@dataclass(frozen=True)
class Claim:
    kind: str                     # optional | any | unused | zero | value
    arg: int
    variants: tuple[str, ...]
    scoped: bool
    reader: str | None            # for "unused": who is said not to read it
    text: str                     # the clause, whitespace-normalised
    offset: int                   # where the trigger starts in the analysed text
    conditions: tuple[str, ...] = ()


@dataclass
class _Sentence:
    text: str
    start: int                    # offset in the analysed text


# ----------------------------------------------------------------- sentences


def sentences(text: str) -> list[_Sentence]:
    """Split prose into sentences; ``@name ==`` lines and blank lines end a sentence."""
    out: list[_Sentence] = []
    start = 0
    ends = re.finditer(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)[.!?](?=\s+[A-Z(@`]|\s*$)"
                       r"|\n\s*\n|\n(?=\s*@)|\n(?=\s*[-*]\s)|:\s*\n", text)
    for m in ends:
        _add(out, text, start, m.end())
        start = m.end()
    _add(out, text, start, len(text))
    return out


def _add(out: list[_Sentence], text: str, a: int, b: int) -> None:
    chunk = text[a:b]
    stripped = chunk.strip()
    if stripped and not stripped.startswith("@") and not stripped.startswith("`"):
        out.append(_Sentence(chunk, a))


def _clauses(s: str) -> list[tuple[int, int]]:
    """Clause spans: a sentence splits at ';' and before a conjunction that starts a new claim.

    A conjunction splits only once the text before it has made a claim, so that
    "HVM and Arm guests must ..." stays one clause.
    """
    cuts = [0]
    for m in re.finditer(r";|,?\s+(?:and|but|whereas|while|or)\s+(?=(?:\w+\s+){0,4}?"
                         r"(?:must|shall|should|needs?|may|can|is|are)\b)|,\s+(?=(?:for|on)\s)"
                         r"|,?\s+and\s+(?=[^,;.]*\botherwise\b)", s, re.I):
        if m.group(0) == ";" or _triggers(s[cuts[-1]:m.start()]):
            cuts.append(m.start())
    cuts.append(len(s))
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if s[a:b].strip()]


# ----------------------------------------------------------------- scope and target


def _strip_parens(s: str) -> str:
    # Parentheticals refine (``RDX (EDX for 32-bit guests)``), they do not widen the scope.
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group(0)), s)
    return s


def scope_of(clause: str) -> tuple[str, ...] | None:
    """The variants a clause names; None when it names none."""
    text = _strip_parens(clause)
    hits = sorted((m.start(), m.end(), kind, val) for kind, val, rx in _SCOPE_TOKENS
                  for m in rx.finditer(text))
    if not hits:
        return None
    if any(kind == "all" for _s, _e, kind, _v in hits):
        return _NAMES
    groups: list[list[tuple[str, str]]] = []
    negated: list[bool] = []
    last_end = -10
    for s, e, kind, val in hits:
        between = text[last_end:s] if last_end >= 0 else "x"
        if groups and re.fullmatch(r"[\s-]*", between):
            groups[-1].append((kind, val))
        else:
            groups.append([(kind, val)])
            negated.append(bool(_NEGATED_SCOPE.search(text[:s])))
        last_end = e
    yes: set[str] = set()
    no: set[str] = set()
    for g, neg in zip(groups, negated, strict=True):
        (no if neg else yes).update(_group_variants(g))
    if not yes and no:
        yes = set(_NAMES)
    return tuple(n for n in _NAMES if n in yes - no)


# "non-PV guests", "unless the guest is PV", "except for x86 PV guests", "other than Arm"
_NEGATED_SCOPE = re.compile(r"(?:\bnon[\s-]*|\b(?:unless|except|other\s+than|but\s+not|"
                            r"apart\s+from)\b[^,;]*)\Z", re.I)
_OTHERS = re.compile(r"\b(?:otherwise|other\s+(?:guests|variants|architectures|arches|vms|"
                     r"domains)|every(?:one|body)\s+else|the\s+rest)\b", re.I)


def _complement(scope: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if scope is None:
        return None
    return tuple(n for n in _NAMES if n not in scope)


def _group_variants(group: list[tuple[str, str]]) -> list[str]:
    fams = {v for k, v in group if k == "fam"}
    modes = {v for k, v in group if k == "mode"}
    bits = {v for k, v in group if k == "bits"}
    out = []
    for v in CALLING:
        name, fam, mode, width = v.name, v.family, v.mode, v.bits
        if fams and not any(f in (fam, f"{fam}_{width}", f"{fam}{width}") for f in fams):
            continue
        if bits and str(width) not in bits:
            continue
        if modes:
            # PVH guests are HVM guests; "Arm HVM guests" are simply Arm guests.
            ok = mode in modes or ("pvh" in modes and mode == "hvm")
            ok = ok or (bool(modes & {"hvm", "pvh"}) and fam == "arm" and bool(fams))
            if not ok:
                continue
        out.append(name)
    return out


def targets_of(clause: str, ctx: Context) -> set[int]:
    """The argument positions a clause names explicitly."""
    found = {_ORDINALS[m.group(1).lower()] for m in _ORDINAL_RE.finditer(clause)}
    for m in _REG_RE.finditer(clause):
        name = m.group(1)
        if name.lower().startswith(("x", "r")) and len(name) <= 3 and name[1:].isdigit() \
                and not re.search(r"\b(?:arm|aarch|x[0-4]|r[0-4])\b", clause, re.I):
            continue                # x2/r2 are Arm registers only in Arm-ish prose
        found.add(_REGISTERS[name.lower()][0])
    if _EXTRA_RE.search(clause) and ctx.params:
        found.add(len(ctx.params) + 1)
    for m in _AT_RE.finditer(clause):
        if m.group(1) in ctx.params:
            found.add(ctx.params.index(m.group(1)) + 1)
    for m in re.finditer(r"\b(\w+)\s+(?:argument|parameter)\b", clause):
        if m.group(1) in ctx.params:
            found.add(ctx.params.index(m.group(1)) + 1)
    return found


# ----------------------------------------------------------------- claims


def claims(text: str, ctx: Context) -> list[Claim]:
    """Every normative claim about a hypercall argument in ``text`` (one comment)."""
    out: list[Claim] = []
    topic: set[int] = set()
    last_scope: tuple[str, ...] | None = None
    for sent in sentences(text):
        prev_scope: tuple[str, ...] | None = None
        prev_target: set[int] = set()
        conds = tuple(sorted(set(_CONDITION.findall(sent.text))))
        for a, b in _clauses(sent.text):
            clause = sent.text[a:b]
            targets = targets_of(clause, ctx)
            scope = scope_of(clause)
            found = _triggers(clause)
            if not targets and found:
                if prev_target:
                    targets = set(prev_target)
                elif topic and _ANAPHOR.search(clause):
                    targets = set(topic)
            if _OTHERS.search(_strip_parens(clause)) and (prev_scope or last_scope):
                scope = _complement(prev_scope or last_scope)
            elif scope is None:
                scope = prev_scope
            if scope is not None:
                last_scope = scope
            if targets:
                prev_target = targets
                topic = targets
            prev_scope = scope
            for kind, at in found:
                for arg in sorted(targets):
                    out.append(Claim(kind, arg, scope or _NAMES,
                                     scope is not None, _reader(clause) if kind == "unused"
                                     else None, " ".join(clause.split()),
                                     sent.start + a + at, conds))
    return _dedupe(out)


def _triggers(clause: str) -> list[tuple[str, int]]:
    """(kind, offset) of each normative trigger; the strongest reading of a span wins."""
    found: list[tuple[str, int, int]] = []
    for kind, rx in _TRIGGERS:
        for m in rx.finditer(clause):
            if kind == "unused" and _IMPERATIVE.match(clause[m.start() - 10 if m.start() > 10
                                                             else 0:]):
                continue
            if kind in ("zero", "value") and re.search(r"\b" + _NEG + r"\b",
                                                       clause[m.start():m.end()], re.I):
                continue            # "must not be 0" says what is forbidden, not required
            if any(s <= m.start() < e for _k, s, e in found):
                continue
            found.append((kind, m.start(), m.end()))
    kinds = {k for k, _s, _e in found}
    if "optional" in kinds or "any" in kinds or "unused" in kinds:
        # "need not be set": the optional reading, not a requirement to set a value.
        found = [f for f in found if f[0] not in ("value",) or not _overlaps_negated(clause, f)]
    return [(k, s) for k, s, _e in sorted(found, key=lambda f: f[1])]


def _overlaps_negated(clause: str, f: tuple[str, int, int]) -> bool:
    return re.search(r"\b" + _NEG + r"\b", clause[max(0, f[1] - 12):f[2]], re.I) is not None


def _reader(clause: str) -> str | None:
    if _XEN_READER.search(clause):
        return "xen"
    if _TOOLS_READER.search(clause):
        return "tools"
    return None


def _dedupe(items: Iterable[Claim]) -> list[Claim]:
    seen, out = set(), []
    for c in items:
        k = (c.kind, c.arg, c.variants, c.reader, c.text)
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


# ----------------------------------------------------------------- comparison


@dataclass
class Contradiction:
    rule: str
    claim: Claim
    variants: tuple[str, ...]
    facts: list[ArgExpectation] = field(default_factory=list)

    def message(self, ctx: Context) -> str:
        what = _arg_name(self.claim.arg, ctx)
        who = ", ".join(self.variants)
        f = self.facts[0]
        said = {"zero": "requires 0 in", "value": "requires a particular value in",
                "optional": "makes optional", "unused": "calls unused",
                "any": "allows any value in"}[self.claim.kind]
        if self.claim.kind == "unused" and self.claim.reader:
            said = f"says {self.claim.reader} ignores"
        truth = _truth(f)
        where = f"{ctx.op} of {ctx.hypercall}" if ctx.op else ctx.hypercall
        cond = f" with {f.when}" if f.when else ""
        return (f"the prose {said} {what} ({where}{cond}) for {who}, but the annotations say "
                f"{truth}: \"{_short(self.claim.text)}\"")


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _truth(f: ArgExpectation) -> str:
    readers = f" (read by {', '.join(f.readers)})" if f.readers else ""
    return {"free": "its value is free for the VM's use, nobody reads it" if not f.readers
            else f"its value is free for the VM's use{readers}",
            "any": f"any value is accepted{readers}",
            "must-be": f"it must be {f.value or 'a particular value'}{readers}",
            "zero": f"it must be 0{readers}",
            "reserved": f"it is reserved (must be 0){readers}"}[f.constraint]


def _arg_name(arg: int, ctx: Context) -> str:
    ordinal = {v: k for k, v in _ORDINALS.items() if not k[0].isdigit()}.get(arg, f"#{arg}")
    name = ctx.params[arg - 1] if 0 < arg <= len(ctx.params) else None
    return f"the {ordinal} argument" + (f" ({name})" if name else "")


def _conflicts(kind: str, reader: str | None, f: ArgExpectation) -> str | None:
    """The rule a claim of ``kind`` breaks against fact ``f``, if it does."""
    c = f.constraint
    if kind in ("zero", "value") and c in ("any", "free"):
        return "XC201"
    if kind == "zero" and c == "must-be" and not _zeroish(f.value):
        return "XC205"
    if kind == "optional" and c in REQUIRED:
        return "XC202"
    if kind == "unused":
        if reader is None and f.used:
            return "XC203"
        if reader is not None and reader in f.readers:
            return "XC203"
    if kind == "any" and c in REQUIRED:
        return "XC204"
    return None


def _zeroish(value: str) -> bool:
    return value.strip().lower() in ("0", "zero", "null", "0x0")


def contradictions(claim: Claim, ctx: Context, ref: Reference) -> list[Contradiction]:
    facts = [f for f in ref.facts_for(ctx.hypercall, ctx.op, claim.arg)
             if f.variant in claim.variants and _condition_ok(f, claim)]
    by_rule: dict[str, Contradiction] = {}
    for f in facts:
        rule = _conflicts(claim.kind, claim.reader, f)
        if rule is None:
            continue
        c = by_rule.setdefault(rule, Contradiction(rule, claim, ()))
        if f.variant not in c.variants:
            c.variants += (f.variant,)
        c.facts.append(f)
    return list(by_rule.values())


def _condition_ok(f: ArgExpectation, claim: Claim) -> bool:
    """A fact under ``when: X`` concerns claims that name X, or no sibling of X."""
    if f.when is None or f.when in claim.conditions:
        return True
    prefix = f.when.split("_", 1)[0] + "_"
    return not any(c.startswith(prefix) and c != f.when for c in claim.conditions)
