"""Sizes, alignments, offsets and macro values of the Xen public headers, as GCC sees them.

No cross binary can run here, so nothing is executed: every question becomes a
constant initializer in one generated C file, GCC compiles it to assembly
(``-S``), and the answer is read back from the data directives after each
label.  Everything for one arch goes into as few compiles as possible, because
a tree has thousands of questions.

Questions GCC cannot answer (a macro that is a string, a type, or function-like;
a member path that does not exist) make GCC report an error on the line of the
question; those questions are dropped and the file recompiled.  They are simply
absent from the results: deciding what absence means is the caller's business.

Headers are included the way a consumer would: after the compiler's own
freestanding ``<stddef.h>``/``<stdint.h>`` (the public headers never include
them), with ``-std=gnu99 -D__XEN_TOOLS__``.  Headers that cannot share a
translation unit (another arch's variant of the same structs, a macro
redefined differently) are split into several; each question is answered by
the first unit where GCC accepts it, and :class:`Report` says what happened.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ARCHES = ("x86_32", "x86_64", "arm32", "arm64")

# Candidate compiler commands, best first.  ``gcc -m32`` needs multilib, so
# the Debian cross compiler is preferred for x86_32.
_CANDIDATES: dict[str, list[list[str]]] = {
    "x86_32": [["i686-linux-gnu-gcc"], ["gcc", "-m32"]],
    "x86_64": [["x86_64-linux-gnu-gcc"], ["gcc"]],
    "arm32": [["arm-linux-gnueabihf-gcc"]],
    "arm64": [["aarch64-linux-gnu-gcc"]],
}

_STD_FLAGS = (
    "-std=gnu99",
    "-ffreestanding",
    # Errors inside macro expansions must point at the line that expanded
    # them (our question), not at the #define in the header.
    "-ftrack-macro-expansion=0",
    "-fdiagnostics-plain-output",
    "-fmax-errors=0",
    "-fno-common",
    "-O0",
)

# The tools' view of the interface, as headerparse extracts it by default.
DEFAULT_DEFINES = ("__XEN_TOOLS__",)

_SOURCE = "oracle.c"
_UNDEFINED = " is not #defined"
_TIMEOUT = 600


class OracleError(RuntimeError):
    """GCC failed in a way that cannot be pinned on single questions or headers."""


def _probe(cmd: list[str]) -> bool:
    """Whether ``cmd`` exists and can compile for its target (``-m32`` may lack multilib)."""
    if shutil.which(cmd[0]) is None:
        return False
    try:
        done = subprocess.run(
            [*cmd, "-ffreestanding", "-x", "c", "-S", "-o", os.devnull, "-"],
            input="#include <stdint.h>\nuint64_t x;\n",
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _native_is_x86_64() -> bool:
    try:
        done = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.startswith("x86_64")


def _find_cc(arch: str) -> list[str] | None:
    """The command for ``arch``; ``HEADERPARSE_ORACLE_CC_<ARCH>`` overrides the search."""
    override = os.environ.get(f"HEADERPARSE_ORACLE_CC_{arch.upper()}")
    if override:
        return override.split()
    for cmd in _CANDIDATES[arch]:
        # A bare native gcc only counts as x86 if the host is x86.
        if cmd[0] == "gcc" and not _native_is_x86_64():
            continue
        if _probe(cmd):
            return cmd
    return None


def _find_all() -> dict[str, list[str]]:
    found = {}
    for arch in ARCHES:
        cmd = _find_cc(arch)
        if cmd is not None:
            found[arch] = cmd
    return found


# arch -> compiler command; arches without a working compiler are absent.
ARCH_CC: dict[str, list[str]] = _find_all()


def compiler_for(arch: str) -> list[str] | None:
    if arch not in _CANDIDATES:
        raise ValueError(f"unknown arch {arch!r}; expected one of {ARCHES}")
    return ARCH_CC.get(arch)


@dataclass
class Report:
    """What a call could not do, for callers that want to say why something is absent."""

    # what was refused -> GCC's first complaint: a macro name, a type key, or
    # "<type key> <member path>"
    failed: dict[str, str] = field(default_factory=dict)
    # header -> GCC error: it does not compile on this arch even on its own
    broken_headers: dict[str, str] = field(default_factory=dict)
    # the header sets compiled together; more than one when headers conflict
    units: list[list[str]] = field(default_factory=list)
    compiles: int = 0


# ---------------------------------------------------------------- questions


@dataclass(frozen=True)
class _Question:
    key: str           # what the answer belongs to: "struct foo", "FOO_MAX"
    expr: str          # a C expression
    # ``expr`` is a macro name: it must be #defined and be an integer
    # constant expression, whose sign matters
    macro: bool
    # where a layout answer goes: the type key, then ("size"|"align", "") or
    # ("offsets"|"sizes", member path)
    record: str = ""
    slot: tuple[str, str] = ("", "")


def _declarations(idx: int, q: _Question) -> str:
    """One source line asking GCC for ``q``; every diagnostic on it condemns ``q``."""
    e = q.expr
    value = (f"const unsigned long long hpo_v_{idx} = (unsigned long long)({e});")
    if not q.macro:
        return value
    # The enumerators make GCC insist on an integer constant expression
    # (pedantic errors are on for these lines) of integer type, so that
    # strings, pointers and floating constants are refused, not folded.
    check = (f"enum {{ hpo_e_{idx} = ({e}) ? 1 : 1, "
             f"hpo_k_{idx} = 1 / ((__builtin_classify_type({e}) - 1u) < 4u) }};")
    sign = f"const signed char hpo_n_{idx} = ({e}) < 0;"
    return f"{check} {value} {sign}"


def _preamble(headers: Sequence[str]) -> list[str]:
    lines = [
        "#include <stddef.h>",
        "#include <stdint.h>",
        # io/ring.h uses these; declaring them avoids needing a libc.
        "void *memcpy(void *, const void *, size_t);",
        "void *memset(void *, int, size_t);",
    ]
    for h in headers:
        # A header leaking a #pragma pack must not change the layout of the
        # headers after it: we want each header's own ABI.
        lines += ["#pragma pack(push)", f'#include "public/{h}"', "#pragma pack(pop)"]
    return lines


@dataclass
class _ProbeSource:
    """The C file GCC compiles: the headers, then a line per question."""

    text: str
    line_of: dict[int, int]     # source line -> question index
    include_of: dict[int, str]  # source line -> header included there


def _build_source(headers: Sequence[str], questions: Mapping[int, _Question]) -> _ProbeSource:
    lines = _preamble(headers)
    include_of = {}
    for n, text in enumerate(lines, 1):
        m = re.fullmatch(r'#include "public/(.+)"', text)
        if m:
            include_of[n] = m.group(1)
    lines.append('#pragma GCC diagnostic error "-Wpedantic"')
    line_of = {}
    for idx, q in questions.items():
        if q.macro:
            # Undefined names stay silent instead of costing GCC errors (and
            # an enumerator of the same name is not a macro).
            lines.append(f"#ifdef {q.expr}")
        lines.append(_declarations(idx, q))
        line_of[len(lines)] = idx
        if q.macro:
            lines.append("#endif")
    # Errors at end of input (an unbalanced brace in a macro) land here,
    # where they are recognisably nobody's.
    lines.append("typedef int hpo_end;")
    return _ProbeSource("\n".join(lines) + "\n", line_of, include_of)


# ---------------------------------------------------------------- GCC's answers

_DIAG = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?:\d+:)? "
                   r"(?P<sev>fatal error|error): (?P<msg>.*)$")
_REDEFINED = re.compile(r'^(?P<file>[^:\s][^:]*):\d+:(?:\d+:)? '
                        r'warning: "(?P<name>\w+)" redefined')
_TREE = re.compile(r"^(?P<depth>\.+) (?P<file>\S.*)$")


@dataclass
class _Errors:
    at_line: dict[int, str] = field(default_factory=dict)    # oracle.c line -> message
    in_file: dict[str, str] = field(default_factory=dict)    # header path -> message
    elsewhere: list[str] = field(default_factory=list)       # nothing to pin them on
    # header path -> a macro it redefined differently: a silent conflict
    redefined: dict[str, str] = field(default_factory=dict)


def _diagnose(stderr: str) -> _Errors:
    """Sort GCC's errors by where they are: a line of oracle.c, or a header."""
    errors = _Errors()
    for raw in stderr.splitlines():
        w = _REDEFINED.match(raw)
        if w:
            errors.redefined.setdefault(os.path.normpath(w.group("file")), w.group("name"))
        m = _DIAG.match(raw)
        if m is None:
            if " error: " in raw or raw.startswith(("cc1: error", "gcc: error")):
                errors.elsewhere.append(raw)
            continue
        if Path(m.group("file")).name == _SOURCE:
            # The line number and our own names mean nothing to the reader.
            msg = re.sub(r"[‘']hpo_\w+[’']", "the question", m.group("msg"))
            errors.at_line.setdefault(int(m.group("line")), msg)
        else:
            msg = f"{m.group('file')}:{m.group('line')}: {m.group('msg')}"
            errors.in_file.setdefault(os.path.normpath(m.group("file")), msg)
    return errors


