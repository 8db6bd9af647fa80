/* A record's fields in one call: what the walk asks libclang of each field.
 *
 * Built at install time when a C compiler is there (setup.py: optional); loaded with
 * ctypes by fieldrows.py, which hands over the addresses of libclang's functions, so
 * this file needs neither libclang's headers nor Python's.  The walk otherwise makes
 * seven ctypes round trips a field, which cost more than libclang's answers.
 *
 * It only moves libclang's values into the caller's buffer: of a name longer than
 * NAME_MAX bytes (an anonymous member's "struct (unnamed at ...)") the first NAME_MAX
 * are written and its length is reported; fields past the buffer's capacity are
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

#define NAME_MAX 64

/* One field; fieldrows.py reads it with the struct format "<qiiQQQIII64s". */
#pragma pack(push, 1)
typedef struct {
    int64_t offset_bits;    /* clang_Cursor_getOffsetOfField */
    int32_t bit_width;      /* clang_getFieldDeclBitWidth */
    int32_t type_kind;      /* clang_getCursorType */
    uint64_t type_data[2];
    uint64_t file;          /* clang_getInstantiationLocation of the cursor's location */
    uint32_t line, col;
    uint32_t name_len;      /* clang_getCursorSpelling, in bytes */
    char name[NAME_MAX];
} Row;
#pragma pack(pop)

static unsigned (*visit_fields)(CXType, CXFieldVisitor, void *);
static CXString (*spelling)(CXCursor);
static long long (*offset_of_field)(CXCursor);
static CXType (*cursor_type)(CXCursor);
static int (*bit_width)(CXCursor);
static CXSourceLocation (*location)(CXCursor);
static void (*expansion)(CXSourceLocation, void **, unsigned *, unsigned *, unsigned *);
static const char *(*cstring)(CXString);
static void (*dispose)(CXString);

/* The nine functions, in this order. */
void hp_init(void *const *f)
{
    visit_fields = f[0];
    spelling = f[1];
    offset_of_field = f[2];
    cursor_type = f[3];
    bit_width = f[4];
    location = f[5];
    expansion = f[6];
    cstring = f[7];
    dispose = f[8];
}

struct rows { Row *out; unsigned cap, n; };

static unsigned visit(CXCursor field, void *data)
{
    struct rows *rows = data;
    if (rows->n++ >= rows->cap)
        return 1;       /* CXVisit_Continue: counted only */
    Row *r = &rows->out[rows->n - 1];
    CXString s = spelling(field);
    const char *name = cstring(s);
    size_t len = name ? strlen(name) : 0;
    r->name_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    memcpy(r->name, name ? name : "", len < NAME_MAX ? len : NAME_MAX);
    dispose(s);
    r->offset_bits = offset_of_field(field);
    CXType t = cursor_type(field);
    r->type_kind = t.kind;
    r->type_data[0] = (uint64_t)(uintptr_t)t.data[0];
    r->type_data[1] = (uint64_t)(uintptr_t)t.data[1];
    r->bit_width = bit_width(field);
    void *file = 0;
    unsigned line = 0, col = 0, offset = 0;
    expansion(location(field), &file, &line, &col, &offset);
    r->file = (uint64_t)(uintptr_t)file;
    r->line = line;
    r->col = col;
    return 1;
}

/* The fields of the record type *t, at most cap of them into out; the number of fields. */
unsigned hp_fields(const CXType *t, Row *out, unsigned cap)
{
    struct rows rows = { out, cap, 0 };
    visit_fields(*t, visit, &rows);
    return rows.n;
}
