"""Shared by the extraction tests and ``regen_extract.py``: run one synthetic case.

A case is ``tests/data/extract/<name>.h``, parsed in a tree with the shared
stand-in ``xen.h``; its expected output, ``<name>.expected.json``, is the
projection below: per-arch layouts and macro values of that header, the
statuses of the headers, and the docs and IN/OUT markers of its symbols.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headerparse.extract.pipeline import Options, extract
from headerparse.model import Model
from headerparse.tree import open_tree

DATA = Path(__file__).resolve().parents[1] / "data" / "extract"
CASES = sorted(p.stem for p in DATA.glob("*.h") if p.name != "xen.h")


def case_files(name: str) -> dict[str, bytes]:
    return {"xen.h": (DATA / "xen.h").read_bytes(), f"{name}.h": (DATA / f"{name}.h").read_bytes()}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    public = root / "public"
    for rel, data in files.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)
    if not (public / "sched.h").exists():
        (public / "sched.h").write_bytes(b"")
    return public


def run_case(name: str, root: Path) -> Model:
    tree = open_tree(str(write_tree(root, case_files(name))))
    return extract(tree, Options(), cache=root / "cache")


def project(model: Model, name: str) -> dict[str, Any]:
    """The parts of the model a case pins down, in a diff-friendly shape."""
    header = f"{name}.h"
    layouts: dict[str, dict[str, Any]] = {}
    for arch in model.archs:
        layouts[arch] = {
            r.key: {"size": lay.size, "align": lay.align,
                    "members": [[m.path, m.offset, m.size, m.bit_offset, m.bit_size]
                                for m in lay.members],
                    "holes": [[h.offset, h.size, h.after] for h in lay.holes]}
            for r in model.records if r.loc.file == header and (lay := r.layout(arch))
        }
    macros = {}
    for m in model.macros:
        if m.loc.file == header:
            macros[m.name] = {"params": list(m.params) if m.params is not None else None,
                              "values": dict(m.values),
                              "no_value": sorted(m.why_not) if m.why_not else []}
    docs = {}
    for r in model.records:
        if r.loc.file == header:
            docs[r.key] = r.doc.text
            for f in r.fields:
                if f.direction or f.doc:
                    docs[f"{r.key}.{f.path}"] = f"[{f.direction}] {f.doc.text}"
    diags = sorted(f"{d.loc.file}:{d.loc.line}: {d.severity} [{','.join(d.archs)}]"
                   for d in model.diagnostics if d.loc and d.loc.file == header)
    return {"layouts": layouts, "macros": macros, "docs": docs, "diagnostics": diags}