def _first_opened_by(stderr: str) -> dict[str, str]:
    """Each header GCC opened (``-H``) -> the top-level include that first opened it.

    GCC's own "In file included from" chains are only printed when they change,
    and partially, so they cannot say which top-level include an error is in.
    Include guards mean a header's body is compiled where it is first opened,
    which is what ``-H`` tells.
    """
    opened: dict[str, str] = {}
    top = ""
    for raw in stderr.splitlines():
        m = _TREE.match(raw)
        if m is None:
            continue
        path = os.path.normpath(m.group("file"))
        if len(m.group("depth")) == 1:
            top = path
        opened.setdefault(path, top)
    return opened


# GCC's data directives and their widths; ``.word`` is target-dependent.
_WIDTH = {
    "byte": 1, "value": 2, "short": 2, "2byte": 2, "hword": 2, "half": 2,
    "long": 4, "int": 4, "4byte": 4, "quad": 8, "xword": 8, "8byte": 8, "dword": 8,
}
_LABEL = re.compile(r"^(hpo_[vn]_\d+):")
_DIRECTIVE = re.compile(r"^\s+\.(\w+)\s+(.*)$")


def _read_data(asm: str, word: int) -> dict[str, bytes]:
    """The bytes GCC emitted after each ``hpo_*`` label (little-endian targets only)."""
    data: dict[str, bytes] = {}
    label: str | None = None
    buf = bytearray()
    for line in asm.splitlines():
        m = _LABEL.match(line)
        if m:
            label, buf = m.group(1), bytearray()
            data[label] = b""
            continue
        if label is None:
            continue
        d = _DIRECTIVE.match(line)
        name = d.group(1) if d else ""
        if name in ("zero", "space", "skip"):
            buf += bytes(int(d.group(2).split(",")[0], 0))
        elif name in _WIDTH or name == "word":
            width = word if name == "word" else _WIDTH[name]
            for tok in d.group(2).split(","):
                try:
                    value = int(tok.strip(), 0) % (1 << (8 * width))
                except ValueError:  # a relocation: not a constant after all
                    raise OracleError(f"{label} is not a number: {line.strip()}") from None
                buf += value.to_bytes(width, "little")
        else:
            label = None  # the object's data ended
            continue
        data[label] = bytes(buf)
    return data


