"""Skipping the docutils and Sphinx transforms that have nothing to do in a document.

Sphinx runs some forty transforms on every document it reads and ten more on every
document it writes, and most of them walk the whole tree looking for one kind of
node (footnotes, citations, substitutions, targets, images, doctest blocks ...)
that a generated header page never has. On Debian's 4.17 headers those walks were
a fifth of Sphinx's time. Here one walk per phase notes which node classes a
document holds, and a transform whose every trigger class is absent is dropped:
it would have found nothing to change, so the doctree is the same.

A transform is only dropped when the census says so, whatever the document's
origin (hand-written pages too). Documents with nodes from which a transform can
make new nodes of another kind (substitution or citation references, pending
nodes, a translation catalog) keep every transform.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import ModuleType
from typing import Any

import sphinx.builders.latex.transforms as latex_tx
import sphinx.domains.c as c_domain
import sphinx.domains.citation as citation
import sphinx.domains.cpp as cpp_domain
import sphinx.transforms as sphinx_tx
import sphinx.transforms.i18n as i18n
import sphinx.transforms.post_transforms as post_tx
import sphinx.transforms.post_transforms.code as code_tx
import sphinx.transforms.post_transforms.images as images_tx
import sphinx.transforms.references as sphinx_refs
from docutils import nodes
from docutils.transforms import misc, references
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

try:
    import furo
except ImportError:     # the theme is optional for other projects using the extension
    furo = None


class _UnsetLiteral(nodes.Element):
    """Census mark: a literal block without the highlighting attributes set."""


class _RawLiteral(nodes.Element):
    """Census mark: a literal block that is not a parsed literal (Sphinx highlights it)."""


class _TranslatableInline(nodes.Element):
    """Census mark: an inline node with a ``translatable`` attribute (doc fields)."""


class _Anonymous(nodes.Element):
    """Census mark: an anonymous reference or target."""


class _NamedTarget(nodes.Element):
    """Census mark: a target with names (a header page's own target has only an id)."""


class _UriTarget(nodes.Element):
    """Census mark: a target with a URI."""


class _ModuleTarget(nodes.Element):
    """Census mark: a module's target (``ismod``)."""


# Read transforms: (module, class) -> the node classes it acts on. Each one's
# ``apply`` only visits nodes of these classes (see their sources in docutils 0.22
# and Sphinx 9); one that is missing in another version is left alone.
_READ: dict[tuple[ModuleType | None, str], tuple[type | None, ...]] = {
    (references, "AnonymousHyperlinks"): (_Anonymous,),
    (references, "PropagateTargets"): (nodes.target,),
    # These two look only at targets' names (which transforms remove, never add).
    (references, "ExternalTargets"): (_UriTarget,),
    (references, "InternalTargets"): (_NamedTarget,),
    (references, "Substitutions"): (nodes.substitution_reference,),
    (misc, "Transitions"): (nodes.transition,),
    (sphinx_refs, "SphinxDanglingReferences"): (
        nodes.reference, nodes.footnote_reference, nodes.citation_reference, nodes.target),
    (sphinx_tx, "DefaultSubstitutions"): (nodes.substitution_reference,),
    (sphinx_tx, "MoveModuleTargets"): (_ModuleTarget,),
    (sphinx_tx, "ReorderConsecutiveTargetAndIndexNodes"): (nodes.target,),
    (sphinx_tx, "HandleCodeBlocks"): (nodes.block_quote,),
    (sphinx_tx, "GlossarySorter"): (addnodes.glossary,),
    (sphinx_tx, "DoctestTransform"): (nodes.doctest_block,),
    (sphinx_tx, "AutoIndexUpgrader"): (addnodes.index,),
    (i18n, "PreserveTranslatableMessages"): (addnodes.translatable,),
    (i18n, "RemoveTranslatableInline"): (_TranslatableInline,),
    (latex_tx, "FootnoteDocnameUpdater"): (
        nodes.footnote, nodes.citation),
    (citation, "CitationDefinitionTransform"): (nodes.citation,),
    (citation, "CitationReferenceTransform"): (nodes.citation_reference,),
}

# Post-transforms (run on each document before it is written), the same way.
_POST: dict[tuple[ModuleType | None, str], tuple[type | None, ...]] = {
    # Its visitor sets language/force/linenos on literal blocks that lack them.
    (code_tx, "HighlightLanguageTransform"): (
        _UnsetLiteral, nodes.doctest_block, addnodes.highlightlang, addnodes.start_of_file),
    # It skips parsed literals (whose text is not their raw source).
    (code_tx, "TrimDoctestFlagsTransform"): (
        _RawLiteral, nodes.doctest_block),
    (post_tx, "OnlyNodeTransform"): (addnodes.only,),
    (post_tx, "PropagateDescDomain"): (addnodes.desc_signature,),
    (images_tx, "ImageDownloader"): (nodes.image,),
    (images_tx, "DataURIExtractor"): (nodes.image,),
    (images_tx, "ImageConverter"): (nodes.image,),
    (furo, "WrapTableAndMathInAContainerTransform"): (nodes.table, nodes.math_block),
    (c_domain, "AliasTransform"): (getattr(c_domain, "AliasNode", None),),
    (cpp_domain, "AliasTransform"): (getattr(cpp_domain, "AliasNode", None),),
}

# Counts the nodes the Locale transform marked translated (or not); it marks none
# when there is no catalog.
try:
    from sphinx.transforms.i18n import TranslationProgressTotaliser as _TOTALISER
except ImportError:     # another Sphinx: never matched
    _TOTALISER = None

# Nodes a transform turns into nodes of other kinds: with any of them, prune nothing.
_MAKERS = (nodes.substitution_reference, nodes.citation_reference, nodes.pending)


@functools.cache
def _resolve(post: bool) -> dict[type, tuple[type, ...]]:
    out: dict[type, tuple[type, ...]] = {}
    for (module, name), triggers in (_POST if post else _READ).items():
        cls = getattr(module, name, None)
        if cls is not None and None not in triggers:
            out[cls] = triggers      # type: ignore[assignment]
    return out


def census(document: nodes.document) -> set[type]:
    """The classes of the document's nodes, and the marks above where they apply."""
    found: set[type] = set()
    for node in document.findall(nodes.Element):
        cls = type(node)
        found.add(cls)
        if cls is nodes.literal_block:
            if "language" not in node or "linenos" not in node:
                found.add(_UnsetLiteral)
            if node.rawsource == node.astext():
                found.add(_RawLiteral)
        elif cls is nodes.inline and "translatable" in node:
            found.add(_TranslatableInline)
        elif isinstance(node, (nodes.target, nodes.reference)):
            _note_target(node, found)
    return found


def _note_target(node: nodes.Element, found: set[type]) -> None:
    if node.get("anonymous"):
        found.add(_Anonymous)
    if isinstance(node, nodes.target):
        if node["names"]:
            found.add(_NamedTarget)
        if "refuri" in node:
            found.add(_UriTarget)
        if "ismod" in node:
            found.add(_ModuleTarget)


def _idle(triggers: tuple[type, ...], present: set[type], cache: dict[type, bool]) -> bool:
    """True when no class in ``present`` is (a subclass of) any trigger."""
    for cls in present:
        hit = cache.get(cls)
        if hit is None:
            hit = cache[cls] = issubclass(cls, triggers)
        if hit:
            return False
    return True


def _prunable(document: nodes.document) -> set[type] | None:
    present = census(document)
    return None if any(issubclass(c, _MAKERS) for c in present) else present


class PruneTransforms(SphinxTransform):
    """First of the read transforms: drops the later ones that would find nothing."""

    default_priority = 1

    def apply(self, **kwargs: Any) -> None:
        if _translating(self.env):
            return
        skip = _resolve(post=False)
        present = _prunable(self.document)
        if present is None:
            return
        transformer = self.document.transformer
        kept = []
        for entry in transformer.transforms:
            if entry[1] is _TOTALISER and entry[2] is None:
                # Without a catalog nothing is translated: what it would count.
                self.document["translation_progress"] = {"total": 0, "translated": 0}
                continue
            triggers = skip.get(entry[1])
            if triggers is not None and entry[2] is None and _idle(triggers, present, {}):
                continue
            kept.append(entry)
        transformer.transforms[:] = kept


def _translating(env: Any) -> bool:
    # The Locale transform replaces translated nodes with anything a catalog holds;
    # the gettext builder collects messages (leave it every transform).
    from sphinx.builders.gettext import MessageCatalogBuilder

    builder = getattr(env, "_builder_cls", None)
    if builder is None or issubclass(builder, MessageCatalogBuilder):
        return True
    srcdir = Path(env.srcdir)
    return any((srcdir / d).is_dir() for d in env.config.locale_dirs)


class CensusPostTransform(SphinxTransform):
    """First of the post-transforms: notes the document's node classes for the
    guarded post-transforms (their transformer is not reachable from here)."""

    default_priority = 1

    def apply(self, **kwargs: Any) -> None:
        self.document.hp_census = _prunable(self.document)   # type: ignore[attr-defined]


def _guarded(cls: type, triggers: tuple[type, ...]) -> type:
    def apply(self: Any, **kwargs: Any) -> None:
        present = getattr(self.document, "hp_census", None)
        if present is not None and _idle(triggers, present, {}):
            return
        cls.apply(self, **kwargs)
    return type(cls.__name__, (cls,), {"apply": apply, "__module__": cls.__module__,
                                       "__doc__": cls.__doc__})


def install(app: Any) -> None:
    """``builder-inited``: every extension has registered its transforms by now."""
    registry = app.registry
    post = _resolve(post=True)
    registry.post_transforms[:] = [_guarded(t, post[t]) if t in post else t
                                   for t in registry.post_transforms]


def setup(app: Any) -> None:
    app.add_transform(PruneTransforms)
    app.add_post_transform(CensusPostTransform)
    app.connect("builder-inited", install)
