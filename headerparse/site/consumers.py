"""A site page per consumer (``build --consumer NAME=DIR``): a project's own copy of the
Xen headers against the headers the site documents, per arch.

The reports come from ``conform`` (:mod:`headerparse.conform.run`); this module turns one
into the context of ``templates/consumer.rst.j2``, with every Xen symbol resolved to the
site's page for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from headerparse.conform.run import Report
from headerparse.diagnostics import sort_findings
from headerparse.site import text as tx
from headerparse.site.plan import Plan

DOC_DIR = "consumers"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class SpecError(ValueError):
    """A ``--consumer`` argument that cannot be used; one line for the user."""


@dataclass(frozen=True)
class Spec:
    """One ``--consumer NAME=DIR[:PROFILE]``."""

    name: str
    directory: str
    profile: str

    @property
    def docname(self) -> str:
        return f"{DOC_DIR}/{self.name}"


def parse_spec(text: str, profiles: Mapping[str, Any]) -> Spec:
    """``NAME=DIR[:PROFILE]``; without a profile, NAME's when NAME is one, else generic."""
    name, eq, rest = text.partition("=")
    if not eq or not rest:
        raise SpecError(f"--consumer {text!r}: expected NAME=DIR or NAME=DIR:PROFILE")
    if not _NAME.fullmatch(name):
        raise SpecError(f"--consumer {text!r}: NAME must be letters, digits, '_', '.' or '-'")
    directory, colon, profile = rest.rpartition(":")
    if not colon or "/" in profile:
        # No ":PROFILE" (a ":" in the directory's own name stays part of it).
        directory, profile = rest, name if name in profiles else "generic"
    elif profile not in profiles:
        raise SpecError(f"--consumer {text!r}: unknown profile {profile!r}; known: "
                        f"{', '.join(profiles)}")
    return Spec(name, directory, profile)


def check_unique(specs: list[Spec]) -> None:
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise SpecError(f"--consumer {s.name}=...: the name is given twice")
        seen.add(s.name)


@dataclass(frozen=True)
class ConsumerPage:
    spec: Spec
    report: Report
    copy_dir: str       # where the copy is, as the page shows it


def xen_target(plan: Plan, symbol: str | None) -> tuple[str, str | None]:
    """How a Xen symbol of a finding links: ("ref", key), ("header", path) or ("", None).

    A member (``blkif_request.id``) links to its record; a file (XK020's symbol) to its
    header page."""
    if not symbol:
        return "", None
    if symbol in plan.header_doc:
        return "header", symbol
    for key in (symbol, symbol.split(".")[0]):
        if plan.link(key) is not None:
            return "ref", key
    return "", None


def context(page: ConsumerPage, plan: Plan) -> dict[str, Any]:
    """What ``consumer.rst.j2`` shows: facts, the mapping, the findings of each arch."""
    r = page.report
    order = {id(d.finding): d for d in r.drifts}
    rows = []
    for f in sort_findings(r.findings()):
        d = order[id(f)]
        how, key = xen_target(plan, d.xen_symbol)
        rows.append({"f": f, "xen": d.xen_symbol, "how": how, "key": key})
    per_arch = [(a, [row for row in rows if a in row["f"].archs]) for a in r.archs]
    counts = {s: sum(1 for row in rows if row["f"].severity == s)
              for s in ("error", "warning", "note")}
    m = r.mapping
    mapping = [(kind, copy, xen, how)
               for kind, table in (("record", m.records), ("member", m.leaves),
                                   ("constant", m.consts))
               for copy, (xen, how) in sorted(table.items())]
    return {"spec": page.spec, "report": r, "copy_dir": page.copy_dir,
            "best": _best_match(r), "per_arch": per_arch, "counts": counts,
            "mapping": [row for row in mapping if row[3] != "identity"],
            "identity": sum(1 for row in mapping if row[3] == "identity"),
            "xen_link": _xen_link}


def _best_match(r: Report) -> str:
    """The best-match fact, as reST."""
    if r.provenance is None:
        return "no Xen history given (``build --history``)"
    if r.provenance.best is None:
        return "no release shares a header with the copy"
    # "provenance: best match Xen 4.13.x (...)": the part after the label.
    return tx.rst_escape(r.provenance.summary().split("best match ", 1)[1])


def _xen_link(p: Any, row: Mapping[str, Any]) -> str:
    """The Xen symbol cell: a link to its definition on the site where there is one."""
    if row["how"] == "header":
        return p.header(row["key"])
    if row["how"] == "ref":
        return p.ref(row["key"], row["xen"])
    return p.esc(row["xen"]) if row["xen"] else "—"


def render(site: Any, pages: list[ConsumerPage]) -> dict[str, str]:
    """Each consumer's page: docname -> reST, rendered with the site's plan (``site`` is
    :func:`headerparse.site.pages.site_of`'s)."""
    return {pg.spec.docname: site.render("consumer.rst.j2", pg.spec.docname,
                                         **context(pg, site.plan))
            for pg in pages}
