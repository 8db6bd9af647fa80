"""What the checks report (:class:`Finding`), how review tells new findings from old,
and waivers. The rules themselves are registered in :mod:`headerparse.diagnostics`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from headerparse.diagnostics import RULES, Diagnostic, Loc, Severity, render


@dataclass(frozen=True)
class Finding:
    """What a check reports; becomes a model :class:`Diagnostic` for shared tooling."""

    rule: str
    loc: Loc | None
    message: str
    symbol: str | None = None
    variants: tuple[str, ...] = ()
    archs: tuple[str, ...] = ()
    severity: Severity | Literal[""] = ""   # "" means the rule's default
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
        # A cross-arch finding lists the arches compared; a port joining the tree
        # (riscv64) must not make an old finding new.
        archs = () if self.kind == "cross-arch" else self.archs
        return (self.rule, self.symbol, self.key or self.message, self.variants, archs)

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.rule, self.severity, self.loc, self.message, self.why,
                          self.archs, self.symbol)

    def render(self) -> str:
        return render(self.loc, self.severity, self.message, self.variants or self.archs,
                      self.rule)


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

    from headerparse.annotations.yamlnodes import MAX_BYTES, load_plain
    from headerparse.safeio import InputTooLarge, read_file_capped

    try:
        data = load_plain(read_file_capped(path, MAX_BYTES).decode("utf-8"))
    except OSError as exc:
        raise WaiverError(f"cannot read waivers file {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, InputTooLarge) as exc:
        raise WaiverError(f"waivers file {path} is not a UTF-8 text of at most {MAX_BYTES} "
                          "bytes") from exc
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
