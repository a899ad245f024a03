/*
 * report_json.c - the JSON report.  Field names follow the contract in
 * PRODUCT.md; new fields are added beside them, none is renamed.
 */
#include "report_json.h"

#include "json.h"
#include "report_hooks.h"
#include "report_json_parts.h"
#include "report_json_tests.h"
#include "report_judge.h"
#include "report_pooler.h"

#include <math.h>
#include <stdio.h>

static void write_server(struct json_writer *w, const struct report *r)
{
	char source[128];

	json_key(w, "server");
	json_begin_object(w);
	json_key(w, "label");
	json_string(w, r->server_label);
	/* Added with the admin console: what was watched ("postgresql",
	 * "pgbouncer") and its name for people. */
	report_pooler_source_name(source, sizeof(source), r);
	json_key(w, "source");
	json_string(w, sample_source_key(r->server.source));
	json_key(w, "source_name");
	json_string(w, source);
	json_key(w, "version");
	json_string(w, r->server.version);
	json_key(w, "version_num");
	json_int(w, r->server.version_num);
	json_key(w, "max_connections");
	json_int(w, r->server.max_connections);
	json_key(w, "superuser_reserved_connections");
	json_int(w, r->server.superuser_reserved);
	json_key(w, "reserved_connections");
	json_int(w, r->server.reserved + r->server.superuser_reserved);
	json_key(w, "usable_connections");
	json_int(w, r->usable_connections);
	json_key(w, "idle_session_timeout_s");
	json_double(w, r->server.idle_session_timeout_s, 3);
	json_key(w, "current_user");
	json_string(w, r->server.current_user);
	json_key(w, "can_read_all_stats");
	json_bool(w, r->server.can_read_all_stats);
	json_end_object(w);
}

static void write_states(struct json_writer *w, const int *states)
{
	json_key(w, "states");
	json_begin_object(w);
	for (int s = 0; s < SESSION_STATE_COUNT; s++) {
		json_key(w, sample_state_key((enum session_state)s));
		json_int(w, states[s]);
	}
	json_end_object(w);
}

static void write_forecast(struct json_writer *w, const struct report_group *g)
{
	json_key(w, "forecast");
	if (!isfinite(g->forecast_s)) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "seconds");
	json_double(w, g->forecast_s, 1);
	json_key(w, "limit_kind");
	json_string(w, report_limit_kind_name(g->forecast_kind));
	json_key(w, "limit_name");
	json_string(w, g->forecast_name);
	json_key(w, "limit");
	json_int(w, g->forecast_limit);
	json_end_object(w);
}

/* The group's flags as the text report and the live view word them. */
static void write_flags(struct json_writer *w, unsigned flags)
{
	json_key(w, "flags");
	json_begin_array(w);
	/* The bits run in the words' order. */
	for (unsigned bit = 1; bit <= REPORT_FLAG_LAST; bit <<= 1) {
		if (flags & bit) {
			json_string(w, report_judge_flag_word(
					       (enum report_flag)bit));
		}
	}
	json_end_array(w);
}

static void write_growth(struct json_writer *w, const struct report_group *g)
{
	json_key(w, "growth");
	json_begin_object(w);
	/* The group's verdict (verdict.flagged), kept under its old key:
	 * the count's own trend is trend_flagged. */
	json_key(w, "flagged");
	json_bool(w, g->flagged);
	json_key(w, "trend_flagged");
	json_bool(w, g->trend.flagged);
	json_key(w, "slope_per_min");
	json_double(w, g->trend.slope_per_min, 2);
	json_key(w, "net_growth");
	json_double(w, g->trend.net_growth, 1);
	json_key(w, "confidence");
	json_double(w, g->trend.confidence, 3);
	json_key(w, "first_flagged_s");
	json_double(w, g->first_flagged_s, 1);
	write_forecast(w, g);
	json_end_object(w);
}

static void write_limit(struct json_writer *w, const struct report_group *g)
{
	json_key(w, "limit");
	json_begin_object(w);
	json_key(w, "role");
	if (g->role_limit >= 0) {
		json_int(w, g->role_limit);
	} else {
		json_null(w);
	}
	json_key(w, "role_usage_pct");
	json_double(w, g->role_usage_pct, 1);
	json_key(w, "database");
	if (g->db_limit >= 0) {
		json_int(w, g->db_limit);
	} else {
		json_null(w);
	}
	json_key(w, "database_usage_pct");
	json_double(w, g->db_usage_pct, 1);
	json_end_object(w);
}

/* {pid, command, relation}, or null when no process was traced.  The
 * relation is to the wrapped command: without one it says nothing and
 * is left out. */
