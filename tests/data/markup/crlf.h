/* SPDX-License-Identifier: MIT */
/*
 * CRLF line endings: read as LF.
 * ` long HYPERVISOR_widget_op(enum widget_op cmd,
 * `                           void *arg)
 * @cmd == WIDGETOP_??? (widget operation).
 */

/* ` enum widget_op { // WIDGETOP_* => struct widget_* */
#define WIDGETOP_spin       0  /* Spin it. */
#define WIDGETOP_long(a) \
    ((a) + 1)
/* ` } */
