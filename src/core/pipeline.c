/*
 * pipeline.c - one server's analysis as one object (see pipeline.h):
 * samples into the histories of every grouping followed, and the one
 * report function every output is drawn from.
 */
#include "pipeline.h"

#include "report_tests.h"
#include "tracker_prune.h"
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_keys(const struct group_keys *a, const struct group_keys *b)
{
	return a->count == b->count &&
	       memcmp(a->keys, b->keys, a->count * sizeof(a->keys[0])) == 0;
}

void pipeline_init(struct pipeline *p, const struct pipeline_config *config)
{
	struct tracker_params params;

	memset(p, 0, sizeof(*p));
	p->config = *config;
	tracker_default_params(&params, config->interval_s, config->wrap);
	tracker_init(&p->tracker, &params);
	tests_init(&p->tests);
	clientfacts_init(&p->clientfacts);
	history_init(&p->histories[0], &config->keys, config->window_s,
		     config->interval_s);
	p->grouping_count = 1;
	sample_init(&p->last);
	p->last_failed_epoch_s = NAN;
	p->opened_first = p->opened_last = NAN;
}

void pipeline_finish(struct pipeline *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->grouping_count; i++) {
		history_finish(&p->histories[i]);
	}
	sample_finish(&p->last);
	tracker_finish(&p->tracker);
	tests_finish(&p->tests);
	clientfacts_finish(&p->clientfacts);
	free(p->member);
	memset(p, 0, sizeof(*p));
}

static struct history *active(struct pipeline *p)
{
	return &p->histories[p->active];
}

const struct history *pipeline_history(const struct pipeline *p)
{
	return &p->histories[p->active];
}

const struct sample *pipeline_last(const struct pipeline *p)
{
	return p->have_last ? &p->last : NULL;
}

static void note_opened(struct pipeline *p, const struct sample *s)
{
	double n = s->sessions_opened_total;

	if (!isfinite(n)) {
		return;
	}
	if (!isfinite(p->opened_first) || n < p->opened_last) {
		p->opened_first = n;
		p->opened_first_epoch_s = s->taken_at_epoch_s;
	}
	p->opened_last = n;
	p->opened_last_epoch_s = s->taken_at_epoch_s;
}

/* A sample taken under another interval than the pipeline's: from it on,
 * the late flag, the tracker's thresholds, the verdicts and the report
 * use the new one. */
static void adopt_interval(struct pipeline *p, double interval_s)
{
	struct tracker_params params;

	if (!(interval_s > 0) || interval_s == p->config.interval_s) {
		return;
	}
	p->config.interval_s = interval_s;
	p->interval_changes++;
	tracker_default_params(&params, interval_s, p->config.wrap);
	tracker_set_params(&p->tracker, &params);
	for (size_t i = 0; i < p->grouping_count; i++) {
		p->histories[i].interval_s = interval_s;
	}
}

void pipeline_absorb(struct pipeline *p, struct sample *sample)
{
	struct sample spare = p->last;

	adopt_interval(p, sample->interval_s);
	if (sample->elapsed_ms > p->config.interval_s * 1000) {
		/* Taken, but slower than the interval: the schedule skips
		 * ahead rather than bunching samples up. */
		sample->status = SAMPLE_STATUS_LATE;
		p->late_samples++;
	}
	/* A swap, not a copy: the sample's strings move with its arena. */
	p->last = *sample;
	*sample = spare;
	sample_reset(sample);
	p->have_last = true;
	p->last_failed = false;
	xgrow((void **)&p->member, &p->member_cap, p->last.session_count + 1,
	      sizeof(*p->member));
	note_opened(p, &p->last);
	/* The clients' own word on whose a session is, before the tracker
	 * takes its holder. */
	clientfacts_absorb(&p->clientfacts, &p->last);
	tracker_add(&p->tracker, &p->last);
	tracker_prune_when_grown(&p->tracker);
	tests_add(&p->tests, &p->last);
	for (size_t i = 0; i < p->grouping_count; i++) {
		if (!p->config.wrap) {
			/* A wrapped command is judged on every group of its
			 * run; a watch on those of its window. */
			(void)history_retire_idle(&p->histories[i]);
		}
		history_add(&p->histories[i], &p->last, p->config.filter,
			    i == p->active ? p->member : NULL);
		verdict_update(&p->histories[i], &p->tracker, p->config.filter,
			       p->config.interval_s);
	}
}