static void write_process(struct json_writer *w, const struct report *r,
			  const char *key, const struct report_process *p)
{
	json_key(w, key);
	if (p->pid <= 0) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	report_json_process_fields(w, p->pid, p->command, p->relation,
				   r->wrapped);
	json_end_object(w);
}

/* The group's summary: which process held its sessions, and how many. */
static void write_holder(struct json_writer *w, const struct report *r,
			 const struct report_group *g)
{
	json_key(w, "held_by");
	if (g->holder.pid <= 0) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	report_json_process_fields(w, g->holder.pid, g->holder.command,
				   g->holder.relation, r->wrapped);
	report_pooler_via_json(w, &g->holder);
	json_key(w, "sessions");
	json_int(w, g->holder_sessions);
	json_key(w, "last_seen_s");
	json_double(w, g->holder_seen_s, 1);
	json_end_object(w);
}

/* The sessions the verdict rests on, oldest use first. */
static void write_evidence(struct json_writer *w, const struct report *r,
			   const struct report_group *g)
{
	json_key(w, r->wrapped ? "left_by_command" : "abandoned_sessions");
	json_begin_array(w);
	for (size_t i = 0; i < g->evidence_count; i++) {
		const struct report_evidence *e = &g->evidence[i];

		json_begin_object(w);
		json_key(w, "pid");
		json_int(w, e->pid);
		json_key(w, "database");
		json_string(w, e->database);
		json_key(w, "opened_at");
		report_json_time(w, e->opened_epoch_s);
		json_key(w, "last_used_at");
		report_json_time(w, e->last_used_epoch_s);
		json_key(w, "unused_s");
		json_double(w, e->unused_s, 1);
		json_key(w, "closed_at");
		if (isfinite(e->closed_epoch_s)) {
			report_json_time(w, e->closed_epoch_s);
		} else {
			json_null(w);
		}
		json_key(w, "state");
		json_string(w, sample_state_name(e->state));
		json_key(w, "query");
		json_string(w, e->query);
		write_process(w, r, "client_process", &e->client);
		json_end_object(w);
	}
	json_end_array(w);
}

/*
 * The verdict and its evidence: "leaking" when abandoned sessions
 * accumulate (wrap mode: the command left sessions so), "stuck" when
 * they hold most of the group, "ok"; "evidence" says whether it rests
 * on sessions or, where their times are hidden, on the count alone.
 */
static void write_verdict(struct json_writer *w, const struct report *r,
			  const struct report_group *g)
{
	const struct group_sessions *s = &g->sessions;

	json_key(w, "verdict");
	json_begin_object(w);
	json_key(w, "state");
	json_string(w, g->verdict != NULL ? g->verdict : "ok");
	json_key(w, "flagged");
	json_bool(w, g->flagged);
	json_key(w, "evidence");
	json_string(w, g->by_sessions ? "sessions" : "counts");
	json_key(w, "sessions");
	json_int(w, s->tracked);
	json_key(w, "abandoned");
	json_int(w, r->wrapped ? g->evidence_total : s->abandoned);
	json_key(w, "passed_over");
	json_int(w, s->passed_over);
	json_key(w, "unused_long");
	json_int(w, s->unused_long);
	json_key(w, "unused_min_s");
	json_double(w, s->unused_min_s, 1);
	json_key(w, "unused_max_s");
	json_double(w, s->unused_max_s, 1);
	json_key(w, "every_s");
	json_double(w, s->every_s, 1);
	json_key(w, "reused");
	json_int(w, s->exonerated);
	json_key(w, "threshold_s");
	json_double(w, s->threshold_s, 1);
	json_key(w, "idle_in_transaction_over_age");
	json_int(w, g->idle_tx_over_age);
	write_evidence(w, r, g);
	/* Unused past the threshold, not counted, and why. */
	json_key(w, "not_counted");
	json_begin_object(w);
	json_key(w, "listeners");
	json_int(w, s->listeners);
	json_key(w, "resting");
	json_int(w, s->resting);
	json_end_object(w);
	json_end_object(w);
	json_key(w, "churn");
	json_begin_object(w);
	json_key(w, "opened_per_min");
	json_double(w, g->opened_per_min, 2);
	json_key(w, "median_lifetime_s");
	json_double(w, g->median_lifetime_s, 2);
	json_key(w, "closed_seen");
	json_int(w, g->closed_seen);
	json_end_object(w);
}

