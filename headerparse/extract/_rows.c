/* What the walk asks libclang: a record's fields or a unit's top-level cursors at a
 * time, and a record's or a type's values in one call.
 *
 * Built at install time when a C compiler is there (setup.py: optional); loaded with
 * ctypes by rows.py, which hands over the addresses of libclang's functions, so this
 * file needs neither libclang's headers nor Python's.  Through ctypes the walk makes
 * seven calls a field, two or three a macro definition and seven to ten a record or a
 * type, and each costs more than libclang's answer.
 *
 * It only moves libclang's values into the caller's buffer: of a name longer than
 * NAME_MAX bytes (an anonymous member's "struct (unnamed at ...)"), or a spelling
 * longer than SPELL_MAX, the first bytes are written and the length is reported (the
 * caller then asks the slow way where it needs the whole); rows past the buffer's
 * capacity are counted, not written.
 */
#include <stdint.h>
#include <string.h>

/* libclang's C interface types, as index.h declares them. */
typedef struct { int kind; int xdata; const void *data[3]; } CXCursor;
typedef struct { int kind; void *data[2]; } CXType;
typedef struct { const void *ptr_data[2]; unsigned int_data; } CXSourceLocation;
typedef struct { const void *data; unsigned private_flags; } CXString;
typedef struct { const void *ptr_data[2]; unsigned begin_int_data, end_int_data; } CXSourceRange;
typedef unsigned (*CXFieldVisitor)(CXCursor, void *);
typedef unsigned (*CXCursorVisitor)(CXCursor, CXCursor, void *);

enum { VISIT_CONTINUE = 1, MACRO_DEFINITION = 501, MACRO_EXPANSION = 502,
       TYPE_CONSTANT_ARRAY = 112, TYPE_INCOMPLETE_ARRAY = 114 };
#define NAME_MAX 64
#define SPELL_MAX 256

#pragma pack(push, 1)
/* A field; rows.py reads it as "<qiiQQQIII64s". */
typedef struct {
    int64_t offset_bits;    /* clang_Cursor_getOffsetOfField */
    int32_t bit_width;      /* clang_getFieldDeclBitWidth */
    int32_t type_kind;      /* clang_getCursorType */
    uint64_t type_data[2];
    uint64_t file;          /* clang_getInstantiationLocation of the cursor's location */
    uint32_t line, col;
    uint32_t name_len;      /* clang_getCursorSpelling, in bytes */
    char name[NAME_MAX];
} Field;

/* A child cursor (but macro expansions); rows.py reads it as "<i32sQIII64s".  Location
 * and name are a macro definition's only. */
typedef struct {
    int32_t kind;
    CXCursor cursor;
    uint64_t file;
    uint32_t line, offset;
    uint32_t name_len;
    char name[NAME_MAX];
} Child;

/* A type, as the walk's _type asks it; rows.py reads it as "<iiq32s32sII256s256s". */
typedef struct {
    int32_t canon_kind;     /* clang_getCanonicalType */
    int32_t elem_kind;      /* an array's innermost element type's kind; 0 for no array */
    int64_t size;           /* clang_Type_getSizeOf */
    CXCursor decl;          /* clang_getTypeDeclaration of the canonical type */
    CXCursor elem_decl;     /* ... of the innermost element type */
    uint32_t canon_len, type_len;
    char canon[SPELL_MAX], type[SPELL_MAX];     /* clang_getTypeSpelling */
} TypeInfo;

/* A record's cursor, as the walk's _record asks it; rows.py reads it as
 * "<QIIqqQIII256s". */
typedef struct {
    uint64_t file;
    uint32_t line, col;
    int64_t size, align;    /* of clang_getCursorType */
    uint64_t start_file;    /* where clang_getCursorExtent starts */
    uint32_t start_line, start_col;
    uint32_t spell_len;
    char spell[SPELL_MAX];  /* the type's spelling */
} RecordInfo;
#pragma pack(pop)

static unsigned (*visit_fields)(CXType, CXFieldVisitor, void *);
static unsigned (*visit_children)(CXCursor, CXCursorVisitor, void *);
static CXString (*spelling)(CXCursor);
static long long (*offset_of_field)(CXCursor);
static CXType (*cursor_type)(CXCursor);
static int (*bit_width)(CXCursor);
static CXSourceLocation (*location)(CXCursor);
static void (*expansion)(CXSourceLocation, void **, unsigned *, unsigned *, unsigned *);
static const char *(*cstring)(CXString);
static void (*dispose)(CXString);
static CXType (*canonical)(CXType);
static CXCursor (*declaration)(CXType);
static CXType (*element)(CXType);
static long long (*size_of)(CXType);
static long long (*align_of)(CXType);
static CXString (*type_spelling)(CXType);
static CXSourceRange (*extent)(CXCursor);
static CXSourceLocation (*range_start)(CXSourceRange);

