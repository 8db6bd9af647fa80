"""Fuzzing the cheapest entry points, for a bounded time (``bench/fuzz.py`` runs longer).

Each property is the same: an input, however hostile, gives a result or the entry
point's own documented error, never another exception, and in bounded time.
The strategies build inputs from the tokens that matter to each parser (comment
delimiters, markup, hunk headers, YAML anchors...) so that the examples reach past
the first line of checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headerparse.checks import patch as patch_mod
from headerparse.extract.source import read_source

FAST = settings(max_examples=300, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=20000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

C_TOKENS = ["/*", "*/", "//", "/**", " * ", "\\\n", "\n", "\r\n", "#define ", "#  define",
            "#if 0", "#endif", "#include ", '"', "'", "`", "``", " ` ", "IN", "OUT", "INOUT",
            "struct x {", "};", "(", ")", ",", "...", "long HYPERVISOR_x(int a, void *b)",
            "@", "\x1b[2K", "\t", "\x00", "\ufffd", "X", "0x10", "##", "#", "\\", "{", "}",
            "== ", "= ", "-- ", "- ", "* ", "`(", ")`"]
YAML_TOKENS = ["family: x\n", "hypercalls:\n", "  ", "    ", "- ", ": ", "\n", "&a ", "*a",
               "[", "]", "{", "}", ",", "<<: *a\n", "!!python/object:os.system ", "'", '"',
               "arg: 1\n", "summary: s\n", "available: [x86]\n", "structs:\n", "? ", "|\n",
               "%YAML 1.1\n", "---\n", "...\n", "\t", "#", "~", "1e9", "0x", "\x1b", "\x85"]
PATCH_TOKENS = ["diff --git a/x.h b/x.h\n", f"--- a/{patch_mod.PUBLIC}sched.h\n",
                f"+++ b/{patch_mod.PUBLIC}sched.h\n", "--- /dev/null\n", "+++ /dev/null\n",
                "@@ -1,2 +1,2 @@\n", "@@ -0,0 +1 @@\n", "@@ -3 +3,4 @@ f\n", " ctx\n", "-old\n",
                "+new\n", "\\ No newline at end of file\n", "rename from a\n", "rename to b\n",
                "new file mode 120000\n", "GIT binary patch\n", "From x Mon Sep 17 2001\n",
                "Subject: =?utf-8?b?!!?=\n", "Content-Type: multipart/mixed; boundary=b\n",
                "--b\n", "\n", '"a/\\303\\251.h"', "../", "/etc/", "b//x.h", "\x1b[1A"]


def _joined(tokens: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(tokens), st.text(max_size=4))
    return st.lists(piece, max_size=max_size).map("".join)


SCHED = (b"/* sched.h */\n#define SCHEDOP_yield 0\nstruct sched_shutdown {\n"
         b"    unsigned int reason; /* SHUTDOWN_* */\n};\n")


@FAST
@given(_joined(C_TOKENS, 80))
def test_lexer_and_markup_never_raise(text: str) -> None:
    src = read_source("x.h", text.encode("utf-8", "surrogatepass"))
    assert src.path == "x.h"


@FAST
@given(st.binary(max_size=300))
def test_lexer_takes_any_bytes(data: bytes) -> None:
    read_source("x.h", data)


@FAST
@given(_joined(PATCH_TOKENS, 40))
def test_patch_parser_refuses_or_applies(text: str) -> None:
    try:
        patches = patch_mod.parse(text.encode("utf-8", "surrogateescape"))
        applied = patch_mod.apply(patches, {"sched.h": SCHED, "xen.h": b"/* xen */\n"})
    except patch_mod.PatchError as exc:
        assert "\n" not in str(exc).strip()
        return
    for path in applied.files:
        assert not path.startswith("/") and ".." not in path.split("/")


def _naive_locate(lines: list[str], old: list[str], want: int) -> int | None:
    """The search the index replaced, nearest to ``want`` first, over every offset (the
    old one gave up ``len(lines)`` away from ``want``, missing context before a hunk
    that claimed a line past the end)."""
    if not old:
        return min(want, len(lines))
    for delta in range(0, len(lines) + want + 1):
        for at in (want - delta, want + delta) if delta else (want,):
            if 0 <= at <= len(lines) - len(old) and lines[at:at + len(old)] == old:
                return at
    return None


@FAST
@given(st.lists(st.sampled_from("abc"), max_size=30), st.lists(st.sampled_from("abc"),
       max_size=4), st.integers(0, 35))
def test_indexed_hunk_search_finds_what_a_scan_finds(lines: list[str], old: list[str],
                                                     want: int) -> None:
    assert patch_mod._Index(lines).locate(old, want, 0) == _naive_locate(lines, old, want)


@FAST
@given(_joined(YAML_TOKENS, 50))
def test_annotation_loader_gives_diagnostics(text: str) -> None:
    from headerparse.annotations.schema import parse_file

    parsed, diags = parse_file(text.encode("utf-8", "surrogatepass"), "f.yaml")
    assert parsed is not None or diags
    assert all(d.loc is not None and d.loc.line >= 1 for d in diags)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    from headerparse.checks.reference import Loaded, Reference
    from headerparse.extract import Options, extract
    from headerparse.tree import HeaderTree

    xen = (Path(__file__).parent / "data" / "extract" / "xen.h").read_bytes()
    tree = HeaderTree("tiny", {"xen.h": xen, "sched.h": SCHED})
    cache = tmp_path_factory.mktemp("cache")

    def model(t: HeaderTree):
        return extract(t, Options(archs=("x86_64",)), cache=cache)
    return tree, model, Loaded(Reference((), (), "none"))


@SLOW
@given(st.lists(st.sampled_from([" ctx", "-    unsigned int reason; /* SHUTDOWN_* */",
                                 "+    unsigned long reason;", "+#define SCHEDOP_block 1",
                                 "+/* \x1b[2K doc */", "+struct a { int x", "-};", "+};",
                                 " struct sched_shutdown {", "+#include \"/dev/zero\""]),
                max_size=8))
def test_review_of_a_small_patch(tiny, body: list[str]) -> None:
    from headerparse.checks.review import ReviewError, review, to_json, to_text
    from headerparse.extract import ExtractError

    tree, model, loaded = tiny
    old = sum(1 for ln in body if ln[:1] in " -")
    new = sum(1 for ln in body if ln[:1] in " +")
    path = f"{patch_mod.PUBLIC}sched.h"
    text = (f"--- a/{path}\n+++ b/{path}\n@@ -3,{old} +3,{new} @@\n" + "\n".join(body) + "\n")
    try:
        r = review(text.encode(), tree, model, loaded)
    except (ReviewError, ExtractError) as exc:     # the CLI's one-line errors, exit 2
        assert str(exc)
        return
    assert "\x1b" not in to_text(r)
    to_json(r)
