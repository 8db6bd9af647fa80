"""``build --consumer NAME=DIR[:PROFILE]``: a site page per consumer's copy of the headers.

The fast tests build the synthetic site (extraction replaced, as test_site does) with a
copy of its io/blkif.h that packs blkif_request on Arm only, the shape of Linux's blkif
ARM bug; the slow one builds Debian's Xen 4.17 with U-Boot's real copy.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from support.linkcheck import check_site
from support.models import TEXTS, synthetic_model

from headerparse import cli
from headerparse.cli import site as site_cli
from headerparse.conform.profiles import PROFILES
from headerparse.site.consumers import SpecError, check_unique, parse_spec
from headerparse.tree import HeaderTree

# Packed on Arm only: blkif_request.id at 1 there (Xen: 8), size 9 (Xen: 16); x86 agrees.
# BLKIF_MAX_SEGMENTS drifts on every arch.
COPY_BLKIF = """\
#define BLKIF_MAX_SEGMENTS 12
struct blkif_request {
    uint8_t operation;
#if defined(__x86_64__) || defined(__i386__)
    uint64_t id;
};
#else
    uint64_t id;
} __attribute__((packed));
#endif
"""


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    d = tmp_path / "mini"
    (d / "io").mkdir(parents=True)
    (d / "io" / "blkif.h").write_text(COPY_BLKIF)
    return d


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``headerparse build`` of the synthetic model into tmp_path/out; returns its exit."""
    model = synthetic_model()
    tree = HeaderTree("synthetic", {k: v.encode() for k, v in TEXTS.items()})
    monkeypatch.setattr(site_cli, "open_args_tree", lambda args: tree)
    monkeypatch.setattr(site_cli, "extractor", lambda args: lambda tree: model)
    (tmp_path / "none").mkdir()
    monkeypatch.setenv("HEADERPARSE_ANNOTATIONS", str(tmp_path / "none"))
    out = tmp_path / "out"

    def run(*extra: str) -> int:
        # --no-tools: the site's model is the guest view conform compares with.
        return cli.main(["build", "-q", "-o", str(out), "-j", "1", "--no-tools", *extra])
    run.out = out  # type: ignore[attr-defined]
    return run


