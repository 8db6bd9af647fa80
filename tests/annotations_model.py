"""A small synthetic Model for the annotation tests: built in Python, no headers needed.

It mimics what extraction gives for xen.h and sched.h: the hypercall_num op
group, sched_op with its prototype and op group, struct sched_shutdown and the
SHUTDOWN_* reasons, and an x86-only hypercall with a header note.
"""

from __future__ import annotations

from headerparse.model import (
    EMPTY_DOC,
    SCHEMA_VERSION,
    ArgLine,
    Comment,
    Doc,
    Field,
    Hypercall,
    Layout,
    Loc,
    Macro,
    Member,
    Model,
    OpGroup,
    Param,
    Prototype,
    Record,
    Typedef,
)

ARCHS = ("x86_32", "x86_64", "arm32", "arm64")


def macro(name: str, value: int | None, file: str, line: int, *, body: str | None = None,
          archs: tuple[str, ...] = ARCHS, group: str | None = None, note: str = "",
          args: tuple[ArgLine, ...] = ()) -> Macro:
    trailing = Comment(f"/* {note} */", note, Loc(file, line, 40), line) if note else None
    return Macro(name, Loc(file, line, 9), Doc(None, trailing), None,
                 body if body is not None else str(value), archs,
                 {a: value for a in archs} if value is not None else {}, {}, args, group)


def record(tag: str, members: list[tuple[str, str, int, int]], file: str, line: int,
           sizes: dict[str, int] | None = None, typedef: str | None = None) -> Record:
    size = max((o + s for _, _, o, s in members), default=0)
    layouts = {a: Layout(a, (sizes or {}).get(a, size), 4,
                         tuple(Member(p, t, o, s) for p, t, o, s in members)) for a in ARCHS}
    fields = tuple(Field(p, p.rsplit(".", 1)[-1], Loc(file, line + i + 1, 5))
                   for i, (p, _, _, _) in enumerate(members))
    return Record(f"struct {tag}", "struct", tag, (typedef,) if typedef else (), Loc(file, line, 1),
                  EMPTY_DOC, fields, layouts)


HYPERCALLS = [("set_segment_base", 25, "x86/64 only"), ("sched_op", 29, ""),
              ("console_io", 18, ""), ("arch_0", 48, "")]


def make_model(*, shutdown_suspend: int = 2, reason_type: str = "unsigned int",
               extra_macros: tuple[Macro, ...] = (), drop: tuple[str, ...] = ()) -> Model:
    sched_proto = Prototype("HYPERVISOR_sched_op", "long",
                            (Param("enum sched_op", "cmd"), Param("void *", "arg")), True,
                            "long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)",
                            Loc("sched.h", 25, 4))
    console_proto = Prototype("HYPERVISOR_console_io", "int",
                              (Param("unsigned int", "cmd"), Param("unsigned int", "count"),
                               Param("char []", "buffer")), False,
                              "int HYPERVISOR_console_io(...)", Loc("xen.h", 482, 4))
    hcs = []
    macros = []
    for i, (name, number, note) in enumerate(HYPERCALLS):
        if name in drop:
            continue
        m = macro(f"__HYPERVISOR_{name}", number, "xen.h", 80 + i, note=note,
                  group="hypercall_num")
        macros.append(m)
        proto = {"sched_op": sched_proto, "console_io": console_proto}.get(name)
        groups = ("sched_op",) if name == "sched_op" else ()
        hcs.append(Hypercall(name, number, m.name, m.loc, note, proto, groups, ARCHS))
    macros.append(macro("__HYPERVISOR_mca", None, "arch-x86/xen-mca.h", 40,
                        body="__HYPERVISOR_arch_0", archs=()))
    subops = [
        ("SCHEDOP_yield", 0, ArgLine("arg", "NULL.", 45)),
        ("SCHEDOP_shutdown", 2, ArgLine("arg", "pointer to sched_shutdown_t structure.", 58)),
        ("SCHEDOP_shutdown_code", 5,
         ArgLine("arg", "sched_shutdown_t, as for SCHEDOP_shutdown.", 91)),
        ("SCHEDOP_mystery", 9, None),
    ]
    for i, (name, value, arg) in enumerate(subops):
        if name not in drop:
            macros.append(macro(name, value, "sched.h", 46 + 10 * i, group="sched_op",
                                args=(arg,) if arg else ()))
    for i, (name, value) in enumerate([("SHUTDOWN_poweroff", 0), ("SHUTDOWN_suspend",
                                                                  shutdown_suspend)]):
        macros.append(macro(name, value, "sched.h", 158 + i, group="sched_shutdown_reason"))
    macros += list(extra_macros)
    groups = (
        OpGroup("hypercall_num", Loc("xen.h", 72, 4), 130,
                tuple(f"__HYPERVISOR_{n}" for n, _, _ in HYPERCALLS if n not in drop),
                "__HYPERVISOR_*", "HYPERVISOR_*()"),
        OpGroup("sched_op", Loc("sched.h", 42, 4), 120,
                tuple(n for n, _, _ in subops if n not in drop), "SCHEDOP_*", "struct sched_*"),
        OpGroup("sched_shutdown_reason", Loc("sched.h", 157, 4), 170,
                ("SHUTDOWN_poweroff", "SHUTDOWN_suspend")),
    )
    records = (
        record("sched_shutdown", [("reason", reason_type, 0, 4)], "sched.h", 118,
               typedef="sched_shutdown_t"),
        record("vcpu_time_info", [("version", "uint32_t", 0, 4), ("pad0", "uint32_t", 4, 4)],
               "xen.h", 700),
        record("shared_info", [("evtchn_pending", "unsigned long [64]", 0, 256)], "xen.h", 750,
               sizes={"x86_32": 128, "x86_64": 256, "arm32": 256, "arm64": 256}),
    )
    typedefs = (Typedef("xen_pfn_t", Loc("xen.h", 60, 1), EMPTY_DOC,
                        {a: "unsigned long" for a in ARCHS}, None, ARCHS),)
    return Model(SCHEMA_VERSION, "synthetic", "0" * 64, ARCHS, {}, (), records, (), typedefs,
                 tuple(macros), groups, (sched_proto, console_proto), tuple(hcs))