/* The eighteen functions, in this order (rows.py lists them). */
void hp_init(void *const *f)
{
    visit_fields = f[0];
    visit_children = f[1];
    spelling = f[2];
    offset_of_field = f[3];
    cursor_type = f[4];
    bit_width = f[5];
    location = f[6];
    expansion = f[7];
    cstring = f[8];
    dispose = f[9];
    canonical = f[10];
    declaration = f[11];
    element = f[12];
    size_of = f[13];
    align_of = f[14];
    type_spelling = f[15];
    extent = f[16];
    range_start = f[17];
}

/* The cursor's spelling into name (NAME_MAX bytes at most); its length in bytes. */
static uint32_t name_of(CXCursor c, char *name)
{
    CXString s = spelling(c);
    const char *text = cstring(s);
    size_t len = text ? strlen(text) : 0;
    memcpy(name, text ? text : "", len < NAME_MAX ? len : NAME_MAX);
    dispose(s);
    return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* Where the cursor is, as clang_getInstantiationLocation tells it.  (Returned, not
 * written through pointers: a row's members are not aligned.) */
typedef struct { uint64_t file; uint32_t line, col, offset; } Place;

static Place where(CXSourceLocation loc)
{
    void *file = 0;
    unsigned line = 0, col = 0, offset = 0;
    expansion(loc, &file, &line, &col, &offset);
    return (Place){ (uint64_t)(uintptr_t)file, line, col, offset };
}

static Place place(CXCursor c)
{
    return where(location(c));
}

/* A string's text into out (SPELL_MAX bytes at most), disposed of; its length in bytes. */
static uint32_t text_of(CXString s, char *out)
{
    const char *text = cstring(s);
    size_t len = text ? strlen(text) : 0;
    memcpy(out, text ? text : "", len < SPELL_MAX ? len : SPELL_MAX);
    dispose(s);
    return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

struct out { void *rows; unsigned cap, n; };

static unsigned field(CXCursor c, void *data)
{
    struct out *out = data;
    if (out->n++ >= out->cap)
        return VISIT_CONTINUE;      /* counted only */
    Field *r = (Field *)out->rows + (out->n - 1);
    r->name_len = name_of(c, r->name);
    r->offset_bits = offset_of_field(c);
    CXType t = cursor_type(c);
    r->type_kind = t.kind;
    r->type_data[0] = (uint64_t)(uintptr_t)t.data[0];
    r->type_data[1] = (uint64_t)(uintptr_t)t.data[1];
    r->bit_width = bit_width(c);
    Place at = place(c);
    r->file = at.file;
    r->line = at.line;
    r->col = at.col;
    return VISIT_CONTINUE;
}

static unsigned child(CXCursor c, CXCursor parent, void *data)
{
    (void)parent;
    struct out *out = data;
    if (c.kind == MACRO_EXPANSION)      /* half of a unit's cursors; the walk wants none */
        return VISIT_CONTINUE;
    if (out->n++ >= out->cap)
        return VISIT_CONTINUE;
    Child *r = (Child *)out->rows + (out->n - 1);
    r->kind = c.kind;
    r->cursor = c;
    r->file = 0;
    r->line = r->offset = r->name_len = 0;
    if (c.kind == MACRO_DEFINITION) {
        Place at = place(c);
        r->file = at.file;
        r->line = at.line;
        r->offset = at.offset;
        r->name_len = name_of(c, r->name);
    }
    return VISIT_CONTINUE;
}

/* The fields of the record type *t, at most cap of them into out; how many there are. */
unsigned hp_fields(const CXType *t, Field *out, unsigned cap)
{
    struct out o = { out, cap, 0 };
    visit_fields(*t, field, &o);
    return o.n;
}

/* The children of *c but macro expansions, at most cap into out; how many there are. */
unsigned hp_children(const CXCursor *c, Child *out, unsigned cap)
{
    struct out o = { out, cap, 0 };
    visit_children(*c, child, &o);
    return o.n;
}

/* The type *t as _type asks it. */
void hp_type(const CXType *t, TypeInfo *out)
{
    CXType canon = canonical(*t);
    out->canon_kind = canon.kind;
    out->decl = declaration(canon);
    out->size = size_of(*t);
    out->canon_len = text_of(type_spelling(canon), out->canon);
    out->type_len = text_of(type_spelling(*t), out->type);
    out->elem_kind = 0;
    memset(&out->elem_decl, 0, sizeof out->elem_decl);
    if (canon.kind == TYPE_CONSTANT_ARRAY || canon.kind == TYPE_INCOMPLETE_ARRAY) {
        CXType elem = element(canon);
        while (elem.kind == TYPE_CONSTANT_ARRAY || elem.kind == TYPE_INCOMPLETE_ARRAY)
            elem = element(elem);
        out->elem_kind = elem.kind;
        out->elem_decl = declaration(elem);
    }
}

/* The record cursor *c as _record asks it. */
void hp_record(const CXCursor *c, RecordInfo *out)
{
    Place at = place(*c);
    out->file = at.file;
    out->line = at.line;
    out->col = at.col;
    CXType t = cursor_type(*c);
    out->size = size_of(t);
    out->align = align_of(t);
    out->spell_len = text_of(type_spelling(t), out->spell);
    Place start = where(range_start(extent(*c)));
    out->start_file = start.file;
    out->start_line = start.line;
    out->start_col = start.col;
}
