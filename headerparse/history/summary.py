"""One release's ABI in brief: every symbol, its kind and its per-arch value or layout.

A history compares a hundred releases; it needs of each only what could change:
a macro's or enumerator's value, a struct's size and alignment, a member's offset
and size, a typedef's underlying type, a hypercall's number.  That *summary* is a
tenth of the model and plain JSON, kept in the cache under the git tree hash of
the release's public headers, so that each distinct tree is extracted once ever.

Summary JSON (``"format": "headerparse-abi-summary/1"``)::

    {"format": ..., "tree": GIT_TREE_HASH, "archs": ["x86_32", ...],
     "errors": {ARCH: {"count": N, "first": "file:line: message", "headers": [...]}},
     "files": ["xen.h", ...],
     "symbols": {NAME: [KIND, FILE_INDEX, {ARCH: VALUE} | {"*": VALUE}]},
     "unseen": {NAME: WHY}}

``"*"`` stands for every arch of ``archs`` when all have the same value.  A symbol
of ``unseen`` is in the headers' text but no compiled arch sees it (values ``{}``):
a macro inside an ``#if`` that no arch takes, a struct or union tag of ia64's
headers or under ``__XEN__``; ``WHY`` says which, in a few words ("ia64 only").
Names: macros and enumerators by name, records by their layout key
(``struct X``, ``union X``, or the typedef of an anonymous one), members as
``struct X.path``, typedefs by name, hypercalls as ``HYPERVISOR_name``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from headerparse import __version__
from headerparse.model import Model
from headerparse.paths import PACKAGE, code_digest
from headerparse.targets import TARGETS

FORMAT = "headerparse-abi-summary/2"
_NOT_PUBLIC = ("foreign/", "sys/")
# x86 trees before 3.1 have no arch-x86/xen.h: their arch headers are these.
_X86_MARKERS = ("arch-x86/xen.h", "arch-x86_32.h", "arch-x86_64.h")

Summary = dict[str, Any]
Value = int | str | list[int]


def archs_of(files: Mapping[str, bytes] | set[str]) -> tuple[str, ...]:
    """The arches a tree has headers for: Arm from 4.2, RISC-V and PPC later."""
    out = []
    for name, target in TARGETS.items():
        markers = _X86_MARKERS if target.family == "x86" else (target.marker,)
        if any(m in files for m in markers):
            out.append(name)
    return tuple(out)


_KERNEL_TYPES = re.compile(rb"\b[us](?:8|16|32|64)\b")


def era_defines(files: Mapping[str, bytes]) -> tuple[tuple[str, str], ...]:
    """Defines an old tree needs to compile: Xen 2.0's headers use Linux's ``u8`` ... ``s64``.

    Those types came from the including kernel; the headers were made
    self-contained (``uint8_t``) in 3.0.  ``__XEN_INTERFACE_VERSION__`` needs
    nothing here: with ``__XEN_TOOLS__`` a tree's own xen-compat.h (3.0.2 on)
    selects its latest interface, and older trees have no versioned interface.
    """
    if not any(_KERNEL_TYPES.search(data) for data in files.values()):
        return ()
    return tuple((f"{sign}{bits}", f"{'u' if sign == 'u' else ''}int{bits}_t")
                 for sign in "us" for bits in (8, 16, 32, 64))


def from_model(model: Model, tree: str, texts: Mapping[str, bytes] | None = None) -> Summary:
    """The summary of ``model``, the extraction of git tree ``tree`` whose headers are
    ``texts`` (for the definitions no compiled arch sees; none are looked for without)."""
    files: dict[str, int] = {}
    symbols: dict[str, list[Any]] = {}
    archs = tuple(model.archs)

    def add(name: str, kind: str, file: str, values: dict[str, Value]) -> None:
        entry = symbols.get(name)
        if entry is None:
            symbols[name] = [kind, files.setdefault(file, len(files)), values]
        else:       # one more definition (another arch's, or an #else): first one wins
            for arch, value in values.items():
                entry[2].setdefault(arch, value)

    subops = {m for h in model.hypercalls for g in model.groups if g.name in h.groups
              for m in g.members}
    for m in model.macros:
        if not m.loc.file.startswith(_NOT_PUBLIC):
            add(m.name, "subop" if m.name in subops else "macro", m.loc.file, _macro_values(m))
    for e in model.enums:
        if e.loc.file.startswith(_NOT_PUBLIC):
            continue
        if "(" not in e.key:        # "enum (unnamed at ...)" names a place, not a type
            add(e.key, "enum", e.loc.file, dict.fromkeys(e.archs, ""))
        for c in e.constants:
            add(c.name, "enumerator", c.loc.file, dict(c.values))
    _records(model, add)
    for t in model.typedefs:
        # The typedef naming an anonymous record is that record's key already.
        if not t.loc.file.startswith(_NOT_PUBLIC) and symbols.get(t.name, ("typedef",))[0] \
                not in ("struct", "union"):
            add(t.name, "typedef", t.loc.file, {a: " ".join(u.split())
                                                for a, u in t.underlying.items()})
    for h in model.hypercalls:
        add(f"HYPERVISOR_{h.name}", "hypercall", h.loc.file, dict.fromkeys(h.archs, h.number))
    unseen = _unseen(model, texts or {}, symbols, add)
    for entry in symbols.values():
        entry[2] = _compress(entry[2], archs)
    return {"format": FORMAT, "tree": tree, "archs": list(archs), "errors": _errors(model),
            "files": list(files), "symbols": symbols, "unseen": unseen}


def _unseen(model: Model, texts: Mapping[str, bytes], symbols: dict[str, list[Any]],
            add: Any) -> dict[str, str]:
    """Name -> why no compiled arch sees it: the macros no arch's preprocessor took, and
    the struct/union tags of the text that the compiler never defined (added here)."""
    from headerparse.history.textscan import TextScan, file_reason, tag_candidates

    families = {TARGETS[a].family for a in model.archs if a in TARGETS}
    # A header no arch compiles says so better than its #ifs (dom0_ops.h, a broken one).
    uncompiled = {h.path: _HEADER_WHY.get(next(iter(set(h.status.values()))), "")
                  for h in model.headers if len(set(h.status.values())) == 1}
    scans: dict[str, TextScan] = {}

    def why(path: str, guard: Callable[[TextScan], str]) -> str:
        # The file's name first: ia64's headers need no scan to say "ia64 only".
        said = file_reason(path, families)
        if not said:
            if path not in scans:
                scans[path] = TextScan(texts.get(path, b""))
            said = guard(scans[path])
        return said or uncompiled.get(path) or "in an #if branch no compiled arch takes"

    out: dict[str, str] = {}
    for m in model.macros:
        if not m.archs and symbols.get(m.name, [None, None, {}])[2] == {} \
                and not m.loc.file.startswith(_NOT_PUBLIC):
            out.setdefault(m.name, why(m.loc.file, lambda t, line=m.loc.line: t.guard(line)))
    for path, data in texts.items():
        # Most headers' tags are all the compiler's: their text needs no scan.
        if not path.endswith(".h") or path.startswith(_NOT_PUBLIC) \
                or tag_candidates(data) <= symbols.keys():
            continue
        if path not in scans:
            scans[path] = TextScan(data)
        for key, (_line, guard) in scans[path].records.items():
            if key not in symbols:
                add(key, key.split()[0], path, {})
                out[key] = why(path, lambda _t, g=guard: g)
    return out


def _macro_values(m: Any) -> dict[str, Value]:
    """An object-like macro's integer value per arch; else its body, as written."""
    text = " ".join(m.body.split())
    if m.params is not None:
        text = f"({','.join(m.params)}) {text}"
    return {a: m.values.get(a, text) for a in m.archs}


