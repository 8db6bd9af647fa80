"""The site as a reader uses it, in headless Chromium: open the sched_op page, follow
a link to struct sched_shutdown, search. Chromium is Debian's ``chromium`` package."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from support.cdp import CHROMIUM, Browser
from support.site import build_site, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(xen_tree_417, tmp_path_factory):
    return build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html"


@pytest.fixture
def browser(tmp_path):
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    with Browser(tmp_path / "profile") as b:
        b.open_tab()
        yield b


def _texts(b: Browser, selector: str) -> list[str]:
    return b.eval(f"Array.from(document.querySelectorAll({json.dumps(selector)}))"
                  ".map(e => e.innerText)")


def test_read_sched_op_follow_link_and_search(site, browser, tmp_path):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/hypercalls/sched_op.html")
        assert b.eval("document.querySelector('h1').innerText").startswith("sched_op")
        section = b.eval("document.getElementById('schedop-shutdown').innerText")
        assert "SCHEDOP_shutdown" in section
        # The SHUTDOWN_suspend third-argument table, one row per group of variants.
        captions = _texts(b, "#schedop-shutdown table caption")
        suspend = next(i for i, c in enumerate(captions) if "SHUTDOWN_suspend" in c)
        rows = b.eval("Array.from(document.querySelectorAll('#schedop-shutdown table')"
                      f"[{suspend}].querySelectorAll('tbody tr')).map(r => r.innerText)")
        pv = next(r for r in rows if "x86-pv64" in r)
        assert "RDX" in pv and "EDX" in pv and "toolstack" in pv and "start_info" in pv
        free = next(r for r in rows if "x86-hvm64" in r)
        assert "any value" in free and "nobody" in free and "x2" in free
        b.screenshot(tmp_path / "sched_op.png")

        b.click("#schedop-shutdown a[href$='sched.h.html#c.sched_shutdown']")
        # struct sched_shutdown is defined, and its layout shown, on sched.h's page.
        assert b.eval("location.pathname").endswith("/headers/sched.h.html")
        assert b.eval("location.hash") == "#c.sched_shutdown"
        assert "struct sched_shutdown" in b.eval(
            "document.getElementById('c.sched_shutdown').innerText")
        layout = b.eval("(() => { let e = document.getElementById('c.sched_shutdown');"
                        " while (e && !(e.matches && e.matches('table.hp-layout-table')))"
                        " e = e.nextElementSibling || e.parentElement.nextElementSibling;"
                        " return e ? e.innerText : ''; })()")
        assert "reason" in layout and "x86_32" in layout
        b.screenshot(tmp_path / "sched_shutdown.png")

        b.type_text("input[name=q]", "SHUTDOWN_suspend")
        b.press_enter()
        b.wait_event("Page.loadEventFired")
        hits = b.wait_for("(() => { const l = document.querySelectorAll("
                          "'#search-results li a'); return l.length ? "
                          "Array.from(l).map(a => a.getAttribute('href')) : null; })()", 60)
        assert any("headers/sched.h.html" in h for h in hits), hits
        b.screenshot(tmp_path / "search.png")


def test_line_anchor_from_a_struct_definition(site, browser):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/headers/io/blkif.h.html#c.blkif_request")
        # "Defined at" of struct blkif_request: a line of the listing on the same page.
        b.click("dl.c:has([id='c.blkif_request']) a[href^='#L']", same_page=True)
        anchor = b.eval("location.hash")
        assert anchor.startswith("#L")
        line = b.eval(f"document.getElementById({json.dumps(anchor[1:])}).innerText")
        assert "struct blkif_request" in line
