"""``text.candidates`` (what the Sphinx directives link, and what ``text.tokens``
splits on) finds the names ``text.names_in`` (read from ``findall``'s groups, a
reading of its own) finds, and where the form of each name says."""

from __future__ import annotations

import pytest
from support.models import TEXTS

from headerparse.site.text import candidates, names_in, tokens

EDGES = ["struct  foo bar", "struct\nfoo", "XEN_* and FOO_*x", "enum x_y", "union",
         "a_ b", "struct 9x", "__guest_handle_64_char)", "SCHEDOP_*, struct sched_shutdown"]


def _spans(text: str, known) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for tok in tokens(text, known):
        if tok.key is not None:
            out.append((pos, pos + len(tok.text), tok.key))
        pos += len(tok.text)
    return out


@pytest.mark.parametrize("text", [*TEXTS.values(), *EDGES])
@pytest.mark.parametrize("every", [1, 2, 3])
def test_candidates_link_what_tokens_link(text, every):
    # Some names known, others not: an unknown "struct foo" must not link "foo".
    def known(key: str) -> bool:
        return sum(map(ord, key)) % every == 0

    assert [c for c in candidates(text) if known(c[2])] == _spans(text, known)
    assert {c[2] for c in candidates(text) if known(c[2])} == names_in(text, known)
    assert any(known(c[2]) for c in candidates(text)) or every > 1 or not text.strip()


@pytest.mark.parametrize(("text", "spans"), [
    ("struct  foo bar", [(0, 11, "struct foo"), (12, 15, "bar")]),
    ("XEN_* and FOO_*x", [(0, 5, "XEN_*"), (6, 9, "and"), (10, 15, "FOO_*"), (15, 16, "x")]),
    ("struct 9x", [(0, 6, "struct")]),
])
def test_each_form_of_name_has_its_key(text, spans):
    assert list(candidates(text)) == spans
