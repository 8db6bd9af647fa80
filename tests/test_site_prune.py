"""Skipping idle transforms (headerparse.sphinxext.prune) changes no output: pages
with the nodes those transforms act on build exactly as without the pruning."""

from __future__ import annotations

from pathlib import Path

import pytest
from docutils import nodes
from docutils.utils import new_document

from headerparse.sphinxext import prune

# Every kind of node a pruned transform looks for, on one page; a plain page beside it.
BUSY = """\
Busy page
=========

A footnote [#f]_, an anonymous link__ and a named
`target <https://example.org/>`_ with a `reference`_, an _`inline target` and a
link to the `inline target`_.

__ https://example.org/anon

.. _reference: https://example.org/ref

.. [#f] The footnote.

.. _label:

Section with a label
--------------------

::

    >>> print("doctest flags")  # doctest: +SKIP

.. code-block:: c

   struct foo { int x; };

>>> 1 + 1
2

----

.. glossary::
   :sorted:

   zeta
      Last.

   alpha
      First.

.. only:: html

   Only in HTML.

+---+---+
| a | b |
+---+---+
"""

PAGES = {
    "index": "Index\n=====\n\n.. toctree::\n\n   busy\n   subst\n   plain\n",
    "busy": BUSY,
    # Substitutions and citations make nodes of other kinds: nothing is pruned here.
    "subst": "Substituted\n===========\n\nSee |sub| and [CIT2002]_.\n\n"
             ".. |sub| replace:: *substituted* text\n\n.. [CIT2002] The citation.\n",
    # Nothing for the pruned transforms to do here.
    "plain": "Plain\n=====\n\nJust :ref:`label` and text.\n",
}


def _build(root: Path, monkeypatch: pytest.MonkeyPatch, pruned: bool) -> dict[str, str]:
    from sphinx.cmd.build import build_main

    if not pruned:
        monkeypatch.setattr(prune, "setup", lambda app: None)
    src = root / ("pruned" if pruned else "plain")
    src.mkdir()
    (src / "conf.py").write_text("extensions = ['headerparse.sphinxext']\n"
                                 "html_theme = 'furo'\n")
    for name, text in PAGES.items():
        (src / f"{name}.rst").write_text(text)
    assert build_main(["-q", "-E", "-b", "html", str(src), str(src / "_build")]) == 0
    monkeypatch.undo()
    out = src / "_build"
    return {name: (out / name).read_text()
            for name in [f"{p}.html" for p in PAGES] + ["searchindex.js"]}


def test_pruning_changes_no_output(tmp_path, monkeypatch):
    plain = _build(tmp_path, monkeypatch, pruned=False)
    pruned = _build(tmp_path, monkeypatch, pruned=True)
    busy = plain["busy.html"]
    assert "The footnote." in busy and "example.org/anon" in busy
    assert "table-wrapper" in busy      # furo's transform ran
    assert "<em>substituted</em> text" in plain["subst.html"] and "CIT2002" in plain["subst.html"]
    for name, text in plain.items():
        # The extension's env_version is the same in both: the searchindex too.
        assert pruned[name] == text, name


def _doc(*children: nodes.Node) -> nodes.document:
    doc = new_document("<test>")
    doc += nodes.section("", *children)
    return doc


def test_census_notes_classes_and_marks():
    parsed = nodes.literal_block("<parsed>", "", nodes.Text("x"))
    raw = nodes.literal_block("x", "x")
    found = prune.census(_doc(parsed, raw, nodes.footnote()))
    assert {nodes.literal_block, nodes.footnote, nodes.section} <= found
    assert prune._RawLiteral in found and prune._UnsetLiteral in found
    parsed["language"], parsed["linenos"] = "default", False
    found = prune.census(_doc(parsed))
    assert prune._RawLiteral not in found and prune._UnsetLiteral not in found


def test_a_node_that_makes_other_nodes_disables_pruning():
    assert prune._prunable(_doc(nodes.paragraph("", "", nodes.Text("x")))) is not None
    assert prune._prunable(_doc(nodes.paragraph("", "", nodes.substitution_reference()))
                           ) is None


# ------------------------------------------------------------------ reused state machines

NESTED = """\
Title
=====

.. note:: One.

   .. warning:: Nested, with a list:

      - a
      - b

.. image:: x.png
   :alt: x
   :width: 10px
.. comment between directives
.. _target:

Text, then directives with options again:

.. code:: c
   :number-lines: 3

   int x;

.. topic:: T
   :class: c1

   1. one
   2. two

.. [1] A footnote.
.. |s| replace:: sub

:field: value
:other: value

.. admonition:: Unclosed
   :class: c2
text right after, without a blank line
"""


def _parse(text: str, reuse: bool) -> str:
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser, states

    from headerparse.sphinxext.liststates import STATE_CLASSES, reusing

    settings = get_default_settings(Parser)
    settings.report_level = 5
    doc = new_document("<test>", settings)
    parser = Parser()
    parser.setup_parse(text, doc)
    machine = states.RSTStateMachine(
        state_classes=STATE_CLASSES if reuse else states.state_classes, initial_state="Body")
    lines = text.splitlines()
    if reuse:
        with reusing(doc):
            machine.run(lines, doc, inliner=parser.inliner)
        assert not hasattr(doc, "hp_list_machines")
    else:
        machine.run(lines, doc, inliner=parser.inliner)
    return doc.pformat()


def test_reused_state_machines_parse_as_docutils_does():
    tree = _parse(NESTED, reuse=False)
    assert "<warning>" in tree and 'number-lines' not in tree and "<footnote" in tree
    assert _parse(NESTED, reuse=True) == tree
