/*
 * run.h - one run of pgdrip: the servers it watches (targets), the
 * outputs it writes at the end, the wrapped command, and what the loop
 * learnt from signals.  Every mode works on a struct run, which
 * dispatch.c sets up; the functions here are services below the modes
 * and the loop, and call neither.
 */
#ifndef PGDRIP_RUN_H
#define PGDRIP_RUN_H

#include "options.h"
#include "listen.h"
#include "output.h"
#include "target.h"
#include "wrap.h"

#include <stdint.h>
#include <stdio.h>

struct run {
	const struct options *opts;
	struct target **targets; /* owned */
	size_t target_count;
	struct listener *listener; /* --listen; NULL when not asked */
	struct plot_file plot;     /* --plot */
	int64_t started_ms;        /* monotonic */

	/* What the loop saw. */
	int stop_signal;        /* the first SIGINT/SIGTERM/SIGHUP; 0 none */
	unsigned stop_count;    /* how many arrived */
	bool stop_from_process; /* sent by kill(1), not the terminal */
	bool child_signalled;   /* SIGCHLD since the mode last looked */
	bool resized;           /* SIGWINCH since the mode last looked */

	/* Wrap mode. */
	struct wrapped child;
	char *command_line;       /* owned; masked */
	double command_started_s; /* run-relative; NAN before */
	double command_ended_s;

	/* Set by the mode to end the loop, with the exit status. */
	bool done;
	int status;
};

/* The first (and, but for --once and watch, only) server. */
struct target *run_target(const struct run *run);

/* Seconds since the first sample of t, for the wrapped command's start
 * and end marks. */
double run_time_s(const struct run *run, const struct target *t);

/* The report of target t as of now (out report_init()ed). */
void run_report(const struct run *run, const struct target *t,
		struct report *out);

/* Writes every target's report (to --output, or fallback), draws
 * --plot, prints the breach lines; returns the run's exit status. */
int run_finish(struct run *run, FILE *fallback);

/* The exit status and message of a server never reached: 1 for a
 * refusal for want of slots (the finding), 3 otherwise. */
int run_unreachable(const struct target *t);

#endif