_HEADER_WHY = {"errors": "its header does not compile", "error-by-design":
               "its header #errors by design", "not-included": "its header is included nowhere"}


def _records(model: Model, add: Any) -> None:
    for r in model.records:
        if r.loc.file.startswith(_NOT_PUBLIC) or "(" in r.key:
            continue
        add(r.key, r.kind, r.loc.file,
            {a: [lay.size, lay.align] for a, lay in r.layouts.items()})
        members: dict[str, dict[str, Value]] = {}
        for arch, lay in r.layouts.items():
            for m in lay.members:
                where = [m.offset, m.size]
                if m.bit_size is not None:
                    where += [m.bit_offset or 0, m.bit_size]
                members.setdefault(m.path, {})[arch] = where
        for f in r.fields:      # a member of no arch's layout is still declared
            members.setdefault(f.path, {})
        for path, values in members.items():
            add(f"{r.key}.{path}", "member", r.loc.file, values)


def _compress(values: dict[str, Value], archs: tuple[str, ...]) -> dict[str, Value]:
    if len(values) == len(archs) > 1:
        first = next(iter(values.values()))
        if all(v == first for v in values.values()):
            return {"*": first}
    return values


def expand(values: dict[str, Value], archs: list[str]) -> dict[str, Value]:
    """Per-arch values of a summary entry, ``"*"`` undone."""
    if "*" in values:
        return dict.fromkeys(archs, values["*"])
    return values