def _count_includes(path: Path) -> int:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return 0
    return len(re.findall(r"^\s*#\s*include\b", text, re.M))


@dataclass
class _Outcome:
    ok: bool
    asm: str
    stderr: str


class _Session:
    """Compiles for one arch and one include dir, in a private scratch directory."""

    def __init__(self, arch: str, include_dir: Path, defines: Iterable[str],
                 report: Report, scratch: Path) -> None:
        cmd = compiler_for(arch)
        if cmd is None:
            raise OracleError(f"no GCC for {arch}; tried {_CANDIDATES[arch]}")
        self.cmd = cmd
        self.include_dir = Path(include_dir).resolve()
        if not (self.include_dir / "public" / "xen.h").is_file():
            raise OracleError(f"{self.include_dir} has no public/xen.h")
        self.flags = [*_STD_FLAGS, *(f"-D{d}" for d in defines), "-I", str(self.include_dir)]
        self.word = 4 if arch.startswith("arm") else 2
        self.report = report
        self.scratch = scratch

    def compile(self, text: str, syntax_only: bool = False, tree: bool = False) -> _Outcome:
        (self.scratch / _SOURCE).write_text(text)
        out = self.scratch / "oracle.s"
        mode = ["-fsyntax-only"] if syntax_only else ["-S", "-o", str(out)]
        if tree:
            mode.append("-H")
        self.report.compiles += 1
        done = subprocess.run([*self.cmd, *self.flags, *mode, _SOURCE], cwd=self.scratch,
                              capture_output=True, text=True, timeout=_TIMEOUT,
                              env={**os.environ, "LC_ALL": "C"})  # plain quotes
        asm = out.read_text() if done.returncode == 0 and not syntax_only else ""
        return _Outcome(done.returncode == 0, asm, done.stderr)

    # ------------------------------------------------------------ headers

    def units(self, headers: Sequence[str]) -> list[list[str]]:
        """Split ``headers`` into sets that compile together.

        Headers that include others go first so that, when two headers define
        the same thing (``arch-x86/xen-x86_32.h`` next to the native
        ``xen-x86_64.h``), the one the hub headers pull in is the one defined.
        """
        counts = {h: _count_includes(self.include_dir / "public" / h) for h in headers}
        pending = sorted(dict.fromkeys(headers), key=lambda h: -counts[h])
        units = []
        while pending:
            unit, pending = self._fit(pending)
            if unit:
                units.append(unit)
        self.report.units = units
        return units or [[]]

    def _fit(self, headers: list[str]) -> tuple[list[str], list[str]]:
        """The headers that compile together, in order, and those that must wait."""
        unit, deferred = list(headers), []
        while unit:
            src = _build_source(unit, {})
            outcome = self.compile(src.text, syntax_only=True, tree=True)
            culprits = self._culprits(src, outcome.stderr)
            if outcome.ok and not culprits:
                return unit, deferred
            if not culprits:
                raise OracleError("headers do not compile and GCC blames none of them:\n"
                                  + outcome.stderr[-4000:])
            first = unit[0]
            for h, msg in culprits.items():
                unit.remove(h)
                if h == first:
                    # It fails with nothing before it: broken on its own.
                    self.report.broken_headers[h] = msg
                else:
                    deferred.append(h)
        deferred.sort(key=headers.index)
        return unit, deferred

    def _culprits(self, src: _ProbeSource, stderr: str) -> dict[str, str]:
        """The top-level headers GCC's errors are in -> the first error in each."""
        errors = _diagnose(stderr)
        opened = _first_opened_by(stderr)
        header_of = {os.path.normpath(self.include_dir / "public" / h): h
                     for h in src.include_of.values()}
        culprits = {src.include_of[n]: msg for n, msg in errors.at_line.items()
                    if n in src.include_of}
        for path, msg in errors.in_file.items():
            h = header_of.get(opened.get(path, ""))
            if h is not None:
                culprits.setdefault(h, msg)
        # A macro redefined differently means two headers disagree; the later
        # one must wait, lest its value silently win.  The first header of a
        # unit has nobody to disagree with but itself, which is its business.
        first = next(iter(src.include_of.values()), None)
        for path, name in errors.redefined.items():
            h = header_of.get(opened.get(path, ""))
            if h is not None and h != first:
                culprits.setdefault(h, f"{path}: redefines {name}")
        return culprits

    # ------------------------------------------------------------ questions

    def ask(self, unit: list[str], questions: Mapping[int, _Question],
            retry: bool = True) -> tuple[dict[int, int], dict[int, str]]:
        """Answers by question index, and GCC's complaint about each refused one."""
        todo, refused = dict(questions), {}
        while todo:
            src = _build_source(unit, todo)
            outcome = self.compile(src.text)
            if outcome.ok:
                break
            errors = _diagnose(outcome.stderr)
            bad = {src.line_of[n]: msg for n, msg in errors.at_line.items()
                   if n in src.line_of}
            if not bad:
                if errors.in_file or errors.elsewhere:
                    raise OracleError("GCC failed outside the questions:\n"
                                      + outcome.stderr[-4000:])
                return self._bisect(unit, todo, refused)
            refused.update(bad)
            todo = {i: q for i, q in todo.items() if i not in bad}
        undefined: dict[int, str] = {}
        answers = self._answers(outcome.asm, todo, undefined) if todo else {}
        if retry and refused and answers:
            # A broken question can upset its neighbours' lines; give the
            # refused ones a second chance among themselves.
            again, refused = self.ask(unit, {i: questions[i] for i in refused}, retry=False)
            answers.update(again)
        refused.update(undefined)
        return answers, refused

    def _bisect(self, unit: list[str], todo: dict[int, _Question],
                refused: dict[int, str]) -> tuple[dict[int, int], dict[int, str]]:
        """Errors nobody's line owns (end of input): split until the culprit is alone."""
        if len(todo) == 1:
            refused.update(dict.fromkeys(todo, "GCC error at end of input"))
            return {}, refused
        items = list(todo.items())
        half = len(items) // 2
        answers: dict[int, int] = {}
        for part in (items[:half], items[half:]):
            got, bad = self.ask(unit, dict(part), retry=False)
            answers.update(got)
            refused.update(bad)
        return answers, refused

    def _answers(self, asm: str, questions: Mapping[int, _Question],
                 refused: dict[int, str]) -> dict[int, int]:
        data = _read_data(asm, self.word)
        answers = {}
        for idx, q in questions.items():
            raw = data.get(f"hpo_v_{idx}")
            if raw is None and q.macro:
                refused[idx] = f"{q.expr}{_UNDEFINED}"
                continue
            if raw is None or len(raw) < 8:
                raise OracleError(f"no 8-byte datum for {q.key} ({q.expr}) in GCC's assembly")
            value = int.from_bytes(raw[:8], "little")
            if q.macro and any(data.get(f"hpo_n_{idx}", b"")):
                value -= 1 << 64
            answers[idx] = value
        return answers


