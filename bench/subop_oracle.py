#!/usr/bin/env python3
"""The sub-op catalog against Xen's own dispatch switches.

    python3 bench/subop_oracle.py [--tree PATH [--rev REV]] [--data TSV] [--format text|json]

The oracle is ``bench/data/xen-dispatch.tsv``: the ``case`` constants of each
hypercall's handler in the hypervisor (xen/common/memory.c, xen/arch/x86/mm.c, ...),
which the public headers cannot say. The catalog is what the site renders as
``xen:op`` objects: ``subops.complete(subops.catalog(...))``, the same call the site
and ``headerparse annotations coverage`` make. Per hypercall of the oracle it prints

  dispatched  oracle constants that these headers define for the extracted
              interface version (the others are listed as not defined, with why)
  listed      sub-ops its page declares as xen:op: the catalog placed by the site's
              plan, or (--inventory) the xen:op entries of a built site's objects.inv
  missing     dispatched and defined, yet not listed: a catalog miss
  extra       listed, yet in no switch that was read, with the likely reason

Exit 1 when a dispatched, defined sub-op is missing. Default tree: Debian
bookworm's headers (Xen 4.17), as ``headerparse`` fetches them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from headerparse.annotations.load import load_for_tree
from headerparse.annotations.subops import Catalog, SubOp, catalog, complete
from headerparse.cli.common import (
    UsageError,
    add_annotation_options,
    add_tree_options,
    annotations,
    load_model,
)
from headerparse.model import Model
from headerparse.site.plan import Plan
from headerparse.tree import HeaderTree, TreeError

DATA = Path(__file__).resolve().parent / "data" / "xen-dispatch.tsv"
#: The hypercalls of issue 12 whose sub-ops Xen's dispatch code handles.
FOURTEEN = ("memory_op", "vcpu_op", "hvm_op", "physdev_op", "xen_version", "mmuext_op",
            "grant_table_op", "event_channel_op", "sched_op", "platform_op", "xenpmu_op",
            "kexec_op", "argo_op", "callback_op")


class OracleError(Exception):
    """A bad oracle file: one line, with file:line."""


def read_oracle(path: Path) -> dict[str, dict[str, str]]:
    """hypercall -> constant -> 'source:function' of its first switch."""
    out: dict[str, dict[str, str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise OracleError(f"{path}: {exc.strerror}") from exc
    for n, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields == ["hypercall", "constant", "source", "function"]:
            continue
        if len(fields) != 4 or not all(fields):
            raise OracleError(f"{path}:{n}: want 4 tab-separated fields, got {line!r}")
        hc, const, src, fn = fields
        out.setdefault(hc, {}).setdefault(const, f"{src}:{fn}")
    return out


def _why_undefined(model: Model, name: str, hidden: Mapping[str, str]) -> str:
    if name in hidden:
        return hidden[name]
    macros = model.macros_named(name)
    if not macros:
        return "not in these headers (hypervisor-internal, or added/removed in another release)"
    return "not defined for this interface version or these arches"


# Extras whose absence from the switches was checked by reading them (bench/data).
KNOWN_EXTRA: Mapping[str, str] = {
    "PHYSDEVOP_free_irq_vector": "no case in do_physdev_op (read at 2016-04-08 and 2012): "
                                 "the hypervisor does not dispatch it",
    "GNTTABOP_dump_table": "no case in do_grant_table_op (read at 2021-11-08)",
    "HVMOP_set_mem_access": "no case in do_hvm_op (read at 2024-05-29): moved to "
                            "XENMEM_access_op; the headers keep it for old tools",
    "HVMOP_get_mem_access": "no case in do_hvm_op (read at 2024-05-29): moved to "
                            "XENMEM_access_op; the headers keep it for old tools",
    **{f"XEN_DOMCTL_{n}": "no case in do_domctl (2024-12-19), x86 arch_do_domctl "
       "(2024-09-30) nor Arm's (2024-05-24); Arm64's subarch_do_domctl was not read"
       for n in ("real_mode_area", "set_opt_feature")},
}


def _why_extra(name: str, op: SubOp | None) -> str:
    if name in KNOWN_EXTRA:
        return KNOWN_EXTRA[name]
    why = ("in no switch read: the version read may predate it, or a function not read "
           "(an arch or compat variant) handles it")
    if op is not None and op.source == "annotation":
        why = "from an annotation; " + why
    return why + ("; tools-only" if op is not None and op.tools_only else "")


def listed_on_pages(model: Model, cat: Catalog) -> dict[str, set[str]]:
    """Hypercall -> the sub-ops its page declares as ``xen:op``: the catalog's, each on
    the page the site's plan makes its home."""
    out: dict[str, set[str]] = {}
    for op, hc in Plan(model, cat).op_home.items():
        out.setdefault(hc, set()).add(op)
    return out


