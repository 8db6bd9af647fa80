"""Every sub-op of every hypercall, as the headers state it (rules in docs/site.md).

A sub-op is a *command value*: the number a hypercall's command argument (or the
``cmd`` member of the struct it passes) selects an operation with. The headers say
which constants those are in three ways, tried in this order:

1. an op group of the backtick markup that the hypercall's prototype names as its
   command (`` ` enum sched_op { ``), or that the ``cmd`` member of the struct the
   prototype passes names (``unsigned int cmd; /* => enum mmuext_cmd */``);
2. the hypercall's prefix (``XENMEM_`` for memory_op, :data:`PREFIXES`) with Xen's
   naming convention for commands: an object-like macro ``PREFIX`` + a stem starting
   with a lower-case letter (or an all-capitals one whose comment calls it a
   command), whose body is an integer literal, defined outside any
   struct or inside one right after its ``cmd`` member (``struct xen_domctl``);
   constants named ``<sub-op>_<more>`` are values of a field of that sub-op's
   struct, not commands, when any of them repeats the value of a command;
3. the ``subops:`` of the annotation files (:func:`complete`), for what the headers
   do not say.

What is left with a hypercall's prefix and the command naming convention but no
command value is reported (``XM110``). Definitions only the hypervisor sees
(``#ifdef __XEN__``) are not guest ABI and are left out, as are definitions of an
interface version other than the one extracted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from headerparse.diagnostics import Diagnostic, Loc
from headerparse.extract.conditions import Visibility, blank_comments, visibility
from headerparse.model import Hypercall, Macro, Model, OpGroup, Record

if TYPE_CHECKING:
    from headerparse.annotations.types import AnnotationSet

#: The command prefix of each hypercall whose commands are named by convention.
PREFIXES: Mapping[str, str] = {
    "memory_op": "XENMEM_", "vcpu_op": "VCPUOP_", "hvm_op": "HVMOP_",
    "physdev_op": "PHYSDEVOP_", "xen_version": "XENVER_", "mmuext_op": "MMUEXT_",
    "grant_table_op": "GNTTABOP_", "event_channel_op": "EVTCHNOP_", "sched_op": "SCHEDOP_",
    "platform_op": "XENPF_", "xenpmu_op": "XENPMU_", "kexec_op": "KEXEC_CMD_",
    "argo_op": "XEN_ARGO_OP_", "callback_op": "CALLBACKOP_", "domctl": "XEN_DOMCTL_",
    "sysctl": "XEN_SYSCTL_", "nmi_op": "XENNMI_", "xenoprof_op": "XENOPROF_",
    "hypfs_op": "XEN_HYPFS_OP_", "dm_op": "XEN_DMOP_", "console_io": "CONSOLEIO_",
    "vm_assist": "VMASST_CMD_",
}

_LITERAL = re.compile(r"\(?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?\Z")
_ARG_SAYS = re.compile(r"(?:@|\b)(?:arg|args|uop|extra argument)\s*==\s*([^\n]*)", re.I)
_NULL = re.compile(r"\s*(?:NULL|0)\b", re.I)
_IDENT = re.compile(r"\b(?:struct\s+)?([A-Za-z_]\w*)")
_RETURNS = re.compile(r"\breturns?\b", re.I)
_FIELD_ENUM = re.compile(r"=>\s*enum\s+(\w+)")
# An all-capitals stem is a value by convention (PHYSDEVOP_DBGP_RESET_DONE), unless
# its own comment calls it a command (PHYSDEVOP_IRQ_UNMASK_NOTIFY, "This command is
# obsolete ...").
_SAYS_COMMAND = re.compile(r"\b(?:this|the)\s+(?:command|sub-?op(?:eration)?|operation)\b",
                           re.I)


@dataclass(frozen=True)
class SubOp:
    """One command value of a hypercall."""

    name: str
    hypercall: str
    macro: Macro | None
    values: Mapping[str, int]         # arch -> value
    rule: str                         # how the headers (or an annotation) make it a sub-op
    source: str                       # "headers" | "annotation"
    group: str | None = None          # the op group of the markup, if any
    takes: str | None = None          # the record key or type its argument is
    takes_known: bool = False         # whether ``takes`` is defined in these headers
    takes_none: bool = False          # the argument is NULL (no struct)
    takes_why: str = ""               # where the argument comes from
    carried_in: str = ""              # "member cmd of struct mmuext_op", for in-struct commands
    tools_only: bool = False          # __XEN_TOOLS__ only: the toolstack's, not a guest's
    aliases: tuple[str, ...] = ()     # other names of the same command
    returns: tuple[str, ...] = ()     # what the comment says it returns
    summary: str = ""                 # an annotation's one line

    @property
    def archs(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def documented(self) -> bool:
        return bool((self.macro and self.macro.doc) or self.summary)


@dataclass(frozen=True)
class HypercallOps:
    hypercall: str
    ops: tuple[SubOp, ...]
    interface_version: Macro | None = None   # PREFIX + INTERFACE_VERSION
    toolstack_only: bool = False             # every sub-op is tools-only
    groups: tuple[str, ...] = ()             # the op groups its commands come from
    hidden: tuple[tuple[str, str], ...] = ()  # (constant, why it is not shown)


@dataclass(frozen=True)
class Catalog:
    by_hypercall: Mapping[str, HypercallOps]
    diagnostics: tuple[Diagnostic, ...] = ()
    by_name: Mapping[str, SubOp] = field(default_factory=dict)

    def ops(self, hypercall: str) -> tuple[SubOp, ...]:
        hc = self.by_hypercall.get(hypercall)
        return hc.ops if hc else ()

    def group_home(self) -> dict[str, str]:
        """Op group -> the hypercall whose commands it lists."""
        return {g: h.hypercall for h in self.by_hypercall.values() for g in h.groups}


# ------------------------------------------------------------------ deriving


def catalog(model: Model, texts: Mapping[str, str]) -> Catalog:
    """The sub-ops of every hypercall of ``model``; ``texts`` (header path -> text) give
    the ``#if`` blocks (without them, nothing is tools-only)."""
    d = _Deriver(model, texts)
    per = {h.name: d.hypercall(h) for h in model.hypercalls}
    return _finish(per, d.diags)


