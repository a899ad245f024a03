/*
 * exitcode.h - the exit-code policy of a run, pure (see pgdrip(1) EXIT
 * STATUS): what a server never reached, several servers, and a failed
 * write make of the checks' verdict.  The checks' own (and the wrapped
 * command's) is check_exit_status() (check.h).
 */
#ifndef PGDRIP_EXITCODE_H
#define PGDRIP_EXITCODE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A server never sampled: 1 (PGD_EXIT_CHECK_FAILED) when it refused
 * for want of connection slots, the finding pgdrip exists for, else 3
 * (PGD_EXIT_UNAVAILABLE).
 */
int exitcode_unreached(bool out_of_slots);

/*
 * One status for several servers' codes: a failed check anywhere is 1
 * (the finding); otherwise the last other non-zero code (3: a server
 * could not be monitored); else 0.
 */
int exitcode_fleet(const int *codes, size_t count);

/*
 * After an output could not be written (the report, the plot, the
 * record): a non-zero status stands (a finding is never hidden), a
 * pass becomes 3.
 */
int exitcode_after_write_error(int status);

#endif
