"""docutils' reST states, with the nested state machines of directive runs reused.

docutils starts a new nested state machine for every run of consecutive explicit
markup blocks (``explicit_list``) and for every directive's options
(``parse_extension_options``): a generated page is mostly directives, so that is
some 2,000 machines on Debian's 4.17 headers, each building all fifteen states
and their transitions (a twentieth of Sphinx's CPU). ``nested_parse`` already
keeps finished machines for reuse; here ``nested_list_parse`` does the same for
those two kinds. A machine resets its input, position, node and observers on
every run and its states re-read the document-wide data; the only state carried
from run to run is the ``blank_finish`` flag, which is set before each run as
docutils does. Anything else (other initial states, extra settings, a custom
machine) goes through docutils unchanged.

The parser of generated pages (:mod:`headerparse.sphinxext.parser`) starts with
:data:`STATE_CLASSES` (nested machines inherit them), inside :func:`reusing`.
"""

from __future__ import annotations

from typing import Any

from docutils.parsers.rst import states

_REUSED = frozenset({"Explicit", "ExtensionOptions"})
POOLS = "hp_list_machines"     # the document's attribute while it is parsed


def reusing(document: Any) -> Any:
    """Context for one parse: machines are reused within it and dropped after."""
    return _Pools(document)


class _Pools:
    def __init__(self, document: Any) -> None:
        self.document = document

    def __enter__(self) -> None:
        setattr(self.document, POOLS, {})

    def __exit__(self, *exc: object) -> None:
        pools = self.document.__dict__.pop(POOLS, {})
        for pool in pools.values():
            for machine in pool:
                machine.unlink()        # states and machine refer to each other


def _init(self: Any, state_machine: Any, debug: bool = False) -> None:
    self.nested_sm_kwargs = {"state_classes": STATE_CLASSES, "initial_state": "Body"}
    states.StateWS.__init__(self, state_machine, debug)


def _nested_list_parse(self: Any, block: Any, input_offset: int, node: Any,
                       initial_state: str, blank_finish: bool,
                       blank_finish_state: str | None = None,
                       extra_settings: dict | None = None, match_titles: bool = False,
                       state_machine_class: Any = None,
                       state_machine_kwargs: Any = None) -> tuple[int, bool]:
    pools = getattr(self.document, POOLS, None)
    if (pools is None or initial_state not in _REUSED or extra_settings or match_titles
            or blank_finish_state not in (None, initial_state)
            or state_machine_class is not None or state_machine_kwargs is not None):
        return states.RSTState.nested_list_parse(
            self, block, input_offset, node, initial_state, blank_finish,
            blank_finish_state, extra_settings or {}, match_titles,
            state_machine_class, state_machine_kwargs)
    # A pool per initial state; a machine in use is not in it.
    pool = pools.setdefault(initial_state, [])
    if pool:
        machine = pool.pop()
        machine.parent_state_machine = self.state_machine
    else:
        machine = self.nested_sm(debug=self.debug, parent_state_machine=self.state_machine,
                                 state_classes=STATE_CLASSES, initial_state=initial_state)
    machine.states[initial_state].blank_finish = blank_finish
    try:
        machine.run(block, input_offset, memo=self.memo, node=node, match_titles=False)
        result = machine.abs_line_offset(), machine.states[initial_state].blank_finish
    except BaseException:
        machine.unlink()
        raise
    machine.node = machine.memo = machine.document = machine.parent_state_machine = None
    pool.append(machine)
    return result


def _subclass(cls: type) -> type:
    # The same name: state machines and transitions name their states.
    return type(cls.__name__, (cls,), {"__init__": _init,
                                       "nested_list_parse": _nested_list_parse,
                                       "__module__": __name__, "__doc__": cls.__doc__})


STATE_CLASSES: tuple[type, ...] = tuple(_subclass(c) for c in states.state_classes)
