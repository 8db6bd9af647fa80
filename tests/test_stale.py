"""Comments that contradict their headers, on the wrong text of Xen's own doc fixes.

Each case is the text before one of Xen's documentation fixes (bench/doc_drift.py)
and the text after it, which must be clean: 6364c2fcdabd ('pcitopo'),
a29f19f7476a ('msr_domain_policy'), 396ce9ca0215 (tmem.h's #endif comment),
51c5b8b9afe9 (the trigraph in arch-x86_64.h), and ``VGCT_I387_VALID`` still in
arch-x86/xen.h at 4.20.0.
"""

from __future__ import annotations

from types import SimpleNamespace

from headerparse.checks.stale import stale_findings
from headerparse.model import Comment, Loc

PCITOPO = SimpleNamespace(records=(SimpleNamespace(fields=(
    SimpleNamespace(name="num_devs"), SimpleNamespace(name="devs"),
    SimpleNamespace(name="nodes"))),))
NAMES = {"VGCF_I387_VALID", "VGCF_in_kernel", "XEN_DOMCTL_get_cpu_policy", "leaves", "msrs"}


def _comment(text: str, line: int = 10) -> Comment:
    return Comment(f"/* {text} */", text, Loc("sysctl.h", line, 5), line)


def _rules(text: str, sym: str = "struct xen_sysctl_pcitopoinfo.num_devs") -> list[str]:
    return [f.message for f in stale_findings(PCITOPO, NAMES, [(sym, _comment(text))], {})]


def test_a_quoted_member_that_is_gone() -> None:
    [msg] = _rules("IN: Number of elements in 'pcitopo' and 'nodes' arrays.")
    assert "'pcitopo'" in msg
    assert _rules("IN: Number of elements in 'devs' and 'nodes' arrays.") == []
    [msg] = _rules("IN/OUT: Number of MSRs in/written to 'msr_domain_policy'")
    assert "msr_domain_policy" in msg
    assert _rules("IN/OUT: Number of MSRs in/written to 'msrs'") == []


def test_quoted_english_is_not_a_name() -> None:
    # xen.h's vcpu_info comment quotes words, not members.
    assert _rules("the upcall may be 'noisy' and 'spurious'; an 'edge' of 'j'") == []


def test_a_constant_one_letter_off() -> None:
    [msg] = _rules("VGCT_I387_VALID: the FPU state is valid", "struct vcpu_guest_context")
    assert "did you mean VGCF_I387_VALID?" in msg
    assert _rules("VGCF_I387_VALID: the FPU state is valid", "struct vcpu_guest_context") == []


def _file(text: str) -> list[tuple[str, int]]:
    return [(f.rule, f.loc.line) for f in
            stale_findings(PCITOPO, NAMES, [], {"tmem.h": text.encode()})]


def test_an_endif_comment_of_another_condition() -> None:
    wrong = ("#if __XEN_INTERFACE_VERSION__ < 0x00041300\n#define TMEM_NEW_POOL 1\n"
             "#endif  /* __XEN_INTERFACE_VERSION__ < 0x00041200 */\n")
    assert _file(wrong) == [("XC504", 3)]
    assert _file(wrong.replace("0x00041200", "0x00041300")) == []
    guard = ("#ifndef __XEN_PUBLIC_TMEM_H__\n#if defined(__XEN__) || defined(__XEN_TOOLS__)\n"
             "#endif /* __XEN__ || __XEN_TOOLS__ */\n#endif /* __XEN_PUBLIC_TMEM_H__ */\n")
    assert _file(guard) == []
    # Prose after an #endif is not a condition.
    assert _file("#ifdef __x86_64__\n#endif /* end of the x86 part */\n") == []


def test_a_trigraph_in_a_comment() -> None:
    text = " * On x86_64, event_selector and failsafe_selector are ignored (???).\n"
    assert _file(text) == [("XC505", 1)]
    assert _file(text.replace("(???)", "(?!?)")) == []
