/*
 * pipeline.h - one server's analysis, as one object: samples go in
 * (sample -> groups -> history), a report comes out.  Every mode, the
 * replay, several servers and the unit tests use this one object, so a
 * live run, its record and its replay are analysed by the same code and
 * their reports carry the same warnings.
 *
 * Pure: no clock, no I/O.  The edge says when a sample was taken (it is
 * in the sample), what failed and when, and what it knows of the run
 * (struct run_facts); the pipeline never asks.
 */
#ifndef PGDRIP_PIPELINE_H
#define PGDRIP_PIPELINE_H

#include "check.h"
#include "clientfacts.h"
#include "history.h"
#include "match.h"
#include "report.h"
#include "sample.h"
#include "tests.h"
#include "tracker.h"

/* The groupings one pipeline can follow at once (the live view's 'g'
 * cycle, each kept so a change of grouping keeps its history). */
enum { PIPELINE_MAX_GROUPINGS = 8 };

struct pipeline_config {
	struct group_keys keys;              /* the grouping reported */
	const struct filter *filter;         /* borrowed */
	const struct thresholds *thresholds; /* borrowed */
	double window_s;
	double interval_s; /* expected spacing; a slower sample is late */
	bool wrap;         /* a wrapped command: judged with hindsight */
};

struct pipeline {
	struct pipeline_config config;
	struct history histories[PIPELINE_MAX_GROUPINGS];
	size_t grouping_count;
	size_t active;                  /* the grouping reported */
	struct tracker tracker;         /* every session, by identity */
	struct tests tests;             /* a runner's test windows (tests.h) */
	struct clientfacts clientfacts; /* the client hooks' (wrap mode) */
	struct sample last;             /* the last successful sample; owned */
	bool have_last;
	size_t *member; /* per session of last: its group in the active
			 * history, or GROUP_NONE; owned */
	size_t member_cap;
	/* pg_stat_database's count of sessions, first and last seen (a
	 * stats reset starts it anew): the exact churn. */
	double opened_first;
	double opened_first_epoch_s;
	double opened_last;
	double opened_last_epoch_s;
	size_t late_samples;
	size_t interval_changes; /* samples that brought a new interval */
	size_t reconnects;
	size_t clock_steps;   /* the wall clock stepped during the run */
	double clock_step_s;  /* by this much in all */
	size_t stops;         /* pgdrip stopped and continued */
	double stopped_s;     /* for this long in all, at most */
	bool last_failed;     /* the last attempt failed (up = 0) */
	char last_error[512]; /* why, raw; "" none */
	double last_failed_epoch_s;
};

void pipeline_init(struct pipeline *p, const struct pipeline_config *config);
void pipeline_finish(struct pipeline *p);

/* Folds a successful sample in.  The sample's contents move into the
 * pipeline (it becomes the last sample); *sample is left holding the
 * previous one's buffers, reset, ready to be filled again. */
void pipeline_absorb(struct pipeline *p, struct sample *sample);

/* A failed sample at epoch_s (a gap in every series); error is the
 * one-line reason (copied). */
void pipeline_absorb_failure(struct pipeline *p, double epoch_s,
			     const char *error);

/* The run wraps a command (a replay learns it from its record): the
 * tracker judges with hindsight from now on. */
void pipeline_set_wrap(struct pipeline *p);

/* The session was lost and made anew (a warning in the report). */
void pipeline_note_reconnect(struct pipeline *p);

/* The wall clock was stepped by step_s (NTP, a VM resumed); pgdrip's own
 * times kept to the monotonic clock.  A warning in the report. */
void pipeline_note_clock_step(struct pipeline *p, double step_s);

/* pgdrip itself did not run for up to stopped_s seconds (stopped by
 * SIGSTOP or ^Z, then continued): a gap the report mentions. */
void pipeline_note_stopped(struct pipeline *p, double stopped_s);

/*
 * Reports keys from now on.  A grouping followed before keeps its
 * history; a new one starts now from the last sample (when the pipeline
 * holds PIPELINE_MAX_GROUPINGS already, the oldest inactive one is
 * dropped).
 */
void pipeline_set_grouping(struct pipeline *p, const struct group_keys *keys);

/* Follows keys as well, from now on, without reporting them: the live
 * view's other groupings, so switching to one keeps its history. */
void pipeline_follow_grouping(struct pipeline *p,
			      const struct group_keys *keys);

/* The current counts become every grouping's baseline. */
void pipeline_rebaseline(struct pipeline *p);

/* The active grouping's history. */
const struct history *pipeline_history(const struct pipeline *p);

/* The last successful sample, NULL before the first. */
const struct sample *pipeline_last(const struct pipeline *p);

/* Which sessions to trace to their client processes. */
struct trace_policy {
	bool everything; /* --once, wrap mode: every session */
	/* The group on screen, by its values (NULL entries for keys not
	 * grouped by); shown false when none is. */
	bool shown;
	const char *shown_values[GROUP_KEY_COUNT];
};

/*
 * Sets wanted[i] (room for sample->session_count) for each session of
 * sample worth tracing: all under policy->everything; else those idle in
 * a transaction, those of the group on screen, and those of groups new,
 * flagged or above their baseline (where a leak shows).  Reads only.
 */
void pipeline_wanted(const struct pipeline *p, const struct sample *sample,
		     const struct trace_policy *policy, bool *wanted);

/* What only the edge knows about the run; every field may be left 0 /
 * NULL except mode. */
struct run_facts {
	const char *mode; /* "once", "watch", "live", "wrap", ... */
	const char *server_label;
	double ended_epoch_s; /* 0: the last sample's time */
	bool wrapped;
	const char *command;      /* argv joined, masked */
	const char *const *argv;  /* the command as run; NULL none */
	int command_status;       /* -1 when there is no command */
	double command_started_s; /* run-relative */
	double command_ended_s;
	double self_cpu_s; /* NAN unknown */
	long self_max_rss_kib;
	/* --listen: connections refused so far, when listening. */
	bool listening;
	unsigned long long listen_refused_total;
	/* The group whose sessions the report lists (the live view's
	 * detail pane), by values; detail false for none. */
	bool detail;
	const char *detail_values[GROUP_KEY_COUNT];
	/* The edge's own warnings (attribution, replay, writes), copied. */
	const char *const *warnings;
	size_t warning_count;
};

/* Sets facts to "nothing known" for mode. */
void pipeline_facts_init(struct run_facts *facts, const char *mode);

/*
 * The report as of now (out report_init()ed by the caller), with every
 * warning the run has: hidden states, failures, reconnects, late
 * samples, a server never reached, and the edge's own.
 */
void pipeline_report(const struct pipeline *p, const struct run_facts *facts,
		     struct report *out);

#endif
