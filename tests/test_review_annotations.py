"""``headerparse review`` judged against the project's real annotation files.

test_review.py pins the review machinery with a small reference file; this test
uses what ships in source/annotations, so a change to those files that would
blind the review to the SHUTDOWN_suspend case fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_review import COMMITTED, diff, model_of

from headerparse.annotations.load import load_for_tree
from headerparse.checks.reference import Loaded, from_annotations
from headerparse.checks.review import review
from headerparse.tree import HeaderTree

pytestmark = pytest.mark.slow
CASES = yaml.safe_load((Path(__file__).parent / "data" / "prose" /
                        "sched_suspend_phrasings.yaml").read_text())


@pytest.fixture(scope="module")
def real_annotations(xen_tree_417: HeaderTree) -> Loaded:
    loaded = from_annotations(*load_for_tree(model_of(xen_tree_417), xen_tree_417))
    assert not loaded.problems, loaded.problems
    assert loaded.reference.facts, "the annotation layer yielded no hand-written facts"
    return loaded


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_phrasing(case: dict, xen_tree_417: HeaderTree, real_annotations: Loaded) -> None:
    sched = xen_tree_417.files["sched.h"].decode()
    added = COMMITTED.replace(" * argument.\n", f" * argument.\n * {case['text']}\n")
    r = review(diff(sched, sched.replace(COMMITTED, added)), xen_tree_417, model_of,
               real_annotations)
    got = sorted(f"{f.rule}:{','.join(f.variants)}" for f in r.findings if f.introduced)
    assert got == sorted(case["expect"])
    assert not [c for c in r.changes if c.incompatible]
