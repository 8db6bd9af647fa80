"""Rendering again only the pages whose inputs changed since the last build.

A page's text is a function of two things:

* what any page may read, the build's *fingerprint*: the model and the site facts
  with each comment's text left out (its place kept), the names of the tree's files,
  the site's version, history and consumers, and the code and templates that render;
* the text of the header files whose comments or source lines the page shows.

The second part is recorded while the page renders. Between :func:`noting`'s start
and end, a comment's ``text`` and ``raw`` are read through a descriptor that notes the
comment's file, and header texts through :class:`Texts`; a read outside any page
(the plan, a cache filled before the pages) is the fingerprint's. A page whose
fingerprint and read files are byte for byte those of its last rendering would
render to the text it had then: it is neither rendered nor written again, so a
one-comment edit renders the few pages that show that comment.

Anything derived from a comment's text that is not read through the comment (a
member's IN/OUT direction, an ``@arg`` line, a finding's message) is in the model or
the facts, so in the fingerprint: a change there renders every page.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import json
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

from headerparse.model import Comment, Model
from headerparse.paths import PACKAGE, TEMPLATES, code_digest

__all__ = ["PageStore", "Texts", "check_globals", "code_key", "fingerprint", "masked_digest",
           "noting", "recorded", "reuse", "warm"]

STORE = "pages.json"
FACTS = "facts.pickle"
T = TypeVar("T")
_FORMAT = 1
# The comment fields that hold its text; ``loc`` and ``end_line`` say where it is.
_TEXT_FIELDS = ("raw", "text")
# The templates' globals besides jinja's own, each in the build's fingerprint (the
# command's stage() says how); a new one must be added there too.
GLOBALS = frozenset({"site_version", "consumer_docs", "history", "enum_name"})
# What a read of the digest of every header notes: no file of the tree, so a page
# that reads it is rendered every time.
WHOLE_TREE = "<the whole tree>"

# The files read since noting started: the current page's, else the build's own.
_reads: set[str] | None = None


def note(file: str) -> None:
    if _reads is not None:
        _reads.add(file)


class _Noted:
    """A comment field read through this notes the comment's file (or ``file``)."""

    def __init__(self, name: str, file: str | None = None) -> None:
        self.name = name
        self.file = file

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        d = obj.__dict__
        if _reads is not None:
            _reads.add(self.file or d["loc"].file)
        return d[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value     # a frozen dataclass's __init__ sets it so


@contextmanager
def noting() -> Iterator[set[str]]:
    """Note which files' comments and texts are read; yields the reads outside pages."""
    global _reads
    if _reads is not None:
        raise RuntimeError("noting() is already active")
    noted = [(Comment, _Noted(name)) for name in _TEXT_FIELDS]
    noted.append((Model, _Noted("tree_hash", WHOLE_TREE)))
    saved = [(cls, d.name, cls.__dict__.get(d.name)) for cls, d in noted]
    for cls, d in noted:
        setattr(cls, d.name, d)
    _reads = outside = set()
    try:
        yield outside
    finally:
        _reads = None
        for cls, name, old in saved:
            if old is None:
                delattr(cls, name)
            else:
                setattr(cls, name, old)


def recorded(render: Callable[[], str]) -> Callable[[], tuple[str, list[str]]]:
    """``render``, returning its text and the files it read as well."""
    def run() -> tuple[str, list[str]]:
        global _reads
        saved, _reads = _reads, set()
        try:
            text = render()
            reads = _reads
        finally:
            _reads = saved
        return text, sorted(reads)
    return run


def check_globals(env: Any) -> None:
    """Refuse to key pages on a template global the fingerprint does not cover."""
    import jinja2.defaults

    unknown = set(env.globals) - GLOBALS - set(jinja2.defaults.DEFAULT_NAMESPACE)
    if unknown:
        raise RuntimeError(f"template globals outside the page fingerprint: {sorted(unknown)}")


def warm(*objs: object) -> None:
    """Fill every cached property of ``objs`` now, outside any page: a cache that one
    page filled would serve later pages what it read without their noting it."""
    for obj in objs:
        for klass in type(obj).__mro__:
            for name, attr in vars(klass).items():
                if isinstance(attr, cached_property):
                    getattr(obj, name)


class Texts(Mapping[str, str]):
    """Header path -> text; each read, and each line asked for, notes the file."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = texts
        self._lines: dict[str, list[str]] = {}

    def __getitem__(self, path: str) -> str:
        note(path)
        return self._texts[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)        # which files there are: the fingerprint's

    def __len__(self) -> int:
        return len(self._texts)

    def size(self, path: str) -> int:
        """Not noted: what balances the workers, never what a page shows."""
        return len(self._texts.get(path, ""))

    def lines(self, path: str) -> list[str]:
        note(path)
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = self._texts.get(path, "").split("\n")
        return lines


# ---------------------------------------------------------------- fingerprints


def _without_text(c: Comment) -> tuple:
    return (tuple, ((c.__dict__["loc"], c.__dict__["end_line"]),))


def _sorted_set(s: frozenset | set) -> tuple:
    return (frozenset, (tuple(sorted(s, key=repr)),))


def _fields_only(m: Model) -> tuple:
    # The model's cached indexes exist or not depending on who asked before; the
    # digest of every header's bytes is noted where read (WHOLE_TREE).
    return (tuple, (tuple(m.__dict__[f.name] for f in fields(m) if f.name != "tree_hash"),))


class _Masked(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[Comment] = _without_text
    dispatch_table[Model] = _fields_only
    dispatch_table[frozenset] = _sorted_set
    dispatch_table[set] = _sorted_set


class _Hashing(io.RawIOBase):
    def __init__(self) -> None:
        self.h = hashlib.blake2b(digest_size=20)

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.h.update(b)
        return len(b)


def masked_digest(obj: object) -> str:
    """A digest of ``obj`` with every comment's text left out.

    Fast mode (no memo): the bytes then do not depend on which equal objects
    happen to be shared, which differs between a model read from the cache and
    one extracted afresh."""
    sink = _Hashing()
    p = _Masked(sink, protocol=5)
    p.fast = True
    p.dump(obj)
    return sink.h.hexdigest()


@cache
def code_key() -> str:
    """The code and templates that render the pages."""
    import jinja2

    files = sorted(PACKAGE.rglob("*.py")) + sorted(p for p in TEMPLATES.rglob("*")
                                                    if p.is_file())
    return code_digest(
        files, f"{_FORMAT} {sys.implementation.cache_tag} jinja2 {jinja2.__version__}")


def fingerprint(*parts: object) -> str:
    """One digest of the parts (digests, or anything :func:`masked_digest` takes)."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update((part if isinstance(part, str) else masked_digest(part)).encode() + b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------- the store


class PageStore:
    """Each staged page's key and the files it read, kept beside the staged pages."""

    def __init__(self, staging: Path, suffix: str, files: Mapping[str, bytes],
                 base: str = "") -> None:
        self.path = staging / STORE
        self.src = staging / "src"
        self.suffix = suffix
        self.files = files
        self.base = base        # the build's fingerprint, which every key starts from
        self._digests: dict[str, str | None] = {}
        self.old = self._load()
        self.new: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return {}
        pages = data.get("pages")
        return pages if isinstance(pages, dict) else {}

    def key(self, reads: list[str]) -> str | None:
        """The page's key, or None when it read a file that is not the tree's."""
        return _key(self.base, reads, self.files, self._digests)

    def fresh(self, doc: str) -> bool:
        """Whether the staged text of ``doc`` is what rendering it now would give."""
        entry = self.old.get(doc)
        if not isinstance(entry, dict) or not isinstance(entry.get("reads"), list) or \
                not all(isinstance(r, str) for r in entry["reads"]):
            return False            # a store some other version or hand wrote
        key = self.key(entry["reads"])
        if key is None or key != entry.get("key"):
            return False
        try:
            st = (self.src / f"{doc}{self.suffix}").stat()
        except OSError:
            return False
        if [st.st_size, st.st_mtime_ns] != entry.get("stat"):
            return False            # changed by hand, or not ours
        self.new[doc] = entry
        return True

    def put(self, doc: str, reads: list[str]) -> None:
        self.new[doc] = {"key": self.key(reads), "reads": reads}

    def save(self) -> None:
        """Record every page staged now, with its file's size and time as written."""
        for doc, entry in self.new.items():
            try:
                st = (self.src / f"{doc}{self.suffix}").stat()
            except OSError:
                entry["key"] = None
                continue
            entry["stat"] = [st.st_size, st.st_mtime_ns]
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"format": _FORMAT, "pages": self.new}, sort_keys=True),
                       encoding="utf-8")
        os.replace(tmp, self.path)

    @staticmethod
    def drop(staging: Path) -> None:
        (staging / STORE).unlink(missing_ok=True)
        (staging / FACTS).unlink(missing_ok=True)


