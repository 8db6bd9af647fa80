"""Finding, reading and binding the annotation files: the one way every command does it.

``check``, ``review``, ``show``, ``build`` and ``annotations *`` all call
:func:`load_for_tree`, so the same files bind to the same tree in the same way: the
directory from :func:`headerparse.paths.annotations_dir` (``--annotations``, else
``$HEADERPARSE_ANNOTATIONS``, else the checkout's), and the tree's own
``hypercall-defs.c`` when it has one.
"""

from __future__ import annotations

from pathlib import Path

from headerparse.annotations.bind import bind
from headerparse.annotations.schema import load_files
from headerparse.annotations.types import AnnotationSet
from headerparse.model import Diagnostic, Model
from headerparse.paths import HYPERCALL_DEFS, annotations_dir
from headerparse.tree import HeaderTree


def load_annotations(directory: Path | str, model: Model, defs_text: str | None = None, *,
                     defs_path: str = HYPERCALL_DEFS
                     ) -> tuple[AnnotationSet, list[Diagnostic]]:
    """Validate every ``*.yaml`` under ``directory`` and bind it to ``model``.

    ``defs_text`` is the tree's ``hypercall-defs.c`` when it has one. Never
    raises on bad input: every problem is a :class:`Diagnostic` with file:line.
    """
    files, diags = load_files(Path(directory))
    aset, more = bind(files, model, defs_text, defs_path)
    return aset, diags + more


def defs_of(tree: HeaderTree | None) -> str | None:
    """The tree's ``hypercall-defs.c``, decoded; None for trees without one (installs)."""
    data = tree.extra.get(HYPERCALL_DEFS) if tree is not None else None
    return data.decode("utf-8", errors="replace") if data is not None else None


def load_for_tree(model: Model, tree: HeaderTree | None, directory: str | Path | None = None,
                  *, defs: tuple[str, str] | None = None
                  ) -> tuple[AnnotationSet, list[Diagnostic]]:
    """The annotations of ``model``'s tree: ``directory`` (else the default) bound with the
    tree's ``hypercall-defs.c``, or with ``defs`` (text, display path) when given."""
    text, path = defs if defs is not None else (defs_of(tree), HYPERCALL_DEFS)
    return load_annotations(annotations_dir(directory), model, text, defs_path=path)
