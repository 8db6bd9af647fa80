"""What a hypercall page shows of each sub-op: plain dicts for the template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from headerparse.annotations.subops import HypercallOps, SubOp
from headerparse.model import Model, Record
from headerparse.site.facts import SiteFacts
from headerparse.site.plan import Plan

DIRECTIONS = ("IN", "OUT", "IN/OUT")


def hypercall_ops(model: Model, facts: SiteFacts, plan: Plan, name: str) -> dict[str, Any]:
    """The sub-ops the page of hypercall ``name`` declares, and what it says about them."""
    cat = facts.subops
    hc: HypercallOps | None = cat.by_hypercall.get(name) if cat else None
    if hc is None:
        return {"catalog": None, "ops": [], "hidden": [], "iv": None, "toolstack": False}
    avail = facts.availability.get(name, {})
    ops = [op_data(model, facts, plan, op, avail) for op in hc.ops
           if plan.op_home.get(op.name) == name]
    return {"catalog": hc, "ops": ops, "hidden": list(hc.hidden), "iv": hc.interface_version,
            "toolstack": hc.toolstack_only}


def op_data(model: Model, facts: SiteFacts, plan: Plan, op: SubOp,
            hc_avail: Mapping[str, bool]) -> dict[str, Any]:
    recs = plan.records_by_key.get(op.takes or "", [])
    record = recs[0] if recs else None
    return {"name": op.name, "op": op, "macro": op.macro, "record": record,
            "group": model.group_of(op.name) if op.group else None,
            "tables": facts.op_tables.get(op.name, ()),
            "available": _available(facts, op, hc_avail),
            "directions": directions(record) if record else []}


def _available(facts: SiteFacts, op: SubOp, hc_avail: Mapping[str, bool]) -> str:
    """The variants that may make it: the hypercall's, where the constant is defined;
    an annotation about the sub-op decides where it says."""
    said = facts.availability.get(op.name, {})
    yes, no = [], []
    for v in facts.variants:
        ok = said.get(v.name, hc_avail.get(v.name, False) and v.arch in op.values)
        (yes if ok else no).append(v.name)
    if not no:
        return "every variant"
    if not yes:
        return "no variant"
    return ", ".join(yes) + " (not " + ", ".join(no) + ")"


def directions(r: Record) -> list[tuple[str, str]]:
    """The members read (IN) and written (OUT) by the hypervisor, as the struct says:
    (direction, escaped member list) pairs for the facts."""
    out: dict[str, list[str]] = {}
    for f in r.fields:
        if f.direction in DIRECTIONS and "." not in f.path:
            out.setdefault(f.direction, []).append(f"``{f.path}``")
    return [(d, ", ".join(out[d])) for d in DIRECTIONS if d in out]