def _errors(model: Model) -> dict[str, dict[str, Any]]:
    """Per arch: how many compile errors, the first, and the headers that have them."""
    out: dict[str, dict[str, Any]] = {}
    for d in model.diagnostics:
        if d.severity != "error":
            continue
        for arch in d.archs or model.archs:
            e = out.setdefault(arch, {"count": 0, "first": d.render(), "headers": []})
            e["count"] += 1
    for h in model.headers:
        for arch, status in h.status.items():
            if status == "errors" and arch in out:
                out[arch]["headers"].append(h.path)
    return out


def broken(summary: Summary, arch: str, file: str) -> bool:
    """Whether ``arch``'s view of ``file`` is unreliable: it, or xen.h, failed to compile."""
    e = summary["errors"].get(arch)
    return e is not None and (file in e["headers"] or "xen.h" in e["headers"])


# --------------------------------------------------------------------------- cache


@cache
def _code_key() -> str:
    """What the summaries depend on besides the headers: headerparse's extraction code.

    The ``extract`` package, the modules it imports and this one: a change there
    costs a re-extraction of every tree (two minutes for Xen's), never a stale
    summary; a change to the checks or the site costs nothing.
    """
    files = [path for path in sorted(PACKAGE.rglob("*.py"))
             if (rel := path.relative_to(PACKAGE).as_posix()).startswith("extract/")
             or rel in _EXTRACTION]
    return code_digest(files, f"{FORMAT}\0{__version__}\0{_clang_id()}")[:16]


_EXTRACTION = {"__init__.py", "model.py", "jsonform.py", "diagnostics.py", "targets.py",
               "tree.py", "treesafe.py", "paths.py", "safeio.py", "parallel.py",
               "history/summary.py", "history/textscan.py"}


def _clang_id() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("libclang")
    except importlib.metadata.PackageNotFoundError:
        return "libclang"


def cache_path(cache: Path, tree: str, options_key: str) -> Path:
    key = hashlib.sha256(f"{_code_key()}\0{options_key}".encode()).hexdigest()[:12]
    return cache / "history" / "summaries" / f"{tree}-{key}.json"


def load(path: Path, tree: str) -> Summary | None:
    """The cached summary at ``path``; None when missing, damaged or of another format."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("tree") != tree:
        return None
    if "failed" not in data and not _KEYS <= data.keys():
        return None
    return data


_KEYS = {"archs", "errors", "files", "symbols", "unseen"}


def save(path: Path, summary: Summary) -> None:
    from headerparse.extract.cache import prune_dir, write_atomically

    write_atomically(path, json.dumps(summary, separators=(",", ":")).encode())
    # Every tree of Xen's history twice over: an old and a new headerparse's.
    prune_dir(path.parent, 400, "*.json")