static void write_group(struct json_writer *w, const struct report *r,
			const struct report_group *g)
{
	json_begin_object(w);
	for (size_t k = 0; k < r->keys.count; k++) {
		enum group_key key = r->keys.keys[k];

		json_key(w, match_group_key_name(key));
		json_string(w, g->keys[key]);
	}
	json_key(w, "connections");
	json_int(w, g->connections);
	json_key(w, "baseline");
	json_int(w, g->baseline);
	json_key(w, "peak");
	json_int(w, g->peak);
	json_key(w, "minimum");
	json_int(w, g->minimum);
	json_key(w, "leaked");
	json_int(w, g->leaked);
	json_key(w, "open_after");
	json_int(w, g->open_after);
	write_states(w, g->states);
	write_flags(w, g->flags);
	json_key(w, "oldest_idle_tx_s");
	json_double(w, g->oldest_idle_tx_s, 1);
	write_growth(w, g);
	write_verdict(w, r, g);
	write_limit(w, g);
	write_holder(w, r, g);
	json_end_object(w);
}

static void write_idle_tx(struct json_writer *w, const struct report *r)
{
	json_key(w, "idle_in_transaction");
	json_begin_array(w);
	for (size_t i = 0; i < r->idle_tx_count; i++) {
		const struct report_session *s = &r->idle_tx[i];

		json_begin_object(w);
		json_key(w, "pid");
		json_int(w, s->pid);
		json_key(w, "user");
		json_string(w, s->user);
		json_key(w, "application");
		json_string(w, s->app);
		json_key(w, "database");
		json_string(w, s->db);
		json_key(w, "state");
		json_string(w, sample_state_name(s->state));
		json_key(w, "age_s");
		json_double(w, s->idle_s, 1);
		json_key(w, "xact_age_s");
		json_double(w, s->xact_age_s, 1);
		json_key(w, "stuck_for_s");
		json_double(w, s->stuck_for_s, 1);
		json_key(w, "over_age");
		json_bool(w, s->over_age);
		json_key(w, "client_addr");
		json_string(w, s->client_addr);
		json_key(w, "client_port");
		json_int(w, s->client_port);
		json_key(w, "query");
		json_string(w, s->query);
		write_process(w, r, "client_process", &s->client);
		/* A server session held by a pooler: which, and for whom. */
		report_pooler_via_json(w, &s->client);
		json_end_object(w);
	}
	json_end_array(w);
}

static void write_limits(struct json_writer *w, const struct report *r)
{
	json_key(w, "limits");
	json_begin_array(w);
	for (size_t i = 0; i < r->limit_count; i++) {
		const struct report_limit *l = &r->limits[i];

		json_begin_object(w);
		json_key(w, "kind");
		json_string(w, report_limit_kind_name(l->kind));
		json_key(w, "name");
		json_string(w, l->name);
		json_key(w, "limit");
		json_int(w, l->limit);
		json_key(w, "used");
		json_int(w, l->used);
		json_key(w, "usage_pct");
		json_double(w, l->usage_pct, 1);
		json_key(w, "near_limit");
		json_bool(w, l->near_limit);
		json_end_object(w);
	}
	json_end_array(w);
}

/* A string, or null when it is empty (nothing to say). */
static void nullable_string(struct json_writer *w, const char *s)
{
	if (s[0] == '\0') {
		json_null(w);
	} else {
		json_string(w, s);
	}
}

static void write_checks(struct json_writer *w, const struct report *r)
{
	json_key(w, "checks");
	json_begin_array(w);
	for (size_t i = 0; i < r->checks.count; i++) {
		const struct check_result *c = &r->checks.items[i];

		json_begin_object(w);
		json_key(w, "name");
		json_string(w, c->name);
		json_key(w, "where");
		json_string(w, c->where);
		json_key(w, "limit");
		json_double(w, c->limit, 2);
		json_key(w, "value");
		json_double(w, c->value, 2);
		json_key(w, "ok");
		json_bool(w, c->ok);
		/* Added in 0.2: ok is false for these too (never a pass). */
		json_key(w, "evaluated");
		json_bool(w, c->evaluated);
		json_key(w, "reason");
		nullable_string(w, c->reason);
		json_key(w, "hint");
		nullable_string(w, c->hint);
		json_end_object(w);
	}
	json_end_array(w);
}

static void write_command(struct json_writer *w, const struct report *r)
{
	if (!r->wrapped) {
		return;
	}
	json_key(w, "command");
	json_begin_object(w);
	/* "argv" is the joined line, as 0.1.0 wrote it; "args" has each
	 * argument apart, exactly as run. */
	json_key(w, "argv");
	json_string(w, r->command);
	json_key(w, "args");
	if (r->argv == NULL) {
		json_null(w);
	} else {
		json_begin_array(w);
		for (size_t i = 0; i < r->argc; i++) {
			json_string(w, r->argv[i]);
		}
		json_end_array(w);
	}
	json_key(w, "status");
	json_int(w, r->command_status);
	json_key(w, "started_s");
	json_double(w, r->command_started_s, 3);
	json_key(w, "ended_s");
	json_double(w, r->command_ended_s, 3);
	json_end_object(w);
}

