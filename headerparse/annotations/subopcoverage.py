"""How completely each hypercall's sub-ops are documented: the counts that
``headerparse annotations coverage`` prints, from a sub-op :class:`~.subops.Catalog`."""

from __future__ import annotations

from collections.abc import Mapping

from headerparse.annotations.subops import Catalog


def coverage(cat: Catalog) -> dict[str, dict]:
    """Per hypercall with sub-ops: how many, how many documented (a comment or an
    annotation's summary), with a known argument, tools-only, from annotations."""
    out: dict[str, dict] = {}
    for name, h in cat.by_hypercall.items():
        if not h.ops and not h.hidden:
            continue
        out[name] = {
            "subops": len(h.ops),
            "documented": sum(op.documented for op in h.ops),
            "argument_known": sum(op.takes_known or op.takes_none for op in h.ops),
            "tools_only": sum(op.tools_only for op in h.ops),
            "from_annotations": sum(op.source == "annotation" for op in h.ops),
            "toolstack_only": h.toolstack_only,
            "interface_version": h.interface_version.name if h.interface_version else None,
            "op_groups": list(h.groups),
            "ops": [op.name for op in h.ops],
            "not_shown": {n: why for n, why in h.hidden},
        }
    return out


def coverage_lines(data: Mapping[str, dict]) -> list[str]:
    head = f"{'hypercall':<20}{'sub-ops':>8}{'documented':>11}{'argument':>9}{'tools':>6}" \
           f"{'annotation':>11}"
    lines = ["sub-ops per hypercall (command values the headers define; docs/site.md):", head]
    for name, c in data.items():
        lines.append(f"{name:<20}{c['subops']:>8}{c['documented']:>11}{c['argument_known']:>9}"
                     f"{c['tools_only']:>6}{c['from_annotations']:>11}"
                     + ("  toolstack only" if c["toolstack_only"] else ""))
    total = sum(c["subops"] for c in data.values())
    documented = sum(c["documented"] for c in data.values())
    lines.append(f"{'total':<20}{total:>8}{documented:>11}")
    return lines
