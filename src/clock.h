/*
 * clock.h - the two clocks pgdrip reads: monotonic for scheduling (no
 * drift, no jumps), wall for what reports and records say, itself kept
 * on the monotonic clock once read.
 */
#ifndef PGDRIP_CLOCK_H
#define PGDRIP_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t clock_mono_ms(void);

/* Seconds on CLOCK_MONOTONIC, with sub-millisecond precision, for
 * measuring short intervals. */
double clock_mono_s(void);

/*
 * Seconds since the epoch, with sub-second precision: the wall clock as
 * it was at the first call, advanced by the monotonic clock since.  A
 * step of the wall clock (NTP, a VM resumed, date -s) then moves no
 * timestamp pgdrip writes: its intervals and its record's times never
 * run backwards or leap.
 */
double clock_wall_s(void);

/* How far the wall clock has been stepped away from clock_wall_s()
 * since the first call: seconds, + when it went forward. */
double clock_wall_step_s(void);

#endif
