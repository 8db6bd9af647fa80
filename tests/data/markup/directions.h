/* SPDX-License-Identifier: MIT */
/* IN/OUT markers on fields: on the field itself, or as section markers. */

struct widget_getinfo {
    /* IN variables. */
    domid_t  domain;
    uint32_t flags;            /* OUT: what the widget can do */
    /* OUT variables. */
    uint64_t nr_spins;
    uint32_t index;            /* INDEX of the widget: not a direction */
    uint32_t cpu;              /* [IN] overrides the marker above */
};

struct widget_spin {
    uint32_t speed;            /* No marker in this struct: none leaks in. */
    /* IN/OUT variables */
    uint32_t turns;
    /* IN or OUT */
    uint32_t mode;
    /* in lower case is prose, not a marker */
    uint32_t pad;
};

struct widget_stop {
    /* IN */
    uint32_t reason;
    /*
     * OUT
     * The time the widget stopped, in ns.
     */
    uint64_t stopped_at;
    // IN: C99 comments count too
    uint32_t flags;
    uint32_t seq;              /* IN/OUT: sequence number */
};
