/*
 * clock.h - the two clocks pgdrip reads: monotonic for scheduling (no
 * drift, no jumps), wall for what reports and records say.
 */
#ifndef PGDRIP_CLOCK_H
#define PGDRIP_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t clock_mono_ms(void);

/* Seconds on CLOCK_MONOTONIC, with sub-millisecond precision, for
 * measuring short intervals. */
double clock_mono_s(void);

/* Seconds since the epoch, with sub-second precision. */
double clock_wall_s(void);

#endif
