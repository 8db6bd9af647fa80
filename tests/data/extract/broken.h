/*
 * broken.h: a syntax error in one struct must not lose the rest.
 */
#ifndef __XEN_PUBLIC_BROKEN_H__
#define __XEN_PUBLIC_BROKEN_H__

struct broken_before {
    uint32_t ok;
};

struct broken_bad {
    uint32_t missing_semicolon
    uint32_t next;
};

struct broken_after {
    uint64_t still_there;
};

#define BROKEN_VALUE 7

#endif