def _key(base: str, reads: list[str], files: Mapping[str, bytes],
         digests: dict[str, str | None]) -> str | None:
    """``base`` and the named files' contents, or None when one is not the tree's."""
    h = hashlib.blake2b(base.encode(), digest_size=20)
    for path in reads:
        if path not in digests:
            data = files.get(path)
            digests[path] = (None if data is None else
                             hashlib.blake2b(data, digest_size=20).hexdigest())
        digest = digests[path]
        if digest is None:
            return None
        h.update(f"\0{path}\0{digest}".encode())
    return h.hexdigest()


def reuse(path: Path, base: str, files: Mapping[str, bytes], compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave the last build, kept in ``path``, when ``base``
    (everything it reads but header files) and the files it read are unchanged.

    ``compute`` must read header texts through :class:`Texts`, as the pages do; it
    runs with :func:`noting` on, which must not be on already."""
    digests: dict[str, str | None] = {}
    try:
        fmt, reads, key, value = pickle.loads(path.read_bytes())
        if (fmt == _FORMAT and isinstance(reads, list) and key is not None
                and all(isinstance(r, str) for r in reads)
                and _key(base, reads, files, digests) == key):
            return value
    except Exception:   # noqa: BLE001 - missing, damaged or older: computed again
        pass
    with noting() as read:
        value = compute()
    reads = sorted(read)
    key = _key(base, reads, files, digests)
    if key is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(pickle.dumps((_FORMAT, reads, key, value), protocol=5))
        os.replace(tmp, path)
    return value
