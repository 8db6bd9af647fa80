/*
 * layout_traps.h: the layouts that differ between arches or that a naive
 * reader gets wrong.
 */
#ifndef __XEN_PUBLIC_LAYOUT_TRAPS_H__
#define __XEN_PUBLIC_LAYOUT_TRAPS_H__

#include "xen.h"

/* A uint64_t after a 32-bit field: 4-aligned on x86_32 only. */
struct trap_u64 {
    uint32_t flags;   /* IN */
    uint64_t id;      /* OUT: the id Xen chose */
};
typedef struct trap_u64 trap_u64_t;

/* Anonymous members, a named nested struct and a nested tagged struct. */
struct trap_nested {
    uint8_t kind;
    union {
        uint64_t value;
        struct {
            uint16_t lo;
            uint16_t hi;
        };
    };
    struct {
        uint8_t a;
        uint32_t b;
    } pair;
    struct trap_inner {
        uint16_t z;
    } inner;
    unsigned long word;
};

/* Bitfields and a flexible array member. */
struct trap_bits {
    uint8_t tag;
    unsigned int low:3, mid:7;
    unsigned int high:22;
    uint16_t count;
    uint32_t data[];
};

/* A guest handle is a pointer wrapped in a struct: 4 or 8 bytes. */
struct trap_handle {
    XEN_GUEST_HANDLE(domid_t) domains;
    uint32_t nr;
};

/* A typedef'd anonymous struct is known by its typedef name. */
typedef struct {
    uint16_t port;
    uint64_t addr;
} trap_anon_t;

union trap_union {
    uint8_t bytes[12];
    uint64_t words[1];
};

#endif /* __XEN_PUBLIC_LAYOUT_TRAPS_H__ */