def _finish(per: dict[str, HypercallOps], diags: Iterable[Diagnostic]) -> Catalog:
    by_name: dict[str, SubOp] = {}
    for h in per.values():
        for op in h.ops:
            by_name.setdefault(op.name, op)
    return Catalog(per, tuple(diags), by_name)


class _Deriver:
    def __init__(self, model: Model, texts: Mapping[str, str]) -> None:
        self.model, self.texts = model, texts
        self._vis: dict[str, Visibility] = {}
        self.diags: list[Diagnostic] = []
        self.claimed: set[str] = set()
        self.by_file: dict[str, list[Record]] = {}
        for r in model.records:
            self.by_file.setdefault(r.loc.file, []).append(r)
        self._spans: dict[str, list[tuple[Record, int, int]]] = {}
        self._part_lines: dict[str, set[int]] = {}
        self._code: dict[str, str] = {}
        self.prefixed: dict[str, list[Macro]] = {}
        self.aliases: dict[str, list[str]] = {}        # macro body -> macros defined as it
        prefixes = re.compile("|".join(sorted(PREFIXES.values(), key=len, reverse=True)))
        for mac in model.macros:
            if mac.archs:
                self.aliases.setdefault(mac.body.strip("() "), []).append(mac.name)
            hit = prefixes.match(mac.name)
            if hit:
                self.prefixed.setdefault(hit.group(0), []).append(mac)
        self.items: dict[str, list[tuple[int, str]]] = {}      # file -> (line, kind), sorted
        for mac in model.macros:
            self.items.setdefault(mac.loc.file, []).append((mac.loc.line, "macro"))
        for t in (*model.typedefs, *model.enums, *model.records):
            # a guest handle's struct (DEFINE_XEN_GUEST_HANDLE) is no argument struct
            record = isinstance(t, Record) and t.expanded_from is None
            self.items.setdefault(t.loc.file, []).append((t.loc.line, "record" if record
                                                          else "other"))
        for v in self.items.values():
            v.sort()
        self.home: dict[str, str] = {}
        for g in model.groups:
            users = [h for h in model.hypercalls if g.name in h.groups and _commands(model, h, g)]
            if users:
                self.home[g.name] = next((h.name for h in users if h.name == g.name),
                                         users[0].name)

    def spans(self, file: str) -> list[tuple[Record, int, int]]:
        """The records of ``file`` with their first and last line (its closing brace)."""
        if file not in self._spans:
            lines = self.code(file).split("\n")
            out = []
            for r in self.by_file.get(file, ()):
                if r.expanded_from is None:      # a macro's struct has no braces here
                    out.append((r, r.loc.line, _closing(lines, r.loc.line) or r.loc.line))
            self._spans[file] = out
        return self._spans[file]

    def code(self, file: str) -> str:
        """The text of ``file`` with its comments blanked (line numbers kept)."""
        if file not in self._code:
            self._code[file] = blank_comments(self.texts.get(file, ""))
        return self._code[file]

    def vis(self, file: str) -> Visibility | None:
        if file not in self._vis and file in self.texts:
            self._vis[file] = visibility(self.code(file), blanked=True)
        return self._vis.get(file)

    # -------------------------------------------------------------- one hypercall

    def hypercall(self, h: Hypercall) -> HypercallOps:
        m = self.model
        groups = [g for g in m.groups if self.home.get(g.name) == h.name]
        carrier = self._field_group(h)
        if carrier is not None:
            groups.append(carrier[0])
        ops: dict[str, SubOp] = {}
        hidden: list[tuple[str, str]] = []
        for g in groups:
            for name in g.members:
                op = self._op(h, name, f"member of op group {g.name} ({_at(g.loc)})", g, hidden)
                if op is not None:
                    ops[name] = replace(op, carried_in=carrier[1] if carrier and
                                        carrier[0] is g else "")
        prefix = PREFIXES.get(h.name)
        if prefix:
            for name in self._by_prefix(h, prefix, ops, hidden):
                op = self._op(h, name, f"the {prefix}* naming convention", None, hidden)
                if op is not None:
                    ops[name] = op
        out: list[SubOp] = []
        for op in ops.values():
            out.append(self._argument(h, op, out[-1] if out else None))
        names = {op.name for op in out}
        out = [replace(op, aliases=tuple(dict.fromkeys(
            a for a in self.aliases.get(op.name, ()) if a not in names))) for op in out]
        iv = m.macros_named(f"{prefix}INTERFACE_VERSION") if prefix else []
        return HypercallOps(h.name, tuple(out), iv[0] if iv else None,
                            bool(out) and all(o.tools_only for o in out),
                            tuple(g.name for g in groups), tuple(hidden))

    def _op(self, h: Hypercall, name: str, rule: str, g: OpGroup | None,
            hidden: list[tuple[str, str]]) -> SubOp | None:
        macros = self.model.macros_named(name)
        seen = [mac for mac in macros if mac.archs]
        if not seen:
            why = "not defined in these headers"
            if macros:
                v = self.vis(macros[0].loc.file)
                why = ("only the hypervisor sees it (#ifdef __XEN__): not guest ABI"
                       if v and v.xen_only(macros[0].loc.line)
                       else "not defined for this interface version or these arches")
            hidden.append((name, why))
            return None
        mac = seen[0]
        v = self.vis(mac.loc.file)
        self.claimed.add(name)
        return SubOp(name, h.name, mac, dict(mac.values), rule, "headers",
                     g.name if g else None, tools_only=bool(v and v.tools_only(mac.loc.line)),
                     returns=_returns(mac.doc.text))

    def _field_group(self, h: Hypercall) -> tuple[OpGroup, str] | None:
        """An op group named by the ``cmd`` member of the struct the prototype passes."""
        for r in self._proto_records(h):
            for f in r.fields:
                hit = _FIELD_ENUM.search(f.doc.text) if f.doc else None
                if f.name == "cmd" and hit:
                    g = next((g for g in self.model.groups if g.name == hit.group(1)), None)
                    if g is not None:
                        return g, f"member {f.path} of {r.key}"
        return None

    def _proto_records(self, h: Hypercall) -> list[Record]:
        out: list[Record] = []
        for p in h.prototype.params if h.prototype else ():
            for ident in _IDENT.findall(p.type):
                out += self.model.records_named(ident)
        return out

    # -------------------------------------------------------------- the prefix rule

    def _by_prefix(self, h: Hypercall, prefix: str, have: dict[str, SubOp],
                   hidden: list[tuple[str, str]]) -> list[str]:
        """Command values named by the prefix convention, in source order."""
        cands: dict[str, Macro] = {}
        for mac in self.prefixed.get(prefix, ()):
            stem = mac.name[len(prefix):]
            if (not (stem[:1].islower() or _says_command(mac))
                    or mac.params is not None or mac.name in have or mac.name in cands):
                continue
            if not _LITERAL.match(mac.body):
                continue          # an alias (another command's name) or a computed value
            inside = self._inside(mac)
            if inside is not None and (inside != "cmd" or self._is_part(mac)):
                continue          # a value of that member, not the hypercall's command
            cands[mac.name] = mac
        taken = {v for op in have.values() for v in op.values.values()}
        self._drop_capitals(prefix, cands, taken)
        for name in sorted(cands, key=len):
            family = [n for n in cands if n.startswith(name + "_")]
            if not family:
                continue
            rest = {v for n, mac in cands.items() if n not in family for v in mac.values.values()}
            if any(v in rest | taken for n in family for v in cands[n].values.values()):
                for n in family:
                    del cands[n]
        by_value: dict[tuple[str, int], list[str]] = {}
        for n, o in [*((n, o) for n, o in cands.items() if o.archs), *have.items()]:
            for item in o.values.items():
                by_value.setdefault(item, []).append(n)
        out = []
        for name, mac in cands.items():
            if not mac.archs:
                v = self.vis(mac.loc.file)
                if v and v.xen_only(mac.loc.line):
                    hidden.append((name, "only the hypervisor sees it (#ifdef __XEN__): "
                                   "not guest ABI"))
                continue
            clash = list(dict.fromkeys(n for item in mac.values.items()
                                       for n in by_value.get(item, ()) if n != name))
            if clash:
                self.diags.append(Diagnostic(
                    "XM110", "warning", mac.loc,
                    f"{name} looks like a {h.name} sub-op but shares its value with "
                    f"{', '.join(clash)}: not placed", symbol=name))
                continue
            out.append(name)
        return out

    @staticmethod
    def _drop_capitals(prefix: str, cands: dict[str, Macro], taken: set[int]) -> None:
        """An all-capitals command must have a number of its own: one that repeats a
        command's is a value of a sub-op's field (XEN_SYSCTL_LIVEPATCH_GET)."""
        caps = [n for n in cands if not n[len(prefix):][:1].islower()]
        used = taken | {v for n, mac in cands.items() if n not in caps
                        for v in mac.values.values()}
        for n in caps:
            if any(v in used for v in cands[n].values.values()):
                del cands[n]

    def _inside(self, mac: Macro) -> str | None:
        """The member a define inside a struct follows ("" before the first), or None."""
        r = self._container(mac)
        if r is None:
            return None
        first, last = next((a, b) for x, a, b in self.spans(mac.loc.file) if x is r)
        before = [f for f in r.fields if first <= f.loc.line < mac.loc.line]
        return before[-1].name if before else ""

    # -------------------------------------------------------------- arguments

    def _argument(self, h: Hypercall, op: SubOp, prev: SubOp | None) -> SubOp:
        mac = op.macro
        if mac is None:
            return op
        if op.carried_in:
            rec = op.carried_in.rsplit(" of ", 1)[1]
            return replace(op, takes=rec, takes_known=True,
                           takes_why=f"the command is the {op.carried_in}")
        container = self._container(mac)
        if container is not None:
            op = replace(op, carried_in=f"member cmd of {container.key}")
        stem = op.name[len(PREFIXES.get(h.name, "")):]
        for r in [container] if container else self._proto_records(h):
            hit = self._member_named(r, stem)
            if hit:
                return replace(op, takes=hit[1], takes_known=bool(self._known(hit[1])),
                               takes_why=f"member {hit[0]} of {r.key}, named after the command")
        said = self._said(mac)
        if said is not None:
            return replace(op, takes=said[0], takes_known=bool(said[0]),
                           takes_none=said[0] is None, takes_why=said[1])
        g = next((g for g in self.model.groups if g.name == op.group), None)
        target = g.target_for(op.name) if g else None
        if target and self._known(target):
            return replace(op, takes=self._known(target), takes_known=True,
                           takes_why=f"the '{g.pattern} => {g.target}' mapping ({_at(g.loc)})")
        if container is None and prev is not None and self._shares(prev, op):
            return replace(op, takes=prev.takes, takes_known=prev.takes_known,
                           takes_none=prev.takes_none, carried_in=prev.carried_in,
                           takes_why=f"as {prev.name}, defined with it")
        follows = self._follows(h, mac) if container is None else None
        if follows is not None:
            return replace(op, takes=follows.key, takes_known=True,
                           takes_why=f"the struct that follows the define ({_at(follows.loc)})")
        return op

    def _shares(self, prev: SubOp, op: SubOp) -> bool:
        """An undocumented command on the line after another one shares its comment."""
        a, b = prev.macro, op.macro
        if a is None or b is None or b.doc.before is not None or a.loc.file != b.loc.file:
            return False
        return b.loc.line == a.loc.line + 1 and (prev.takes is not None or prev.takes_none)

    def _known(self, name: str) -> str | None:
        recs = self.model.records_named(name)
        if recs:
            return recs[0].key
        if any(t.name == name for t in self.model.typedefs):
            return name
        return None

    def _said(self, mac: Macro) -> tuple[str | None, str] | None:
        """What the comment's ``arg == ...`` says: NULL, or a type it names."""
        hit = _ARG_SAYS.search(mac.doc.text) if mac.doc else None
        if hit is None:
            return None
        text = hit.group(1).strip()
        where = f"'{hit.group(0).strip()}' in the comment of {mac.name} ({_at(mac.loc)})"
        if _NULL.match(text):
            return None, where
        for ident in _IDENT.findall(text):
            key = self._known(ident)
            if key is not None:
                return key, where
        return None

    def _container(self, mac: Macro) -> Record | None:
        """The innermost struct whose braces hold the define."""
        best = None
        for r, first, last in self.spans(mac.loc.file):
            if first < mac.loc.line < last and (best is None or first > best.loc.line):
                best = r
        return best

    def _member_named(self, r: Record, stem: str) -> tuple[str, str] | None:
        lay = next(iter(r.layouts.values()), None)
        for f in r.fields:
            if f.name == stem and f.path.count(".") == 1 and lay is not None:
                m = lay.member(f.path)
                if m is not None:
                    return f.path, self._known(m.type) or m.type
        return None

    def _follows(self, h: Hypercall, mac: Macro) -> Record | None:
        """The struct right after the define and the commands defined with it: the next
        definition of the file that is not one of those commands must be a struct."""
        own = mac.name.upper() + "_"
        parts = self._parts(mac.loc.file)
        for line, kind in self.items.get(mac.loc.file, ()):
            if line <= mac.loc.line or kind == "other" or line in parts:
                continue          # an enum, typedef or struct that its struct is made of
            if kind == "macro" and (self._is_command_at(mac.loc.file, line, undocumented=True)
                                    or self._is_own_value(own, mac.loc.file, line)):
                continue
            if kind != "record":
                return None
            r = next(r for r in self.by_file[mac.loc.file]
                     if r.loc.line == line and r.expanded_from is None)
            if not self._handled_later(r, line):
                return r
        return None

    def _handled_later(self, r: Record, line: int) -> bool:
        """Whether a struct after ``r``, before the next command, points to it through a
        guest handle (``XEN_GUEST_HANDLE(xen_vmemrange_t)`` in ``struct
        xen_vnuma_topology_info``): the command's argument is that struct, ``r`` a part."""
        names = {r.key, *r.typedefs}
        file = r.loc.file
        for at, kind in self.items.get(file, ()):
            if at <= line:
                continue
            if kind == "macro" and self._is_command_at(file, at):
                return False
            if kind == "record" and any(
                    f.guest_handle in names for x in self.by_file[file]
                    if x.loc.line == at and x.expanded_from is None for f in x.fields):
                return True
        return False

    def _is_command_at(self, file: str, line: int, undocumented: bool = False) -> bool:
        return any(m.name in self.claimed and not (undocumented and m.doc.before)
                   for m in self._macros_at.get((file, line), ()))

    def _is_part(self, mac: Macro) -> bool:
        """Whether the struct holding the define is a member of another struct (the
        ``cmd`` of a sub-op's own struct, not of the struct the hypercall passes)."""
        r = self._container(mac)
        if not hasattr(self, "_member_types"):
            self._member_types = {m.type for x in self.model.records
                                  for lay in list(x.layouts.values())[:1] for m in lay.members}
        return r is not None and r.key in self._member_types

    def _parts(self, file: str) -> set[int]:
        """Lines of the structs of ``file`` that a later struct of it has as a member."""
        if file not in self._part_lines:
            recs = [r for r in self.by_file.get(file, ()) if r.expanded_from is None]
            used = {m.type for r in recs for lay in list(r.layouts.values())[:1]
                    for m in lay.members}
            self._part_lines[file] = {r.loc.line for r in recs if r.key in used}
        return self._part_lines[file]

    def _is_own_value(self, own: str, file: str, line: int) -> bool:
        """A value of the command's own struct: ``XENMEM_paging_op_nominate``."""
        return any(m.name.upper().startswith(own) for m in self._macros_at.get((file, line), ()))

    @property
    def _macros_at(self) -> dict[tuple[str, int], list[Macro]]:
        if not hasattr(self, "_mat"):
            self._mat: dict[tuple[str, int], list[Macro]] = {}
            for m in self.model.macros:
                self._mat.setdefault((m.loc.file, m.loc.line), []).append(m)
        return self._mat