def listed_in_inventory(path: Path) -> dict[str, set[str]]:
    """Hypercall -> the ``xen:op`` entries of a built site's objects.inv on its page."""
    from sphinx.util.inventory import InventoryFile

    try:
        with path.open("rb") as f:
            inv = InventoryFile.load(f, "", lambda base, uri: uri)
    except (OSError, ValueError) as exc:
        raise OracleError(f"{path}: not a readable objects.inv ({exc})") from exc
    out: dict[str, set[str]] = {}
    for name, item in inv.get("xen:op", {}).items():
        uri = item.uri if hasattr(item, "uri") else item[2]    # Sphinx < 8.2: a tuple
        page = uri.split("#", 1)[0]                              # hypercalls/memory_op.html
        if page.startswith("hypercalls/"):
            out.setdefault(page[len("hypercalls/"):].removesuffix(".html"), set()).add(name)
    return out


def compare(model: Model, cat: Catalog, oracle: Mapping[str, Mapping[str, str]],
            listed: Mapping[str, set[str]] | None = None) -> dict[str, dict]:
    """Per hypercall of the oracle; ``listed`` (default :func:`listed_on_pages`) is
    what its page declares as ``xen:op``."""
    if listed is None:
        listed = listed_on_pages(model, cat)
    out: dict[str, dict] = {}
    for hc, consts in oracle.items():
        h = cat.by_hypercall.get(hc)
        ops = {n: cat.by_name.get(n) for n in sorted(listed.get(hc, ()))}
        alias = {a: n for n, op in ops.items() if op for a in op.aliases}
        hidden = dict(h.hidden) if h else {}
        defined = [c for c in consts if any(m.archs for m in model.macros_named(c))]
        undefined = {c: _why_undefined(model, c, hidden) for c in consts if c not in defined}
        missing = [c for c in defined if c not in ops and c not in alias]
        extra = {n: _why_extra(n, op) for n, op in ops.items()
                 if n not in consts and not (op and any(a in consts for a in op.aliases))}
        out[hc] = {"dispatched": len(defined), "listed": len(ops),
                   "listed_dispatched": len(defined) - len(missing),
                   "missing": {c: consts[c] for c in missing}, "extra": extra,
                   "not_defined": undefined}
    return out


def lines(result: Mapping[str, dict], tree: str) -> Iterable[str]:
    yield f"sub-ops vs Xen's dispatch switches on {tree}"
    yield f"{'hypercall':<18}{'dispatched':>11}{'listed':>7}{'covered':>8}{'missing':>8}" \
          f"{'extra':>6}{'undefined':>10}"
    for hc, r in result.items():
        yield (f"{hc:<18}{r['dispatched']:>11}{r['listed']:>7}{r['listed_dispatched']:>8}"
               f"{len(r['missing']):>8}{len(r['extra']):>6}{len(r['not_defined']):>10}")
    tot = {k: sum(r[k] for r in result.values()) for k in ("dispatched", "listed_dispatched")}
    yield f"{'total':<18}{tot['dispatched']:>11}{'':>7}{tot['listed_dispatched']:>8}" \
          f"{sum(len(r['missing']) for r in result.values()):>8}"
    for hc, r in result.items():
        for c, where in r["missing"].items():
            yield f"  MISSING {hc}: {c} ({where})"
        for c, why in r["extra"].items():
            yield f"  extra   {hc}: {c}: {why}"
        for c, why in r["not_defined"].items():
            yield f"  undef   {hc}: {c}: {why}"


def site_catalog(tree: HeaderTree, model: Model, annotations_dir: str | None = None) -> Catalog:
    """The sub-ops the site renders: the headers' catalog completed by the annotations."""
    aset, _diags = load_for_tree(model, tree, annotations_dir)
    texts = {p: data.decode("utf-8", "replace") for p, data in tree.files.items()}
    return complete(catalog(model, texts), aset, model)


def run(args: argparse.Namespace) -> dict[str, dict]:
    oracle = read_oracle(Path(args.data))
    tree, model = load_model(args)
    annotations(args, tree, model)          # a bad --annotations is a usage error here
    listed = listed_in_inventory(Path(args.inventory)) if args.inventory else None
    return compare(model, site_catalog(tree, model, args.annotations), oracle, listed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_tree_options(p)
    add_annotation_options(p)
    p.add_argument("--data", default=str(DATA), help="the oracle TSV")
    p.add_argument("--inventory", metavar="OBJECTS_INV",
                   help="take what the pages list from a built site's objects.inv "
                        "(xen:op entries) instead of the catalog")
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    try:
        result = run(args)
    except (OracleError, UsageError, TreeError) as exc:
        print(f"subop_oracle: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result, indent=1))
    else:
        where = f"{args.tree}{' at ' + args.rev if args.rev else ''}" if args.tree \
            else "Debian bookworm (Xen 4.17)"
        print("\n".join(lines(result, where)))
    return 1 if any(r["missing"] for r in result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