# ---------------------------------------------------------------- entry points


def _evaluate(arch: str, include_dir: Path, headers: Sequence[str],
              questions: Sequence[_Question], defines: Iterable[str],
              report: Report) -> dict[int, int]:
    """Ask every question, in the first header set where GCC accepts it."""
    with tempfile.TemporaryDirectory(prefix="hpo-") as tmp:
        session = _Session(arch, include_dir, defines, report, Path(tmp))
        todo = dict(enumerate(questions))
        answers: dict[int, int] = {}
        why: dict[int, list[str]] = {}
        for unit in session.units(headers):
            if not todo:
                break
            got, refused = session.ask(unit, todo)
            answers.update(got)
            for idx, msg in refused.items():
                why.setdefault(idx, []).append(msg)
            todo = {i: todo[i] for i in refused}
    for idx in todo:
        # GCC's complaint where the name was defined says more than
        # "not defined" from the header sets where it was not.
        msgs = why.get(idx, ["no header set to ask"])
        real = [m for m in msgs if not m.endswith(_UNDEFINED)]
        report.failed.setdefault(questions[idx].key, (real or msgs)[0])
    return answers


_TYPE = re.compile(r"(?:(?:struct|union|enum)\s+)?[A-Za-z_]\w*")
_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*")
_NAME = re.compile(r"[A-Za-z_]\w*")


