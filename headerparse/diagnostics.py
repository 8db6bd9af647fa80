"""Diagnostics as values: where, how bad, what, why; and the one registry of rule ids.

Every stage reports through :class:`Diagnostic` (checks through
:class:`~headerparse.checks.rules.Finding`, which becomes one). Rule ids are stable
(scripts and waiver files name them) and grouped in families: ``XC0xx`` compiling the
headers, ``XE0xx`` reading them, ``XM1xx`` Xen's backtick markup, ``XA1xx``/``XA2xx``
the annotation files and their binding, ``XC1xx``-``XC5xx`` the checks, ``XK0xx`` a
consumer's copy against Xen (``conform``). A retired rule
keeps its id reserved. Each rule says why it matters and how to fix what it finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Severity = Literal["error", "warning", "note"]
#: Worst first: a threshold selects its own severity and everything before it.
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")
Kind = Literal["contradiction", "abi-change", "cross-arch", "drift", "hygiene", "extraction",
               "markup", "annotations", "conformance"]


@dataclass(frozen=True)
class Loc:
    """A position in a header; ``file`` is relative to the public include root."""

    #: Relative to the public include root, e.g. ``sched.h`` or ``io/blkif.h``.
    file: str
    #: 1-based.
    line: int
    #: 1-based, in characters.
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def render(loc: Loc | None, severity: str, message: str, scope: Sequence[str],
           rule: str) -> str:
    """gcc-style: ``file:line:col: severity: message [scope] [rule]``."""
    where = f"{loc}: " if loc else ""
    within = f" [{','.join(scope)}]" if scope else ""
    return f"{where}{severity}: {message}{within} [{rule}]"


@dataclass(frozen=True)
class Diagnostic:
    """A finding of any stage: parse errors, markup problems, check results."""

    #: Stable rule id, e.g. ``XC001`` (see :data:`headerparse.diagnostics.RULES`).
    rule: str
    #: ``error``, ``warning`` or ``note``.
    severity: Severity
    #: Where, relative to the public include root; null for tree-wide diagnostics.
    loc: Loc | None
    #: One line, naming the symbol.
    message: str
    #: Why it matters, one line.
    why: str = ""
    #: The arches it occurs on; empty when it does not depend on the arch.
    archs: tuple[str, ...] = ()
    #: The symbol it is about, when there is one.
    symbol: str | None = None

    def render(self) -> str:
        return render(self.loc, self.severity, self.message, self.archs, self.rule)


class _Ranked(Protocol):
    @property
    def severity(self) -> str: ...
    @property
    def loc(self) -> Loc | None: ...
    @property
    def rule(self) -> str: ...
    @property
    def message(self) -> str: ...


def rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)  # type: ignore[arg-type]


def severities_at_or_above(threshold: str) -> tuple[str, ...]:
    """The severities a threshold selects: itself and everything worse; none for "never"."""
    return SEVERITIES[:SEVERITIES.index(threshold) + 1] if threshold in SEVERITIES else ()


def at_or_above(items: Iterable[_Ranked], threshold: str) -> list:
    """The items whose severity is ``threshold`` or worse; "never" matches none."""
    if threshold == "never":
        return []
    return [f for f in items if rank(f.severity) <= rank(threshold)]


def sort_findings(items: Iterable[_Ranked]) -> list:
    """By file, line, rule and message: the order of every report."""
    return sorted(items, key=lambda f: (f.loc.file if f.loc else "~",
                                        f.loc.line if f.loc else 0, f.rule, f.message))


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity       # the default; a finding may be raised or lowered
    kind: Kind
    why: str
    fix: str


def _family(kind: Kind, rows: str) -> tuple[Rule, ...]:
    """Rules written one per line: ``ID severity name | why | fix``."""
    out = []
    for line in rows.strip().splitlines():
        head, why, fix = (part.strip() for part in line.split("|"))
        rid, severity, name = head.split()
        out.append(Rule(rid, name, severity, kind, why, fix))  # type: ignore[arg-type]
    return tuple(out)


_EXTRACTION_RULES = _family("extraction", """
XC001 error compile-error | a header that does not compile on an arch has no ABI there | fix the header, or guard the arch-specific part
XC002 warning compile-warning | clang warned while parsing the header | fix what clang names
XC003 warning port-not-compiling | the header does not compile for this port of Xen yet | add the port's arch fixups to the header
XE002 warning not-utf8 | Xen headers are expected to be UTF-8 (mostly ASCII) text | re-encode the file as UTF-8
""")

_MARKUP_RULES = _family("markup", """
XM100 error unterminated-comment | everything after the /* is read as comment | close the comment
XM101 warning unclosed-op-group | a group's members are taken up to the next opener or the end | add the ` } closer
XM102 warning stray-group-closer | a closer with no open group ends nothing | remove it, or add the ` enum NAME { opener
XM103 warning malformed-group-opener | the group or its mapping cannot be read | write ` enum NAME { // PREFIX_* => struct prefix_*
XM104 warning unclosed-prototype | a prototype without its closing parenthesis has no arguments | close the parenthesis in the markup block
XM105 warning malformed-incontents | the section cannot be placed in the contents | write `incontents ORDER NAME Title
XM110 warning unplaced-subop | a constant named like a hypercall's command that cannot be told apart from another command is shown as no sub-op | give it its own value, rename it, or list it in an op group of the markup
""")

_ANNOTATION_RULES = _family("annotations", """
XA100 error unreadable-annotations | an annotation file or directory that cannot be read says nothing | fix the path or the permissions
XA101 error yaml-syntax | a file that is not YAML cannot be read | fix the YAML at the line given
XA102 error unknown-key | an unknown key is a typo or a misplaced statement | use a key of the format (docs/annotations.md)
XA103 error wrong-type | a value of the wrong type cannot be bound | give the value the type the format asks for
XA104 error missing-key | a statement without its required keys is incomplete | add the key
XA105 error duplicate-key | YAML keeps only the last of duplicate keys | remove the duplicate
XA106 error unknown-variant | a variant or group that does not exist selects nothing | use a variant or group name (x86-pv64, pv, arm, all...)
XA107 error invalid-value | the value is outside what the format allows | use one of the allowed values
XA108 error duplicate-statement | two statements of one scope contradict or repeat each other | keep one
XA109 error conflicting-pins | two pins of one symbol disagree | keep one pin per symbol
XA110 warning empty-file | an empty annotation file says nothing | add statements or delete it
XA111 error unsupported-yaml | anchors, aliases, tags and merge keys are not part of the format | write the values out
XA201 error unknown-hypercall | an annotation about a hypercall the headers do not define documents nothing | rename or delete it
XA202 error unknown-symbol | an annotation naming a symbol the headers do not define documents nothing | rename or delete it
XA203 error pinned-value-changed | the headers changed a value a statement relies on | review the statements, then the pin
XA204 error pinned-shape-changed | the headers changed a struct a statement relies on | review the statements, then the pin
XA205 error missing-pin | a statement relies on a symbol nothing pins | add the pin that annotations pin prints
XA206 warning unused-pin | a pin no statement uses | remove it
XA207 error contradicts-hypercall-defs | a hand-written fact contradicting Xen's dispatch table is wrong, or needs overrides | fix the fact, or say why under overrides:
XA208 error contradicts-headers | a hand-written fact contradicting the headers is wrong, or needs overrides | fix the fact, or say why under overrides:
XA209 warning stale-override | an override that no longer overrides anything | remove it
XA210 error subop-not-in-group | a sub-op outside its hypercall's op group is bound to the wrong call | bind it to its hypercall
XA211 error condition-on-other-struct | a condition must test the sub-op's own argument | test a member of the sub-op's struct
XA212 error argument-gap | hand-written arguments with gaps leave registers undescribed | describe every argument up to the last
XA214 error layout-intent-violated | the layout intent recorded for a struct no longer holds | fix the struct or the intent
XA216 error subop-where-hypercall-is-not | a sub-op cannot be available where its hypercall is not | fix either availability
XA220 error unreadable-hypercall-defs | hypercall-defs.c could not be read; its facts are missing | fix the file
XA221 note unknown-defs-row | a hypercall-defs.c row names no hypercall of the headers | nothing, or add the hypercall to the headers
""")

_CHECK_RULES = (
    # annotation <-> header facts
    Rule("XC101", "stale-annotation-symbol", "error", "drift",
         "an annotation about a symbol the headers no longer define documents nothing",
         "rename the annotation's symbol, or delete the annotation"),
    Rule("XC102", "prototype-arity", "error", "drift",
         "a prototype without '...' tells guests the call takes no further argument",
         "add ', ...' to the backtick prototype and describe the extra argument"),
    Rule("XC103", "arg-type-mismatch", "warning", "drift",
         "'@arg ==' names a type other than the one the op group's '=>' mapping gives",
         "make the '@arg ==' text name the mapped type, or fix the mapping"),
    Rule("XC104", "annotated-value-mismatch", "error", "drift",
         "an annotation records a value or hypercall number the headers do not define",
         "update the annotation (or the header, if the header is what changed by mistake)"),
    Rule("XC106", "prototype-arg-type", "warning", "drift",
         "a prototype in the headers (backtick or prose) that gives an argument another "
         "width, signedness or kind than the hypercall takes tells guests to pass the wrong "
         "value",
         "write the type the hypercall takes, or correct the annotation if the hypercall "
         "changed"),
    # prose <-> annotations
    Rule("XC201", "prose-requires-free-value", "error", "contradiction",
         "requiring a value that Xen ignores makes existing guests retroactively non-conformant",
         "state the requirement only for the variants that have it"),
    Rule("XC202", "prose-makes-required-optional", "error", "contradiction",
         "calling a required argument optional invites guests to omit it",
         "say which variants must set it, and to what"),
    Rule("XC203", "prose-calls-used-unused", "error", "contradiction",
         "calling an argument unused when someone reads it invites guests to put garbage in it",
         "name the variants for which it is unused, or who reads it"),
    Rule("XC204", "prose-allows-any-for-required", "error", "contradiction",
         "allowing any value where a specific one is required breaks the readers of it",
         "state the required value and the variants it applies to"),
    Rule("XC205", "prose-wrong-required-value", "warning", "contradiction",
         "the prose requires a different value from the one the annotations record",
         "align the prose with the annotation, or correct the annotation"),
    # arch <-> arch, in one tree: its own kind, so that a baseline gate can filter
    Rule("XC301", "invariant-layout-differs", "error", "cross-arch",
         "a struct declared arch-invariant is shared as bytes; a per-arch layout corrupts it",
         "use fixed-width types and explicit padding (uint64_aligned_t, XEN_GUEST_HANDLE_64)"),
    Rule("XC302", "uint64-alignment-trap", "warning", "cross-arch",
         "x86_32 aligns uint64_t to 4, so the 32- and 64-bit ends of a ring or shared page "
         "disagree on the layout (a note where Xen's compat layer translates the struct, "
         "or where no two parties share its bytes)",
         "add explicit padding before the member, or use uint64_aligned_t"),
    # version <-> version
    Rule("XC401", "layout-changed", "error", "abi-change",
         "a changed size, alignment or member offset breaks binaries built against the old ABI",
         "keep the old layout, or add a new struct/op and version the interface"),
    Rule("XC402", "constant-changed", "error", "abi-change",
         "a constant's value is compiled into guests and tools; changing it breaks them",
         "keep the old value; add a new name for a new value"),
    Rule("XC403", "symbol-removed", "error", "abi-change",
         "removing a public name breaks every consumer that uses it",
         "keep the old name (guarded by __XEN_INTERFACE_VERSION__ if it must go)"),
    Rule("XC404", "hypercall-number-changed", "error", "abi-change",
         "hypercall numbers are the ABI itself",
         "never renumber a hypercall; allocate a new number"),
    Rule("XC405", "prototype-changed", "warning", "abi-change",
         "a changed backtick prototype documents a different calling convention",
         "keep the prototype, or document the change and version the interface"),
    Rule("XC406", "unguarded-abi-change", "error", "abi-change",
         "an incompatible change without an interface-version bump cannot be detected by callers",
         "bump the interface version that guards the header (e.g. XEN_DOMCTL_INTERFACE_VERSION)"),
    Rule("XC407", "interface-version-changed", "note", "abi-change",
         "the interface version says which ABI a consumer is built for",
         "make sure every incompatible change is guarded by the new version"),
    Rule("XC408", "member-type-changed", "warning", "abi-change",
         "a member whose type changes but not its size still changes its meaning",
         "keep the type, or document the reinterpretation"),
    Rule("XC409", "union-member-added", "note", "abi-change",
         "a new member of a union that keeps its size is compatible, but a new meaning of "
         "bytes callers already pass",
         "document which op or flag selects the new member, and since which version"),
    Rule("XC410", "member-renamed", "note", "abi-change",
         "a member renamed or re-nested, or padding given a name, at the same bytes keeps "
         "the ABI; but source naming the old member no longer compiles, and reused padding "
         "gives bytes old callers leave as they are a meaning",
         "say so in the commit message; keep the old name (a union or #define) if consumers "
         "use it; make sure old callers' value of reused padding (usually 0) keeps the old "
         "behaviour"),
    Rule("XC411", "removed-name-defined-again", "warning", "abi-change",
         "a name an earlier release removed has two meanings now: code built against the "
         "old one compiles against the new one without a word",
         "choose a new name; or, restoring the old definition, say so in its comment"),
    # hygiene
    Rule("XC501", "undocumented-new-symbol", "warning", "hygiene",
         "a public symbol without a comment is an ABI nobody can implement from the headers",
         "add a comment saying what it is, who sets it and what values it takes"),
    Rule("XC502", "prose-unknown-identifier", "note", "hygiene",
         "prose naming an identifier that does not exist sends readers after nothing",
         "fix the spelling, or name the identifier that replaced it"),
    Rule("XC503", "mapping-target-missing", "warning", "hygiene",
         "a backtick '=>' mapping whose target does not exist breaks the cross-references",
         "point the mapping at an existing type, or fix the pattern"),
    Rule("XC504", "endif-comment-mismatch", "warning", "hygiene",
         "an #endif comment that names another condition than its #if misleads who reads "
         "the end of a long block",
         "restate the condition of the #if, or drop the comment"),
    Rule("XC505", "trigraph-in-comment", "warning", "hygiene",
         "a compiler in ISO C mode replaces trigraphs, even in comments ('??/' continues "
         "a // comment onto the next line)",
         "write the question marks apart, or use other punctuation"),
)

_CONFORMANCE_RULES = _family("conformance", """
XK001 error record-size-mismatch | a copy whose record has another size than Xen's reads and writes the wrong bytes | make the copy's declaration match Xen's on this arch (padding, member types, packing)
XK002 error record-align-mismatch | a record aligned differently is placed differently inside others and in arrays | match Xen's member types or alignment attributes on this arch
XK003 error member-offset-mismatch | the copy reads the member where Xen does not write it | restore Xen's padding and member order for this arch
XK004 error member-size-mismatch | a member of another size truncates or overruns what Xen writes | use a type of Xen's width for this arch
XK005 error bitfield-mismatch | a bit-field at other bits reads the wrong flag | declare the bit-field as Xen does
XK006 warning signedness-mismatch | the same bits read with another sign change comparisons and widening | use the signedness Xen declares
XK007 note member-missing | a member Xen has that the copy does not name (trimmed or renamed) | add it, or map it with a leaves alias
XK008 note member-copy-only | a member the copy has that Xen does not (padding, or a renamed one) | check that it stands for Xen's padding, or map it
XK009 warning record-extended-upstream | Xen's record is the copy's with members added at the end: compatible for a record Xen reads only up to a version or size it is told | copy the new members when the consumer needs them; check nothing sizes an array of it
XK010 error constant-value-mismatch | a constant with another value than Xen's asks for something else | take Xen's value
XK011 error hypercall-number-mismatch | a wrong hypercall number calls another hypercall | take Xen's __HYPERVISOR_* number
XK012 error subop-number-mismatch | a wrong sub-op number asks the hypercall for another operation | take Xen's sub-op number
XK013 note interface-version-differs | the copy follows another interface version than the Xen it is compared with | compare with the release the copy follows (see its best match), or update the copy
XK020 note trimmed-symbols | symbols of Xen's header the copy leaves out; fine unless the consumer needs them | copy them when the consumer starts using them
XK021 note copy-only-symbols | symbols the copy adds to Xen's header: the consumer's own, or renamed ones | map renamed ones with an alias file
XK030 error copy-parse-error | a copy that does not compile on an arch has no layout there to compare | fix the copy, or give the profile what the consumer's own headers provide
XK031 note include-stubbed | an include of the copy found nowhere was replaced by an empty header | nothing, unless it declares types the copy uses (then XK030 says so)
""")

#: Every rule of every family, by id.
RULES: dict[str, Rule] = {r.id: r for r in (*_EXTRACTION_RULES, *_MARKUP_RULES,
                                            *_ANNOTATION_RULES, *_CHECK_RULES,
                                            *_CONFORMANCE_RULES)}
