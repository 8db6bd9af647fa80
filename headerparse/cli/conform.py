"""``headerparse conform``: a consumer's own copy of the Xen headers against Xen's ABI, per arch.

Exit codes, as ``check``: 0 clean; 1 findings at or above ``--fail-on``; 2 usage or
input error (no such consumer dir, unknown profile or arch, bad alias or waiver file).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from headerparse.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    emit,
    progress,
    tree_at,
    waive,
    waivers,
)
from headerparse.diagnostics import SEVERITIES

FORMATS = ("text", "json", "sarif", "junit")


def register(sub: Any) -> None:
    from headerparse.conform.profiles import PROFILES

    p = sub.add_parser("conform", help="check a consumer's copy of the Xen headers (Linux, "
                       "U-Boot, EDK2...) against Xen's ABI, per arch")
    p.add_argument("--consumer", metavar="DIR", required=True,
                   help="the consumer's source root, or the directory of its copy")
    p.add_argument("--profile", choices=tuple(PROFILES), default="generic",
                   help="how the consumer builds its copy (default: generic)")
    p.add_argument("--tree", help="Xen headers to compare with (default: Debian's libxen-dev)")
    p.add_argument("--rev", help="read the Xen headers at this git revision of --tree")
    p.add_argument("--arch", help="comma-separated arches (default: the profile's)")
    p.add_argument("--interface-version", help="__XEN_INTERFACE_VERSION__ of both sides "
                   "(default: the profile's)")
    p.add_argument("--history", metavar="GITDIR", help="a Xen git repository whose release "
                   "tags say which release the copy matches (default: --tree when it is one)")
    p.add_argument("--aliases", metavar="FILE", help="YAML: aliases: {copy name: Xen name}, "
                   "leaves: {record: {copy prefix: Xen prefix}}")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--waivers", metavar="FILE", help="YAML list of waived findings")
    p.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="error",
                   help="exit 1 when a finding is this severe or worse (default: error)")
    p.add_argument("--verbose", action="store_true", help="text: print why and fix hints")
    p.add_argument("--no-cache", action="store_true", help="do not use the model cache")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here, not stdout")
    p.set_defaults(func=cmd_conform)
    from headerparse.conform.fetch import PACKAGES

    p = sub.add_parser("fetch-consumer", help="fetch consumers' copies of the Xen headers from "
                       "Debian's sources into the cache, print their directories")
    p.add_argument("names", nargs="+", choices=tuple(PACKAGES), metavar="NAME",
                   help=f"one of {', '.join(PACKAGES)}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_fetch_consumer)


def cmd_fetch_consumer(args: argparse.Namespace) -> int:
    from headerparse.conform.fetch import fetch_consumer
    from headerparse.tree import TreeError

    for name in args.names:
        try:
            print(fetch_consumer(name, progress=progress(args)))
        except TreeError as exc:
            raise UsageError(f"{name}: {exc}") from exc
    return EXIT_OK


def cmd_conform(args: argparse.Namespace) -> int:
    from headerparse.checks import formats
    from headerparse.conform import run
    from headerparse.diagnostics import at_or_above, severities_at_or_above

    given = waivers(args)
    report = _report(args)
    kept, dropped = waive(report.findings(), given)
    keep = {id(f) for f in kept}
    report.drifts = [d for d in report.drifts if id(d.finding) in keep]
    report.extra["waived"] = len(dropped)
    if args.format == "json":
        text = run.to_json(report)
    else:
        text = formats.FORMATTERS[args.format](
            kept, verbose=args.verbose, fail_on=severities_at_or_above(args.fail_on),
            suite="headerparse.conform",
            root_uri=Path(report.extra["source_root"]).as_uri())
        if args.format == "text":
            text += run.mapping_text(report.mapping)
            if report.provenance is not None:
                text += report.provenance.summary() + "\n"
            text += f"{len(kept)} finding(s), {len(dropped)} waived\n"
    emit(args.output, text)
    return EXIT_FINDINGS if at_or_above(kept, args.fail_on) else EXIT_OK


def _report(args: argparse.Namespace) -> Any:
    from headerparse.conform.mapping import AliasError, Aliases, load_aliases
    from headerparse.conform.profiles import PROFILES
    from headerparse.conform.run import conform
    from headerparse.conform.unit import ConformError, locate
    from headerparse.extract import ExtractError, Options, extract
    from headerparse.targets import TARGETS
    from headerparse.tree import cache_dir

    profile = PROFILES[args.profile]
    archs = tuple(a.strip() for a in args.arch.split(",") if a.strip()) if args.arch \
        else profile.archs
    unknown = [a for a in archs if a not in TARGETS]
    if unknown:
        raise UsageError(f"unknown arch {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    try:
        aliases = load_aliases(Path(args.aliases)) if args.aliases else Aliases()
        consumer = locate(Path(args.consumer), profile)
    except (AliasError, ConformError) as exc:
        raise UsageError(str(exc)) from exc
    say = progress(args)
    version = args.interface_version or profile.interface_version
    tree = tree_at(args.tree, args.rev, say)
    cache = None if args.no_cache else cache_dir()
    try:
        model = extract(tree, Options(archs=archs, tools=False, interface_version=version),
                        progress=say, cache=cache)
        say(f"parsing the {profile.name} copy in {consumer.base} for {', '.join(archs)}")
        report = conform(consumer, model, archs, aliases, version)
    except (ExtractError, ConformError) as exc:
        raise UsageError(str(exc)) from exc
    report.extra["xen"] = model.tree
    # Findings name files relative to the source root, which --consumer may be below.
    report.consumer, report.extra["source_root"] = args.consumer, str(consumer.base)
    report.provenance = _provenance(args, consumer, cache, say)
    return report


def _provenance(args: argparse.Namespace, consumer: Any, cache: Path | None, say: Any) -> Any:
    from headerparse.conform.provenance import HistoryError, provenance

    repo = args.history or (args.tree if args.tree and _is_git(Path(args.tree)) else None)
    if repo is None:
        return None
    say(f"comparing the copy with the releases of {repo}")
    try:
        return provenance(consumer.texts, consumer.files, Path(repo), cache)
    except HistoryError as exc:
        if args.history:
            raise UsageError(str(exc)) from exc
        say(f"no provenance: {exc}")
        return None


def _is_git(path: Path) -> bool:
    return (path / ".git").exists() or (path / "HEAD").is_file()


# ---------------------------------------------------------------- build --consumer


def locate_consumers(values: list[str]) -> list[tuple[Any, Any]]:
    """``build --consumer NAME=DIR[:PROFILE]`` arguments as (spec, consumer): a directory
    that is not there is a usage error before the build starts any work."""
    from headerparse.conform.profiles import PROFILES
    from headerparse.conform.unit import ConformError, locate
    from headerparse.site.consumers import SpecError, check_unique, parse_spec

    try:
        specs = [parse_spec(v, PROFILES) for v in values]
        check_unique(specs)
        return [(s, locate(Path(s.directory), PROFILES[s.profile])) for s in specs]
    except (SpecError, ConformError) as exc:
        raise UsageError(str(exc)) from exc


def consumer_pages(located: list[tuple[Any, Any]], args: argparse.Namespace, tree: Any,
                   model: Any, say: Any) -> list[Any]:
    """Each consumer's conform report against the site's tree, for its page.

    Xen's side is read as ``conform`` reads it (the guest view, the profile's interface
    version); the site's own model is that when the build was asked for the same."""
    from headerparse.cli.common import extract_options
    from headerparse.conform.mapping import Aliases
    from headerparse.conform.run import conform
    from headerparse.conform.unit import ConformError
    from headerparse.extract import ExtractError, Options, extract
    from headerparse.site.consumers import ConsumerPage
    from headerparse.tree import cache_dir

    cache = None if args.no_cache else cache_dir()
    site_options = extract_options(args)
    out = []
    for spec, consumer in located:
        profile = consumer.profile
        archs = tuple(a for a in profile.archs if a in model.archs)
        if not archs:
            raise UsageError(f"--consumer {spec.name}: the {profile.name} profile's arches "
                             f"({', '.join(profile.archs)}) are not among the site's")
        version = args.interface_version or profile.interface_version
        try:
            xen = model
            if site_options.tools or version != site_options.interface_version:
                xen = extract(tree, Options(archs=archs, tools=False, interface_version=version),
                              progress=say, cache=cache)
            say(f"{spec.name}: parsing the {profile.name} copy in {consumer.base}")
            report = conform(consumer, xen, archs, Aliases(), version)
        except (ExtractError, ConformError) as exc:
            raise UsageError(f"--consumer {spec.name}: {exc}") from exc
        report.consumer = spec.directory
        report.provenance = _provenance(args, consumer, cache, say)
        copy = consumer.base / profile.copy if profile.copy else consumer.base
        out.append(ConsumerPage(spec, report, copy.as_posix()))
    return out
