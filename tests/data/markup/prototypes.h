/* SPDX-License-Identifier: MIT */
/*
 * The prototype for this hypercall is:
 * ` long HYPERVISOR_widget_op(enum widget_op cmd, void *arg, ...)
 *
 * @cmd == WIDGETOP_??? (widget operation).
 * @arg == Operation-specific extra argument(s), as described below.
 * ...  == Additional operation-specific extra arguments, described below.
 *
 * Old guests used this one, which is not markup (no backtick):
 *  long widget_op(int cmd, unsigned long arg)
 */

/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_gadget_update(const struct gadget_update reqs[],
 * `                          unsigned count, unsigned *done_out,
 * `                          unsigned foreigndom)
 * `
 * @reqs is an array of gadget_update_t structures.
 * @foreigndom[15:0]: FD, the expected owner of the gadgets referenced in
 *                    this hypercall invocation.
 */

/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_gadget_map(unsigned long va, u64 val,
 * `                       enum gadget_flags flags);
 * `
 * ` unsigned long
 * ` HYPERVISOR_gadget_peek(void);
 * `
 * ` @va: The virtual address whose mapping we want to change
 * ` @val: The new entry
 * ` @flags   Control TLB flushes; the ":" may be left out in markup
 * `          and the text may go on.
 */

/*
 * ` enum neg_errnoval
 * ` HYPERVISOR_gadget_platform_op(const struct gadget_platform_op*);
 *
 * ` int HYPERVISOR_gadget_count(unsigned int, char buffer[], ...);
 *
 * `metadata_total_size` at the start of a line is inline code, not markup;
 * `quoted' words are not markup either.  A hypercall named in prose,
 * HYPERVISOR_widget_op(), is no prototype.
 */