def _closing(lines: list[str], start: int) -> int | None:
    """The line of the brace closing the brace opened on line ``start`` or the next."""
    if "{" not in "".join(lines[start - 1:start + 1]):
        return None
    depth, opened = 0, False
    for i in range(start - 1, len(lines)):
        for ch in lines[i]:
            if ch == "{":
                depth, opened = depth + 1, True
            elif ch == "}" and opened:
                depth -= 1
                if depth == 0:
                    return i + 1
    return None


def _commands(model: Model, h: Hypercall, g: OpGroup) -> bool:
    """Whether the prototype passes ``enum g`` as the command (the first argument), or
    the group maps its members to argument structs; a flags enum is neither."""
    if h.prototype is None:
        return False
    first = h.prototype.params[0].type if h.prototype.params else ""
    return bool(re.search(rf"\benum\s+{re.escape(g.name)}\b", first)) or \
        (g.target or "").startswith("struct")


def _says_command(mac: Macro) -> bool:
    return bool(mac.doc and _SAYS_COMMAND.search(mac.doc.text))


def _returns(text: str) -> tuple[str, ...]:
    """The sentences of a comment that say what the command returns."""
    if "eturn" not in text:
        return ()
    sentences = re.split(r"(?<=[.;])\s+|\n\s*\n", text)
    return tuple(" ".join(s.split()) for s in sentences if _RETURNS.search(s))[:3]


