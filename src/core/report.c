/*
 * report.c - builds the view model from the history and the last sample:
 * groups with their figures and verdicts, limits and their usage, the
 * idle-in-transaction list, warnings, and the checks with the exit code.
 */
#include "report.h"

#include "mask.h"
#include "report_checks.h"
#include "report_hooks.h"
#include "report_judge.h"
#include "report_sessions.h"
#include "report_pooler.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *keep(struct report *report, const char *s)
{
	return arena_strdup(&report->arena, s);
}

/* Sessions of the last sample per name (role or database), unfiltered:
 * limits apply to everyone. */
static int count_by(const struct sample *sample, enum group_key key,
		    const char *name)
{
	int n = 0;

	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		if (strcmp(group_session_key(s, key), name) == 0) {
			n += s->weight;
		}
	}
	return n;
}

static int compare_limits(const void *pa, const void *pb)
{
	const struct report_limit *a = pa;
	const struct report_limit *b = pb;

	if (a->usage_pct != b->usage_pct) {
		return a->usage_pct > b->usage_pct ? -1 : 1;
	}
	return strcmp(a->name, b->name);
}

static void build_limits(struct report *report, const struct sample *last)
{
	/* The console's clients count against max_client_conn. */
	report_add_limit(report,
			 last->server.source == SAMPLE_SOURCE_PGBOUNCER
				 ? LIMIT_KIND_CLIENTS
				 : LIMIT_KIND_SERVER,
			 "", report->usable_connections, report->total_all);
	report_pooler_build(report, last);
	for (size_t i = 0; i < last->role_limit_count; i++) {
		const struct named_limit *r = &last->role_limits[i];

		report_add_limit(report, LIMIT_KIND_ROLE, r->name, r->limit,
				 count_by(last, GROUP_KEY_USER, r->name));
	}
	for (size_t i = 0; i < last->db_limit_count; i++) {
		const struct named_limit *d = &last->db_limits[i];

		report_add_limit(report, LIMIT_KIND_DATABASE, d->name, d->limit,
				 count_by(last, GROUP_KEY_DB, d->name));
	}
	/* The server stays first; the rest closest to exhaustion first. */
	if (report->limit_count > 2) {
		qsort(report->limits + 1, report->limit_count - 1,
		      sizeof(*report->limits), compare_limits);
	}
}

/* Picks the limit this group exhausts first at its current slope. */
static void forecast(struct report *report, struct report_group *g)
{
	const struct report_limit *candidates[3 + REPORT_POOLER_CANDIDATES];
	size_t n = 0;

	g->forecast_s = INFINITY;
	g->forecast_name = "";
	g->forecast_kind = LIMIT_KIND_SERVER;
	g->forecast_limit = 0;
	if (!(g->trend.slope_per_min > 0) || report->limit_count == 0) {
		return;
	}
	candidates[n++] = &report->limits[0];
	candidates[n] = report_find_limit(report, LIMIT_KIND_ROLE,
					  g->keys[GROUP_KEY_USER]);
	n += candidates[n] != NULL;
	candidates[n] = report_find_limit(report, LIMIT_KIND_DATABASE,
					  g->keys[GROUP_KEY_DB]);
	n += candidates[n] != NULL;
	n += report_pooler_candidates(report, g, candidates + n);
	for (size_t i = 0; i < n; i++) {
		const struct report_limit *l = candidates[i];
		/* A wrapped command's sessions may be gone by now: forecast
		 * from its peak, as if the run had gone on. */
		int used = l->used +
			   (report->wrapped ? g->peak - g->connections : 0);
		double s = trend_forecast_s(used, g->trend.slope_per_min,
					    l->limit);

		if (s < g->forecast_s) {
			g->forecast_s = s;
			g->forecast_kind = l->kind;
			g->forecast_name = l->name;
			g->forecast_limit = l->limit;
		}
	}
}

static void keep_recent(struct report_group *g, const struct series *window)
{
	size_t n = series_count(window);
	size_t from = n > REPORT_RECENT_POINTS ? n - REPORT_RECENT_POINTS : 0;

	g->recent_count = 0;
	for (size_t i = from; i < n; i++) {
		g->recent[g->recent_count++] = series_at(window, i).value;
	}
}

