/* SPDX-License-Identifier: MIT */
/*
 * `incontents 150 widget Widget Operations
 *
 * The WIDGETOP interface lets a guest spin and stop its widgets.
 *
 * Widgets are per domain:
 *   - one per vCPU,
 *   - at most 4096 in all.
 */

/*
 * `incontents 200 widget_layout Widget memory layout
 */

/* `incontents 50 widget_abi Widget Calling Convention
 * ` enum widget_call { // WIDGETCALL_* => struct widget_call_*
 *
 * Calls are numbered from 0.
 */
#define WIDGETCALL_first    0
/* ` } */

/*
 * `incontents widget_bad A section without an order is malformed.
 */
