/*
 * monitor.h - runs the mode the options ask for (once, watch, wrap,
 * wait-drain, replay) and returns the process exit status.
 */
#ifndef PGDRIP_MONITOR_H
#define PGDRIP_MONITOR_H

#include "cli.h"

/* Prints its own messages (one line each, "pgdrip: " prefix) to stderr. */
int monitor_run(const struct options *opts);

#endif
