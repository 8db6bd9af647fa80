"""reST from jinja2 templates, written to a staging dir only where it changed.

Every page is rendered through a :class:`Page`, the templates' toolbox: it escapes
text, turns known names into roles, emits prose and source as directive content
(never as reST markup), and remembers every name the page links so that the page
starts with its link table (``.. xen:links::``). Markers ``.. hp-loc: FILE:LINE``
say which header line the next generated line stands for; the extension's parser
maps line numbers through them, so a problem is reported at the header's line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from headerparse.model import Comment, Doc
from headerparse.paths import TEMPLATES
from headerparse.site import text as tx
from headerparse.site.plan import Link, Plan, enum_ident, valid_c_name

LOC_MARK = ".. hp-loc: "


class Page:
    """Helpers bound to one page being rendered."""

    def __init__(self, plan: Plan, docname: str) -> None:
        self.plan = plan
        self.docname = docname
        self.used: set[str] = set()
        self.extra: dict[str, Link] = {}

    # ---------------------------------------------------------------- inline text

    def esc(self, text: str) -> str:
        return tx.rst_escape(str(text))

    def ref(self, key: str, shown: str | None = None) -> str:
        """A role linking ``key``, or the escaped text when nothing declares it."""
        link = self.plan.link(key)
        if link is None:
            return tx.rst_escape(shown or key)
        self.used.add(key)
        return link.rst(shown or key)

    def decl(self, name: str, shown: str | None = None) -> str:
        """A role to the canonical C declaration of ``name`` (not its preferred link)."""
        kd = self.plan.decl_doc.get(name)
        if kd is None:
            return tx.rst_escape(shown or name)
        link = Link(f"c:{kd[0]}", name, name, kd[1])
        self.extra[f"{link.role} {name}"] = link
        return link.rst(shown or name)

    def line(self, file: str, line: int, shown: str | None = None) -> str:
        """A link to a header line (``L<n>`` of its page), or plain text for other files."""
        if file not in self.plan.header_doc:
            return tx.rst_escape(shown or f"{file}:{line}")
        if shown is None:
            return f":xen:line:`{file}:{line}`"
        return f":xen:line:`{tx.rst_escape(shown)} <{file}:{line}>`"

    def header(self, path: str) -> str:
        """A link to a header's page, or its name when the site has no page for it."""
        if path in self.plan.header_doc:
            return f":xen:header:`{path}`"
        return tx.rst_escape(path)

    def headers(self, paths: Iterable[str]) -> str:
        return ", ".join(self.header(p) for p in paths)

    def per_arch(self, values: dict[str, str]) -> str:
        """``a: x; b: y`` with names linked, or just ``x`` when every arch agrees."""
        if len(set(values.values())) == 1:
            return self.inline(next(iter(values.values())))
        return "; ".join(f"{a}: {self.inline(v)}" for a, v in values.items())

    def sizes(self, record: Any) -> str:
        return ", ".join(f"{a} {tx.with_hex(lay.size)} (align {lay.align})"
                         for a, lay in record.layouts.items())

    def num(self, value: int, name: str = "") -> str:
        """A number, with its hex beside it from 16 on."""
        return tx.with_hex(value, name)

    def refs(self, keys: Iterable[str], sep: str = ", ") -> str:
        return sep.join(self.ref(k) for k in keys)

    def inline(self, text: str) -> str:
        """One line of text with every known name linked."""
        def role(key: str) -> str | None:
            self.used.add(key)
            return self.plan.role(key)
        return tx.rst_inline(text, role, self.plan.known)

    def title(self, text: str, char: str) -> str:
        return "\n".join(tx.title(text, char))

    def loc(self, file: str, line: int, pad: str = "") -> str:
        """A marker and the blank line it needs: the line after them stands for ``line``."""
        return f"{pad}{LOC_MARK}{file}:{line - 1}\n"

    # ---------------------------------------------------------------- blocks

    def prose(self, doc: Doc | Comment | None, indent: int = 0) -> str:
        """A ``xen:prose`` block for a doc comment (both parts of a Doc)."""
        comments = [doc] if isinstance(doc, Comment) else (
            [c for c in (doc.before, doc.trailing) if c is not None] if doc else [])
        out = []
        for c in comments:
            if c.text.strip():
                out.append(self._prose_block(c, indent))
        return "\n\n".join(out)

    def _prose_block(self, c: Comment, indent: int) -> str:
        pad = " " * indent
        first = c.loc.line + (1 if c.raw.split("\n", 1)[0].strip() in ("/*", "/**") else 0)
        self.used |= tx.names_in(c.text, self.plan.known)
        lines = [self.loc(c.loc.file, first - 2, pad), pad + ".. xen:prose::", ""]
        # Tabs are expanded here, from the text's own first column: docutils would
        # expand them from the reST line's, which moves with the block's nesting.
        lines += [f"{pad}   |{line.expandtabs()}".rstrip() for line in c.text.split("\n")]
        return "\n".join(lines)

    def code(self, text: str, file: str, line: int, indent: int = 0,
             anchors: bool = False) -> str:
        """A ``xen:code`` block: C source with names linked, lines numbered from ``line``."""
        pad = " " * indent
        self.used |= tx.names_in(text, self.plan.known)
        lines = [self.loc(file, line - 4 - anchors, pad), pad + ".. xen:code::",
                 f"{pad}   :start: {line}", f"{pad}   :file: {file}"]
        if anchors:
            lines.append(f"{pad}   :anchors:")
        lines.append("")
        # A leading "|" keeps each line's own indentation: docutils strips the
        # common indentation of a directive's content.
        lines += [f"{pad}   |{src.expandtabs()}".rstrip() for src in text.split("\n")]
        return "\n".join(lines)

    def data(self, directive: str, payload: Any, indent: int = 0,
             texts: Iterable[str] = ()) -> str:
        """A directive whose content is JSON (layout tables, diagrams, arg tables)."""
        pad = " " * indent
        # dict.fromkeys: a layout table repeats each member's type once per arch.
        for t in dict.fromkeys(texts):
            self.used |= tx.names_in(t, self.plan.known)
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return f"{pad}.. {directive}::\n\n{pad}   {body}"

    def values(self, values: dict[str, int], why_not: dict[str, str],
               archs: tuple[str, ...], name: str = "") -> list[tuple[str, str]]:
        return values_fields(self, values, why_not, archs, name)

    def facts(self, pairs: Iterable[tuple[str, str] | None], indent: int = 0) -> str:
        """A ``xen:facts`` field list; ``None`` entries and empty texts are left out."""
        pad = " " * indent
        rows = [f"{pad}   {label}|{text}" for pair in pairs if pair
                for label, text in [pair] if text]
        if not rows:
            return ""
        return f"{pad}.. xen:facts::\n\n" + "\n".join(rows)

    def mention(self, text: str) -> str:
        """Note the names in ``text`` (a directive argument the directive links itself)."""
        self.used |= tx.names_in(text, self.plan.known)
        return " ".join(text.split())

    def links_block(self) -> str:
        """The page's link table; its text changes when any target moves page."""
        rows = []
        for key in sorted(self.used):
            link = self.plan.link(key)
            if link is not None:
                rows.append(f"   {link.spec()} {key}")
        rows += [f"   {link.spec()} {key}" for key, link in sorted(self.extra.items())]
        if not rows:
            return ""
        return ".. xen:links::\n\n" + "\n".join(rows) + "\n\n"


