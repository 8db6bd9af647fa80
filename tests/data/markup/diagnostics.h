/* SPDX-License-Identifier: MIT */
/* Every markup problem the parser reports, once. */

/* ` } */
#define STRAY_closer        0  /* XM102: no group is open. */

/* ` enum { */
#define NAMELESS_a          0  /* XM103: an opener needs a name. */
/* ` struct widget { */

/* ` enum widget_op { // WIDGETOP_ -> struct widget_ */
#define WIDGETOP_spin       0  /* XM103: the mapping is unreadable; group kept. */
/* ` } */

/* ` enum first_group { */
#define FIRST_a             0
/* ` enum second_group { */
#define SECOND_a            0  /* XM101 for first_group, which ends here. */
/* ` } */

/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_broken_op(unsigned int cmd,
 * `                      void *arg
 *
 * XM104: the markup block ends before the parameter list does.
 */

/* ` enum last_group { */
#define LAST_a              0
#define LAST_b              1  /* XM101: never closed; members run to the end. */
