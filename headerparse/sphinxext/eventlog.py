"""Sphinx's debug line for each event, abbreviated (the site's conf.py).

``extensions = [..., "headerparse.sphinxext.eventlog"]``. Before it calls an
event's handlers, Sphinx (``sphinx.events.EventManager.emit``) builds the line
``[app] emitting event: NAME(ARGS)`` with ``repr`` of every argument, whatever the
verbosity, for a debug log that only ``-vv`` shows. Two of those arguments are
whole pages: ``source-read`` passes a document's source, ``html-page-context``
the context with the page's HTML body. On Debian's 4.17 headers those ``repr``
calls were 0.17 s of CPU per cold build, for lines nobody read. Here that module's
``repr`` is :mod:`reprlib`'s, which abbreviates long strings and containers; the
line still names the event and its arguments.
"""

from __future__ import annotations

import reprlib
from typing import Any

import sphinx.events

from headerparse import __version__

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80


def setup(app: Any) -> dict[str, Any]:
    # A module global shadows the builtin for that module's code only.
    sphinx.events.repr = _SHORT.repr      # type: ignore[attr-defined]
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