/* Does the detector flag the run from from_s up to its point k? */
static bool flags_prefix(const struct series *run, double from_s, size_t k,
			 const struct trend_params *params)
{
	struct trend_result r;

	trend_analyze_range(run, from_s, series_at(run, k).t_s, params, &r);
	return r.flagged;
}

/*
 * Wrap mode: when the run's verdict first held, as the detector would
 * have seen the run grow: the end of the shortest prefix [from_s, t] it
 * flags.  A pass in steps of 1/64 of the run's points, then point by
 * point inside the step that flagged, bounds the cost at about 72
 * analyses of at most SERIES_CAPACITY points, and a leak usually stops
 * the pass early.  to_s when no shorter prefix flags.
 */
static double run_first_flagged_s(const struct series *run, double from_s,
				  double to_s,
				  const struct trend_params *params)
{
	size_t first = 0;
	size_t last = series_count(run);
	size_t step;
	size_t checked;

	while (first < last && series_at(run, first).t_s < from_s) {
		first++;
	}
	while (last > first && series_at(run, last - 1).t_s > to_s) {
		last--;
	}
	step = (last - first) / 64 + 1;
	checked = first + params->min_points - 1;
	for (size_t k = checked; k < last; k += step) {
		if (!flags_prefix(run, from_s, k, params)) {
			checked = k;
			continue;
		}
		for (size_t j = checked + 1; j < k; j++) {
			if (flags_prefix(run, from_s, j, params)) {
				return series_at(run, j).t_s;
			}
		}
		return series_at(run, k).t_s;
	}
	return to_s;
}

static void build_group(struct report *report, struct report_group *g,
			const struct group_history *h,
			const struct report_input *in)
{
	const struct report_limit *role;
	const struct report_limit *db;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < report->keys.count; i++) {
		enum group_key key = report->keys.keys[i];

		g->keys[key] = keep(report, h->keys[key]);
	}
	g->connections = h->last;
	g->baseline = h->baseline;
	g->peak = h->peak;
	g->minimum = h->minimum;
	memcpy(g->states, h->states, sizeof(g->states));
	g->oldest_idle_tx_s = h->oldest_idle_tx_s;
	g->oldest_xact_s = h->oldest_xact_s;
	g->trend = h->trend;
	g->first_flagged_s = h->first_flagged_s;
	g->holder.pid = h->holder_pid;
	g->holder.command = keep(report, h->holder_command != NULL
						 ? h->holder_command
						 : "");
	g->holder.relation = h->holder_relation;
	/* Sessions held by the pooler itself: through it, not by it. */
	g->holder.via_pid = report_pooler_holder_via(g->holder.pid,
						     g->holder.command);
	g->holder.via_client = "";
	g->holder_sessions = h->holder_sessions;
	g->holder_seen_s = h->holder_seen_s;
	keep_recent(g, &h->window);
	if (in->wrapped) {
		/* The verdict for a wrapped command covers its run, and so
		 * does when it first held. */
		double end_s = trend_run_end_s(&h->run, in->command_started_s,
					       in->command_ended_s);

		trend_analyze_range(&h->run, in->command_started_s, end_s,
				    &in->history->trend_params, &g->trend);
		g->first_flagged_s =
			g->trend.flagged
				? run_first_flagged_s(
					  &h->run, in->command_started_s, end_s,
					  &in->history->trend_params)
				: NAN;
		g->open_after = h->last > h->baseline ? h->last - h->baseline
						      : 0;
		g->leaked = g->open_after;
	}
	role = report_find_limit(report, LIMIT_KIND_ROLE,
				 g->keys[GROUP_KEY_USER]);
	db = report_find_limit(report, LIMIT_KIND_DATABASE,
			       g->keys[GROUP_KEY_DB]);
	g->role_limit = role != NULL ? role->limit : -1;
	g->role_usage_pct = role != NULL ? role->usage_pct : NAN;
	g->db_limit = db != NULL ? db->limit : -1;
	g->db_usage_pct = db != NULL ? db->usage_pct : NAN;
	forecast(report, g);
}

