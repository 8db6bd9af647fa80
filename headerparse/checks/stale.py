"""Comments that contradict the headers they sit in: what Xen's doc fixes repaired.

Measured against Xen's own documentation fixes (bench/doc_drift.py):

* a name in quotes that no member, type or constant has (XC502): the comment
  of ``xen_sysctl_pcitopoinfo.num_devs`` said ``'pcitopo'`` after the member
  became ``devs``; domctl.h said ``'msr_domain_policy'``, ``'cpuid_policy'``;
* a constant one letter away from a real one (XC502): ``VGCT_I387_VALID``
  where ``VGCF_I387_VALID`` is meant;
* an ``#endif`` comment that names another condition than its ``#if`` (XC504):
  tmem.h's ``#endif /* __XEN_INTERFACE_VERSION__ < 0x00041200 */`` closing a
  ``< 0x00041300`` block;
* a trigraph in a comment (XC505): ``(???)`` in xen.h; a compiler in ISO mode
  reads ``??)`` as ``]``, and ``??/`` at a line's end continues a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from headerparse.checks.rules import Finding
from headerparse.model import Comment, Loc, Model

_QUOTED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")
_MACRO = re.compile(r"(?<![\w*?.-])([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])(?![\w*?(])")
_TRIGRAPH = re.compile(r"\?\?[=/'()!<>-]")


def stale_findings(model: Model, names: set[str], docs: Iterable[tuple[str, Comment]],
                   files: Mapping[str, bytes], only: frozenset[str] | None = None
                   ) -> list[Finding]:
    """Every finding of this module; ``names`` is what exists, ``docs`` the comments,
    ``only`` the headers whose text is checked (None: all)."""
    members = {f.name for r in model.records for f in r.fields}
    known = names | members
    upper = _Halves({n for n in known if n.isupper()})
    out: list[Finding] = []
    seen: set[Loc] = set()
    for sym, comment in docs:
        if comment.loc in seen:     # a field of a nested record comes once per container
            continue
        seen.add(comment.loc)
        out += _quoted(sym, comment, known)
        out += _near_miss(sym, comment, known, upper)
    for path, data in sorted(files.items()):
        if only is not None and path not in only:
            continue
        text = data.decode("utf-8", "replace")
        out += _endif_comments(path, text)
        out += _trigraphs(path, text)
    return out


def _quoted(sym: str, comment: Comment, known: set[str]) -> list[Finding]:
    """'name' in a comment that is no member or name of the headers.

    Quotes also mark English ('noisy', 'edge'): a quoted word is taken for a C name
    when it is spelled like one (an underscore or a digit), or when it is listed
    beside a quoted real name ("elements in 'pcitopo' and 'nodes' arrays").
    """
    text = comment.text
    out = []
    for m in _QUOTED.finditer(text):
        name = m.group(1)
        if name in known or name.isupper() or len(name) < 3:
            continue
        if not re.search(r"[_0-9]", name) and not _beside_a_name(text, m, known):
            continue
        out.append(Finding("XC502", name_loc(comment, m.group(0)), f"the comment of {sym} quotes "
                           f"'{name}', which is no member or name of the headers", sym,
                           severity="note", key=f"{sym}|'{name}'"))
    return out


_LIST = re.compile(r"\s*(?:,|/|\band\b|\bor\b)\s*")


def _beside_a_name(text: str, m: re.Match, known: set[str]) -> bool:
    """Whether a quoted real name is listed right next to ``m`` ('x' and 'y', 'x', 'y')."""
    after = _QUOTED.match(text, _LIST.match(text, m.end()).end()) \
        if _LIST.match(text, m.end()) else None
    before = re.search(r"'(\w+)'" + _LIST.pattern + r"$", text[:m.start()])
    return any(x is not None and x.group(1) in known for x in (after, before))


class _Halves:
    """Names indexed by each half: a name one letter from another shares one half with it
    (indexing every name by every blanked position cost more than all the lookups)."""

    def __init__(self, names: set[str]) -> None:
        self.halves: dict[tuple[int, str], list[str]] = {}
        for n in names:
            h = len(n) // 2
            self.halves.setdefault((len(n), n[:h] + "\0"), []).append(n)
            self.halves.setdefault((len(n), "\0" + n[h:]), []).append(n)

    def one_letter_from(self, name: str) -> list[str]:
        """The names that differ from ``name`` in exactly one position, sorted."""
        h = len(name) // 2
        pool = self.halves.get((len(name), name[:h] + "\0"), []) + \
            self.halves.get((len(name), "\0" + name[h:]), [])
        return sorted({n for n in pool
                       if sum(a != b for a, b in zip(n, name, strict=True)) == 1})


def _near_miss(sym: str, comment: Comment, known: set[str],
               upper: _Halves) -> list[Finding]:
    """A CONSTANT_NAME that does not exist but is one letter from one that does."""
    out, seen = [], set()
    for m in _MACRO.finditer(comment.text):
        name = m.group(1)
        if name in known or name in seen or len(name) < 8:
            continue
        hits = upper.one_letter_from(name)
        if not hits:
            continue
        seen.add(name)
        out.append(Finding("XC502", name_loc(comment, name), f"the comment of {sym} names {name}, "
                           f"which the headers do not define; did you mean "
                           f"{' or '.join(hits)}?", sym, key=f"{sym}|{name}"))
    return out


def name_loc(comment: Comment, text: str) -> Loc:
    """Where ``text`` is written inside ``comment`` (its first line when not found)."""
    at = comment.raw.find(text)
    if at < 0:
        return comment.loc
    start = comment.raw.rfind("\n", 0, at) + 1
    line = comment.loc.line + comment.raw.count("\n", 0, at)
    col = (comment.loc.col + at) if start == 0 else at - start + 1
    return Loc(comment.loc.file, line, col)


_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")
_WORDS = re.compile(r"0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*")
_GLUE = {"defined", "if", "ifdef", "ifndef", "endif", "not", "and", "or", "end", "of"}


def _endif_comments(path: str, text: str) -> list[Finding]:
    """``#endif /* COND */`` whose COND names what the matching ``#if`` does not."""
    out: list[Finding] = []
    stack: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        m = _DIRECTIVE.match(line)
        if not m:
            continue
        what, rest = m.groups()
        if what in ("if", "ifdef", "ifndef"):
            stack.append(rest)
        elif what == "elif" and stack:
            stack[-1] += " " + rest
        elif what == "endif" and stack:
            cond = stack.pop()
            said = re.search(r"/\*(.*?)\*/|//(.*)", rest)
            if said is None:
                continue
            words = _WORDS.findall(said.group(1) or said.group(2) or "")
            have = set(_WORDS.findall(re.sub(r"/\*.*?\*/|//.*", "", cond)))
            alien = [w for w in words if w not in have and w.lower() not in _GLUE]
            # Only a comment made of the condition's own vocabulary restates it;
            # prose ("end of the x86 part") is not a condition.
            if alien and len(alien) < len(words) and any(_code_like(w) for w in alien):
                out.append(Finding("XC504", Loc(path, n, line.find(said.group(0)) + 1),
                                   f"#endif comment names {', '.join(alien)}, which the "
                                   f"#if it closes does not test ({' '.join(cond.split())})",
                                   alien[0], key=f"{path}|endif|{' '.join(words)}"))
    return out


def _code_like(word: str) -> bool:
    return word[:1].isdigit() or "_" in word


def _trigraphs(path: str, text: str) -> list[Finding]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in _TRIGRAPH.finditer(line):
            out.append(Finding("XC505", Loc(path, n, m.start() + 1),
                               f"'{m.group(0)}' is a trigraph: a compiler in ISO C mode "
                               f"replaces it", m.group(0),
                               # the line's text, not its number: edits above keep it
                               key=f"{path}|{' '.join(line.split())}"))
    return out