def _layout_questions(types: Mapping[str, Sequence[str]], report: Report) -> list[_Question]:
    questions: list[_Question] = []
    for key, paths in types.items():
        if not _TYPE.fullmatch(key):
            report.failed[key] = "not a type name"
            continue
        questions.append(_Question(key, f"sizeof({key})", False, key, ("size", "")))
        questions.append(_Question(key, f"__extension__ _Alignof({key})", False, key,
                                   ("align", "")))
        for p in paths:
            if not _PATH.fullmatch(p):
                report.failed[f"{key} {p}"] = "not a member designator"
                continue
            where = f"{key} {p}"
            questions.append(_Question(where, f"__builtin_offsetof({key}, {p})", False, key,
                                       ("offsets", p)))
            questions.append(_Question(where, f"sizeof((({key} *)0)->{p})", False, key,
                                       ("sizes", p)))
    return questions


def gcc_layouts(include_dir: Path, arch: str, headers: Sequence[str],
                types: Mapping[str, Sequence[str]], *,
                defines: Iterable[str] = DEFAULT_DEFINES,
                report: Report | None = None) -> dict[str, dict]:
    """``{key: {"size", "align", "offsets": {path: int}, "sizes": {path: int}}}`` per GCC.

    ``types`` maps a type (``struct foo``, ``union foo`` or a typedef name) to
    member designators (``a``, ``u.inner``, members of anonymous members by
    their own name).  A type GCC cannot size is absent; so is, from
    ``offsets``, a path it cannot take ``offsetof`` of (bitfields, typos), and
    from ``sizes`` one it cannot take ``sizeof`` of (also flexible arrays).
    ``report.failed`` is keyed by type key, or by ``"<key> <path>"`` for members.
    ``defines`` (``NAME`` or ``NAME=VALUE``) replace :data:`DEFAULT_DEFINES`.
    """
    report = report if report is not None else Report()
    questions = _layout_questions(types, report)
    answers = _evaluate(arch, include_dir, headers, questions, defines, report)
    out: dict[str, dict] = {}
    for idx, q in enumerate(questions):
        entry = out.setdefault(q.record, {"offsets": {}, "sizes": {}})
        what, path = q.slot
        if idx not in answers:
            continue
        if path:
            entry[what][path] = answers[idx]
        else:
            entry[what] = answers[idx]
    return {k: v for k, v in out.items() if "size" in v and "align" in v}


def gcc_macro_values(include_dir: Path, arch: str, headers: Sequence[str],
                     names: Iterable[str], *, defines: Iterable[str] = DEFAULT_DEFINES,
                     report: Report | None = None) -> dict[str, int]:
    """The value of each macro that is an integer constant expression after ``headers``.

    Values keep their C sign (``-1`` stays -1, ``~0ULL`` is 2**64-1).  Strings,
    types, floating constants, function-like and undefined names are absent, as
    is what GCC only folds as an extension: the value must be an integer
    constant expression as ISO C defines it (``-Werror=pedantic``).
    """
    report = report if report is not None else Report()
    questions = [_Question(n, n, True) for n in dict.fromkeys(names) if _NAME.fullmatch(n)]
    answers = _evaluate(arch, include_dir, headers, questions, defines, report)
    return {q.key: answers[i] for i, q in enumerate(questions) if i in answers}
