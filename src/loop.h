/*
 * loop.h - the one event loop every mode runs in.  It waits, with one
 * poll(2), on the signal pipe, every target's socket (connecting
 * included, so a server that hangs never stalls a schedule or a
 * signal), the terminal when the mode reads keys, and the nearest timer;
 * then it steps the targets and asks the mode what to do.
 *
 * A mode says when to sample (each target's schedule) and when to stop
 * (run->done); the loop does the waiting.
 */
#ifndef PGDRIP_LOOP_H
#define PGDRIP_LOOP_H

#include "run.h"

#include <poll.h>
#include <stdint.h>

/* At most this many descriptors of a mode's own (mode_ops.pollfds): wrap
 * mode's runners' socket and 256 connections, and as many for the hooks. */
enum { LOOP_EXTRA_FDS = 520 };

struct mode_ops {
	/* After each slot's outcome of target t (ok: a sample came). */
	void (*outcome)(struct run *run, struct target *t, bool ok);
	/* After every wake-up (a signal, a timer, input): the mode looks
	 * at the run and may set run->done. */
	void (*tick)(struct run *run, int64_t now_ms);
	/* When tick() must run next, besides the targets' own timers
	 * (monotonic ms); NULL or INT64_MAX for no wish. */
	int64_t (*next_wake_ms)(const struct run *run);
	/* stdin is readable, or hung up / in error (revents says). */
	void (*input)(struct run *run, short revents, int64_t now_ms);
	bool watch_stdin;
	/* Descriptors of the mode's own to wait on as well (a socket it
	 * serves): fills at most max entries of fds (fd and events) and
	 * returns how many; NULL for none.  Asked before every wait. */
	size_t (*pollfds)(struct run *run, struct pollfd *fds, size_t max);
	/* After the wait, with the same entries and their revents (some
	 * may be 0); called only when pollfds() gave any. */
	void (*ready)(struct run *run, const struct pollfd *fds, size_t n,
		      int64_t now_ms);
	void *state; /* the mode's own */
};

/* Runs until run->done; the mode's state is ops->state. */
void loop_run(struct run *run, const struct mode_ops *ops);

/* The outcome callback targets are created with (ctx: the run). */
void loop_on_outcome(struct target *t, bool ok, void *ctx);

/* The mode running now (for the callbacks of its state). */
const struct mode_ops *loop_mode(const struct run *run);

#endif
