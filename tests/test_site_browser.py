"""The site as a reader uses it, in headless Chromium: open the sched_op page, follow
a link to struct sched_shutdown, search. Chromium is Debian's ``chromium`` package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.cdp import CHROMIUM, Browser, CDPError
from support.need import unavailable
from support.site import build_site, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(xen_tree_417, tmp_path_factory):
    return build_site(xen_tree_417, tmp_path_factory.getbasetemp()) / "html"


@pytest.fixture
def browser(tmp_path):
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        unavailable("Debian's chromium is not installed")
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
                        " while (e && !(e.matches && (e.matches('table.hp-layout-table') ||"
                        " (e.matches('div.hp-scroll') && e.querySelector('.hp-layout-table')))))"
                        " e = e.nextElementSibling || e.parentElement.nextElementSibling;"
                        " return e ? e.innerText : ''; })()")
        assert "reason" in layout and "x86_32" in layout
        b.screenshot(tmp_path / "sched_shutdown.png")

        b.type_text("input[name=q]", "SHUTDOWN_suspend")
        b.press_enter()
        b.wait_event("Page.loadEventFired")
        hits = b.wait_for("(() => { const s = document.querySelector('p.search-summary');"
                          " const l = document.querySelectorAll('#search-results li a');"
                          " return l.length && s && s.innerText.includes('finished') ? "
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


def _narrow(b: Browser, width: int = 400, height: int = 900) -> None:
    # Headless Chromium will not make a window narrower than 500 px; the page
    # is laid out as on a 400 px wide screen all the same.
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _scroll_to(b: Browser, selector: str) -> None:
    # Furo scrolls smoothly; a test wants the position now.
    b.eval("document.documentElement.style.scrollBehavior = 'auto';"
           f"document.querySelector({json.dumps(selector)}).scrollIntoView()")


def test_dark_mode_toggles(site, browser, tmp_path):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/headers/io/blkif.h.html")
        assert b.eval("document.title").endswith("Xen public ABI — Xen 4.17.7")

        def background() -> list[int]:
            rgb = b.eval("getComputedStyle(document.body).backgroundColor")
            return [int(x) for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]

        def differs() -> str:
            return b.eval("getComputedStyle(document.body)"
                          ".getPropertyValue('--hp-differs').trim()")

        assert sum(background()) > 600 and differs() == "#fff6d5"   # the reader's light
        toggle = "div.theme-toggle-content button.theme-toggle"
        for _ in range(3):
            b.eval(f"document.querySelector({json.dumps(toggle)}).click()")
            if b.eval("document.body.dataset.theme") == "dark":
                break
        assert b.eval("document.body.dataset.theme") == "dark"
        assert sum(background()) < 150, background()
        assert differs() == "#3a3215"     # the layout tables' colours follow
        b.screenshot(tmp_path / "dark.png")
        # The choice is kept for the next page.
        b.navigate(f"{base}/hypercalls/sched_op.html")
        assert b.eval("document.body.dataset.theme") == "dark"
        assert sum(background()) < 150
        b.eval("localStorage.removeItem('theme')")


def test_no_sideways_page_scroll_at_400px(site, browser, tmp_path):
    with serve(site) as base:
        b = browser
        _narrow(b)
        for page in ("headers/domctl.h.html", "findings.html", "types/arch-differences.html",
                     "hypercalls/sched_op.html", "constants.html"):
            b.navigate(f"{base}/{page}")
            width = b.eval("[document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
            assert width[1] <= 400 and width[0] <= width[1], (page, width)
        # domctl.h, the longest page: its wide layout tables scroll inside themselves.
        b.navigate(f"{base}/headers/domctl.h.html")
        inside = b.eval("Array.from(document.querySelectorAll('div.hp-scroll'))"
                        ".filter(d => d.scrollWidth > d.clientWidth + 1).length")
        assert inside > 50, inside
        b.screenshot(tmp_path / "domctl-400.png")


def test_local_table_of_contents_on_domctl(site, browser, tmp_path):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/headers/domctl.h.html")
        entries = _texts(b, ".toc-drawer .toc-tree a")
        assert "Definitions" in entries and "Source" in entries
        assert "struct xen_domctl_createdomain" in entries
        records = [e for e in entries if e.startswith(("struct ", "union "))]
        assert len(records) > 50, len(records)
        # Each entry leads to its struct's heading on the page.
        href = b.eval("Array.from(document.querySelectorAll('.toc-drawer .toc-tree a'))"
                      ".find(a => a.innerText === 'struct xen_domctl_getdomaininfo')"
                      ".getAttribute('href')")
        heading = b.eval(f"document.getElementById({json.dumps(href[1:])}).innerText")
        assert heading.startswith("struct xen_domctl_getdomaininfo")
        # Far down the page (at the last struct) the table of contents is still
        # on screen, and marks where the reader is.
        last = b.eval("(() => { const l = Array.from(document.querySelectorAll("
                      "'.toc-drawer .toc-tree a')).filter(a => /^(struct|union) /"
                      ".test(a.innerText)); const a = l[l.length - 1];"
                      " return [a.innerText, a.getAttribute('href')]; })()")
        _scroll_to(b, f"[id={json.dumps(last[1][1:])}]")
        b.eval("window.scrollBy(0, 150)")      # past the heading's scroll margin
        current = ("(() => { const l = document.querySelectorAll("
                   "'.toc-tree li.scroll-current > a'); return l.length ? "
                   "l[l.length - 1].innerText : null; })()")
        try:
            b.wait_for(f"{current} === {json.dumps(last[0])}", 10)
        except CDPError:
            pytest.fail(f"the table of contents marks {b.eval(current)!r}, not {last[0]!r}")
        box = b.eval("(() => { const r = document.querySelector('.toc-sticky')"
                     ".getBoundingClientRect(); return [r.top, r.bottom, scrollY]; })()")
        assert box[2] > 50_000 and 0 <= box[0] < 100 and box[1] > 300, box
        b.screenshot(tmp_path / "domctl-toc.png")


def test_member_rows_have_permalinks_and_written_types(site, browser):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/headers/io/blkif.h.html#c.blkif_request.handle")
        row = b.eval("(() => { const r = document.getElementById('c.blkif_request.handle');"
                     " return r ? [r.tagName, r.innerText, r.matches(':target')] : null; })()")
        assert row and row[0] == "TR" and row[2], row
        assert "blkif_vdev_t = uint16_t" in row[1]
        link = b.eval("document.getElementById('c.blkif_request.handle')"
                      ".querySelector('a.headerlink').getAttribute('href')")
        assert link == "#c.blkif_request.handle"
        # Hex beside decimal from 16 on: the x86_32 size row of struct blkif_request.
        size = b.eval("(() => { let t = document.getElementById('c.blkif_request.id')"
                      ".closest('table'); return t.querySelector('tr.hp-size').innerText; })()")
        assert "108 (0x6c)" in size and "112 (0x70)" in size, size


def test_search_puts_the_explaining_section_first(site, browser, tmp_path):
    with serve(site) as base:
        b = browser
        b.navigate(f"{base}/search.html?q=SHUTDOWN_suspend")
        hits = b.wait_for("(() => { const s = document.querySelector('p.search-summary');"
                          " if (!s || !s.innerText.includes('finished')) return null;"
                          " return Array.from(document.querySelectorAll("
                          "'#search-results li a')).map(a => a.getAttribute('href')); })()", 60)
        assert hits[0].endswith("hypercalls/sched_op.html#schedop-shutdown"), hits
        # Titled with the section that explains it, not just its page.
        first = b.eval("document.querySelector('#search-results li a').innerText")
        assert first == "sched_op > SCHEDOP_shutdown", first
        assert any(h.endswith("headers/sched.h.html#c.SHUTDOWN_suspend") for h in hits), hits
        # One result per place: no page and anchor twice, and no page's plain text
        # hit below a result that already points into it.
        assert len(set(hits)) == len(hits), hits
        anchored = {h.split("#")[0] for h in hits if "#" in h}
        assert not [h for h in hits if "#" not in h and h in anchored], hits
        b.screenshot(tmp_path / "search-suspend.png")


@pytest.fixture(scope="module")
def history_site(tmp_path_factory):
    from support.history_site import bundle_site

    return bundle_site(tmp_path_factory.getbasetemp()) / "html"


def test_since_badge_and_release_page(history_site, browser, tmp_path):
    """Xen 4.20.0 built from the history bundle: dm_op's badge, then the overview's link
    to "ABI changes in 4.20" and on to a sub-op that release added."""
    with serve(history_site) as base:
        b = browser
        b.navigate(f"{base}/hypercalls/dm_op.html")
        badges = _texts(b, "span.hp-badge")
        assert badges and badges[0] == "since 4.9.0", badges
        assert b.eval("getComputedStyle(document.querySelector('span.hp-badge'))"
                      ".borderTopStyle") == "solid"
        b.navigate(f"{base}/overview.html")
        b.click("a[href$='releases/4.20.html']")
        assert b.eval("document.querySelector('h1').innerText").startswith("ABI changes in 4.20")
        b.screenshot(tmp_path / "release-4.20.png")
        b.click("a[href$='physdev_op.html#xen-op-PHYSDEVOP_pci_device_reset']")
        assert b.eval("location.pathname").endswith("/hypercalls/physdev_op.html")
        section = b.eval("document.getElementById('physdevop-pci-device-reset').innerText")
        assert "since 4.20.0" in section