static int compare_report_groups(const void *pa, const void *pb)
{
	const struct report_group *a = pa;
	const struct report_group *b = pb;

	if (a->connections != b->connections) {
		return a->connections > b->connections ? -1 : 1;
	}
	if (a->peak != b->peak) {
		return a->peak > b->peak ? -1 : 1;
	}
	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		int c = strcmp(a->keys[k] ? a->keys[k] : "",
			       b->keys[k] ? b->keys[k] : "");

		if (c != 0) {
			return c;
		}
	}
	return 0;
}

static void build_groups(struct report *report, const struct report_input *in)
{
	const struct history *history = in->history;

	report->groups = xcalloc(history->group_count ? history->group_count
						      : 1,
				 sizeof(*report->groups));
	for (size_t i = 0; i < history->group_count; i++) {
		build_group(report, &report->groups[i], &history->groups[i],
			    in);
		report->total += history->groups[i].last;
	}
	report->group_count = history->group_count;
	/* Still in the history's order: the sessions find their groups. */
	report_sessions_build(report, in);
	qsort(report->groups, report->group_count, sizeof(*report->groups),
	      compare_report_groups);
}

static int compare_idle(const void *pa, const void *pb)
{
	const struct report_session *a = pa;
	const struct report_session *b = pb;
	double ia = isnan(a->idle_s) ? -1 : a->idle_s;
	double ib = isnan(b->idle_s) ? -1 : b->idle_s;

	if (ia != ib) {
		return ia > ib ? -1 : 1;
	}
	return (a->pid > b->pid) - (a->pid < b->pid);
}

/* A session of the last sample as the report shows it. */
static void keep_session(struct report *report, struct report_session *r,
			 const struct session *s, const struct report_input *in)
{
	double age_s = in->thresholds->idle_tx_age_ms / 1000.0;
	double since = history_idle_tx_since_s(in->history, session_id_of(s));

	r->pid = s->pid;
	r->user = keep(report, s->user);
	r->app = keep(report, s->app);
	r->db = keep(report, s->db);
	r->client_addr = keep(report, s->client_addr);
	r->client_port = s->client_port;
	r->state = s->state;
	r->idle_s = s->state_age_s;
	r->xact_age_s = s->xact_age_s;
	r->stuck_for_s = isnan(since) ? NAN : in->history->last_t_s - since;
	r->over_age = (s->state == SESSION_STATE_IDLE_TX ||
		       s->state == SESSION_STATE_IDLE_TX_ABORTED) &&
		      !isnan(s->state_age_s) && s->state_age_s >= age_s;
	r->query = keep(report, s->query);
	r->client.pid = s->client_pid;
	r->client.command = keep(report, s->client_command);
	r->client.relation = s->client_relation;
	r->client.via_pid = s->pooler_pid;
	r->client.via_client = keep(report, s->pooler_client);
	r->backend_age_s = s->backend_age_s;
	r->opened_epoch_s = session_start_epoch_s(s->backend_start_us);
	if (in->tracker != NULL) {
		const struct tracked *t = tracker_find(in->tracker,
						       session_id_of(s));

		r->abandoned = t != NULL && tracker_abandoned(in->tracker, t);
	}
	r->wait_event_type = keep(report, s->wait_event_type);
	r->wait_event = keep(report, s->wait_event);
}

static void build_idle_tx(struct report *report, const struct report_input *in)
{
	const struct sample *last = in->last;

	for (size_t i = 0; i < last->session_count; i++) {
		const struct session *s = &last->sessions[i];

		if ((s->state != SESSION_STATE_IDLE_TX &&
		     s->state != SESSION_STATE_IDLE_TX_ABORTED) ||
		    !match_filter_accepts(in->filter, s->user, s->app, s->db)) {
			continue;
		}
		report->idle_tx = xrealloc(report->idle_tx,
					   (report->idle_tx_count + 1) *
						   sizeof(*report->idle_tx));
		keep_session(report, &report->idle_tx[report->idle_tx_count++],
			     s, in);
	}
	if (report->idle_tx_count > 1) {
		qsort(report->idle_tx, report->idle_tx_count,
		      sizeof(*report->idle_tx), compare_idle);
	}
}

/* Oldest first, by when they opened: a fixed order from sample to
 * sample (ages move, and round alike). */
