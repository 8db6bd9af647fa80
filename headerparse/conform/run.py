"""``conform`` end to end: parse the copy per arch, compare each arch with Xen's model,
merge the findings across arches, and say which Xen release the copy matches best."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from headerparse.checks.formats import finding_json
from headerparse.checks.rules import Finding
from headerparse.conform.compare import Drift, Mapping, compare_arch, merge
from headerparse.conform.mapping import Aliases, merged
from headerparse.conform.provenance import Provenance
from headerparse.conform.unit import Consumer, parse
from headerparse.conform.views import copy_view, xen_view
from headerparse.diagnostics import Loc, sort_findings
from headerparse.model import Model


@dataclass
class Report:
    consumer: str
    profile: str
    archs: tuple[str, ...]
    drifts: list[Drift]
    mapping: Mapping
    provenance: Provenance | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best_match(self) -> str | None:
        return self.provenance.best if self.provenance else None

    def findings(self) -> list[Finding]:
        return [d.finding for d in self.drifts]


def conform(consumer: Consumer, model: Model, archs: Sequence[str], aliases: Aliases,
            interface_version: str | None = None) -> Report:
    """The findings of ``consumer``'s copy against ``model`` on ``archs``."""
    parsed = parse(consumer, archs, interface_version)
    p = consumer.profile
    names = merged(Aliases(p.aliases, p.leaf_prefixes, p.embedded), aliases)
    files = set(consumer.files)
    mapping = Mapping()
    drifts: list[Drift] = []
    for arch, facts in parsed.facts.items():
        errors = _parse_errors(facts.diagnostics, arch)
        drifts += errors
        copy = copy_view(facts, files, p.prelude)
        # A record of a file that does not compile has no layout worth comparing.
        broken = {d.finding.loc.file for d in errors if d.finding.loc}
        drifts += compare_arch(xen_view(model, arch), copy, names, consumer.files, mapping,
                               broken)
    for name, (file, line, stub_archs) in sorted(parsed.stubs.items()):
        drifts.append(Drift(Finding("XK031", Loc(file, line), f"#include <{name}> is not part "
                                    "of the copy: an empty header stood in for it", name,
                                    archs=stub_archs)))
    return Report(str(consumer.base), consumer.profile.name, tuple(archs), merge(drifts),
                  mapping)


def _parse_errors(diagnostics: Sequence[Any], arch: str) -> list[Drift]:
    out = []
    for d in diagnostics:
        if d.severity != "error":
            continue
        out.append(Drift(Finding("XK030", d.loc, d.message, d.loc.file if d.loc else None,
                                 archs=(arch,))))
    return out


def to_json(report: Report) -> str:
    """The stable shape: consumer, profile, best_match, findings with xen_symbol and arch."""
    order = {id(d.finding): d for d in report.drifts}
    findings = []
    for f in sort_findings(report.findings()):
        d = order[id(f)]
        findings.append({**finding_json(f), "xen_symbol": d.xen_symbol,
                         "arch": ",".join(f.archs)})
    doc = {"consumer": report.consumer, "profile": report.profile,
           "best_match": report.best_match, "archs": list(report.archs),
           "provenance": report.provenance.to_json() if report.provenance else None,
           "mapping": _mapping_json(report.mapping), **report.extra, "findings": findings}
    return json.dumps(doc, indent=1) + "\n"


def _mapping_json(m: Mapping) -> dict[str, list[dict[str, str]]]:
    def rows(table: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
        return [{"copy": k, "xen": v[0], "how": v[1]} for k, v in sorted(table.items())]
    return {"records": rows(m.records), "members": rows(m.leaves), "constants": rows(m.consts)}


def mapping_text(m: Mapping) -> str:
    """The mapping used, for the text report: every name that was not taken as is."""
    lines = []
    for kind, table in (("record", m.records), ("member", m.leaves), ("constant", m.consts)):
        for k, (v, how) in sorted(table.items()):
            if how != "identity":
                lines.append(f"mapping: {kind} {k} -> Xen's {v} ({how})")
    return "\n".join(lines) + ("\n" if lines else "")
