"""Annotation files: YAML with line numbers, validated against the schema (rules XA1xx).

The YAML is composed, not loaded, so that every node keeps its position and
every error points at file:line. Nothing here looks at the model: a file that
passes is well-formed; whether its symbols exist is :mod:`.bind`'s job. The entries it produces are
:mod:`.parsed`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headerparse.annotations.parsed import (
    ArgEntry,
    AvailEntry,
    ParsedFile,
    Pin,
    ReturnEntry,
    ScopeEntry,
    Selector,
    Shape,
    StructEntry,
)
from headerparse.annotations.types import (
    CONSTRAINTS,
    DIRECTIONS,
    LAYOUT_INTENTS,
    READERS,
    Condition,
    Constraint,
    Provenance,
    Scope,
)
from headerparse.annotations.yamlnodes import MAX_BYTES, N, YamlError, compose
from headerparse.model import Diagnostic, Loc
from headerparse.safeio import InputTooLarge, read_file_capped
from headerparse.variants import GROUPS, names

_VERSION = re.compile(r"\d+\.\d+(\.\d+)?\Z|0x[0-9a-fA-F]{8}\Z")
_COMMIT = re.compile(r"[0-9a-f]{7,40}\Z")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?\Z")
_SYMBOL = re.compile(r"(struct |union )?[A-Za-z_]\w*\Z")


def parse_condition(text: str) -> Condition | None:
    return Condition.parse(text)


# ---------------------------------------------------------------- validation


class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path
        self.diags: list[Diagnostic] = []

    def loc(self, n: N) -> Loc:
        return Loc(self.path, n.line, n.col)

    def err(self, rule: str, n: N | Loc | int, message: str, why: str = "") -> None:
        line, col = (n, 1) if isinstance(n, int) else (n.line, n.col)
        self.diags.append(Diagnostic(rule, "error", Loc(self.path, line, col), message, why))

    def mapping(self, n: N, what: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, tuple[N, N]] | None:
        if n.kind != "map":
            self.err("XA103", n, f"{what} must be a mapping, not {_kind(n)}")
            return None
        for key, (kn, _) in n.value.items():
            if key not in allowed:
                self.err("XA102", kn, f"unknown key {key!r} in {what}",
                         why=f"allowed: {', '.join(allowed)}")
        for key in required:
            if key not in n.value:
                self.err("XA104", n, f"{what} needs the key {key!r}")
        return {k: v for k, v in n.value.items() if k in allowed}

    def string(self, n: N, what: str) -> str | None:
        if n.kind != "scalar" or not isinstance(n.value, str):
            hint = ""
            if n.kind == "scalar" and isinstance(n.value, (int, float)):
                hint = f' (quote it: "{n.raw}")'
            self.err("XA103", n, f"{what} must be a string, not {_kind(n)}{hint}")
            return None
        if not n.value.strip():
            self.err("XA107", n, f"{what} is empty")
            return None
        return n.value.strip()

    def integer(self, n: N, what: str) -> int | None:
        if n.kind != "scalar" or isinstance(n.value, bool) or not isinstance(n.value, int):
            self.err("XA103", n, f"{what} must be an integer, not {_kind(n)}")
            return None
        return n.value

    def strings(self, n: N, what: str) -> tuple[str, ...] | None:
        """A string or a list of strings."""
        items = n.value if n.kind == "seq" else [n]
        out = []
        for item in items:
            s = self.string(item, what)
            if s is None:
                return None
            out.append(s)
        return tuple(out)

    def choice(self, n: N, what: str, allowed: tuple[str, ...]) -> str | None:
        s = self.string(n, what)
        if s is not None and s not in allowed:
            self.err("XA107", n, f"{what} {s!r} is not one of {', '.join(allowed)}")
            return None
        return s

    def selector(self, n: N, what: str) -> Selector | None:
        items = self.strings(n, what)
        if items is None:
            return None
        known = set(names())
        bad = [i for i in items if i not in known]
        if bad:
            self.err("XA106", n, f"unknown variant {', '.join(map(repr, bad))} in {what}",
                     why=f"variants and groups: {', '.join(names())}")
            return None
        return Selector(items, self.loc(n))


def _kind(n: N) -> str:
    if n.kind != "scalar":
        return {"map": "a mapping", "seq": "a list"}[n.kind]
    v = n.value
    if v is None:
        return "empty"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(v), type(v).__name__)


_FILE_KEYS = ("family", "summary", "hypercalls", "structs", "symbols")
_SCOPE_KEYS = ("summary", "since", "notes", "provenance", "available", "args", "returns")
_HYPERCALL_KEYS = _SCOPE_KEYS + ("subops", "overrides", "xen_name")
_SUBOP_KEYS = _SCOPE_KEYS + ("takes", "cases")
_CASE_KEYS = ("when", "summary", "since", "notes", "provenance", "args", "returns")
_ARG_KEYS = ("arg", "variants", "name", "type", "struct", "meaning", "direction", "read_by",
             "constraint")
_PROV_KINDS = ("commit", "thread", "doc", "url")


def load_files(directory: Path) -> tuple[list[ParsedFile], list[Diagnostic]]:
    """Every ``*.yaml``/``*.yml`` file under ``directory``, parsed; bad ones give diagnostics."""
    if not directory.is_dir():
        return [], [Diagnostic("XA100", "error", Loc(str(directory), 1),
                               "annotation directory does not exist")]
    out, diags = [], []
    paths = sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")])
    for p in paths:
        try:
            data = read_file_capped(p, MAX_BYTES, regular=True)
        except (OSError, InputTooLarge) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            diags.append(Diagnostic("XA100", "error", Loc(_display(p), 1),
                                    f"cannot read the annotation file: {why}"))
            continue
        parsed, more = parse_file(data, _display(p))
        diags += more
        if parsed is not None:
            out.append(parsed)
    return out, diags


def _display(path: Path) -> str:
    # Relative to the working directory when below it: what a reviewer types.
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_file(data: bytes, path: str) -> tuple[ParsedFile | None, list[Diagnostic]]:
    ctx = _Ctx(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        ctx.err("XA100", data[:exc.start].count(b"\n") + 1, "file is not UTF-8 text")
        return None, ctx.diags
    try:
        root = compose(text)
    except YamlError as exc:
        ctx.err(exc.rule, exc.line, str(exc))
        return None, ctx.diags
    if root is None:
        ctx.err("XA110", 1, "empty annotation file",
                why="a file needs at least 'family:' and 'hypercalls:' or 'structs:'")
        return None, ctx.diags
    top = ctx.mapping(root, "the file", _FILE_KEYS, ("family",))
    if top is None:
        return None, ctx.diags
    family = ctx.string(top["family"][1], "family") if "family" in top else None
    hypercalls = _each(ctx, top, "hypercalls", _hypercall)
    structs = _each(ctx, top, "structs", _struct)
    pins = _each(ctx, top, "symbols", _pin)
    if "summary" in top:
        ctx.string(top["summary"][1], "summary")
    if not ctx.diags and not hypercalls and not structs:
        ctx.err("XA110", root, "the file annotates nothing: add 'hypercalls:' or 'structs:'")
    if ctx.diags:
        return None, ctx.diags
    return ParsedFile(path, family or "", hypercalls, structs, pins), ctx.diags


def _each(ctx: _Ctx, top: dict[str, tuple[N, N]], key: str,
          fn: Callable[[_Ctx, N, N], Any]) -> list[Any]:
    if key not in top:
        return []
    node = top[key][1]
    if node.kind != "map":
        ctx.err("XA103", node, f"{key!r} must be a mapping of names, not {_kind(node)}")
        return []
    out = []
    for kn, vn in node.value.values():
        item = fn(ctx, kn, vn)
        if item is not None:
            out.append(item)
    return out


# ---------------------------------------------------------------- scopes


def _hypercall(ctx: _Ctx, kn: N, vn: N) -> ScopeEntry | None:
    name = str(kn.value).removeprefix("__HYPERVISOR_")
    if not re.fullmatch(r"\w+", name):
        ctx.err("XA107", kn, f"hypercall name {kn.value!r} is not an identifier")
        return None
    entry = ScopeEntry(Scope(name), ctx.loc(kn))
    body = ctx.mapping(vn, f"hypercall {name}", _HYPERCALL_KEYS)
    if body is None:
        return entry
    _scope_body(ctx, entry, body)
    if "overrides" in body:
        entry.overrides = ctx.string(body["overrides"][1], "overrides") or ""
    if "xen_name" in body:
        entry.xen_name = ctx.string(body["xen_name"][1], "xen_name") or ""
    if "subops" in body:
        node = body["subops"][1]
        if node.kind != "map":
            ctx.err("XA103", node, f"subops must be a mapping of sub-op names, not {_kind(node)}")
        else:
            entry.subops = [s for k, v in node.value.values()
                            if (s := _subop(ctx, name, k, v)) is not None]
    return entry


def _subop(ctx: _Ctx, hypercall: str, kn: N, vn: N) -> ScopeEntry | None:
    name = str(kn.value)
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        ctx.err("XA107", kn, f"sub-op name {name!r} is not an identifier")
        return None
    entry = ScopeEntry(Scope(hypercall, name), ctx.loc(kn))
    body = ctx.mapping(vn, f"sub-op {name}", _SUBOP_KEYS)
    if body is None:
        return entry
    _scope_body(ctx, entry, body)
    if "takes" in body:
        tn = body["takes"][1]
        entry.takes_loc = ctx.loc(tn)
        if tn.kind == "scalar" and (tn.value is None or tn.value == "none"):
            entry.takes = None
        else:
            s = ctx.string(tn, "takes")
            if s is not None and not _SYMBOL.match(s):
                ctx.err("XA107", tn, f"takes {s!r} is not a struct name ('struct foo', "
                        "'foo_t') or 'none'")
            elif s is not None:
                entry.takes = s
    if "cases" in body:
        cn = body["cases"][1]
        if cn.kind != "seq":
            ctx.err("XA103", cn, f"cases must be a list, not {_kind(cn)}")
        else:
            entry.cases = [c for item in cn.value
                           if (c := _case(ctx, hypercall, name, item)) is not None]
            seen: dict[Condition, int] = {}
            for c in entry.cases:
                cond = c.scope.condition
                if cond in seen:
                    ctx.err("XA108", c.loc, f"second case for {cond} "
                            f"(first at line {seen[cond]})")
                seen.setdefault(cond, c.loc.line)
    return entry


def _case(ctx: _Ctx, hypercall: str, subop: str, n: N) -> ScopeEntry | None:
    body = ctx.mapping(n, f"a case of {subop}", _CASE_KEYS, ("when",))
    if body is None or "when" not in body:
        return None
    wn = body["when"][1]
    text = ctx.string(wn, "when")
    if text is None:
        return None
    cond = parse_condition(text)
    if cond is None:
        ctx.err("XA107", wn, f"condition {text!r} is not 'struct.field == CONSTANT'",
                why="a condition compares one field of the sub-op's argument, or a "
                    "hypercall argument by name, with a constant: == or !=")
        return None
    entry = ScopeEntry(Scope(hypercall, subop, cond), ctx.loc(n), cond_loc=ctx.loc(wn))
    _scope_body(ctx, entry, body)
    return entry


def _scope_body(ctx: _Ctx, entry: ScopeEntry, body: dict[str, tuple[N, N]]) -> None:
    if "summary" in body:
        entry.summary = ctx.string(body["summary"][1], "summary") or ""
    if "since" in body:
        vn = body["since"][1]
        v = ctx.string(vn, "since")
        if v is not None and not _VERSION.match(v):
            ctx.err("XA107", vn, f"since {v!r} is not a Xen version ('4.5', '3.0.2') or an "
                    "interface version ('0x00030202')")
        entry.since = v or ""
    if "notes" in body:
        entry.notes = ctx.strings(body["notes"][1], "notes") or ()
    if "provenance" in body:
        entry.provenance = _provenance(ctx, body["provenance"][1])
    if "available" in body:
        entry.available = _available(ctx, body["available"][1])
    if "args" in body:
        entry.args = _args(ctx, body["args"][1])
        an = body["args"][1]
        entry.no_args = an.kind == "seq" and not an.value
    if "returns" in body:
        entry.returns = _returns(ctx, body["returns"][1])


def _available(ctx: _Ctx, n: N) -> AvailEntry | None:
    if n.kind != "map":
        sel = ctx.selector(n, "available")
        return AvailEntry(sel, "", ctx.loc(n)) if sel else None
    body = ctx.mapping(n, "available", ("variants", "requires"), ("variants",))
    if body is None or "variants" not in body:
        return None
    sel = ctx.selector(body["variants"][1], "available variants")
    requires = ctx.string(body["requires"][1], "requires") or "" if "requires" in body else ""
    return AvailEntry(sel, requires, ctx.loc(n)) if sel else None


def _args(ctx: _Ctx, n: N) -> list[ArgEntry]:
    if n.kind != "seq":
        ctx.err("XA103", n, f"args must be a list of arguments, not {_kind(n)}")
        return []
    out: list[ArgEntry] = []
    for item in n.value:
        arg = _arg(ctx, item)
        if arg is not None:
            out.append(arg)
    seen: dict[tuple[int, tuple[str, ...]], int] = {}
    for a in out:
        key = (a.position, _expand(a.selector))
        if key in seen:
            ctx.err("XA108", a.loc, f"argument {a.position} stated twice for the same "
                    f"variants (first at line {seen[key]})")
        seen.setdefault(key, a.loc.line)
    return out


def _expand(sel: Selector | None) -> tuple[str, ...]:
    if sel is None:
        return tuple(GROUPS["all"])
    out: set[str] = set()
    for name in sel.names:
        out.update(GROUPS.get(name, (name,)))
    return tuple(sorted(out))


def _arg(ctx: _Ctx, n: N) -> ArgEntry | None:
    body = ctx.mapping(n, "an argument", _ARG_KEYS, ("arg",))
    if body is None or "arg" not in body:
        return None
    pn = body["arg"][1]
    pos = ctx.integer(pn, "arg")
    if pos is None:
        return None
    if not 1 <= pos <= 6:
        ctx.err("XA107", pn, f"arg {pos} is out of range: hypercalls take arguments 1 to 6")
        return None
    sel = ctx.selector(body["variants"][1], "variants") if "variants" in body else None
    fields: dict[str, Any] = {}
    for key in ("name", "type", "struct", "meaning"):
        if key in body:
            fields[key] = ctx.string(body[key][1], key)
    if "direction" in body:
        fields["direction"] = ctx.choice(body["direction"][1], "direction", DIRECTIONS)
    if "read_by" in body:
        rn = body["read_by"][1]
        readers = ctx.strings(rn, "read_by")
        for r in readers or ():
            if r not in READERS:
                ctx.err("XA107", rn, f"read_by {r!r} is not one of {', '.join(READERS)}")
        if readers and "nobody" in readers and len(readers) > 1:
            ctx.err("XA107", rn, "read_by 'nobody' cannot be combined with readers")
        fields["read_by"] = readers
    if "constraint" in body:
        fields["constraint"] = _constraint(ctx, body["constraint"][1])
    return ArgEntry(pos, sel, fields, ctx.loc(n))


def _constraint(ctx: _Ctx, n: N) -> Constraint | None:
    if n.kind == "map":
        body = ctx.mapping(n, "constraint", ("must_be",), ("must_be",))
        if body and "must_be" in body:
            text = ctx.string(body["must_be"][1], "must_be")
            return Constraint("must-be", text) if text else None
        return None
    kind = ctx.choice(n, "constraint", tuple(c for c in CONSTRAINTS if c != "must-be"))
    if kind is None:
        return None
    return Constraint(kind)


def _returns(ctx: _Ctx, n: N) -> list[ReturnEntry]:
    if n.kind == "scalar":
        text = ctx.string(n, "returns")
        return [ReturnEntry(None, text, ctx.loc(n))] if text else []
    if n.kind != "seq":
        ctx.err("XA103", n, f"returns must be a string or a list, not {_kind(n)}")
        return []
    out = []
    for item in n.value:
        body = ctx.mapping(item, "a return statement", ("variants", "text"), ("text",))
        if body is None or "text" not in body:
            continue
        sel = ctx.selector(body["variants"][1], "variants") if "variants" in body else None
        text = ctx.string(body["text"][1], "text")
        if text:
            out.append(ReturnEntry(sel, text, ctx.loc(item)))
    return out


def _provenance(ctx: _Ctx, n: N) -> tuple[Provenance, ...]:
    if n.kind != "seq":
        ctx.err("XA103", n, f"provenance must be a list, not {_kind(n)}")
        return ()
    out = []
    for item in n.value:
        body = ctx.mapping(item, "a provenance item", _PROV_KINDS + ("title", "date", "note"))
        if body is None:
            continue
        kinds = [k for k in _PROV_KINDS if k in body]
        if len(kinds) != 1:
            ctx.err("XA104" if not kinds else "XA107", item,
                    "a provenance item needs exactly one of " + ", ".join(_PROV_KINDS))
            continue
        kind = kinds[0]
        ref = ctx.string(body[kind][1], kind)
        if ref is None:
            continue
        if kind == "commit" and not _COMMIT.match(ref):
            ctx.err("XA107", body[kind][1], f"commit {ref!r} is not a git commit id "
                    "(7 to 40 lower-case hex digits)")
            continue
        date = ""
        if "date" in body:
            dn = body["date"][1]
            date = str(dn.value) if dn.kind == "scalar" and dn.value is not None else ""
            if not _DATE.match(date):
                ctx.err("XA107", dn, f"date {date or _kind(dn)!r} is not YYYY, YYYY-MM or "
                        "YYYY-MM-DD")
                continue
        title = ctx.string(body["title"][1], "title") or "" if "title" in body else ""
        note = ctx.string(body["note"][1], "note") or "" if "note" in body else ""
        out.append(Provenance(kind, ref, title, date, note))
    return tuple(out)


# ---------------------------------------------------------------- structs, pins


def _struct(ctx: _Ctx, kn: N, vn: N) -> StructEntry | None:
    name = " ".join(str(kn.value).split())
    if not _SYMBOL.match(name):
        ctx.err("XA107", kn, f"{name!r} is not a struct name ('struct foo' or 'foo_t')")
        return None
    body = ctx.mapping(vn, name, ("layout", "why", "provenance"), ("layout", "why"))
    if body is None or "layout" not in body or "why" not in body:
        return None
    intent = ctx.choice(body["layout"][1], "layout", LAYOUT_INTENTS)
    why = ctx.string(body["why"][1], "why")
    prov = _provenance(ctx, body["provenance"][1]) if "provenance" in body else ()
    if intent is None or why is None:
        return None
    return StructEntry(name, ctx.loc(kn), intent, why, prov)


def _pin(ctx: _Ctx, kn: N, vn: N) -> Pin | None:
    name = " ".join(str(kn.value).split())
    if not _SYMBOL.match(name):
        ctx.err("XA107", kn, f"{name!r} is not a symbol name")
        return None
    if vn.kind == "scalar":
        value = ctx.integer(vn, f"the pinned value of {name}")
        return Pin(name, value, ctx.loc(kn)) if value is not None else None
    if vn.kind != "map":
        ctx.err("XA103", vn, f"the pin of {name} must be a value or a mapping, not {_kind(vn)}")
        return None
    if "members" in vn.value or "size" in vn.value:
        body = ctx.mapping(vn, f"the shape of {name}", ("size", "members"), ("size", "members"))
        if body is None or len(body) != 2:
            return None
        size = _per_arch(ctx, body["size"][1], f"the size of {name}")
        mn = body["members"][1]
        members = ctx.strings(mn, f"the members of {name}") if mn.kind == "seq" else None
        if mn.kind != "seq":
            ctx.err("XA103", mn, f"the members of {name} must be a list, not {_kind(mn)}")
        if size is None or members is None:
            return None
        return Pin(name, Shape(size, members), ctx.loc(kn))
    value = _per_arch(ctx, vn, f"the pinned value of {name}")
    return Pin(name, value, ctx.loc(kn)) if value is not None else None


def _per_arch(ctx: _Ctx, n: N, what: str) -> Any:
    if n.kind == "scalar":
        return ctx.integer(n, what)
    if n.kind != "map":
        ctx.err("XA103", n, f"{what} must be an integer or a mapping arch -> integer")
        return None
    out = {}
    for key, (_, vn) in n.value.items():
        v = ctx.integer(vn, f"{what} on {key}")
        if v is None:
            return None
        out[key] = v
    return out
