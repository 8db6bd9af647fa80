"""Rule engine, waivers, output formats and ``headerparse check`` exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import headerparse
from headerparse.checks import formats
from headerparse.checks.rules import (
    Finding,
    WaiverError,
    apply_waivers,
    load_waivers,
    mark_introduced,
)
from headerparse.diagnostics import RULES, SEVERITIES, Kind, at_or_above
from headerparse.model import Loc

REFERENCE = Path(__file__).parent / "data" / "prose" / "reference.yaml"
F1 = Finding("XC201", Loc("sched.h", 62, 4), "requires 0 <here>", "SCHEDOP_shutdown",
             ("x86-hvm64", "arm64"))
F2 = Finding("XC502", Loc("domctl.h", 10), "names FOO_bar", "XEN_DOMCTL_x")


def test_rules_are_complete() -> None:
    kinds = typing.get_args(Kind)
    for r in RULES.values():
        assert re.fullmatch(r"X[ACEKM]\d{3}", r.id) and r.severity in SEVERITIES
        assert r.kind in kinds and r.why and r.fix and r.name


def test_every_rule_id_in_the_code_is_registered() -> None:
    package = Path(headerparse.__file__).parent
    used = {m for p in package.rglob("*.py") if p.name != "diagnostics.py"
            for m in re.findall(r"[\"'](X[ACEKM]\d{3})[\"']", p.read_text(encoding="utf-8"))}
    assert used and used <= set(RULES), sorted(used - set(RULES))


def test_threshold_and_introduced() -> None:
    assert at_or_above([F1, F2], "error") == [F1]
    assert at_or_above([F1, F2], "note") == [F1, F2]
    assert at_or_above([F1, F2], "never") == []
    marked = mark_introduced([F2], [F1, F2])
    assert [f.introduced for f in marked] == [True, False]


def test_sarif_structure() -> None:
    doc = json.loads(formats.to_sarif([F1, F2]))
    assert doc["version"] == "2.1.0" and "$schema" in doc
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(rule_ids) == set(RULES)
    res = run["results"][0]
    assert rule_ids[res["ruleIndex"]] == res["ruleId"]
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] in ("sched.h", "domctl.h")
    assert loc["region"]["startLine"] >= 1


def test_junit_one_testcase_per_finding() -> None:
    root = ET.fromstring(formats.to_junit([F1, F2]))
    cases = root.findall(".//testcase")
    assert len(cases) == 2 and len(root.findall(".//failure")) == 1


def test_text_and_json() -> None:
    text = formats.to_text([F1])
    assert text.startswith("sched.h:62:4: error: requires 0 <here> [x86-hvm64,arm64] [XC201]")
    doc = json.loads(formats.to_json([F1]))
    assert doc["findings"][0]["kind"] == "contradiction"


def test_waivers(tmp_path: Path) -> None:
    good = tmp_path / "w.yaml"
    good.write_text("waivers:\n  - rule: XC502\n    symbol: XEN_DOMCTL_x\n"
                    "    justification: historical list of removed domctls\n")
    kept, waived, unused = apply_waivers([F1, F2], load_waivers(good))
    assert kept == [F1] and waived == [F2] and unused == []
    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: XC502\n  symbol: XEN_DOMCTL_x\n")
    with pytest.raises(WaiverError, match="justification"):
        load_waivers(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- {rule: XC999, justification: x}\n")
    with pytest.raises(WaiverError, match="unknown rule"):
        load_waivers(unknown)


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "headerparse", "check", "-q", *args],
                          capture_output=True, timeout=600)


def public_dir(tree, tmp_path: Path) -> Path:
    public = tmp_path / "public"
    for rel, data in tree.files.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)
    return public


@pytest.mark.slow
def test_cli_check_exit_codes_and_formats(xen_tree_417, tmp_path: Path) -> None:
    public = public_dir(xen_tree_417, tmp_path)
    sched = public / "sched.h"
    sched.write_text(sched.read_text().replace(
        "x86 PV guests must also set RDX", "HVM guests must pass 0. x86 PV guests must set RDX"))
    base = ["--tree", str(public), "--reference", str(REFERENCE)]
    proc = run(*base, "--only", "xen/include/public/sched.h")
    assert proc.returncode == 1 and b"XC201" in proc.stdout, proc.stderr
    for fmt in ("json", "sarif", "junit"):
        out = run(*base, "--only", "sched.h", "--format", fmt)
        assert out.returncode == 1 and out.stdout
    assert run(*base, "--only", "sched.h", "--fail-on", "never").returncode == 0
    w = tmp_path / "w.yaml"
    w.write_text("- {rule: XC201, file: sched.h, justification: test}\n")
    assert run(*base, "--only", "sched.h", "--waivers", str(w)).returncode == 0
    w.write_text("- {rule: XC201}\n")
    bad = run(*base, "--waivers", str(w))
    assert bad.returncode == 2 and b"justification" in bad.stderr
    assert run("--tree", str(tmp_path / "nope")).returncode == 2
    assert b"Traceback" not in bad.stderr
