"""The rule engine: rule registry, findings, waivers and the severity threshold.

Rule ids are stable (scripts and waiver files name them); a retired rule keeps
its id reserved.  Each rule states why it matters in one line and how to fix
what it finds, so a finding can be acted on without reading headerparse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from headerparse.model import Diagnostic, Loc

SEVERITIES = ("error", "warning", "note")
KINDS = ("contradiction", "abi-change", "drift", "hygiene")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    kind: str           # one of KINDS
    why: str
    fix: str


_RULES = (
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
    # arch <-> arch
    Rule("XC301", "invariant-layout-differs", "error", "abi-change",
         "a struct declared arch-invariant is shared as bytes; a per-arch layout corrupts it",
         "use fixed-width types and explicit padding (uint64_aligned_t, XEN_GUEST_HANDLE_64)"),
    Rule("XC302", "uint64-alignment-trap", "warning", "abi-change",
         "x86_32 aligns uint64_t to 4, so 32- and 64-bit ends disagree on the layout",
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
)

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Finding:
    """What a check reports; becomes a model :class:`Diagnostic` for shared tooling."""

    rule: str
    loc: Loc | None
    message: str
    symbol: str | None = None
    variants: tuple[str, ...] = ()
    archs: tuple[str, ...] = ()
    severity: str = ""                  # "" means the rule's default
    introduced: bool | None = None      # set by review: new with the patch, or already there
    key: str = ""                        # what stays the same when only line numbers move

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", RULES[self.rule].severity)

    @property
    def kind(self) -> str:
        return RULES[self.rule].kind

    @property
    def why(self) -> str:
        return RULES[self.rule].why

    @property
    def fix(self) -> str:
        return RULES[self.rule].fix

    def fingerprint(self) -> tuple:
        return (self.rule, self.symbol, self.key or self.message, self.variants, self.archs)

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.rule, self.severity, self.loc, self.message, self.why,
                          self.archs, self.symbol)

    def render(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        scope = ",".join(self.variants or self.archs)
        return (f"{where}{self.severity}: {self.message}"
                f"{f' [{scope}]' if scope else ''} [{self.rule}]")


def rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def at_or_above(findings: Iterable[Finding], threshold: str) -> list[Finding]:
    """The findings whose severity is ``threshold`` or worse; "never" matches none."""
    if threshold == "never":
        return []
    return [f for f in findings if rank(f.severity) <= rank(threshold)]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.loc.file if f.loc else "~",
                                           f.loc.line if f.loc else 0, f.rule, f.message))


def mark_introduced(before: Iterable[Finding], after: Iterable[Finding]) -> list[Finding]:
    """``after`` with ``introduced`` set: findings not already present before the change."""
    old = Counter(f.fingerprint() for f in before)
    out = []
    for f in after:
        fp = f.fingerprint()
        existed = old[fp] > 0
        if existed:
            old[fp] -= 1
        out.append(replace(f, introduced=not existed))
    return out


# --------------------------------------------------------------------------- waivers


class WaiverError(Exception):
    """A waivers file that cannot be used as is; the message names the entry."""


@dataclass(frozen=True)
class Waiver:
    rule: str
    justification: str
    symbol: str | None = None
    file: str | None = None
    contains: str | None = None
    where: str = ""          # "waivers.yaml entry 3" for messages

    def matches(self, f: Finding) -> bool:
        if self.rule not in (f.rule, "*"):
            return False
        if self.symbol is not None and self.symbol != f.symbol:
            return False
        if self.file is not None and (f.loc is None or f.loc.file != self.file):
            return False
        return self.contains is None or self.contains in f.message


def load_waivers(path: Path) -> list[Waiver]:
    """Read a waivers file; every entry needs a rule and a justification."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WaiverError(f"cannot read waivers file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise WaiverError(f"waivers file {path} is not valid YAML: {exc}") from exc
    entries = data.get("waivers") if isinstance(data, dict) else data
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a list of waivers (or a 'waivers:' key with one)")
    return [_waiver(e, f"{path} entry {n}") for n, e in enumerate(entries, 1)]


def _waiver(entry: object, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise WaiverError(f"{where}: a waiver is a mapping with rule and justification")
    unknown = set(entry) - {"rule", "justification", "symbol", "file", "contains"}
    if unknown:
        raise WaiverError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    rule = str(entry.get("rule", ""))
    if rule != "*" and rule not in RULES:
        raise WaiverError(f"{where}: unknown rule {rule!r}")
    justification = str(entry.get("justification") or "").strip()
    if not justification:
        raise WaiverError(f"{where}: a waiver needs a justification (why the finding is wrong "
                          "or accepted)")
    opt = {k: (str(entry[k]) if entry.get(k) is not None else None)
           for k in ("symbol", "file", "contains")}
    return Waiver(rule, justification, where=where, **opt)


def apply_waivers(findings: list[Finding],
                  waivers: list[Waiver]) -> tuple[list[Finding], list[Finding], list[Waiver]]:
    """(kept, waived, unused waivers)."""
    kept, waived, used = [], [], set()
    for f in findings:
        hit = next((w for w in waivers if w.matches(f)), None)
        if hit is None:
            kept.append(f)
        else:
            waived.append(f)
            used.add(hit)
    return kept, waived, [w for w in waivers if w not in used]
