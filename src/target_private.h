/*
 * target_private.h - a target's state, shared by target.c (the schedule
 * and the connection), target_query.c (what the run asks of it) and
 * target_notices.c (what it says); nothing else includes it.
 */
#ifndef PGDRIP_TARGET_PRIVATE_H
#define PGDRIP_TARGET_PRIVATE_H

#include "attrib.h"
#include "target.h"

#include "core/record.h"

enum {
	TARGET_WARNINGS = 8,
};

struct target {
	double clock_step_s; /* the wall clock's step already noted */
	const struct options *opts;
	bool one_shot;
	target_outcome_fn *on_outcome;
	target_link_fn *on_sample;
	void *ctx;

	struct conn_params params;
	char password[256];
	bool prompted;
	struct poller *poller;
	struct pipeline pipeline;
	struct sample sample;      /* the one being filled */
	struct attributor *attrib; /* NULL: --no-attribution */
	struct trace_policy policy;
	target_sample_fn *sample_hook;
	void *sample_ctx;
	uint64_t sent; /* sample queries sent */
	bool *wanted;
	size_t wanted_cap;
	char label[256];

	/* The schedule: a slot every interval; each ends in one outcome. */
	int64_t interval_ms;
	int64_t analysis_interval_ms; /* what each sample carries */
	int64_t due_ms;
	bool started;
	bool paused;
	bool held;         /* target_hold(): no slot begins */
	bool slot_pending; /* a slot began, its outcome is still to come */
	bool orphaned;     /* the sample in flight is a slot's already failed */
	bool cancelled;    /* its cancel was asked for */
	double slot_wall_s;     /* when it began: a failure is dated so */
	int64_t slot_mono_ms;   /* when it began, on the monotonic clock */
	int64_t phase_since_ms; /* connecting or sampling since */

	/* The connection's story. */
	int64_t next_connect_ms; /* backing off until */
	int64_t backoff_ms;
	bool ever_connected;
	bool up;
	int64_t failing_since_ms; /* 0 while samples succeed */
	enum poll_failure failure;
	char error[600];
	bool said_pooler;

	/* Wrap mode's command events, for the next sample's record line. */
	double command_started;
	char *command_line; /* owned */
	double command_ended;
	int command_status;

	/* --record */
	struct record_writer record;
	bool recording;
	bool output_failed;
};

/* ---- target_notices.c: what a target says on stderr ---- */

/* Once, when the server reached is a pooler or a proxy. */
void target_say_pooler(struct target *t);

/* After a sample (--progress): the count, the fastest growing group. */
void target_print_progress(const struct target *t);

/* A step of the wall clock since the last sample: said, and noted in the
 * report and the record. */
void target_note_clock_step(struct target *t);

#endif
