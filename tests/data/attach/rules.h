/*
 * rules.h: one case per comment-attachment rule of headerparse/extract/attach.py,
 * each cut down from the Xen 4.17 header named beside it.
 */
#ifndef __XEN_PUBLIC_RULES_H__
#define __XEN_PUBLIC_RULES_H__

#include "xen.h"

/* grant_table.h: a member with its own body takes the comment above its start. */
union rules_entry {
    uint16_t hdr;

    /*
     * This member is used for V1-style full page grants.
     */
    struct {
        uint16_t hdr;
        uint64_t frame;
    } full_page;
};

/* hvm/save.h: the comment trailing `struct {`; the first member of an anonymous union. */
struct rules_hpet {
    uint64_t config;            /* configuration */
    struct {                    /* timers */
        uint64_t cmp;           /* comparator */
    } timers[2];
    /* pending event, if any */
    union {
        uint32_t pending_event;
        uint64_t pad;
    };
};

/* platform.h: a run is of members of one body (`} u;` is not in u's run). */
struct rules_firmware {
    union {
        /* Int16, Fn02: Get keyboard shift flags. */
        uint8_t kbd_shift_flags; /* XEN_FW_KBD_SHIFT_FLAGS */
    } u;
};

/* xen.h, xen-mca.h: a block over a run describes the members it names, two or more. */
struct rules_wallclock {
    /*
     * Wallclock time. The values of wc_sec and wc_nsec are offsets.
     */
    uint32_t wc_version;      /* Version counter. */
    uint32_t wc_sec;
    uint32_t wc_nsec;
};

struct rules_mc_info {
    /* Number of mcinfo_* entries in mi_data */
    uint32_t mi_nentries;
    uint32_t flags;
    uint64_t mi_data[4];
};

/* platform.h, domctl.h: KEY: lines and NB. notes read as one; markers with prose head. */
struct rules_parking {
    uint32_t type;
    /* IN variables:  set cpu nums expected to be idled */
    /* OUT variables: get cpu nums actually be idled */
    uint32_t idle_nums;
    /* Int13, Fn41: Get Device Parameters. */
    /* NB. First uint16_t of buffer must be set to buffer size. */
    uint64_t edd_params;
    /*
     * IN/OUT variables.
     *
     * Both are IN/OUT; upon return, cpumap_soft holds the soft affinity.
     */
    uint64_t cpumap_hard;
    uint64_t cpumap_soft;
};

/* domctl.h, memory.h: a tag over a run with trailing comments heads it; alone it describes. */
struct rules_shadow {
    /* OP_PEEK / OP_CLEAN */
    uint64_t dirty_bitmap;
    uint64_t pages; /* Size of buffer. */
    /* xenmem_access_t */
    uint8_t access;
    uint16_t domid;
};

/* platform.h: the block above a member's values (each with its own comment). */
struct rules_performance {
    uint32_t flags;     /* flag for Px sub info type */
    /* Coordination type of this processor */
#define RULES_SHARED_TYPE_HW   1 /* HW does needed coordination */
#define RULES_SHARED_TYPE_ALL  2 /* All dependent CPUs should set freq */
    uint32_t shared_type;
};

/*
 * grant_table.h: several names in one entry.
 *  RULES_PAT, RULES_PWT: (x86) cache attribute flags.
 */
#define _RULES_PWT            (5)
#define RULES_PWT             (1U<<_RULES_PWT)
#define _RULES_PAT            (7)
#define RULES_PAT             (1U<<_RULES_PAT)

/*
 * xen.h: cmd: NAME and the prose under it; arguments are no description.
 *
 * cmd: RULES_TLB_FLUSH_LOCAL
 * No additional arguments. Flushes local TLB.
 *
 * cmd: RULES_COPY_PAGE
 * mfn: Machine frame number of the destination page.
 */
/* ` enum rules_cmd { */
#define RULES_TLB_FLUSH_LOCAL   6
#define RULES_COPY_PAGE         17
/* ` } */

/* domctl.h: a bit number and its mask share a block; the next flag does not. */
 /* Should this domain be permitted to use the IOMMU? */
#define _RULES_CDF_iommu         5
#define RULES_CDF_iommu          (1U<<_RULES_CDF_iommu)
#define _RULES_CDF_nested_virt   6
#define RULES_CDF_nested_virt    (1U << _RULES_CDF_nested_virt)

/* memory.h: a comment said again for each define it holds for. */
/* Only makes sense for short-lived forks */
#define RULES_FORK_WITH_IOMMU_ALLOWED (1u << 0)
/* Only makes sense for short-lived forks */
#define RULES_FORK_BLOCK_INTERRUPTS   (1u << 1)
#define RULES_FORK_RESET_STATE        (1u << 2)

/* memory.h: a block whose subject is another symbol. */
#define RULES_access_op_get_access         1
/*
 * RULES_access_op_enable_emulate and RULES_access_op_disable_emulate are
 * currently unused.
 */
#define RULES_access_op_set_access_multi   4

/* xen-mca.h, arch-arm.h: one word describes one define and heads a run. */
/* Hypercall */
#define __HYPERVISOR_rules __HYPERVISOR_arch_0

/* Interrupts */
#define RULES_TIMER_VIRT_PPI    27
#define RULES_EVTCHN_PPI        31

/* xen.h: a comment opening with a call of a macro documents that macro. */
/*
 * RULES_DEFINE_UUID(0x00112233, 0x4455) will construct UUID 00112233-4455.
 */
#define RULES_DEFINE_UUID_(a, b)    {a, b}
#define RULES_DEFINE_UUID(a, b)     RULES_DEFINE_UUID_(a, b)

/* grant_table.h: an op with no comment takes its argument struct's. */
/* ` enum rules_op { // RULESOP_* => struct rules_* */
#define RULESOP_cache_flush 12
/* ` } */

/*
 * Issue one or more cache maintenance operations.
 */
struct rules_cache_flush {
    uint64_t a;
};

#endif
