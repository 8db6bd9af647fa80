"""Findings rendered for people and machines: gcc-style text, JSON, SARIF 2.1.0, JUnit XML.

One function per format, all called alike through :data:`FORMATTERS`: the findings,
then keyword options (each format uses those that apply to it); each returns the
whole document as a string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from headerparse import __version__
from headerparse.checks.rules import Finding
from headerparse.diagnostics import RULES, sort_findings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def finding_json(f: Finding) -> dict[str, Any]:
    """The JSON shape of one finding (the ``review --format json`` shape too)."""
    return {
        "rule": f.rule, "name": RULES[f.rule].name, "severity": f.severity, "kind": f.kind,
        "introduced": f.introduced, "symbol": f.symbol, "variants": list(f.variants),
        "archs": list(f.archs), "file": f.loc.file if f.loc else None,
        "line": f.loc.line if f.loc else None, "col": f.loc.col if f.loc else None,
        "message": f.message, "why": f.why, "fix": f.fix,
    }


def to_text(findings: Iterable[Finding], *, verbose: bool = False, **_: Any) -> str:
    """gcc-style lines: ``file:line:col: severity: message [scope] [rule]``."""
    lines = []
    for f in sort_findings(findings):
        lines.append(f.render())
        if verbose:
            lines.append(f"    why: {f.why}")
            lines.append(f"    fix: {f.fix}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_json(findings: Iterable[Finding], *, extra: dict[str, Any] | None = None,
            **_: Any) -> str:
    doc = {**(extra or {}), "findings": [finding_json(f) for f in sort_findings(findings)]}
    return json.dumps(doc, indent=1) + "\n"


def to_sarif(findings: Iterable[Finding], *, root_uri: str | None = None, uri_prefix: str = "",
             **_: Any) -> str:
    """A SARIF 2.1.0 log with one run: every rule as a reportingDescriptor, one result each.

    Locations are ``uri_prefix`` + the header's public path, relative to ``SRCROOT``
    (``root_uri``): in a Xen checkout the prefix is ``xen/include/public/`` so that code
    scanning finds the file in the repository.
    """
    found = sort_findings(findings)
    rule_ids = sorted(RULES)
    index = {r: i for i, r in enumerate(rule_ids)}
    rules = [{
        "id": r, "name": RULES[r].name,
        "shortDescription": {"text": RULES[r].why},
        "help": {"text": RULES[r].fix},
        "defaultConfiguration": {"level": _SARIF_LEVEL[RULES[r].severity]},
        "properties": {"kind": RULES[r].kind},
    } for r in rule_ids]
    results = [_sarif_result(f, index[f.rule], uri_prefix) for f in found]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "headerparse", "version": __version__,
                            "informationUri": "https://xenbits.xen.org/", "rules": rules}},
        "results": results,
    }
    # SRCROOT is declared even without a known root, so that consumers can bind it.
    run["originalUriBaseIds"] = {"SRCROOT": {"uri": root_uri.rstrip("/") + "/"} if root_uri
                                 else {"description": {"text": "the root of the checkout"}}}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]},
                      indent=1) + "\n"


def _sarif_result(f: Finding, rule_index: int, uri_prefix: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule, "ruleIndex": rule_index, "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "properties": {"kind": f.kind, "symbol": f.symbol, "variants": list(f.variants),
                       "archs": list(f.archs)},
    }
    if f.introduced is not None:
        result["baselineState"] = "new" if f.introduced else "unchanged"
    if f.loc is not None:
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": {"uri": uri_prefix + f.loc.file, "uriBaseId": "SRCROOT"},
            "region": {"startLine": max(f.loc.line, 1), "startColumn": max(f.loc.col, 1)},
        }}]
        if f.symbol:
            result["locations"][0]["logicalLocations"] = [{"name": f.symbol}]
    return result


def to_junit(findings: Iterable[Finding], *, suite: str = "headerparse",
             fail_on: Sequence[str] = ("error",), **_: Any) -> str:
    """One testcase per finding; findings at a failing severity are <failure>s."""
    found = sort_findings(findings)
    failures = sum(1 for f in found if f.severity in fail_on)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name={quoteattr(suite)} tests="{len(found)}" failures="{failures}">',
           f'  <testsuite name={quoteattr(suite)} tests="{len(found)}" failures="{failures}" '
           'errors="0" skipped="0">']
    for f in found:
        where = str(f.loc) if f.loc else "(no location)"
        name = f"{f.rule} {f.symbol or ''} {where}".replace("  ", " ")
        out.append(f'    <testcase classname={quoteattr(f"{suite}.{f.kind}")} '
                   f'name={quoteattr(name)}>')
        body = escape(f"{f.render()}\nwhy: {f.why}\nfix: {f.fix}")
        tag = "failure" if f.severity in fail_on else "system-out"
        if tag == "failure":
            out.append(f'      <failure type={quoteattr(f.rule)} '
                       f'message={quoteattr(f.message)}>{body}</failure>')
        else:
            out.append(f"      <system-out>{body}</system-out>")
        out.append("    </testcase>")
    if not found:
        out.append(f'    <testcase classname={quoteattr(suite)} name="no findings"/>')
    out += ["  </testsuite>", "</testsuites>"]
    return "\n".join(out) + "\n"


FORMATTERS: dict[str, Callable[..., str]] = {
    "text": to_text, "json": to_json, "sarif": to_sarif, "junit": to_junit}
