/*
 * monitor.h - runs the mode the options ask for (once, watch, wrap,
 * wait-drain, replay) and returns the process exit status.
 */
#ifndef PGDRIP_MONITOR_H
#define PGDRIP_MONITOR_H

#include "cli.h"

#include "core/report.h"

#include <stdint.h>

/* Prints its own messages (one line each, "pgdrip: " prefix) to stderr. */
int monitor_run(const struct options *opts);

/*
 * One server among several (fleet.c runs one per thread): its own
 * connection, samples, history and report.  Not thread-safe by itself:
 * one thread drives a monitor at a time.
 */
struct monitor;

struct monitor *monitor_new(const struct options *opts, const char *conninfo,
			    bool once);
void monitor_free(struct monitor *m);

/* Takes one sample, connecting first if need be (with backoff after a
 * failure).  False when it failed: the gap is noted, the next call
 * tries again. */
bool monitor_sample(struct monitor *m);

/* The report as of now (report_init()ed by the caller), with the run's
 * own warnings; a server never reached says why. */
void monitor_report(struct monitor *m, struct report *report);

/* The next sampling time on the monotonic clock (missed slots skipped). */
int64_t monitor_next_due(int64_t due_ms, int64_t interval_ms);

#endif
