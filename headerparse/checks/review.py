"""``headerparse review PATCH``: what a header patch changes in the ABI, and what it claims.

The patch is applied to an in-memory copy of the tree (:mod:`patch`); both trees
are extracted and checked; findings present after but not before the patch are
*introduced*.  The single-tree findings (prose, hygiene) are those of the headers the
patch touches, so a reviewer reads about the patch, not about the rest of Xen; the ABI
findings are every one the patch causes, labelled in the headers it does not touch
(:mod:`knockon`).  Both trees are extracted on the parent's arches; a patch that adds
an arch (arch-ppc.h) also gets the headers only that arch parses checked on it alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from headerparse.checks import abidiff, guards, knockon, patch, versions
from headerparse.checks.formats import finding_json
from headerparse.checks.reference import Loaded
from headerparse.checks.rules import Finding, mark_introduced
from headerparse.checks.run import CheckInput, tree_findings
from headerparse.diagnostics import sort_findings
from headerparse.model import Model
from headerparse.safeio import InputTooLarge, escape_controls, read_capped, read_file_capped
from headerparse.targets import TARGETS, available_archs, header_status
from headerparse.tree import HeaderTree, TreeError


class ReviewError(Exception):
    """The patch cannot be reviewed (refused, or hunks that do not apply); one message."""


@dataclass
class Review:
    patches: list[patch.Patch]
    applied: patch.Applied
    changes: list[abidiff.Change]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    @property
    def introduced(self) -> list[Finding]:
        return [f for f in self.findings if f.introduced]


def review(data: bytes, tree: HeaderTree, extract_model: Callable[..., Model], loaded: Loaded,
           release: Callable[[], Model | versions.Versions | None] | None = None,
           at_version: Callable[[HeaderTree, str], Model] | None = None) -> Review:
    """Review ``data`` (a patch) against ``tree``; ``extract_model(tree) -> Model``, and
    ``extract_model(tree, archs=...)`` when the patch adds or removes an arch header.

    ``release()`` gives the model (or the :class:`versions.Versions`) of the last release
    before ``tree``, asked for only when the patch touches a header guarded by an
    interface version that Xen checks at run time: if that version moved since the
    release, it already versions the patch.
    ``at_version(tree, version)`` extracts with ``__XEN_INTERFACE_VERSION__`` set: when
    the patch raises the latest interface version, what a consumer of the previous one
    does not see is versioned.
    """
    try:
        patches = patch.parse(data)
        applied = patch.apply(patches, tree.files)
    except patch.PatchError as exc:
        raise ReviewError(f"patch refused: {exc}") from exc
    if applied.failures:
        raise ReviewError("the patch does not apply to " + tree.description + ":\n  "
                          + "\n  ".join(applied.failures))
    notes = [f"not a public header, not reviewed: {p}" for p in applied.skipped]
    notes += [f"renamed out of the public headers (gone from the ABI): {m}"
              for m in applied.moved_out]
    if not applied.changed and applied.files.keys() == tree.files.keys():
        notes.append("the patch changes no public header")
        return Review(patches, applied, [], [], notes)
    subject = patches[0].subject or "patch"
    try:
        new_tree = HeaderTree(f"{tree.description} + {subject}", applied.files, None,
                              tree.extra)
    except TreeError as exc:
        raise ReviewError(f"patch refused: {exc}") from exc
    old_model: Model = extract_model(tree)
    new_model, added = _extract_like(extract_model, old_model, tree, new_tree, notes)
    touched = set(applied.changed) | set(applied.renames.values())
    touched |= set(tree.files) ^ set(applied.files)
    only = frozenset(touched)
    before = tree_findings(CheckInput(tree.files, old_model, loaded, only=only))
    moved = _moved(touched, old_model, release, notes)
    after = tree_findings(CheckInput(applied.files, new_model, loaded, old_model, moved, only))
    if added:
        after += _added_arch_findings(extract_model, new_tree, added, old_model.archs, only,
                                      loaded, after, notes)
    changes = abidiff.diff(old_model, new_model, applied.files, moved)
    # ABI findings wherever they are (defect 7): a touched header's change moves the
    # records of every header that includes it.
    after += knockon.label(abidiff.diff_findings(changes), touched, old_model, new_model)
    versioned = _interface_versioned(changes, old_model, new_tree, at_version, notes)
    after = [replace(f, severity="note", message=f"{f.message} (versioned by "
                     "__XEN_INTERFACE_VERSION__)") if f.symbol in versioned
             and f.rule in _VERSIONABLE else f for f in after]
    findings = sort_findings(mark_introduced(before, after))
    return Review(patches, applied, changes, findings, notes)


def _extract_like(extract_model: Callable[..., Model], old_model: Model, tree: HeaderTree,
                  new_tree: HeaderTree, notes: list[str]) -> tuple[Model, tuple[str, ...]]:
    """The patched tree's model on the parent's arches (defect 6): an arch the patch
    adds (arch-riscv.h) would make findings of the other arches look new; and the
    arches it adds."""
    before, after = available_archs(tree.files), available_archs(new_tree.files)
    if before == after:
        return extract_model(new_tree), ()
    added = tuple(a for a in after if a not in before)
    gone = [a for a in old_model.archs if a not in after]
    if added:
        notes.append(f"the patch adds arch(es) {', '.join(added)}: reviewed on the "
                     f"parent's arches ({', '.join(old_model.archs)})")
    if gone:
        notes.append(f"the patch removes arch(es) {', '.join(gone)}: not compared there")
    return extract_model(new_tree, archs=tuple(a for a in old_model.archs if a not in gone)), \
        added


def _added_arch_findings(extract_model: Callable[..., Model], new_tree: HeaderTree,
                         added: tuple[str, ...], parent_archs: tuple[str, ...],
                         touched: frozenset[str], loaded: Loaded, found: list[Finding],
                         notes: list[str]) -> list[Finding]:
    """The single-tree findings of the touched headers that only the added arches compile
    (arch-ppc.h: its records exist on ppc64 alone), from the patched tree on those
    arches; each once (what the sources alone show, the parent's arches found too)."""
    theirs = frozenset(p for p in touched
                       if all(header_status(p, TARGETS[a])[0] == "other-arch"
                              for a in parent_archs)
                       and any(header_status(p, TARGETS[a])[0] != "other-arch" for a in added))
    if not theirs:
        return []
    notes.append(f"{', '.join(sorted(theirs))}: checked on {', '.join(added)} alone, the "
                 "arch(es) the patch adds")
    model = extract_model(new_tree, archs=added)
    seen = {f.fingerprint() for f in found}
    return [f for f in tree_findings(CheckInput(new_tree.files, model, loaded, only=theirs))
            if f.fingerprint() not in seen]


def _moved(touched: set[str], old_model: Model,
           release: Callable[[], Model | versions.Versions | None] | None,
           notes: list[str]) -> frozenset[str]:
    if release is None or not any(guards.guard_of(p) in guards.RUNTIME_CHECKED
                                  for p in touched):
        return frozenset()
    base = release()
    if base is None:
        return frozenset()
    if isinstance(base, Model):
        base = versions.of_model(base)
    moved = frozenset(versions.moved_since(base, old_model))
    if moved:
        notes.append(f"changed since {base.tree}: {', '.join(sorted(moved))}")
    return moved


_VERSIONABLE = ("XC401", "XC402", "XC403", "XC408")


def _interface_versioned(changes: list[abidiff.Change], old_model: Model, new_tree: HeaderTree,
                         at_version: Callable[[HeaderTree, str], Model] | None,
                         notes: list[str]) -> set[str]:
    """Symbols whose incompatible change a consumer of the previous latest interface
    version does not see: the patch versions them with ``__XEN_INTERFACE_VERSION__``."""
    bump = next((c for c in changes if c.kind == "version" and c.symbol == guards.LATEST
                 and isinstance(c.before, int)), None)
    if bump is None or at_version is None:
        return set()
    compat = at_version(new_tree, f"{bump.before:#010x}")
    still = {c.symbol for c in abidiff.diff(old_model, compat) if c.incompatible}
    versioned = {c.symbol for c in changes if c.incompatible and c.symbol not in still}
    if versioned:
        notes.append(f"{len(versioned)} changed symbol(s) keep their old ABI for "
                     f"__XEN_INTERFACE_VERSION__ {bump.before:#010x}: versioned")
    return versioned


# --------------------------------------------------------------------------- output


def to_json(r: Review) -> str:
    doc: dict[str, Any] = {
        "patches": [{"subject": p.subject, "author": p.author,
                     "files": [f.path for f in p.files]} for p in r.patches],
        "abi_changes": [c.to_json() for c in r.changes],
        "findings": [finding_json(f) for f in r.findings],
        "notes": r.notes,
    }
    return json.dumps(doc, indent=1) + "\n"


def _abi_lines(r: Review) -> list[str]:
    shown = r.changes
    if not shown:
        return ["ABI: no change on any arch."]
    out = ["ABI changes, per arch:"]
    for arch, lines in sorted(abidiff.summarize(shown).items()):
        out.append(f"  {arch}:")
        out += [f"    - {ln}" for ln in lines[:40]]
        if len(lines) > 40:
            out.append(f"    - ... and {len(lines) - 40} more")
    return out


def _summary(r: Review) -> str:
    new = r.introduced
    old = [f for f in r.findings if not f.introduced]
    errors = sum(1 for f in new if f.severity == "error")
    return (f"headerparse review: {len(new)} finding(s) introduced ({errors} error(s)), "
            f"{len(old)} already there in the touched headers.")


def _finding_lines(f: Finding, quote: str = "") -> list[str]:
    tag = "NEW" if f.introduced else "already there"
    scope = ", ".join(f.variants or f.archs)
    out = [f"{quote}{f.severity} [{f.rule} {tag}]{f' ({scope})' if scope else ''}: {f.message}",
           f"{quote}  why: {f.why}", f"{quote}  fix: {f.fix}"]
    return out


def to_text(r: Review, *, markdown: bool = False) -> str:
    """A reply as on xen-devel (see :func:`_reply`), control characters escaped: the
    patch's text must not drive the reviewer's terminal."""
    return escape_controls(_reply(r, markdown=markdown))


def _reply(r: Review, *, markdown: bool = False) -> str:
    """A reply as on xen-devel: the patch quoted with '>' and findings under their lines."""
    out: list[str] = []
    for p in r.patches:
        if p.author or p.subject:
            out.append(f"On {p.subject or 'the patch'}, {p.author or 'the author'} wrote:")
    out.append(_summary(r))
    out += _abi_lines(r)
    out += [f"note: {n}" for n in r.notes]
    out.append("")
    placed: set[int] = set()
    for p in r.patches:
        for fp in p.files:
            out += _quote_file(fp, r, placed, markdown)
    rest = [f for i, f in enumerate(r.findings) if i not in placed]
    if rest:
        touched = {_review_path(fp, r) for p in r.patches for fp in p.files}
        scope = ("in the touched headers" if all(f.loc is None or f.loc.file in touched
                                                  for f in rest)
                 else "(the touched headers, and ABI knock-on in headers that include them)")
        out.append(f"Elsewhere {scope}:" if not markdown else f"**Elsewhere {scope}:**")
        for f in rest:
            where = f"{f.loc}: " if f.loc else ""
            lines = _finding_lines(f)
            out.append(("- " if markdown else "") + where + lines[0])
            out += [("  " if markdown else "") + ln for ln in lines[1:]]
    return "\n".join(out).rstrip() + "\n"


def _quote_file(fp: patch.FilePatch, r: Review, placed: set[int], markdown: bool) -> list[str]:
    path = _review_path(fp, r)
    if path is None:
        return []
    out = [f"> --- {fp.old_path or '/dev/null'}", f"> +++ {fp.new_path or '/dev/null'}"]
    by_line: dict[int, list[int]] = {}
    for i, f in enumerate(r.findings):
        if f.loc is not None and f.loc.file == path:
            by_line.setdefault(f.loc.line, []).append(i)
    for h in fp.hunks:
        out.append(f"> {h.header}{(' ' + h.section) if h.section else ''}")
        line = h.applied_at if h.applied_at else h.new_start
        for raw in h.lines:
            out.append(f"> {raw}")
            if raw[:1] == "-":
                continue
            for i in by_line.get(line, []):
                if i in placed:
                    continue
                placed.add(i)
                out.append("")
                lines = _finding_lines(r.findings[i])
                out += [("**" + lines[0] + "**") if markdown else lines[0], *lines[1:]]
                out.append("")
            line += 1
    out.append("")
    return out


def _review_path(fp: patch.FilePatch, r: Review) -> str | None:
    for path in (fp.new_path, fp.old_path):
        if not path:
            continue
        try:
            p = patch.public_path(path, r.applied.files, git=fp.git)
        except patch.PatchError:
            return None
        if p is not None:
            return p
    return None


def read_patch(spec: str, stdin) -> bytes:
    """The bytes of PATCH: a file, or '-' for stdin; refused past the size cap before
    more than the cap is read (``review /dev/zero`` stops at once)."""
    cap = patch.MAX_PATCH_BYTES
    try:
        if spec == "-":
            return read_capped(stdin.buffer, cap, "the patch on stdin")
        return read_file_capped(spec, cap, f"patch {spec}")
    except InputTooLarge as exc:
        raise ReviewError(f"{exc}: not a header patch") from exc
    except OSError as exc:
        raise ReviewError(f"cannot read patch {spec}: {exc.strerror}") from exc