void pipeline_absorb_failure(struct pipeline *p, double epoch_s,
			     const char *error)
{
	for (size_t i = 0; i < p->grouping_count; i++) {
		history_add_failure(&p->histories[i]);
	}
	p->last_failed = true;
	p->last_failed_epoch_s = epoch_s;
	snprintf(p->last_error, sizeof(p->last_error), "%s",
		 error != NULL ? error : "");
}

void pipeline_set_wrap(struct pipeline *p)
{
	struct tracker_params params;

	if (p->config.wrap) {
		return;
	}
	p->config.wrap = true;
	tracker_default_params(&params, p->config.interval_s, true);
	tracker_set_params(&p->tracker, &params);
}

void pipeline_note_reconnect(struct pipeline *p)
{
	p->reconnects++;
}

void pipeline_note_clock_step(struct pipeline *p, double step_s)
{
	p->clock_steps++;
	p->clock_step_s += step_s;
}

void pipeline_note_stopped(struct pipeline *p, double stopped_s)
{
	p->stops++;
	p->stopped_s += stopped_s > 0 ? stopped_s : 0;
}

static size_t find_grouping(const struct pipeline *p,
			    const struct group_keys *keys)
{
	for (size_t i = 0; i < p->grouping_count; i++) {
		if (same_keys(&p->histories[i].keys, keys)) {
			return i;
		}
	}
	return (size_t)GROUP_NONE;
}

/* A new grouping's history starts from the last sample, so it has a
 * baseline at once. */
static size_t add_grouping(struct pipeline *p, const struct group_keys *keys)
{
	size_t slot = p->grouping_count;
	struct history *h;

	if (slot == PIPELINE_MAX_GROUPINGS) {
		/* Full: the oldest grouping not on show makes room. */
		slot = p->active == 0 ? 1 : 0;
		history_finish(&p->histories[slot]);
	} else {
		p->grouping_count++;
	}
	h = &p->histories[slot];
	history_init(h, keys, p->config.window_s, p->config.interval_s);
	if (p->have_last) {
		history_add(h, &p->last, p->config.filter, NULL);
		verdict_update(h, &p->tracker, p->config.filter,
			       p->config.interval_s);
	}
	return slot;
}

void pipeline_follow_grouping(struct pipeline *p, const struct group_keys *keys)
{
	if (find_grouping(p, keys) == (size_t)GROUP_NONE) {
		(void)add_grouping(p, keys);
	}
}

void pipeline_set_grouping(struct pipeline *p, const struct group_keys *keys)
{
	size_t i = find_grouping(p, keys);

	if (i == (size_t)GROUP_NONE) {
		i = add_grouping(p, keys);
	}
	p->active = i;
	p->config.keys = *keys;
	/* The member map follows the grouping reported. */
	for (size_t s = 0; p->have_last && s < p->last.session_count; s++) {
		const struct session *session = &p->last.sessions[s];

		p->member[s] = match_filter_accepts(p->config.filter,
						    session->user, session->app,
						    session->db)
				       ? history_group_of(active(p), session)
				       : (size_t)GROUP_NONE;
	}
}

void pipeline_rebaseline(struct pipeline *p)
{
	for (size_t i = 0; i < p->grouping_count; i++) {
		history_rebaseline(&p->histories[i]);
	}
}

/* A group where a leak may show: new, flagged, or (in this sample)
 * above its baseline. */
static bool group_worth_tracing(const struct history *h, size_t g,
				const int *now)
{
	const struct group_history *group;

	if (g == (size_t)GROUP_NONE) {
		return true; /* new: it may be the start of a leak */
	}
	group = &h->groups[g];
	return group->flagged || group->trend.flagged ||
	       now[g] > group->baseline;
}

void pipeline_wanted(const struct pipeline *p, const struct sample *sample,
		     const struct trace_policy *policy, bool *wanted)
{
	const struct history *h = pipeline_history(p);
	size_t *of = xcalloc(sample->session_count + 1, sizeof(*of));
	int *now = xcalloc(h->group_count + 1, sizeof(*now));

	/* The sample's own counts: a group growing now is traced now. */
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		of[i] = (size_t)GROUP_NONE;
		wanted[i] = match_filter_accepts(p->config.filter, s->user,
						 s->app, s->db);
		if (wanted[i]) {
			of[i] = history_group_of(h, s);
			if (of[i] != (size_t)GROUP_NONE) {
				now[of[i]] += s->weight;
			}
		}
	}
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		wanted[i] = wanted[i] &&
			    (policy->everything ||
			     s->state == SESSION_STATE_IDLE_TX ||
			     s->state == SESSION_STATE_IDLE_TX_ABORTED ||
			     (policy->shown &&
			      group_session_matches(policy->shown_values,
						    &h->keys, s)) ||
			     group_worth_tracing(h, of[i], now));
	}
	free(of);
	free(now);
}

