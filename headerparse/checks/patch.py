"""Patches as a reviewer receives them: ``git format-patch`` files, mboxes, plain diffs.

Everything happens in memory on a copy of the header bytes: a patch is parsed,
its paths are checked (no ``..``, no absolute paths, nothing outside the public
headers is written) and its hunks are applied to a ``{relpath: bytes}`` dict.
The user's tree is only ever read.  A patch that cannot be trusted is refused
whole with a :class:`PatchError`; hunks that do not apply are reported, not
guessed at.
"""

from __future__ import annotations

import bisect
import email
import email.errors
import email.header
import email.policy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PUBLIC = "xen/include/public/"
MAX_PATCH_BYTES = 32 * 1024 * 1024     # a header series is kilobytes; more is a mistake
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")
_DIFF_GIT = re.compile(r"diff --git (\S+|\"(?:[^\"\\]|\\.)*\") (\S+|\"(?:[^\"\\]|\\.)*\")\s*$")
_FROM_LINE = re.compile(r"From \S+ .*\d{4}\s*$")
_MODE = re.compile(r"(new file mode|deleted file mode|old mode|new mode|index \S+) \d{6}$")


class PatchError(Exception):
    """The input is not a patch we can trust; the message says why, in one sentence."""


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[str] = field(default_factory=list)      # with their ' ', '-', '+' prefix
    no_eol_old: bool = False
    no_eol_new: bool = False
    patch_line: int = 0           # where the hunk starts in the patch input (1-based)
    section: str = ""
    applied_at: int = 0           # new-file line of its first line, once applied

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"

    def old_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "-")]

    def new_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "+")]


@dataclass
class FilePatch:
    old_path: str | None          # as written in the patch, None for /dev/null
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    header_line: int = 0
    git: bool = False             # from a ``diff --git`` header: paths carry a/ and b/
    mode: str = ""                # a git mode other than a regular file's (120000: symlink)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


@dataclass
class Patch:
    """One commit's worth of diff: a message of an mbox, or the whole of a plain diff."""

    subject: str
    author: str
    files: list[FilePatch]


@dataclass
class Applied:
    """The result of applying a series: the new files and what happened to each hunk."""

    files: dict[str, bytes]
    changed: dict[str, list[tuple[int, int]]]     # public path -> new-file line ranges touched
    failures: list[str]                             # "sched.h: hunk @@ ... @@: reason"
    skipped: list[str]                              # paths outside the public headers
    renames: dict[str, str] = field(default_factory=dict)   # new path -> old path
    moved_out: list[str] = field(default_factory=list)      # "old -> new", new not public


# --------------------------------------------------------------------------- parsing


def parse(data: bytes) -> list[Patch]:
    """The patches in ``data``: an mbox (one or more messages), one format-patch, or a diff."""
    if len(data) > MAX_PATCH_BYTES:
        raise PatchError(f"the input is {len(data)} bytes; more than {MAX_PATCH_BYTES} is not "
                         "a header patch")
    if b"\0" in data:
        raise PatchError("the input contains NUL bytes: it is binary, not a patch")
    text = data.decode("utf-8", errors="surrogateescape")
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    messages = _split_mbox(text)
    try:
        patches = [_parse_message(m) for m in messages] if messages else [
            Patch("", "", parse_diff(text))]
    except RecursionError:
        raise PatchError("the mail's MIME parts are nested too deeply") from None
    patches = [p for p in patches if p.files]
    if not patches:
        raise PatchError("no diff found in the input (expected a git format-patch file, an "
                         "mbox of patches or a unified diff)")
    return patches