static int compare_backend_age(const void *pa, const void *pb)
{
	const struct report_session *a = pa;
	const struct report_session *b = pb;
	double x = isnan(a->opened_epoch_s) ? INFINITY : a->opened_epoch_s;
	double y = isnan(b->opened_epoch_s) ? INFINITY : b->opened_epoch_s;

	if (x != y) {
		return x < y ? -1 : 1;
	}
	return (a->pid > b->pid) - (a->pid < b->pid);
}

/* The sessions of the group asked about, oldest first. */
static void build_detail(struct report *report, const struct report_input *in)
{
	const struct sample *last = in->last;
	const struct group_keys *keys = &in->history->keys;

	report->detail_asked = true;
	for (size_t k = 0; k < keys->count; k++) {
		enum group_key key = keys->keys[k];

		report->detail_values[key] =
			keep(report, in->detail_values[key] != NULL
					     ? in->detail_values[key]
					     : "");
	}
	report->detail = xcalloc(last->session_count + 1,
				 sizeof(*report->detail));
	for (size_t i = 0; i < last->session_count; i++) {
		const struct session *s = &last->sessions[i];

		if (group_session_matches(in->detail_values, keys, s) &&
		    match_filter_accepts(in->filter, s->user, s->app, s->db)) {
			keep_session(report,
				     &report->detail[report->detail_count++], s,
				     in);
		}
	}
	qsort(report->detail, report->detail_count, sizeof(*report->detail),
	      compare_backend_age);
}

static int compare_sessions(const void *pa, const void *pb)
{
	const struct session *a = *(const struct session *const *)pa;
	const struct session *b = *(const struct session *const *)pb;
	int c = strcmp(a->user, b->user);

	if (c == 0) {
		c = strcmp(a->app, b->app);
	}
	if (c == 0) {
		c = strcmp(a->db, b->db);
	}
	return c != 0 ? c : (int)a->state - (int)b->state;
}

static int compare_breakdown(const void *pa, const void *pb)
{
	const struct report_breakdown *a = pa;
	const struct report_breakdown *b = pb;
	int c;

	if (a->connections != b->connections) {
		return a->connections > b->connections ? -1 : 1;
	}
	c = strcmp(a->user, b->user);
	if (c == 0) {
		c = strcmp(a->app, b->app);
	}
	if (c == 0) {
		c = strcmp(a->db, b->db);
	}
	return c != 0 ? c : (int)a->state - (int)b->state;
}

/*
 * Counts the last sample's selected sessions per user, app, db and
 * state.  Sorting pointers and counting runs keeps it O(n log n): a
 * server with thousands of sessions is sampled every second.
 */
static void build_breakdown(struct report *report,
			    const struct report_input *in)
{
	const struct sample *last = in->last;
	const struct session **sorted;
	size_t n = 0;

	sorted = xcalloc(last->session_count ? last->session_count : 1,
			 sizeof(*sorted));
	for (size_t i = 0; i < last->session_count; i++) {
		const struct session *s = &last->sessions[i];

		if (match_filter_accepts(in->filter, s->user, s->app, s->db)) {
			sorted[n++] = s;
		}
	}
	qsort(sorted, n, sizeof(*sorted), compare_sessions);
	report->breakdown = xcalloc(n ? n : 1, sizeof(*report->breakdown));
	for (size_t i = 0; i < n; i++) {
		struct report_breakdown *row;

		if (i == 0 ||
		    compare_sessions(&sorted[i - 1], &sorted[i]) != 0) {
			row = &report->breakdown[report->breakdown_count++];
			row->user = keep(report, sorted[i]->user);
			row->app = keep(report, sorted[i]->app);
			row->db = keep(report, sorted[i]->db);
			row->state = sorted[i]->state;
		}
		report->breakdown[report->breakdown_count - 1].connections +=
			sorted[i]->weight;
	}
	free(sorted);
	qsort(report->breakdown, report->breakdown_count,
	      sizeof(*report->breakdown), compare_breakdown);
}