void pipeline_facts_init(struct run_facts *facts, const char *mode)
{
	memset(facts, 0, sizeof(*facts));
	facts->mode = mode;
	facts->command_status = -1;
	facts->command_started_s = NAN;
	facts->command_ended_s = NAN;
	facts->self_cpu_s = NAN;
}

/* What the samples themselves say about the run. */
static void add_run_warnings(const struct pipeline *p, struct report *out)
{
	const struct history *h = pipeline_history(p);

	if (p->reconnects > 0) {
		report_add_warning(out,
				   "the connection was lost and "
				   "re-established %zu times; the gaps "
				   "are left out of the growth analysis",
				   p->reconnects);
	}
	if (p->clock_steps > 0) {
		report_add_warning(out,
				   "the wall clock was stepped %zu times, by "
				   "%+.1fs in all, during the run: pgdrip's "
				   "times follow the monotonic clock from the "
				   "run's start",
				   p->clock_steps, p->clock_step_s);
	}
	if (p->stops > 0) {
		report_add_warning(out,
				   "pgdrip itself was stopped %zu times "
				   "(SIGSTOP or ^Z, then continued), for up "
				   "to %.1fs in all: no sample was taken then",
				   p->stops, p->stopped_s);
	}
	if (p->interval_changes > 0) {
		report_add_warning(out,
				   "the interval changed %zu times during "
				   "the run; the last was %gs",
				   p->interval_changes, p->config.interval_s);
	}
	if (p->late_samples > 0) {
		report_add_warning(out,
				   "%zu samples took longer than the "
				   "interval (%gs)",
				   p->late_samples, p->config.interval_s);
	}
	if (h->retired.groups > 0) {
		report_add_warning(out,
				   "%zu groups with no session for a whole "
				   "--window (%gs) were retired: summed in "
				   "the report's \"retired\"",
				   h->retired.groups, h->window_s);
	}
	if (!p->have_last && p->last_error[0] != '\0') {
		report_add_warning(out, "no sample could be taken: %s",
				   p->last_error);
	}
}

void pipeline_report(const struct pipeline *p, const struct run_facts *facts,
		     struct report *out)
{
	const struct history *h = pipeline_history(p);
	struct report_input in = {
		.mode = facts->mode,
		.tracker = &p->tracker,
		.history = h,
		.last = pipeline_last(p),
		.filter = p->config.filter,
		.thresholds = p->config.thresholds,
		.server_label = facts->server_label,
		.ended_epoch_s = facts->ended_epoch_s > 0 ? facts->ended_epoch_s
				 : p->have_last ? p->last.taken_at_epoch_s
						: p->last_failed_epoch_s,
		.last_failed = p->last_failed,
		.reconnects = p->reconnects,
		.wrapped = facts->wrapped,
		.command = facts->command,
		.argv = facts->argv,
		.command_status = facts->command_status,
		.command_started_s = facts->command_started_s,
		.command_ended_s = facts->command_ended_s,
		.self_cpu_s = facts->self_cpu_s,
		.self_max_rss_kib = facts->self_max_rss_kib,
		.listening = facts->listening,
		.listen_refused_total = facts->listen_refused_total,
		.detail_values = facts->detail ? facts->detail_values : NULL,
		.clientfacts = &p->clientfacts,
	};

	report_build(out, &in);
	out->retired_groups = h->retired.groups;
	out->retired_baseline = h->retired.baseline;
	out->retired_peak = h->retired.peak;
	out->sessions_opened_total = p->opened_last;
	if (isfinite(p->opened_first)) {
		out->sessions_opened_run = p->opened_last - p->opened_first;
		out->sessions_opened_seen = (double)p->tracker.opened_total;
	}
	if (p->opened_last_epoch_s - p->opened_first_epoch_s >= 1) {
		out->sessions_opened_per_min =
			(p->opened_last - p->opened_first) * 60 /
			(p->opened_last_epoch_s - p->opened_first_epoch_s);
	}
	report_tests_build(out, &p->tests, &p->tracker, &p->clientfacts,
			   p->config.filter, p->config.thresholds,
			   facts->command_status);
	for (size_t i = 0; i < facts->warning_count; i++) {
		report_add_warning(out, "%s", facts->warnings[i]);
	}
	add_run_warnings(p, out);
}