def _split_mbox(text: str) -> list[str]:
    """The messages of an mbox; [] when the text is not mail (a plain diff)."""
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _FROM_LINE.match(ln)]
    lead = text.lstrip("\n")
    looks_like_mail = (bool(starts) and not any(ln.strip() for ln in lines[:starts[0]])) or (
        not starts and re.match(r"(From|Subject|Date|Message-I[dD]):", lead) is not None)
    if not looks_like_mail:
        return []
    if not starts:
        return [text]
    bounds = [*starts, len(lines)]
    return ["\n".join(lines[a + 1:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _parse_message(raw: str) -> Patch:
    msg = email.message_from_bytes(raw.encode("utf-8", "surrogateescape"),
                                   policy=email.policy.compat32)
    subject = _header(msg.get("Subject", ""))
    author = _header(msg.get("From", ""))
    bodies = []
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.is_multipart() or part.get_content_maintype() not in ("text", "application"):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            bodies.append(payload.decode("utf-8", errors="surrogateescape").replace("\r\n", "\n"))
    files = [f for body in bodies for f in parse_diff(body)]
    return Patch(subject, author, files)


def _header(value: object) -> str:
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        text = str(value)       # an unknown charset or broken base64: shown as sent
    return " ".join(text.split())


def parse_diff(text: str) -> list[FilePatch]:
    """The file patches of a unified diff (git's extended headers understood)."""
    lines = text.split("\n")
    files: list[FilePatch] = []
    cur: FilePatch | None = None
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("diff --git "):
            cur = _git_header(ln, i + 1)
            files.append(cur)
        elif ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _path_of(ln[4:]), _path_of(lines[i + 1][4:])
            if cur is None or cur.hunks or not cur.git:
                cur = FilePatch(old, new, header_line=i + 1)
                files.append(cur)
            else:
                cur.old_path, cur.new_path = old, new
            i += 1
        elif ln.startswith("@@ ") and cur is not None:
            hunk, i = _read_hunk(lines, i)
            cur.hunks.append(hunk)
            continue
        elif cur is not None and _binary_marker(ln):
            cur.binary = True
        elif cur is not None and _MODE.match(ln):
            mode = ln.rsplit(" ", 1)[-1]
            if mode in ("120000", "160000"):
                cur.mode = mode
        elif cur is not None and ln.startswith(("rename from ", "rename to ")):
            path = _unquote(ln.split(" ", 2)[2])
            if ln.startswith("rename from "):
                cur.old_path = path
            else:
                cur.new_path = path
        i += 1
    return files


def _binary_marker(ln: str) -> bool:
    return ln == "GIT binary patch" or (ln.startswith("Binary files ") and ln.endswith(" differ"))


def _git_header(ln: str, lineno: int) -> FilePatch:
    m = _DIFF_GIT.match(ln)
    if not m:
        raise PatchError(f"line {lineno}: cannot read the paths of {ln!r}")
    return FilePatch(_unquote(m.group(1)), _unquote(m.group(2)), header_line=lineno, git=True)


def _path_of(spec: str) -> str | None:
    """The path of a ``---``/``+++`` line: tab-separated timestamps dropped."""
    path = spec.split("\t", 1)[0].rstrip()
    if path.startswith('"'):
        path = _unquote(path)
    return None if path == "/dev/null" else path


def _unquote(path: str) -> str:
    if not (path.startswith('"') and path.endswith('"') and len(path) >= 2):
        return path
    body = path[1:-1]
    try:
        raw = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1").decode("utf-8", "surrogateescape")
    except (UnicodeError, ValueError) as exc:
        raise PatchError(f"cannot read the quoted path {path!r}") from exc


def _read_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    m = _HUNK.match(lines[i])
    if not m:
        raise PatchError(f"line {i + 1}: malformed hunk header {lines[i]!r}")
    a, b, c, d, section = m.groups()
    hunk = Hunk(int(a), int(b) if b is not None else 1, int(c), int(d) if d is not None else 1,
                patch_line=i + 1, section=section.strip())
    old_left, new_left = hunk.old_count, hunk.new_count
    i += 1
    while i < len(lines) and (old_left > 0 or new_left > 0):
        ln = lines[i]
        tag = ln[:1]
        if ln == "" and i == len(lines) - 1:
            break
        if tag == " " or ln == "":
            old_left, new_left = old_left - 1, new_left - 1
            ln = ln or " "
        elif tag == "-":
            old_left -= 1
        elif tag == "+":
            new_left -= 1
        elif tag == "\\":
            _mark_no_eol(hunk)
            i += 1
            continue
        else:
            break
        hunk.lines.append(ln)
        i += 1
    if old_left != 0 or new_left != 0:
        raise PatchError(f"line {hunk.patch_line}: hunk {hunk.header} is truncated or its "
                         "line counts are wrong")
    if i < len(lines) and lines[i].startswith("\\"):
        _mark_no_eol(hunk)
        i += 1
    if i < len(lines) and _more_hunk_lines(lines, i):
        # git apply rejects it too: the lines past the counts would silently be lost.
        raise PatchError(f"line {i + 1}: hunk {hunk.header} (line {hunk.patch_line}) has more "
                         "lines than its header counts")
    return hunk, i


def _more_hunk_lines(lines: list[str], i: int) -> bool:
    """Whether line ``i``, just past a hunk, is a '+' or '-' line that belongs to it."""
    ln = lines[i]
    if ln[:1] == "+":
        return not ln.startswith("+++ ")
    if ln[:1] == "-":
        # The mail signature ("-- "), and the next file's "--- " header, are not.
        return ln != "-- " and not (ln.startswith("--- ") and i + 1 < len(lines)
                                    and lines[i + 1].startswith("+++ "))
    return False


def _mark_no_eol(hunk: Hunk) -> None:
    last = hunk.lines[-1][:1] if hunk.lines else " "
    if last in (" ", "-"):
        hunk.no_eol_old = True
    if last in (" ", "+"):
        hunk.no_eol_new = True


# --------------------------------------------------------------------------- paths


def public_path(path: str, known: Mapping[str, bytes], *, git: bool) -> str | None:
    """Path relative to the public dir; None when the file is not a public header.

    Raises PatchError for paths that could escape any tree they are applied to.
    """
    check_safe(path)
    candidates = [path]
    if git or re.match(r"[ab]/", path):
        candidates.insert(0, path.split("/", 1)[1] if "/" in path else path)
    elif "/" in path:
        candidates.append(path.split("/", 1)[1])          # plain diff made with -p1 names
    for cand in candidates:
        check_safe(cand)            # "b//x.h" without its b/ is absolute
        if cand.startswith(PUBLIC):
            return cand[len(PUBLIC):]
    if any(_xen_checkout_path(cand) for cand in candidates):
        return None         # xen/include/xen/sched.h is the hypervisor's, not public/sched.h
    for cand in candidates:
        if cand in known:
            return cand
        # A diff made inside the public dir, or of an installed tree (.../include/xen/x.h).
        for marker in ("include/public/", "include/xen/"):
            if marker in cand and cand.split(marker, 1)[1] in known:
                return cand.split(marker, 1)[1]
    first = candidates[0]
    if first.endswith(".h") and "/" not in first.strip("/") and not first.startswith("xen/"):
        return first                                       # a new header at the top level
    return None


# Top-level directories of Xen's hypervisor tree (xen/...) and of the repository.
_XEN_DIRS = {"include", "arch", "common", "drivers", "xsm", "lib", "crypto", "test", "tools",
             "scripts"}
_REPO_DIRS = {"tools", "docs", "stubdom", "extras", "automation", "m4", "config", "scripts"}


def _xen_checkout_path(path: str) -> bool:
    """Whether ``path`` is laid out as in a Xen repository (and so is not an installed tree).

    An installed tree's ``xen/sched.h`` is public; a checkout's ``xen/include/xen/sched.h``
    or ``tools/include/...`` is not.
    """
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == "xen" and parts[1] in _XEN_DIRS:
        return True
    return len(parts) > 1 and parts[0] in _REPO_DIRS


def check_safe(path: str) -> None:
    if not path or "\0" in path:
        raise PatchError("the patch names an empty path")
    if path.startswith("/") or re.match(r"[A-Za-z]:[\\/]", path) or path.startswith("~"):
        raise PatchError(f"the patch names the absolute path {path!r}; refused")
    parts = re.split(r"[\\/]+", path)
    if ".." in parts:
        raise PatchError(f"the patch names {path!r}, which leaves the tree through '..'; refused")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise PatchError(f"the patch names a path with control characters ({path!r}); refused")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
        raise PatchError(f"the patch names a path that is not UTF-8 ({shown!r}); "
                         "refused") from None


# --------------------------------------------------------------------------- applying


def apply(patches: list[Patch], files: Mapping[str, bytes]) -> Applied:
    """Apply a series to a copy of ``files``; the mapping passed in is never modified."""
    _refuse_untrusted(patches)
    out = dict(files)
    result = Applied(out, {}, [], [])
    for patch in patches:
        for fp in patch.files:
            _apply_file(fp, result, git=fp.git or _is_git(fp))
    return result


def _is_git(fp: FilePatch) -> bool:
    names = [p for p in (fp.old_path, fp.new_path) if p]
    return bool(names) and all(re.match(r"[ab]/", p) for p in names)


def _refuse_untrusted(patches: list[Patch]) -> None:
    for patch in patches:
        for fp in patch.files:
            for p in (fp.old_path, fp.new_path):
                if p is not None:
                    check_safe(p)
            if fp.binary:
                raise PatchError(f"the patch has a binary diff for {fp.path!r}; binary patches "
                                 "to the public headers are refused")
            if fp.mode:
                kind = "a symlink" if fp.mode == "120000" else "a submodule"
                raise PatchError(f"the patch makes {fp.path!r} {kind} (mode {fp.mode}); "
                                 "refused")


def _apply_file(fp: FilePatch, result: Applied, *, git: bool) -> None:
    known = result.files
    old = public_path(fp.old_path, known, git=git) if fp.old_path else None
    new = public_path(fp.new_path, known, git=git) if fp.new_path else None
    if not git and fp.old_path and fp.new_path and old not in known and new in known:
        old = new               # "diff -u sched.h.orig sched.h": patch(1) takes the real file
    if old is not None and old in known and fp.new_path and new is None:
        # Renamed out of the public headers: for the ABI, the header is gone.
        del known[old]
        result.moved_out.append(f"{old} -> {fp.new_path}")
        return
    if (fp.old_path and old is None) or (fp.new_path and new is None):
        result.skipped.append(fp.path)
        return
    target = new or old or ""
    if not target.endswith(".h"):
        result.skipped.append(fp.path)
        return
    if fp.old_path is None:
        if target in known:
            result.failures.append(f"{target}: the patch creates it, but it already exists")
            return
        source = [""]                                     # an empty file
    else:
        if old not in known:
            result.failures.append(f"{old}: no such header in the tree")
            return
        source = known[old].decode("utf-8", "surrogateescape").split("\n")
    lines, ranges = _apply_hunks(target, source, fp.hunks, result.failures)
    if old is not None and old != new:
        del known[old]
        if new is not None:
            result.renames[new] = old
    if new is not None:
        known[new] = "\n".join(lines).encode("utf-8", "surrogateescape")
        result.changed.setdefault(new, []).extend(ranges)


def _apply_hunks(path: str, source: list[str], hunks: list[Hunk],
                 failures: list[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """Apply the hunks in order; those that fail are reported and left out.

    Each hunk is looked for in the original lines past the previous one, through an
    index of where each line occurs, and the result is built piece by piece: a patch
    of many hunks costs time linear in its size and the file's."""
    index = _Index(source)
    out: list[str] = []
    ranges = []
    cursor = drift = 0
    for h in hunks:
        old = h.old_lines()
        want = max((h.old_start - 1 if h.old_count else h.old_start) + drift, 0)
        at = index.locate(old, want, cursor)
        if at is None:
            failures.append(f"{path}: hunk {h.header} (patch line {h.patch_line}) does not "
                            "apply: its context is not in the tree")
            continue
        out += source[cursor:at]
        base = len(out)
        out += h.new_lines()
        cursor = at + len(old)
        h.applied_at = base + 1
        if h.no_eol_old and not h.no_eol_new and cursor == len(source):
            out.append("")                                  # the patch adds the final newline
        elif h.no_eol_new and not h.no_eol_old and source[cursor:] == [""]:
            cursor = len(source)                            # ... or removes it
        drift += at - want
        changed = [base + k + 1 for k, ln in enumerate(_new_side(h)) if ln]
        if changed:
            ranges.append((min(changed), max(changed)))
        elif h.lines:
            ranges.append((base + 1, base + 1))         # a pure deletion: the line after it
    out += source[cursor:]
    return out, ranges


def _new_side(h: Hunk) -> list[bool]:
    """For each new-side line of the hunk: whether the patch added it."""
    return [ln[:1] == "+" for ln in h.lines if ln[:1] in (" ", "+")]


# Line comparisons one patch may cost while looking for its hunks' context.
SEARCH_BUDGET = 20_000_000


class _Index:
    """Where each line of a file occurs, to find a hunk's context without a scan."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.at: dict[str, list[int]] = {}
        for i, ln in enumerate(lines):
            self.at.setdefault(ln, []).append(i)
        self.budget = SEARCH_BUDGET

    def locate(self, old: list[str], want: int, start: int) -> int | None:
        """Where ``old`` occurs at or after ``start``, nearest to ``want`` first, the
        lower of two equally near (git apply's search, no fuzz)."""
        lines, n = self.lines, len(old)
        if not old:
            return max(start, min(want, len(lines)))
        if len(lines) - n < start:
            return None
        # Candidates come from the hunk's rarest line: few, however long the file.
        k = min(range(n), key=lambda j: len(self.at.get(old[j], ())))
        where = self.at.get(old[k], [])
        right = bisect.bisect_left(where, want + k)
        left = right - 1
        while left >= 0 or right < len(where):
            pick_left = right >= len(where) or (
                left >= 0 and (want + k) - where[left] <= where[right] - (want + k))
            pos = where[left] if pick_left else where[right]
            if pick_left:
                left -= 1
            else:
                right += 1
            at = pos - k
            if at < start or at > len(lines) - n:
                if pick_left and at < start:
                    left = -1           # further left is further before start
                continue
            self.budget -= n
            if self.budget < 0:
                raise PatchError("the patch's hunks are too costly to place (their context "
                                 "lines are everywhere in the file)")
            if lines[at:at + n] == old:
                return at
        return None
