/*
 * target.h - one server being watched: its libpq session (connect,
 * reconnect with backoff, samples on a schedule), its pipeline, its
 * --record file and the tracing of its sessions to client processes.
 *
 * Driven by the loop (loop.c), never blocking: the loop waits on the
 * target's socket and timers and calls target_step().  Every sampling
 * slot ends in exactly one outcome, a sample or a failure, reported
 * through the outcome callback, written to --record and folded into the
 * pipeline, whatever the mode: a live run records just as a watch does.
 */
#ifndef PGDRIP_TARGET_H
#define PGDRIP_TARGET_H

#include "options.h"
#include "poll.h"

#include "core/pipeline.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>

struct target;

/* Called after each slot's outcome (ok: a sample was absorbed). */
typedef void target_outcome_fn(struct target *t, bool ok, void *ctx);

/* Called with each successful sample once its sessions are traced and
 * before it is recorded and absorbed: a last word on it (the link from a
 * server's sessions to the clients of a pooler watched beside it). */
typedef void target_link_fn(struct target *t, struct sample *sample, void *ctx);

struct target_config {
	const struct options *opts;
	const char *conninfo; /* -d for this server; NULL libpq's default */
	bool one_shot;        /* --once: failures are retries, not samples */
	bool record;          /* write opts->record_file */
	target_outcome_fn *on_outcome;
	target_link_fn *on_sample; /* NULL: none */
	void *ctx;
};

/* NULL with err when --record cannot be opened. */
struct target *target_create(const struct target_config *config,
			     struct errbuf *err);
void target_destroy(struct target *t);

/* Starts the schedule: the first slot is now. */
void target_start(struct target *t, int64_t now_ms);

/* Sampling every interval_ms from now on; the next slot comes at once
 * when it is already due under the new interval. */
void target_set_interval(struct target *t, int64_t interval_ms, int64_t now_ms);
int64_t target_interval_ms(const struct target *t);
/* The interval the analysis uses from the next sample on (the live
 * view's +/-), carried by each sample; the schedule is apart (wrap mode
 * samples faster while the command runs). */
void target_set_analysis_interval(struct target *t, int64_t interval_ms);

/* The next slot is now (the last sample of a --duration). */
void target_sample_now(struct target *t, int64_t now_ms);

/* Pauses or resumes the schedule (resuming samples at once). */
void target_pause(struct target *t, bool paused, int64_t now_ms);

/* Holds (or releases) the schedule without moving it: no slot begins
 * while held, so the loop can end on a mode's answer with no sample in
 * flight. */
void target_hold(struct target *t, bool held);

/* The descriptor and events to poll for; fd -1 when none. */
void target_pollfd(const struct target *t, struct pollfd *pfd);

/* The next time (monotonic ms) the target must be stepped even with
 * no socket event: a slot, a deadline, the end of a backoff. */
int64_t target_next_wake_ms(const struct target *t);

/* Advances on socket readiness (revents, 0 for none) and timers. */
void target_step(struct target *t, short revents, int64_t now_ms);

/* Each sample as it comes in, traced but before it is recorded and
 * folded into the pipeline, with its ordinal (target_samples_sent() as
 * its query was sent): a mode adds the marks it answers (wrap mode's
 * test boundaries). */
typedef void target_sample_fn(struct target *t, struct sample *sample,
			      uint64_t ordinal, void *ctx);
void target_set_sample_hook(struct target *t, target_sample_fn *fn, void *ctx);

/* How many sample queries were sent so far: a sample whose ordinal is
 * above the count read at some moment was sent after it. */
uint64_t target_samples_sent(const struct target *t);

/* What to trace to client processes from the next sample on. */
void target_set_trace_policy(struct target *t,
			     const struct trace_policy *policy);
/* Wrap mode: the command's pid, so its sessions are known as its own. */
void target_set_wrapped(struct target *t, int pid);

/* Wrap mode: the command started (line masked) or ended, at wall-clock
 * epoch_s: said in the next sample's --record line, so a replay judges
 * the command's run as this run does. */
void target_note_command_start(struct target *t, double epoch_s,
			       const char *line);
void target_note_command_end(struct target *t, double epoch_s, int status);

struct pipeline *target_pipeline(struct target *t);
const char *target_label(const struct target *t);

/* The connection as it stands. */
bool target_ever_connected(const struct target *t);
bool target_up(const struct target *t);
/* A connection attempt is in progress (not refused, not backing off). */
bool target_connecting(const struct target *t);
/* The last failure's kind and one-line message (POLL_FAILURE_NONE and
 * "" after a success). */
enum poll_failure target_failure(const struct target *t, const char **msg);
/* Milliseconds since samples stopped succeeding (0 while they do; from
 * the start when none ever did). */
int64_t target_failing_for_ms(const struct target *t, int64_t now_ms);

/* Stops trying t: the session is closed and no slot comes again.  A
 * target never sampled notes its last failure in the pipeline, so its
 * report says why it has no figures; stopped (by a signal) while still
 * connecting, it says so first. */
void target_give_up(struct target *t, bool stopped);

/* How long the sample in flight has been waited for (0: none). */
int64_t target_sample_wait_ms(const struct target *t, int64_t now_ms);

/* The report as of now (out report_init()ed): the pipeline's, with the
 * target's own warnings (tracing, writes, the pooler). */
void target_report(const struct target *t, struct run_facts *facts,
		   struct report *out);

/* True once a write to --record failed (said once on stderr): the run
 * then ends with exit status 3 unless something worse. */
bool target_output_failed(const struct target *t);

#endif
