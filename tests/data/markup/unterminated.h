/* SPDX-License-Identifier: MIT */
/* ` enum widget_op { // WIDGETOP_* => struct widget_* */
#define WIDGETOP_spin       0  /* Spin it. */

/*
 * This comment is never closed, so it runs to the end of the file: the
 * group above is never closed either, and the #define below is part of
 * the comment, not a definition.
#define WIDGETOP_stop       1
