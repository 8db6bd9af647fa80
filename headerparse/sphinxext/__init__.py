"""Sphinx extension: the ``xen`` domain and the directives headerparse pages use.

``extensions = ["headerparse.sphinxext"]``. Safe for parallel reading and writing:
all state is in the domain's per-document data or in the current document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headerparse import __version__
from headerparse.paths import PACKAGE, PAGE_SUFFIX, code_digest
from headerparse.sphinxext import blocks, cdecl, compact, keepglobal, linktext, prune
from headerparse.sphinxext.auto import AUTO_DIRECTIVES
from headerparse.sphinxext.decl import DefinitionsDirective
from headerparse.sphinxext.domain import XenDomain
from headerparse.sphinxext.links import LinksDirective
from headerparse.sphinxext.parser import FILETYPE, HeaderRSTParser
from headerparse.sphinxext.table import TableDirective

STATIC = Path(__file__).parent / "static"


def _code_version() -> int:
    # Sphinx rebuilds every page when an extension's env_version changes; deriving it
    # from this package's code means a changed renderer never leaves stale pages.
    return int(code_digest(sorted((PACKAGE / "sphinxext").glob("*.py")))[:8], 16)


def _missing_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    # In a project that documents only part of the ABI, a name the model knows but
    # the project does not declare stays plain text instead of a dangling link.
    if app.config.xen_missing_refs == "text" and node.get("refdomain") in ("c", "xen"):
        return contnode
    return None


def _absolute_paths(app: Any, config: Any) -> None:
    # conf.py names files relative to itself; directives only see the config.
    for name in ("xen_model", "xen_tree"):
        value = getattr(config, name)
        if value:
            setattr(config, name, str((Path(app.confdir) / value).resolve()))


def _add_static(app: Any) -> None:
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))


def _add_html_node(app: Any, node: type, visit: Any) -> None:
    """A node only HTML draws; the other writers skip it."""
    others = {fmt: (blocks.skip_outside_html, None)
              for fmt in ("latex", "text", "man", "texinfo")}
    app.add_node(node, html=(visit, None), **others)


# The compact nodes only HTML draws, and what other builders get instead: their
# text is worth keeping in every format. Linked text last: a field or cell that is
# one linked text becomes several nodes, and facts and grids count their children.
_ORDINARY: tuple[tuple[type, Any], ...] = (
    (compact.facts, compact.facts_to_field_list),
    (compact.grid, compact.grid_to_table),
    (cdecl.hp_decl, cdecl.as_desc),
    (linktext.linked_text, linktext.as_nodes),
)


def for_other_formats(app: Any, doctree: Any, docname: str) -> None:
    """``doctree-resolved``: for builders other than HTML, ordinary nodes again."""
    if app.builder.format == "html":
        return
    for cls, ordinary in _ORDINARY:
        for node in list(doctree.findall(cls)):
            node.replace_self(ordinary(node))


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("xen_model", None, "env", types=(str, type(None)))
    app.add_config_value("xen_tree", None, "env", types=(str, type(None)))
    app.add_config_value("xen_missing_refs", "warn", "env", types=(str,))
    app.add_config_value("xen_header_root", "", "env", types=(str,))
    app.add_domain(XenDomain)
    app.add_domain(cdecl.XenCDomain, override=True)
    for name, cls in {"links": LinksDirective, "prose": blocks.ProseDirective,
                      "code": blocks.CodeDirective,
                      "facts": blocks.FactsDirective, "layout": blocks.LayoutDirective,
                      "diagram": blocks.DiagramDirective, "table": TableDirective,
                      "rubric": blocks.RubricDirective, "definitions": DefinitionsDirective,
                      **AUTO_DIRECTIVES}.items():
        app.add_directive_to_domain("xen", name, cls)
    app.add_node(cdecl.hp_decl, html=(cdecl.visit_html, cdecl.depart_html))
    app.add_node(cdecl.decl_name, html=(cdecl.skip, None))
    for node, visit in ((blocks.layout_diagram, blocks.visit_diagram_html),
                        (blocks.layout_table, blocks.visit_layout_table_html),
                        (blocks.source_listing, blocks.visit_listing_html),
                        (compact.facts, compact.visit_facts_html),
                        (compact.grid, compact.visit_grid_html),
                        (linktext.linked_text, linktext.visit_html)):
        _add_html_node(app, node, visit)
    # Links are resolved before the handlers below rewrite nodes for other formats.
    app.connect("doctree-resolved", linktext.resolve, priority=400)
    app.connect("doctree-resolved", for_other_formats)
    app.add_source_suffix(PAGE_SUFFIX, FILETYPE)
    app.add_source_parser(HeaderRSTParser)
    app.add_css_file("headerparse.css")
    app.connect("config-inited", _absolute_paths)
    app.connect("builder-inited", _add_static)
    app.connect("missing-reference", _missing_reference)
    prune.setup(app)
    keepglobal.setup(app)
    return {"version": __version__, "env_version": _code_version(),
            "parallel_read_safe": True, "parallel_write_safe": True}
