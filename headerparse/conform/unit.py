"""A consumer's copy parsed per arch in its own environment: the profile's prelude,
defines and include dirs, with an empty stub for every ``#include`` that resolves
nowhere (the consumer's own kernel or firmware headers, which conformance does not need).

The parse itself is extraction's (:func:`headerparse.extract.clangparse.parse_arch`),
rooted at the consumer's source root, so the facts name files relative to it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from headerparse.conform.profiles import Profile
from headerparse.extract import archfacts
from headerparse.extract.archfacts import ArchFacts
from headerparse.extract.lexer import scan_defines
from headerparse.extract.translation_unit import PRELUDE, PRELUDE_PATH, STUB_SYSTEM_HEADERS
from headerparse.parallel import WorkerFailed, can_fork, deal, fork_map
from headerparse.targets import FIRST, TARGETS, header_status

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


class ConformError(Exception):
    """A consumer directory or option that cannot be used; one line for the user."""


@dataclass(frozen=True)
class Consumer:
    base: Path                     # the consumer's source root
    profile: Profile
    files: dict[str, str]          # copy file, relative to base -> the Xen header it copies
    texts: dict[str, str] = field(default_factory=dict, repr=False)


def locate(directory: Path, profile: Profile) -> Consumer:
    """The consumer whose source root or copy directory is ``directory``."""
    if not directory.is_dir():
        raise ConformError(f"--consumer {directory}: no such directory")
    base = directory.resolve()
    copy = profile.copy
    if copy and not (base / copy).is_dir():
        if base.as_posix().endswith("/" + copy):
            base = Path(base.as_posix()[: -len(copy) - 1])
        else:
            raise ConformError(f"--consumer {directory}: no {copy}/ in it, which is where the "
                               f"{profile.name} profile looks for the copy (try --profile generic)")
    files: dict[str, str] = {}
    root = base / copy if copy else base
    for p in sorted(root.rglob("*.h")):
        rel = p.relative_to(base).as_posix()
        files[rel] = p.relative_to(root).as_posix()
    for rel, xen in profile.files.items():
        if (base / rel).is_file():
            files[rel] = xen
    if not files:
        raise ConformError(f"--consumer {directory}: no headers in {root}")
    texts = {rel: (base / rel).read_bytes().decode("utf-8", "replace") for rel in files}
    return Consumer(base, profile, files, texts)


@dataclass
class Parsed:
    facts: dict[str, ArchFacts]
    # stubbed include -> the first (file, line) naming it, and the arches it was missing on
    stubs: dict[str, tuple[str, int, tuple[str, ...]]]


def unit_headers(consumer: Consumer, arch: str) -> list[str]:
    """The copy's headers (relative to the source root) one arch's translation unit
    includes, in Xen's order: the Xen header each copies decides whether it is compiled."""
    target = TARGETS[arch]
    direct = sorted(rel for rel, xen in consumer.files.items()
                    if header_status(xen, target)[0] == "direct")
    first = [rel for name in FIRST for rel in direct if consumer.files[rel] == name]
    return first + [rel for rel in direct if rel not in first]


def parse(consumer: Consumer, archs: Iterable[str], interface_version: str | None = None
          ) -> Parsed:
    """Every arch of ``archs`` parsed, in forked workers when there are cores for it."""
    archs = list(archs)
    probes = sorted({d.name for rel, text in consumer.texts.items()
                     for d in scan_defines(text, rel) if d.params is None})
    with tempfile.TemporaryDirectory(prefix="headerparse-conform-") as tmp:
        stubs: dict[str, tuple[str, int, tuple[str, ...]]] = {}
        jobs = []
        for arch in archs:
            dirs = [consumer.base / d for d in consumer.profile.include_dirs(arch)]
            stub_dir = Path(tmp) / arch
            for name, (file, line) in _stub_missing(consumer, dirs, stub_dir).items():
                had = stubs.get(name, (file, line, ()))
                stubs[name] = (had[0], had[1], (*had[2], arch))
            defines = consumer.profile.arch_defines(arch)
            if interface_version is not None:
                defines["__XEN_INTERFACE_VERSION__"] = interface_version
            jobs.append((arch, _args(consumer, arch, dirs, stub_dir, defines)))
        workers = min(len(jobs), os.cpu_count() or 1) if can_fork() else 1
        shares = deal([1] * len(jobs), workers)
        try:
            done = fork_map(lambda share: [_parse_one(consumer, probes, *jobs[i]) for i in share],
                            shares)
        except WorkerFailed as exc:
            raise ConformError(f"parsing the copy failed: {exc}") from exc
    facts = {}
    for share, blobs in zip(shares, done, strict=True):
        for i, blob in zip(share, blobs, strict=True):
            facts[jobs[i][0]] = archfacts.loads(blob)
    return Parsed({a: facts[a] for a in archs}, stubs)


def _args(consumer: Consumer, arch: str, dirs: list[Path], stub_dir: Path,
          defines: dict[str, str | None]) -> list[str]:
    args = ["-target", TARGETS[arch].triple, "-x", "c", "-std=gnu99", "-ferror-limit=0",
            "-nostdinc", "-I", str(consumer.base)]
    for d in dirs:
        args += ["-I", str(d)]
    args += ["-isystem", str(stub_dir), "-include", PRELUDE_PATH]
    for name, value in defines.items():
        args.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return args


def _parse_one(consumer: Consumer, probes: list[str], arch: str, args: list[str]) -> bytes:
    from headerparse.extract import clangparse

    facts = clangparse.parse_arch(
        consumer.base, TARGETS[arch], unit_headers(consumer, arch), probes, {},
        prelude=PRELUDE + consumer.profile.prelude, root=consumer.base, args=args,
        prefix="")
    return archfacts.dumps(facts)


def _stub_missing(consumer: Consumer, dirs: list[Path], stub_dir: Path
                  ) -> dict[str, tuple[str, int]]:
    """Empty headers for every include of the copy (and what it includes) found nowhere."""
    missing: dict[str, tuple[str, int]] = {}
    todo = [consumer.base / rel for rel in consumer.files]
    seen: set[Path] = set()
    for name in STUB_SYSTEM_HEADERS:
        _write_stub(stub_dir / name)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for m in _INCLUDE.finditer(text):
            quoted, name = m.group(1) == '"', m.group(2)
            where = ([path.parent] if quoted else []) + [consumer.base, *dirs]
            found = next((d / name for d in where if (d / name).is_file()), None)
            if found is not None:
                if consumer.base in found.resolve().parents:
                    todo.append(found.resolve())
            elif name not in STUB_SYSTEM_HEADERS:
                _write_stub(stub_dir / name)
                rel = path.relative_to(consumer.base).as_posix() \
                    if consumer.base in path.parents else str(path)
                missing.setdefault(name, (rel, text.count("\n", 0, m.start()) + 1))
    return missing


def _write_stub(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text("/* headerparse conform: not part of the copy */\n")
