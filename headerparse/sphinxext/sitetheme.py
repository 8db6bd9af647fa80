"""The ABI site's reading aids on top of the Furo theme.

``extensions = ["headerparse.sphinxext", "headerparse.sphinxext.sitetheme"]`` with
``html_theme = "furo"`` (the site's conf.py). Furo gives dark mode, a sticky
"On this page" table of contents and a layout that works on a phone; this adds:

- a navigation that costs nothing per page: Furo renders the whole global
  toctree (some 800 pages here) on every page and re-parses it with
  BeautifulSoup, which would cost more than the pages themselves; the sidebar
  lists the site's sections instead (``templates/sphinx/hpnav.html``);
- a local table of contents for header pages that lists their structs and
  unions (a header page's only sections are "Definitions" and "Source", and
  domctl.h's page is some 125,000 px long);
- the version of Xen the site documents, for the templates (``xen_site_version``);
- no ``modindex`` label: the site has no module index page to point it at.

Copy buttons, search ranking and de-duplication are in ``static/headerparse.js``.
"""

from __future__ import annotations

import html
from typing import Any

from docutils import nodes

from headerparse import __version__
from headerparse.sphinxext.blocks import RECORD_RUBRIC
from headerparse.sphinxext.searchrank import note_explanations


def _no_global_toctree(**_kwargs: Any) -> str:
    return ""


def page_context(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                 doctree: Any) -> None:
    """``html-page-context``, before Furo's own handler."""
    context["toctree"] = _no_global_toctree
    context["xen_site_version"] = app.config.xen_site_version
    context["xen_site_version_short"] = app.config.release
    if doctree is not None and pagename.startswith("headers/") and pagename != "headers/index":
        toc = local_toc(doctree, context.get("title", ""))
        if toc:
            context["toc"] = toc


def local_toc(doctree: nodes.document, title_html: str) -> str:
    """The page's sections, with the structs and unions each defines under it."""
    enc = html.escape
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return ""
    items = []
    for sec in top.children:
        if not isinstance(sec, nodes.section) or not sec["ids"]:
            continue
        heading = sec[0].astext() if sec.children else ""
        # The definitions block puts its record headings straight into the section.
        records = [(r.astext(), r["ids"][0]) for r in sec.children
                   if isinstance(r, nodes.rubric) and RECORD_RUBRIC in r["classes"]
                   and r["ids"]]
        sub = "".join(f'<li><a class="reference internal" href="#{enc(i)}">{enc(t)}</a></li>'
                      for t, i in records)
        items.append(f'<li><a class="reference internal" href="#{enc(sec["ids"][0])}">'
                     f'{enc(heading)}</a>{f"<ul>{sub}</ul>" if sub else ""}</li>')
    if not items:
        return ""
    # The title arrives as HTML already.
    return (f'<ul><li><a class="reference internal" href="#">{title_html}</a>'
            f'<ul>{"".join(items)}</ul></li></ul>')


def _drop_modindex(app: Any, env: Any) -> None:
    """``env-updated``: the site has no Python module index, so the labels
    ``modindex`` and ``py-modindex`` would send intersphinx users to a missing page."""
    std = env.domains["std"]
    for table in (std.data["labels"], std.data["anonlabels"]):
        for name in [n for n, entry in table.items() if entry[0] == "py-modindex"]:
            del table[name]


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("xen_site_version", "", "html", types=(str,))
    app.connect("html-page-context", page_context, priority=400)
    app.connect("env-updated", _drop_modindex)
    app.connect("doctree-resolved", note_explanations)
    app.add_js_file("headerparse.js", loading_method="defer")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
