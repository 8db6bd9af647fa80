"""Directives for other Sphinx projects (Xen's ``docs/``), autodoc style.

In ``conf.py``::

    extensions = ["headerparse.sphinxext"]
    xen_model = "abi-model.json"        # headerparse extract --json abi-model.json
    xen_tree = "../xen/include/public"  # optional: header text for listings
    xen_missing_refs = "text"           # names this project does not document stay text

and in a page::

    .. xen:auto-hypercall:: sched_op
    .. xen:auto-type:: struct sched_shutdown
    .. xen:auto-header:: sched.h
    .. xen:auto-overview::

Each renders the same reST the headerparse site uses for that page, from the
model JSON, and parses it in place.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from headerparse.sphinxext.parser import mapped_lines

if TYPE_CHECKING:
    from headerparse.tree import HeaderTree

_CACHE: dict[tuple[str, float, str], Any] = {}
_LOCK = threading.Lock()


def _site(env: Any) -> tuple[Any, Path]:
    from headerparse.annotations.load import load_for_tree
    from headerparse.checks.run import site_diagnostics
    from headerparse.model import model_from_json
    from headerparse.site.facts import site_facts
    from headerparse.site.pages import site_of
    from headerparse.tree import open_tree

    cfg = env.config
    if not cfg.xen_model:
        raise ValueError("set xen_model in conf.py to a model JSON written by "
                         "'headerparse extract --json FILE'")
    path = Path(cfg.xen_model)
    key = (str(path), path.stat().st_mtime, str(cfg.xen_tree or ""))
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            model = model_from_json(json.loads(path.read_text(encoding="utf-8")))
            tree = open_tree(cfg.xen_tree) if cfg.xen_tree else None
            aset, diags = load_for_tree(model, tree)
            found = site_diagnostics(tree.files if tree else None, model, aset, diags)
            _CACHE[key] = site_of(model, site_facts(model, aset, found, _texts(tree)), _texts(tree))
        return _CACHE[key], path


def _texts(tree: HeaderTree | None) -> dict[str, str]:
    if tree is None:
        return {}
    return {p: data.decode("utf-8", "replace") for p, data in tree.files.items()}


class AutoDirective(SphinxDirective):
    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    kind = ""

    def run(self) -> list[nodes.Node]:
        try:
            site, path = _site(self.env)
        except (OSError, ValueError) as exc:
            raise self.error(f"xen:auto-{self.kind}: {exc}") from exc
        self.env.note_dependency(str(path))
        name = self.arguments[0] if self.arguments else ""
        text = site.one(self.kind, name, self.env.docname)
        if text is None:
            raise self.error(f"xen:auto-{self.kind}: {name!r} is not in {path.name}")
        lines = text.splitlines()
        source, _line = self.get_source_info()
        content = mapped_lines(lines, source)
        box = nodes.container(classes=["hp-auto"])
        nested_parse_with_titles(self.state, content, box)
        return box.children


def _auto(kind: str) -> type[AutoDirective]:
    return type(f"Auto{kind.title()}", (AutoDirective,), {"kind": kind})


AUTO_DIRECTIVES = {f"auto-{k}": _auto(k) for k in ("hypercall", "type", "header", "overview")}
