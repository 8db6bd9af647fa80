"""The last release's runtime-checked versions, read from its text instead of its model."""

from __future__ import annotations

from headerparse.checks import versions

DOMCTL = b"#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015\n"
SYSCTL = b"#  define XEN_SYSCTL_INTERFACE_VERSION 0x00000015 /* 4.17 */\n"


def test_literal_defines_are_read() -> None:
    v = versions.from_text("t", {"domctl.h": DOMCTL, "sysctl.h": SYSCTL, "xen.h": b""})
    assert v is not None and v.tree == "t"
    assert v.values == {"XEN_DOMCTL_INTERFACE_VERSION": frozenset({21}),
                        "XEN_SYSCTL_INTERFACE_VERSION": frozenset({21}),
                        "VM_EVENT_INTERFACE_VERSION": frozenset()}


def test_what_text_cannot_tell_is_left_to_the_model() -> None:
    twice = DOMCTL + b"#else\n#define XEN_DOMCTL_INTERFACE_VERSION 0x16\n"
    expr = b"#define VM_EVENT_INTERFACE_VERSION (BASE + 1)\n"
    assert versions.from_text("t", {"domctl.h": twice}) is None
    assert versions.from_text("t", {"vm_event.h": expr}) is None
