"""Every internal link of a built site resolves: the file exists and so does the anchor.

``python -m support.linkcheck DIR`` prints the broken links and exits 1
if there are any. External links (with a scheme) are not followed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Broken:
    page: str
    href: str
    why: str

    def __str__(self) -> str:
        return f"{self.page}: {self.href}: {self.why}"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link", "area")) or \
                    (name == "src" and tag in ("img", "script", "iframe")):
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def check_site(root: Path) -> tuple[int, list[Broken]]:
    """(number of internal links checked, the broken ones)."""
    root = root.resolve()
    pages = {p: _parse(p) for p in sorted(root.rglob("*.html"))}
    broken: list[Broken] = []
    checked = 0
    for path, page in pages.items():
        rel = path.relative_to(root).as_posix()
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("//"):
                continue
            checked += 1
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(Broken(rel, href, "no such file"))
                continue
            if root not in target.parents and target != root:
                broken.append(Broken(rel, href, "outside the site"))
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if frag not in ids:
                    broken.append(Broken(rel, href, f"no anchor #{frag}"))
    return checked, broken


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m support.linkcheck SITE_DIR", file=sys.stderr)
        return 2
    checked, broken = check_site(Path(args[0]))
    for b in broken:
        print(b)
    print(f"{checked} internal links, {len(broken)} broken", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
