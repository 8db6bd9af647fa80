/*
 * xen.h: a small stand-in for Xen's xen.h, shared by the extraction cases.
 * It defines the guest-handle macros the way Xen does, so that the cases can
 * use XEN_GUEST_HANDLE like real headers.
 */
#ifndef __XEN_PUBLIC_XEN_H__
#define __XEN_PUBLIC_XEN_H__

#define ___DEFINE_XEN_GUEST_HANDLE(name, type) \
    typedef struct { type *p; } __guest_handle_ ## name
#define DEFINE_XEN_GUEST_HANDLE(name) ___DEFINE_XEN_GUEST_HANDLE(name, name)
#define XEN_GUEST_HANDLE(name) __guest_handle_ ## name

#if defined(__i386__) || defined(__arm__)
#define BITS_PER_LONG 32
#else
#define BITS_PER_LONG 64
#endif

typedef uint16_t domid_t;
DEFINE_XEN_GUEST_HANDLE(domid_t);

#endif /* __XEN_PUBLIC_XEN_H__ */
