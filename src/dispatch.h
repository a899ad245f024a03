/*
 * dispatch.h - the top of a run: main.c hands it the options, it sets
 * the run up (run.h), runs the mode they name (modes.h) and tears down.
 */
#ifndef PGDRIP_DISPATCH_H
#define PGDRIP_DISPATCH_H

#include "options.h"

/* Runs the mode opts->mode names; returns the exit status.  Prints its
 * own messages. */
int dispatch_run(const struct options *opts);

#endif