def _rows(html: str, arch: str) -> list[list[str]]:
    """The findings table of one arch's section: each row's cells as text."""
    section = html.split(f'<section id="{arch.replace("_", "-")}">', 1)[1].split("</section>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.S)
    cells = [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()
              for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    return [c for c in cells if c]          # the header row has no <td>


def test_a_consumer_gets_a_page_with_its_findings_per_arch(build, copy: Path) -> None:
    assert build("--consumer", f"mini={copy}") == 0
    html = (build.out / "html" / "consumers" / "mini.html").read_text()
    assert "Consumer mini" in html and "generic" in html
    assert "no Xen history given" in html
    arm = _rows(html, "arm64")
    row = next(r for r in arm if r[0] == "XK003")
    assert row[1:] == ["error", "blkif_request.id", "blkif_request.id", "arm32, arm64",
                       "io/blkif.h:8", "blkif_request.id is at offset 1, Xen's "
                       "blkif_request.id at 8"], row
    # The Arm-only drift is in no x86 table; the constant's is in every one.
    for arch in ("x86_32", "x86_64"):
        rules = {r[0] for r in _rows(html, arch)}
        assert "XK003" not in rules and "XK010" in rules, (arch, rules)
    # The Xen symbol is a link to its definition on the site, and that anchor exists.
    assert '<a class="reference internal" href="../headers/io/blkif.h.html#c.blkif_request"' \
        in html
    target = (build.out / "html" / "headers" / "io" / "blkif.h.html").read_text()
    assert 'id="c.blkif_request"' in target
    # Linked from the overview's toctree, and every link of the site resolves.
    assert 'href="consumers/mini.html"' in (build.out / "html" / "overview.html").read_text()
    checked, broken = check_site(build.out / "html")
    assert checked > 100 and not broken, broken[:5]


def test_without_consumers_the_overview_lists_none(build) -> None:
    assert build() == 0
    assert not (build.out / "html" / "consumers").exists()
    assert "Consumers" not in (build.out / "html" / "overview.html").read_text()


@pytest.mark.parametrize("arg, why", [
    ("mini={missing}", "no such directory"),
    ("mini={copy}:nosuch", "unknown profile 'nosuch'"),
    ("mini", "expected NAME=DIR"),
    ("a/b={copy}", "NAME must be"),
    ("mini={copy}:uboot", "no include/xen/interface/ in it"),
])
def test_a_bad_consumer_is_a_one_line_usage_error(build, copy: Path, arg: str, why: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    assert build("--consumer", arg.format(copy=copy, missing=copy / "nope")) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (build.out / "html").exists()


def test_a_consumer_failing_after_extraction_keeps_the_published_site(
        build, copy: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build() == 0
    good = (build.out / "html").resolve()
    # U-Boot's profile is Arm only: on an x86-only site it has nothing to compare,
    # which is found after the extraction, with Sphinx already started.
    x86 = dataclasses.replace(synthetic_model(), archs=("x86_32", "x86_64"))
    monkeypatch.setattr(site_cli, "extractor", lambda args: lambda tree: x86)
    uboot = copy.parent / "uboot"
    (uboot / "include" / "xen" / "interface").mkdir(parents=True)
    (uboot / "include" / "xen" / "interface" / "xen.h").write_text("#define X 1\n")
    capsys.readouterr()
    assert build("--consumer", f"uboot={uboot}") == 2
    err = capsys.readouterr().err
    assert "--consumer uboot: the uboot profile's arches (arm32, arm64) are not among " \
        "the site's" in err and "Traceback" not in err, err
    assert (build.out / "html").resolve() == good
    assert list((build.out / ".sites").iterdir()) == [good]


def test_consumer_specs() -> None:
    assert parse_spec("uboot=/src/u-boot", PROFILES).profile == "uboot"
    assert parse_spec("mine=/src/x", PROFILES).profile == "generic"
    s = parse_spec("fw=/src/edk2:edk2", PROFILES)
    assert (s.name, s.directory, s.profile, s.docname) == ("fw", "/src/edk2", "edk2",
                                                           "consumers/fw")
    # A ":" in the directory's name, not followed by a profile, stays in the directory.
    assert parse_spec("x=/src/a:b/c", PROFILES).directory == "/src/a:b/c"
    with pytest.raises(SpecError, match="given twice"):
        check_unique([parse_spec("a=/x", PROFILES), parse_spec("a=/y", PROFILES)])


@pytest.mark.slow
def test_uboot_page_on_xen_417(xen_tree_417: HeaderTree, tmp_path: Path) -> None:
    from test_conform import REVIEWED, _consumer

    from headerparse.cli.commands import build_parser
    from headerparse.cli.conform import consumer_pages, locate_consumers
    from headerparse.extract.pipeline import Options, extract
    from headerparse.site.sphinxrun import sphinx
    from headerparse.site.version import site_conf
    from headerparse.tree import cache_dir

    uboot = _consumer("uboot")
    args = build_parser().parse_args(["build", "--consumer", f"uboot={uboot}"])
    model = extract(xen_tree_417, Options(), cache=cache_dir())
    pages = consumer_pages(locate_consumers(args.consumer), args, xen_tree_417, model,
                           lambda msg: None)
    out = tmp_path / "site"
    site_cli.stage(model, xen_tree_417, out, consumers=pages)
    assert sphinx(out, jobs="auto", strict=True, quiet=True, conf=site_conf(xen_tree_417))
    html = (out / "html" / "consumers" / "uboot.html").read_text()
    got = {(r[0], r[2], r[4].replace(", ", ",")) for arch in ("arm32", "arm64")
           for r in _rows(html, arch) if r[1] != "note"}
    assert got == REVIEWED["uboot"]
    # The reviewed drifts' Xen symbols link to the pages that define them.
    assert 'href="../headers/io/xs_wire.h.html#c.xenstore_domain_interface"' in html
    assert "#c.GNTTAB_CACHE_SOURCE_GREF" in html
    checked, broken = check_site(out / "html")
    assert not broken, broken[:5]


def _history(root: Path, releases: dict[str, str]) -> Path:
    """A git repository with a RELEASE-x.y.0 tag per release, each with its io/blkif.h."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    root.mkdir()
    git("init", "-q")
    for release, text in releases.items():
        header = root / "xen" / "include" / "public" / "io" / "blkif.h"
        header.parent.mkdir(parents=True, exist_ok=True)
        header.write_text(text)
        git("add", "-A")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", release)
        git("tag", f"RELEASE-{release}")
    return root


def test_the_page_names_the_best_match_from_a_history(build, copy: Path, tmp_path: Path) -> None:
    repo = _history(tmp_path / "xen", {"4.16.0": TEXTS["io/blkif.h"], "4.17.0": COPY_BLKIF,
                                       "4.18.0": TEXTS["io/blkif.h"]})
    assert build("--consumer", f"mini={copy}", "--history", str(repo)) == 0
    html = (build.out / "html" / "consumers" / "mini.html").read_text()
    facts = re.sub(r"<[^>]+>|\s+", " ", html.split("Best match", 1)[1].split("Findings")[0])
    assert "Xen 4.17.x (1 of 1 files identical" in facts, facts
