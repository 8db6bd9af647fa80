/* SPDX-License-Identifier: MIT */
/*
 * opgroups.h: op groups, with and without a "=>" mapping.
 */

#ifndef __XEN_PUBLIC_OPGROUPS_H__
#define __XEN_PUBLIC_OPGROUPS_H__

/* `incontents 120 widget Widget Operations
 * ` enum hypercall_num { // __HYPERVISOR_* => HYPERVISOR_*()
 */
#define __HYPERVISOR_widget_op      60
#define __HYPERVISOR_gadget_op      61 /* x86 only */
/* ` } */

/* ` enum widget_op { // WIDGETOP_* => struct widget_* */
/*
 * Spin the widget.
 * @arg == pointer to widget_spin_t structure.
 */
#define WIDGETOP_spin       0

/*
 * Stop the widget.
 * @arg == NULL               (WIDGETOP_stop)
 *      == widget_stop_t      (WIDGETOP_stop with a reason)
 */
#define WIDGETOP_stop       1
#if __XEN_INTERFACE_VERSION__ >= 0x00040900
#define WIDGETOP_wobble     2 /* Since 4.9. */
#endif
/* ` } */

#define WIDGETOP_MAX        2  /* Not a member: after the closer. */

/*
 * Reasons for stopping a widget.
 */
/* ` enum widget_stop_reason { */
#define WIDGET_STOP_done    0  /* Finished normally. */
#define WIDGET_STOP_jammed  1  /* Something is stuck. */
/* ` } */

/* ` enum neg_errnoval {  [ -Efoo for each Efoo in errno.h ]  } */

#endif /* __XEN_PUBLIC_OPGROUPS_H__ */
