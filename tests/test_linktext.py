"""Linked text: the facts-line reader against docutils, and links resolved or warned."""

from __future__ import annotations

import docutils.core
import docutils.nodes
import pytest
from support.models import HOSTILE

from headerparse.site import text as tx
from headerparse.sphinxext import linktext


def _docutils_parts(rst: str) -> list[tuple[str, str]]:
    """(text, what) per inline piece as docutils reads it: roles become
    ``problematic``/``inline`` nodes (unknown roles), literals ``literal``."""
    doc = docutils.core.publish_doctree(rst, settings_overrides={"report_level": 5})
    para = doc.next_node(docutils.nodes.paragraph)
    out = []
    for child in para.children:
        if isinstance(child, docutils.nodes.Text):
            out.append((child.astext(), ""))
        elif isinstance(child, docutils.nodes.literal):
            out.append((child.astext(), "literal"))
        else:
            out.append((child.rawsource, "role"))
    return _merged(out)


def _merged(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Adjacent plain pieces joined, empty ones dropped: how docutils splits its Text
    nodes is not part of what is read."""
    out: list[tuple[str, str]] = []
    for text, what in parts:
        if not what and out and not out[-1][1]:
            out[-1] = (out[-1][0] + text, "")
        elif text or what:
            out.append((text, what))
    return out


@pytest.mark.parametrize("rst", [
    "``0``",
    "x86_32 ``1``, arm64 ``2``, _x y_z",
    ":xen:line:`sched.h:47`",
    ":xen:c:`struct sched_shutdown <sched_shutdown>`, :xen:header:`io/blkif.h`",
    ":xen:hypercall:`HYPERVISOR_sched_op <sched_op>` (line :xen:line:`25 <sched.h:25>`)",
    tx.rst_escape(HOSTILE),
    tx.rst_escape("a_ b_ `c`_ *d* |f| [g]_ :h:`i` \\j <k>"),
    "\\" + tx.rst_escape("struct x") + " " + ":xen:c:`x`" + "\\ .",
])
def test_facts_lines_read_as_docutils_reads_them(rst):
    parts = linktext.parse_inline(rst)
    assert parts is not None
    ours = _merged([(t, "" if not style else ("literal" if style == "literal" else "role"))
                    for t, _role, _target, style in parts])
    theirs = _docutils_parts(rst)
    # Same text in the same pieces; a role's text is its title (docutils keeps the
    # raw role, so compare the plain pieces and the count of links).
    assert [p for p in ours if p[1] != "role"] == [p for p in theirs if p[1] != "role"]
    assert sum(p[1] == "role" for p in ours) == sum(p[1] == "role" for p in theirs)


def test_a_role_gives_its_title_and_target():
    parts = linktext.parse_inline(":xen:c:`struct a\\_b <a_b>` then :xen:line:`x.h:3`")
    assert parts == [("struct a_b", "xen:c", "a_b", "code"), (" then ", "", "", ""),
                     ("x.h:3", "xen:line", "x.h:3", "code")]


@pytest.mark.parametrize("rst", [
    "*emphasis*", "a_ref_", "a_ b", ":c:macro:`X`", ":xen:severity:`error`", "``unclosed",
    "`interpreted`", "|sub|",
])
def test_other_markup_is_left_to_docutils(rst):
    assert linktext.parse_inline(rst) is None


def test_one_node_holds_the_text_and_its_links():
    node = linktext.make([("see ", "", "", ""), ("sched_shutdown_t", "c:type",
                                                  "sched_shutdown_t", "name"), (".", "", "", "")])
    assert isinstance(node, linktext.linked_text)
    assert node.astext() == "see sched_shutdown_t."
    assert node["spans"] == [(4, 20, "c:type", "sched_shutdown_t", "name")]
    node["uris"] = ["../sched.h.html#c.sched_shutdown_t"]
    html = linktext.html(node, lambda t: t.replace("<", "&lt;"))
    assert html == ('see <a class="xref c c-type hp-name reference internal" '
                    'href="../sched.h.html#c.sched_shutdown_t" title="sched_shutdown_t">'
                    'sched_shutdown_t</a>.')
    assert isinstance(linktext.make([("plain", "", "", "")]), docutils.nodes.Text)
