/* SPDX-License-Identifier: MIT */
/*
 * Not UTF-8: the caller decodes with errors="replace", so the lexer sees
 * U+FFFD where Latin-1 bytes were: René Müller.
 */
#define WIDGET_AUTHOR   "René"  /* « Latin-1 » in a trailing comment */

/* ` enum widget_op { // WIDGETOP_* => struct widget_* */
#define WIDGETOP_spin   0  /* café */
/* ` } */
