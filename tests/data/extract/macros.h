/*
 * macros.h: object-like macros whose values the preprocessor and compiler
 * decide, per arch, and macros that have no integer value.
 */
#ifndef __XEN_PUBLIC_MACROS_H__
#define __XEN_PUBLIC_MACROS_H__

#include "xen.h"

/* A plain constant. */
#define MAC_PLAIN        29
#define MAC_HEX          0x00040e00
#define MAC_SHIFT        (1U << 31)
#define MAC_NEGATIVE     (-22)
#define MAC_BIG          0xffffffffffffffffULL
#define MAC_LONG_BITS    (sizeof(long) * 8)   /* 32 or 64 */
#define MAC_FROM_OTHER   (BITS_PER_LONG / 8)

struct mac_sized { uint8_t a; uint64_t b; };
#define MAC_SIZEOF       sizeof(struct mac_sized)

#if defined(__aarch64__) || defined(__x86_64__)
#define MAC_ONLY_64      1
#endif

#define MAC_MULTI_LINE   (MAC_PLAIN + \
                          MAC_HEX)

/* These have no integer value. */
#define MAC_STRING       "xen"
#define MAC_TYPE         uint64_t
#define MAC_FUNC(x)      ((x) + 1)
#define MAC_EMPTY

#endif /* __XEN_PUBLIC_MACROS_H__ */