static void write_pgdrip(struct json_writer *w, const struct report *r,
			 const char *pgdrip_version)
{
	json_key(w, "pgdrip");
	json_begin_object(w);
	json_key(w, "version");
	json_string(w, pgdrip_version);
	json_key(w, "mode");
	json_string(w, r->mode);
	json_end_object(w);
}

/* One server's report as an object at the writer's position. */
static void write_report(struct json_writer *w, const struct report *r,
			 const char *pgdrip_version)
{
	json_begin_object(w);
	write_pgdrip(w, r, pgdrip_version);
	write_server(w, r);
	json_key(w, "up");
	json_bool(w, r->up);
	json_key(w, "started_at");
	report_json_time(w, r->started_epoch_s);
	json_key(w, "ended_at");
	report_json_time(w, r->ended_epoch_s);
	json_key(w, "samples");
	json_int(w, (long long)r->samples);
	json_key(w, "failed_samples");
	json_int(w, (long long)r->failed_samples);
	json_key(w, "reconnects");
	json_int(w, (long long)r->reconnects);
	json_key(w, "interval_s");
	json_double(w, r->interval_s, 3);
	json_key(w, "window_s");
	json_double(w, r->window_s, 3);
	json_key(w, "total");
	json_begin_object(w);
	json_key(w, "connections");
	json_int(w, r->total);
	json_key(w, "usage_pct");
	json_double(w, r->usage_pct, 1);
	json_key(w, "near_limit");
	json_bool(w, r->near_limit);
	json_key(w, "all_connections");
	json_int(w, r->total_all);
	json_key(w, "unknown_state");
	json_int(w, r->unknown_states);
	json_key(w, "sessions_opened_total");
	json_double(w, r->sessions_opened_total, 0);
	json_key(w, "sessions_opened_per_min");
	json_double(w, r->sessions_opened_per_min, 1);
	json_key(w, "sessions_opened_run");
	json_double(w, r->sessions_opened_run, 0);
	json_key(w, "sessions_opened_seen");
	json_double(w, r->sessions_opened_seen, 0);
	json_end_object(w);
	json_key(w, "groups");
	json_begin_array(w);
	for (size_t i = 0; i < r->group_count; i++) {
		write_group(w, r, &r->groups[i]);
	}
	json_end_array(w);
	json_key(w, "retired");
	json_begin_object(w);
	json_key(w, "groups");
	json_int(w, (long long)r->retired_groups);
	json_key(w, "baseline");
	json_int(w, r->retired_baseline);
	json_key(w, "peak");
	json_int(w, r->retired_peak);
	json_end_object(w);
	write_idle_tx(w, r);
	write_limits(w, r);
	report_pooler_write_json(w, r);
	write_checks(w, r);
	json_key(w, "warnings");
	json_begin_array(w);
	for (size_t i = 0; i < r->warning_count; i++) {
		json_string(w, r->warnings[i]);
	}
	json_end_array(w);
	write_command(w, r);
	report_json_tests_write(w, r);
	report_hooks_write_json(w, r);
	json_key(w, "self");
	json_begin_object(w);
	json_key(w, "cpu_s");
	json_double(w, r->self_cpu_s, 4);
	json_key(w, "max_rss_kib");
	json_int(w, r->self_max_rss_kib);
	json_end_object(w);
	json_key(w, "exit_code");
	json_int(w, r->exit_code);
	json_end_object(w);
}

void report_json_write(FILE *out, const struct report *r,
		       const char *pgdrip_version)
{
	struct json_writer w;

	json_init(&w, out, true);
	write_report(&w, r, pgdrip_version);
}

void report_json_write_fleet(FILE *out, const struct report *const *reports,
			     size_t count, int exit_code,
			     const char *pgdrip_version)
{
	struct json_writer w;

	json_init(&w, out, true);
	json_begin_object(&w);
	if (count > 0) {
		write_pgdrip(&w, reports[0], pgdrip_version);
	}
	json_key(&w, "servers");
	json_begin_array(&w);
	for (size_t i = 0; i < count; i++) {
		write_report(&w, reports[i], pgdrip_version);
	}
	json_end_array(&w);
	json_key(&w, "exit_code");
	json_int(&w, exit_code);
	json_end_object(&w);
}