def environment(templates: Path = TEMPLATES, cache: Path | None = None) -> jinja2.Environment:
    """The templates' environment; with ``cache``, compiled templates are kept there
    (compiling them is a tenth of a second, each build)."""
    bytecode = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        bytecode = jinja2.FileSystemBytecodeCache(str(cache))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                             autoescape=False, trim_blocks=False, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             bytecode_cache=bytecode)
    env.filters["first_sentence"] = tx.first_sentence
    env.filters["esc"] = tx.rst_escape
    env.tests["c_name"] = valid_c_name
    env.globals["enum_name"] = lambda e: (enum_ident(e) or (None, None))[1]
    # Which Xen the pages document (headerparse.site.version); empty: the model's tree.
    env.globals["site_version"] = ""
    return env


def render_page(env: jinja2.Environment, plan: Plan, template: str, docname: str,
                **context: Any) -> str:
    page = Page(plan, docname)
    body = env.get_template(template).render(p=page, plan=plan, docname=docname, **context)
    return page.links_block() + _tidy(body)


def _tidy(text: str) -> str:
    # Templates leave runs of blank lines where optional parts are empty.
    out: list[str] = []
    blank = False           # whether the last line kept is blank
    for line in text.split("\n"):
        line = line.rstrip()
        if not line:
            if blank:
                continue
            blank = True
        else:
            blank = False
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


# ---------------------------------------------------------------- staging


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds it: an unchanged page keeps its
    mtime, so Sphinx does not re-read it."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def sync_tree(root: Path, pages: dict[str, str], suffix: str,
              keep: Iterable[str] = ()) -> tuple[int, int]:
    """Make ``root`` hold exactly ``pages`` (docname -> text) and the files of the
    docnames in ``keep`` as they are; return (written, removed)."""
    written = sum(write_if_changed(root / f"{doc}{suffix}", text) for doc, text in pages.items())
    wanted = {root / f"{doc}{suffix}" for doc in (*pages, *keep)}
    removed = 0
    for p in sorted(root.rglob(f"*{suffix}")):
        if p not in wanted:
            p.unlink()
            removed += 1
    return written, removed


def _literal_value(value: int, name: str) -> str:
    h = tx.hex_of(value, name)
    return f"``{value}``" if h is None else f"``{value}`` (``{h}``)"


def values_fields(page: Page, values: dict[str, int], why_not: dict[str, str],
                  archs: tuple[str, ...], name: str = "") -> list[tuple[str, str]]:
    """Facts for a constant: one value, or per-arch values where they differ; hex
    beside decimal from 16 on (``name`` says whether it is a version number)."""
    out = []
    distinct = set(values.values())
    if len(distinct) == 1 and len(values) == len(archs):
        out.append(("Value", _literal_value(next(iter(distinct)), name)))
    elif values:
        out.append(("Values", ", ".join(f"{a} {_literal_value(v, name)}"
                                        for a, v in values.items())))
    if why_not and len(set(why_not.values())) == 1 and len(why_not) == len(archs):
        out.append(("No integer value", page.esc(next(iter(why_not.values())))))
    elif why_not:
        out.append(("No integer value", "; ".join(
            f"{a}: {page.esc(w)}" for a, w in why_not.items())))
    return out
