/*
 * A synthetic hypercall-defs.c for headerparse's tests, in the format of
 * xen/include/hypercall-defs.c (Xen 4.17 and later): prototypes grouped
 * under "prefix:" lines, then a table with one column per caller.
 */
#ifndef CPPCHECK

#ifdef CONFIG_COMPAT
#define PREFIX_compat compat
rettype: compat int
#else
#define PREFIX_compat
#endif

#ifdef CONFIG_ARM
#define PREFIX_dep dep
#else
#define PREFIX_dep
#endif

handle: uint unsigned int

prefix: do PREFIX_compat
sched_op(int cmd, void *arg)

#if defined(CONFIG_PV) || defined(CONFIG_ARM)
prefix: do PREFIX_dep
/* the legacy scheduler call */
sched_op_compat(int cmd, unsigned long arg)
#endif

prefix: do
console_io(unsigned int cmd, unsigned int count, char *buffer)
#ifdef CONFIG_PV
set_segment_base(unsigned int which, unsigned long base)
mca(xen_mc_t *u_xen_mc)
#endif
#ifdef CONFIG_PV_SHIM_EXCLUSIVE
shim_only(void)
#endif

caller: pv64
caller: pv32
caller: hvm64
caller: hvm32
caller: arm

table:                  pv32      pv64      hvm32     hvm64     arm
sched_op                compat    do        compat    do        do
console_io              do        do        do        do        do
#ifdef CONFIG_PV
set_segment_base        do:2      do:2      -         -         -
#endif
#if defined(CONFIG_PV) && !defined(CONFIG_PV_SHIM_EXCLUSIVE)
mca                     do        do        -         -         -
#elif defined(CONFIG_ARM)
mca                     -         -         -         -         do
#endif
#ifdef CONFIG_PV_SHIM_EXCLUSIVE
shim_only               do        do        -         -         -
#endif
paging_domctl_cont      do        do        do        do        -

#endif /* !CPPCHECK */