def _at(loc: Loc) -> str:
    return f"{loc.file}:{loc.line}"


# ------------------------------------------------------------------ annotations


def complete(cat: Catalog, aset: AnnotationSet | None, model: Model) -> Catalog:
    """Add what the annotation files say: the argument of sub-ops the headers leave
    open, summaries, and sub-ops the headers give no rule for."""
    if aset is None:
        return cat
    per = dict(cat.by_hypercall)
    for b in aset.subops:
        if b.source.derived:
            continue
        for hc in b.hypercalls:
            h = per.get(hc)
            if h is None:
                continue
            ops = list(h.ops)
            i = next((i for i, o in enumerate(ops) if o.name == b.subop), None)
            src = f"annotation ({b.source.where()})"
            if i is None:
                macs = [m for m in model.macros_named(b.subop) if m.archs]
                if not macs:
                    continue
                ops.append(SubOp(b.subop, hc, macs[0], dict(macs[0].values), src,
                                 "annotation", b.group))
                i = len(ops) - 1
            if b.takes or b.source.loc is not None:     # hand-written: it decides
                ops[i] = replace(ops[i], takes=b.takes, takes_known=bool(b.takes),
                                 takes_none=b.takes is None, takes_why=src)
            per[hc] = replace(h, ops=tuple(ops))
    for info in aset.infos:
        sc = info.scope
        h = per.get(sc.hypercall)
        if h is None or sc.subop is None or sc.condition is not None or not info.summary:
            continue
        per[sc.hypercall] = replace(h, ops=tuple(
            replace(o, summary=info.summary) if o.name == sc.subop else o for o in h.ops))
    return _finish(per, cat.diagnostics)
