/* What the walk asks libclang, a record's fields or a unit's top-level cursors at a time.
 *
 * Built at install time when a C compiler is there (setup.py: optional); loaded with
 * ctypes by rows.py, which hands over the addresses of libclang's functions, so this
 * file needs neither libclang's headers nor Python's.  Through ctypes the walk makes
 * seven calls a field and two or three a macro definition, and each costs more than
 * libclang's answer.
 *
 * It only moves libclang's values into the caller's buffer: of a name longer than
 * NAME_MAX bytes (an anonymous member's "struct (unnamed at ...)") the first NAME_MAX
 * are written and its length is reported; rows past the buffer's capacity are
 * counted, not written.
 */
#include <stdint.h>
#include <string.h>

/* libclang's C interface types, as index.h declares them. */
typedef struct { int kind; int xdata; const void *data[3]; } CXCursor;
typedef struct { int kind; void *data[2]; } CXType;
typedef struct { const void *ptr_data[2]; unsigned int_data; } CXSourceLocation;
typedef struct { const void *data; unsigned private_flags; } CXString;
typedef unsigned (*CXFieldVisitor)(CXCursor, void *);
typedef unsigned (*CXCursorVisitor)(CXCursor, CXCursor, void *);

enum { VISIT_CONTINUE = 1, MACRO_DEFINITION = 501, MACRO_EXPANSION = 502 };
#define NAME_MAX 64

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

/* The ten functions, in this order. */
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

static Place place(CXCursor c)
{
    void *file = 0;
    unsigned line = 0, col = 0, offset = 0;
    expansion(location(c), &file, &line, &col, &offset);
    return (Place){ (uint64_t)(uintptr_t)file, line, col, offset };
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
