"""Which interface version guards a change: from the header, and from where a struct is used.

Each header is guarded by an interface version: ``XEN_DOMCTL_INTERFACE_VERSION`` for
domctl.h, ``XEN_SYSCTL_INTERFACE_VERSION`` for sysctl.h, ... and
``__XEN_LATEST_INTERFACE_VERSION__`` for the rest. Three kinds of change are not
versioned by their file's guard (issue 11, defect 4):

* a struct of an arch header used only inside domctl or sysctl payloads
  (``xen_arch_domainconfig`` reaches guests only through ``XEN_DOMCTL_createdomain``):
  the payload's version guards it;
* HVM save records (the headers that ``DECLARE_HVM_SAVE_TYPE``): Xen reads a record by
  its type code and length, and an old layout is kept as a ``_compat`` type with a
  fix-up (``DECLARE_HVM_SAVE_TYPE_COMPAT``), so no interface version guards them;
* what a header defines only for ``__XEN__ || __XEN_TOOLS__``: Xen and its tools are
  built together, and guests never see it, so ``__XEN_LATEST_INTERFACE_VERSION__``
  does not guard it (the runtime-checked versions still do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from headerparse.model import Model, Record

LATEST = "__XEN_LATEST_INTERFACE_VERSION__"
_GUARDS = {
    "domctl.h": "XEN_DOMCTL_INTERFACE_VERSION",
    "sysctl.h": "XEN_SYSCTL_INTERFACE_VERSION",
    "vm_event.h": "VM_EVENT_INTERFACE_VERSION",
    "hvm/dm_op.h": LATEST,
}
# Interface versions the hypervisor checks at run time: a caller built for another
# version is refused, so a bump is a proper version of every change it covers.
RUNTIME_CHECKED = ("XEN_DOMCTL_INTERFACE_VERSION", "XEN_SYSCTL_INTERFACE_VERSION",
                   "VM_EVENT_INTERFACE_VERSION")
_SAVE_RECORDS = re.compile(rb"^\s*DECLARE_HVM_SAVE_TYPE(?:_COMPAT)?\s*\(", re.M)
_ARRAY = re.compile(r"\[\d*\]$")


def guard_of(path: str, files: Mapping[str, bytes] | None = None) -> str | None:
    """The interface version that guards ``path``; None for the PV protocols of io/
    (negotiated between front and back ends through xenstore feature keys) and for
    HVM save records (``files``, the headers' bytes, tell which headers declare them)."""
    if path.startswith("io/"):
        return None
    if files is not None and _SAVE_RECORDS.search(files.get(path, b"")):
        return None
    return _GUARDS.get(path, LATEST)


def record_guards(model: Model) -> dict[str, str]:
    """Record key -> the runtime-checked version guarding it where that is not its file's:
    a record embedded (by value) only in records of domctl.h, or only of sysctl.h...

    A struct a payload reaches through a guest handle is left to its file's guard: it
    is often an argument of a guest hypercall too (``vcpu_guest_context`` is
    ``VCPUOP_initialise``'s as well as ``XEN_DOMCTL_setvcpucontext``'s)."""
    users: dict[str, set[str]] = {}
    for r in model.records:
        for lay in r.layouts.values():
            for m in lay.members:
                for used in _records_of(model, m.type):
                    if used.key != r.key:
                        users.setdefault(used.key, set()).add(r.key)
    by_key = {r.key: r for r in model.records}
    memo: dict[str, str | None] = {}
    out = {}
    for r in model.records:
        g = _guard(r, by_key, users, memo, 0)
        if g is not None and g != _GUARDS.get(r.loc.file, LATEST):
            out[r.key] = g
    return out


def _guard(r: Record, by_key: dict[str, Record], users: dict[str, set[str]],
           memo: dict[str, str | None], depth: int) -> str | None:
    if r.key in memo:
        return memo[r.key]
    own = _GUARDS.get(r.loc.file, LATEST)
    found = own
    if own not in RUNTIME_CHECKED and users.get(r.key) and depth < 8:
        theirs = {_guard(by_key[u], by_key, users, memo, depth + 1) for u in users[r.key]}
        if len(theirs) == 1 and next(iter(theirs)) in RUNTIME_CHECKED:
            found = next(iter(theirs))
    memo[r.key] = found
    return found


def _records_of(model: Model, type_: str) -> list[Record]:
    name = _ARRAY.sub("", type_).replace("const ", "").strip()
    return [] if "*" in name or "(unnamed" in name else model.records_named(name)