static void build_warnings(struct report *report)
{
	double timeout = report->server.idle_session_timeout_s;

	if (report->unknown_states > 0) {
		char who[160];

		report_role_identifier(report, who, sizeof(who));
		/* Hidden rows lose backend_type and leader_pid too: a
		 * parallel worker of another role's query looks like a
		 * client session, and nothing the server shows an
		 * unprivileged role tells them apart (checked on 15). */
		report_add_warning(
			report,
			"the server hides the state of %d sessions of "
			"other roles from %s: they count as unknown, "
			"and parallel workers among them cannot be "
			"told from client sessions, so they count as "
			"sessions too; GRANT pg_monitor TO %s to see "
			"them",
			report->unknown_states, who, who);
	}
	if (timeout > 0) {
		report_add_warning(
			report,
			"idle_session_timeout is %gs: the server closes "
			"idle sessions, which can hide a leak",
			timeout);
	}
	if (report->failed_samples > 0) {
		report_add_warning(report, "%zu of %zu samples failed",
				   report->failed_samples,
				   report->failed_samples + report->samples);
	}
}

/*
 * A copy of a NULL-terminated argv in the report's arena, every password
 * masked as in any command line pgdrip shows (mask.h): the arguments
 * are masked together, as "--password SECRET" spans two.
 */
static void keep_argv(struct report *report, const char *const *argv)
{
	const char **copy;
	char *raw;
	char *masked;
	size_t len = 0;
	size_t size;
	size_t n = 0;

	if (argv == NULL) {
		return;
	}
	for (; argv[n] != NULL; n++) {
		len += strlen(argv[n]) + 1;
	}
	raw = xmalloc(len + 1);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(argv[i]) + 1;

		memcpy(raw + len, argv[i], l);
		len += l;
	}
	size = 3 * len + 16;
	masked = arena_alloc(&report->arena, size);
	len = mask_command_line(masked, size, raw, len);
	free(raw);
	copy = arena_alloc(&report->arena, (n + 1) * sizeof(*copy));
	for (size_t i = 0, at = 0; i < n; i++) {
		copy[i] = at < len ? masked + at : "";
		at += at < len ? strlen(masked + at) + 1 : 0;
	}
	copy[n] = NULL;
	report->argv = copy;
	report->argc = n;
}

void report_build(struct report *report, const struct report_input *in)
{
	report->mode = keep(report, in->mode != NULL ? in->mode : "once");
	report->keys = in->history->keys;
	report->server_label = keep(report,
				    in->server_label ? in->server_label : "");
	report->started_epoch_s = in->history->started_epoch_s;
	report->ended_epoch_s = in->ended_epoch_s;
	report->samples = in->history->samples;
	report->failed_samples = in->history->failed_samples;
	report->reconnects = in->reconnects;
	report->up = in->last != NULL && !in->last_failed;
	report->interval_s = in->history->interval_s;
	report->window_s = in->history->window_s;
	report->wrapped = in->wrapped;
	report->command = keep(report, in->command ? in->command : "");
	keep_argv(report, in->argv);
	report->command_status = in->command_status;
	report->command_started_s = in->command_started_s;
	report->command_ended_s = in->command_ended_s;
	report->self_cpu_s = in->self_cpu_s;
	report->self_max_rss_kib = in->self_max_rss_kib;
	report->listen_refused_total =
		in->listening ? (double)in->listen_refused_total : NAN;
	if (in->last != NULL) {
		report->server = in->last->server;
		report->usable_connections = sample_usable_connections(
			&in->last->server);
		report->total_all = sample_session_total(in->last);
		report->usage_pct = report_usage_pct(
			report->total_all, report->usable_connections);
		for (size_t i = 0; i < in->last->session_count; i++) {
			const struct session *s = &in->last->sessions[i];

			if (s->state == SESSION_STATE_UNKNOWN) {
				report->unknown_states += s->weight;
			}
		}
		report->last_sample_s = in->last->elapsed_ms / 1000.0;
		report->last_sample_epoch_s = in->last->taken_at_epoch_s;
		build_limits(report, in->last);
		build_breakdown(report, in);
		build_idle_tx(report, in);
		if (in->detail_values != NULL) {
			build_detail(report, in);
		}
	}
	build_groups(report, in);
	report_hooks_clear_groups(report, in->clientfacts);
	report_judge(report);
	build_warnings(report);
	report_checks_run(report, in->thresholds);
	report->exit_code = check_exit_status(&report->checks,
					      in->command_status);
}
