"""The prose analyser: scope and target reading, and precision/recall on the labelled set.

Run ``python tests/test_prose.py`` to print precision and recall on
tests/data/prose/labelled.yaml (and the items it gets wrong).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from headerparse.checks import prose
from headerparse.checks.reference import Reference, load_yaml

DATA = Path(__file__).parent / "data" / "prose"


def reference() -> Reference:
    return load_yaml(DATA / "reference.yaml")


def flagged(text: str, ctx: prose.Context, ref: Reference) -> list[prose.Contradiction]:
    return [c for claim in prose.claims(text, ctx) for c in prose.contradictions(claim, ctx, ref)]


def evaluate() -> tuple[float, float, list[str]]:
    data = yaml.safe_load((DATA / "labelled.yaml").read_text(encoding="utf-8"))
    c = data["context"]
    ctx = prose.Context(c["hypercall"], c["op"], tuple(c["params"]), c["op"])
    ref = reference()
    tp = fp = fn = 0
    wrong = []
    for item in data["items"]:
        hit = bool(flagged(item["text"], ctx, ref))
        positive = item["label"] == "contradicting"
        tp += hit and positive
        fp += hit and not positive
        fn += positive and not hit
        if hit != positive:
            wrong.append(f"{'FP' if hit else 'FN'} [{item['label']}] {item['text']}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, wrong


def test_labelled_set_precision_and_recall() -> None:
    precision, recall, wrong = evaluate()
    assert precision == 1.0, wrong
    assert recall >= 0.9, wrong


CTX = prose.Context("sched_op", "SCHEDOP_shutdown", ("cmd", "arg"), "SCHEDOP_shutdown")


@pytest.mark.parametrize("text, variants", [
    ("x86 PV guests", ("x86-pv32", "x86-pv64")),
    ("PV guests", ("x86-pv32", "x86-pv64")),
    ("HVM and ARM guests", ("x86-hvm32", "x86-hvm64", "arm32", "arm64")),
    ("PVH guests", ("x86-hvm32", "x86-hvm64")),
    ("x86 HVM guests and arm and arm64 guests", ("x86-hvm32", "x86-hvm64", "arm32", "arm64")),
    ("32-bit PV guests", ("x86-pv32",)),
    ("arm64", ("arm64",)),
    ("64-bit guests", ("x86-pv64", "x86-hvm64", "arm64")),
    ("x86 PV guests must set RDX (EDX for 32-bit guests)", ("x86-pv32", "x86-pv64")),
])
def test_scope(text: str, variants: tuple[str, ...]) -> None:
    assert prose.scope_of(text) == variants


def test_no_scope_means_every_variant() -> None:
    assert prose.scope_of("the third argument must be zero") is None
    [claim] = prose.claims("The third argument must be zero.", CTX)
    assert not claim.scoped and len(claim.variants) == 6


@pytest.mark.parametrize("text, arg", [
    ("the third argument", 3), ("RDX", 3), ("EDX", 3), ("Arm guests use x2", 3),
    ("the 3rd hypercall argument", 3), ("an additional argument", 3), ("@arg", 2),
    ("the cmd argument", 1),
])
def test_targets(text: str, arg: int) -> None:
    assert arg in prose.targets_of(text, CTX)


def test_operation_specific_arguments_plural_is_no_target() -> None:
    assert prose.targets_of("Operation-specific extra argument(s)", CTX) == set()


def test_condition_on_another_reason_is_not_compared() -> None:
    assert not flagged("If the reason is SHUTDOWN_poweroff, HVM guests must set RDX to 0.",
                       CTX, reference())


def test_reader_named_xen_is_consistent_with_tools_reading() -> None:
    assert not flagged("Xen ignores the third argument.", CTX, reference())
    assert flagged("The third argument is ignored.", CTX, reference())


def test_no_facts_no_findings() -> None:
    other = prose.Context("memory_op", "XENMEM_increase_reservation", ("cmd", "arg"), "x")
    assert not flagged("The third argument must be zero on HVM.", other, reference())


def test_messages_name_variants_and_the_truth() -> None:
    [c] = flagged("HVM guests must pass 0 in RDX.", CTX, reference())
    msg = c.message(CTX)
    assert c.rule == "XC201" and "x86-hvm64" in msg and "free for the VM's use" in msg


if __name__ == "__main__":
    p, r, misses = evaluate()
    print(f"precision {p:.3f} recall {r:.3f} on {DATA / 'labelled.yaml'}")
    for line in misses:
        print("  " + line)
    sys.exit(0)
