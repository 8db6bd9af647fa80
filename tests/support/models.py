"""Hand-made models for the fast tests, built in Python: no headers, no libclang.

``synthetic_model`` / ``synthetic_facts`` (the site tests): three headers, the sched_op
hypercall with SCHEDOP_shutdown, a struct laid out differently on x86_32, and a doc
comment that tries to inject HTML and reST markup.

``make_model`` (the annotation tests) mimics what extraction gives for xen.h and
sched.h: the hypercall_num op group, sched_op with its prototype and op group, struct
sched_shutdown and the SHUTDOWN_* reasons, and an x86-only hypercall with a header note.
"""

from __future__ import annotations

from headerparse.model import (
    EMPTY_DOC,
    SCHEMA_VERSION,
    ArgLine,
    Comment,
    Diagnostic,
    Doc,
    Field,
    Header,
    Hole,
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
from headerparse.site.facts import ArgRow, ArgTable, SiteFacts
from headerparse.variants import Variant, variants_for_archs

ARCHS = ("x86_32", "x86_64", "arm32", "arm64")
HOSTILE = ('Halt this domain. <script>alert("x")</script> *not emphasis* `not code` '
           "|sub| [1]_ _target foo_ :role:`x` see SHUTDOWN_suspend and sched_shutdown_t.")

TEXTS = {
    "xen.h": "/* xen.h: the hypercall numbers. */\n#define __HYPERVISOR_iret 23 /* x86 only */\n"
             "#define __HYPERVISOR_sched_op 29\ntypedef unsigned short domid_t;\n",
    "sched.h": (
        "/*\n * ` long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)\n */\n"
        "/* ` enum sched_op { // SCHEDOP_* => struct sched_* */\n"
        "#define SCHEDOP_yield 0\n"
        "/*\n * " + HOSTILE + "\n * @arg == pointer to sched_shutdown_t structure.\n */\n"
        "#define SCHEDOP_shutdown 2\n/* ` } */\n"
        "struct sched_shutdown {\n    unsigned int reason; /* SHUTDOWN_* */\n};\n"
        "typedef struct sched_shutdown sched_shutdown_t;\n"
        "#define SHUTDOWN_suspend 2 /* Clean up, save suspend info, kill. */\n"),
    "io/blkif.h": (
        "/* Block device ring. */\n#define BLKIF_MAX_SEGMENTS 11\n"
        "#define XEN_LEGACY_MAX_VCPUS 32\n"
        "struct blkif_request {\n    uint8_t operation;\n    uint64_t id; /* echoed */\n};\n"
        "typedef struct blkif_request blkif_request_t;\n"),
}


def _c(text: str, file: str, line: int) -> Comment:
    return Comment(f"/* {text} */", text, Loc(file, line), line)


def _macro(name: str, file: str, line: int, value: int | dict[str, int], doc: Doc = EMPTY_DOC,
           group: str | None = None) -> Macro:
    values = value if isinstance(value, dict) else {a: value for a in ARCHS}
    body = str(value if isinstance(value, int) else next(iter(values.values())))
    return Macro(name, Loc(file, line, 9), doc, None, body, ARCHS, values, group=group)


def _layout(arch: str, id_off: int, size: int, align: int) -> Layout:
    holes = (Hole(1, id_off - 1, "operation"),) if id_off > 1 else ()
    return Layout(arch, size, align, (Member("operation", "uint8_t", 0, 1),
                                      Member("id", "uint64_t", id_off, 8)), holes)


def synthetic_model() -> Model:
    shutdown_doc = Doc(Comment("/*\n * ...\n */", HOSTILE + "\n@arg == pointer to "
                               "sched_shutdown_t structure.", Loc("sched.h", 6), 9))
    macros = (
        _macro("__HYPERVISOR_iret", "xen.h", 2, 23, Doc(trailing=_c("x86 only", "xen.h", 2))),
        _macro("__HYPERVISOR_sched_op", "xen.h", 3, 29),
        _macro("SCHEDOP_yield", "sched.h", 5, 0, group="sched_op"),
        _macro("SCHEDOP_shutdown", "sched.h", 10, 2, shutdown_doc, group="sched_op"),
        _macro("SHUTDOWN_suspend", "sched.h", 16, 2,
               Doc(trailing=_c("Clean up, save suspend info, kill.", "sched.h", 16))),
        _macro("BLKIF_MAX_SEGMENTS", "io/blkif.h", 2, 11),
        _macro("XEN_LEGACY_MAX_VCPUS", "io/blkif.h", 3,
               {"x86_32": 32, "x86_64": 32, "arm32": 1, "arm64": 1}),
    )
    proto = Prototype("HYPERVISOR_sched_op", "long",
                      (Param("enum sched_op", "cmd"), Param("void *", "arg")), True,
                      "long HYPERVISOR_sched_op(enum sched_op cmd, void *arg, ...)",
                      Loc("sched.h", 2, 4))
    group = OpGroup("sched_op", Loc("sched.h", 4, 4), 11, ("SCHEDOP_yield", "SCHEDOP_shutdown"),
                    "SCHEDOP_*", "struct sched_*")
    shutdown = Record(
        "struct sched_shutdown", "struct", "sched_shutdown", ("sched_shutdown_t",),
        Loc("sched.h", 12, 8), Doc(before=_c("Argument of SCHEDOP_shutdown.", "sched.h", 11)),
        (Field("reason", "reason", Loc("sched.h", 13, 18),
               Doc(trailing=_c("SHUTDOWN_*", "sched.h", 13))),),
        {a: Layout(a, 4, 4, (Member("reason", "unsigned int", 0, 4),)) for a in ARCHS})
    blkif = Record(
        "struct blkif_request", "struct", "blkif_request", ("blkif_request_t",),
        Loc("io/blkif.h", 4, 8), Doc(before=_c("A ring request.", "io/blkif.h", 1)),
        (Field("operation", "operation", Loc("io/blkif.h", 5, 13)),
         Field("id", "id", Loc("io/blkif.h", 6, 14), Doc(trailing=_c("echoed", "io/blkif.h", 6)))),
        {"x86_32": _layout("x86_32", 4, 12, 4), "x86_64": _layout("x86_64", 8, 16, 8),
         "arm32": _layout("arm32", 8, 16, 8), "arm64": _layout("arm64", 8, 16, 8)})
    status = {a: "parsed" for a in ARCHS}
    headers = tuple(Header(p, (), (), status, doc=Doc(before=_c(f"The {p} header.", p, 1)))
                    for p in ("xen.h", "sched.h", "io/blkif.h"))
    typedefs = (
        Typedef("domid_t", Loc("xen.h", 4), EMPTY_DOC, {a: "unsigned short" for a in ARCHS},
                None, ARCHS),
        Typedef("sched_shutdown_t", Loc("sched.h", 15), EMPTY_DOC,
                {a: "struct sched_shutdown" for a in ARCHS}, "struct sched_shutdown", ARCHS),
        Typedef("blkif_request_t", Loc("io/blkif.h", 8), EMPTY_DOC,
                {a: "struct blkif_request" for a in ARCHS}, "struct blkif_request", ARCHS),
    )
    hypercalls = (
        Hypercall("iret", 23, "__HYPERVISOR_iret", Loc("xen.h", 2), "x86 only", None, (), ARCHS),
        Hypercall("sched_op", 29, "__HYPERVISOR_sched_op", Loc("xen.h", 3), "", proto,
                  ("sched_op",), ARCHS),
    )
    diagnostics = (
        Diagnostic("XC900", "warning", Loc("io/blkif.h", 6), "id is <b>misaligned</b> on x86_32",
                   archs=("x86_32",), symbol="struct blkif_request"),
        Diagnostic("XC901", "note", Loc("sched.h", 10), "SCHEDOP_shutdown says more than it does",
                   symbol="SCHEDOP_shutdown"),
    )
    return Model(SCHEMA_VERSION, "synthetic tree", "0" * 64, ARCHS, {}, headers,
                 (shutdown, blkif), (), typedefs, macros, (group,), (proto,), hypercalls,
                 diagnostics)


def synthetic_facts(model: Model) -> SiteFacts:
    """SiteFacts as the annotation layer would give them: the SHUTDOWN_suspend third argument."""
    variants: tuple[Variant, ...] = variants_for_archs(model.archs)
    regs = {v.name: v.arg_registers[2] for v in variants if len(v.arg_registers) > 2}
    rows = []
    for v, reg in regs.items():
        if v.startswith("x86-pv"):
            rows.append(ArgRow(v, 3, reg, "xen_pfn_t", "MFN of the start_info page",
                               "must be the MFN of this guest's start_info page", "toolstack"))
        else:
            rows.append(ArgRow(v, 3, reg, "", "unused", "any value", "nobody"))
    suspend = ArgTable("When sched_shutdown.reason == SHUTDOWN_suspend", tuple(rows),
                       condition="sched_shutdown.reason == SHUTDOWN_suspend",
                       returns={"1 if cancelled, 0 when resuming": ", ".join(regs)},
                       provenance=("commit bfc2e6e942",), source="hand-written: sched.yaml:41")
    avail = {"sched_op": {v.name: True for v in variants},
             "iret": {v.name: v.name.startswith("x86-pv") for v in variants}}
    return SiteFacts(variants, {}, {"SCHEDOP_shutdown": (suspend,)}, avail,
                 {"sched_op": "test", "iret": "test"}, model.diagnostics, True,
                 {"sched_op": {v.name: 3 if v.name.startswith("x86-pv") else 2
                               for v in variants}})


# ---------------------------------------------------------------- annotation tests


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
