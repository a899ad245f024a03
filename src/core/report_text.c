/*
 * report_text.c - the human report: a header, the groups table
 * (report_text_table.c), then idle-in-transaction sessions, leaks with
 * their forecast, limits, warnings and checks.  Every server string
 * goes through text.c.
 */
#include "report_text.h"

#include "report_hooks.h"
#include "report_judge.h"
#include "report_pooler.h"
#include "report_text_sections.h"
#include "report_text_table.h"
#include "units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* True when a shell reads arg as the word it is, unquoted. */
static bool shell_plain(const char *arg)
{
	if (arg[0] == '\0') {
		return false;
	}
	for (const char *p = arg; *p != '\0'; p++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
			   "Z"
			   "0123456789_@%+=:,./-",
			   *p) == NULL) {
			return false;
		}
	}
	return true;
}

/*
 * The wrapped command as a shell would take it back: each argument
 * apart, single-quoted when it is not a plain word, so "sh -c 'exit 3'"
 * is shown so and not as "sh -c exit 3".  A quote inside is '"'"' (no
 * backslash, which the text door would show doubled).  The joined line
 * when the arguments are unknown (a replay).  Allocated.
 */
static char *command_quoted(const struct report *r)
{
	size_t size = 1;
	size_t used = 0;
	char *line;

	if (r->argv == NULL) {
		return xstrdup(r->command != NULL ? r->command : "");
	}
	for (size_t i = 0; i < r->argc; i++) {
		size += 5 * strlen(r->argv[i]) + 3;
	}
	line = xmalloc(size);
	for (size_t i = 0; i < r->argc; i++) {
		const char *a = r->argv[i];

		if (i > 0) {
			line[used++] = ' ';
		}
		if (shell_plain(a)) {
			memcpy(line + used, a, strlen(a));
			used += strlen(a);
			continue;
		}
		line[used++] = '\'';
		for (const char *p = a; *p != '\0'; p++) {
			if (*p == '\'') {
				memcpy(line + used, "'\"'\"'", 5);
				used += 5;
			} else {
				line[used++] = *p;
			}
		}
		line[used++] = '\'';
	}
	line[used] = '\0';
	return line;
}

/* How many of the run's opens the samples missed: sessions that lived
 * less than a sample (a short test's, a cron job's), counted by the
 * server all the same. */
static void write_unseen_opens(FILE *out, const struct report *r)
{
	double unseen = r->sessions_opened_run - r->sessions_opened_seen;

	if (!(unseen >= 1)) {
		return;
	}
	fprintf(out,
		"; %.0f opened during the run, %.0f of them too short-lived "
		"for a sample to see",
		r->sessions_opened_run, unseen);
}
static void write_header(FILE *out, const struct report *r,
			 const struct text_style *st)
{
	char when[64];
	char span[32];
	char source[128];
	int used;

	units_format_utc(when, sizeof(when), r->ended_epoch_s,
			 UTC_DATE_TIME_ZONE);
	report_pooler_source_name(source, sizeof(source), r);
	used = fprintf(out, "pgdrip %s report, %s", r->mode, source);
	/* Empty when unknown (a replay): no dangling "as". */
	if (r->server.current_user[0] != '\0') {
		fputs(", as ", out);
		text_write_cut(out, r->server.current_user,
			       report_text_room_after(st, used + 5, 32),
			       st->utf8);
	}
	fputc('\n', out);
	if (r->server_label != NULL && r->server_label[0] != '\0') {
		fputs("server: ", out);
		/* On a terminal a long socket directory is cut rather than
		 * wrapped; a file gets it whole. */
		text_write_cut(out, r->server_label,
			       report_text_room_after(st, 8, 20), st->utf8);
		fputc('\n', out);
	}
	if (r->samples > 1) {
		units_format_duration(span, sizeof(span),
				      r->ended_epoch_s - r->started_epoch_s);
		fprintf(out, "%zu samples over %s every %gs, ended %s\n",
			r->samples, span, r->interval_s, when);
	} else {
		fprintf(out, "taken %s\n", when);
	}
	fprintf(out,
		r->server.source == SAMPLE_SOURCE_PGBOUNCER
			? "%d of %d client connections in use "
			  "(max_client_conn, %.1f%%)"
			: "%d of %d usable connections in use (%.1f%%)",
		r->total_all, r->usable_connections, r->usage_pct);
	if (r->total != r->total_all) {
		fprintf(out, "; %d selected", r->total);
	}
	fputc('\n', out);
	if (r->sessions_opened_per_min > 0 && r->samples > 1) {
		fprintf(out,
			"%.1f sessions opened a minute on the server "
			"(pg_stat_database)",
			r->sessions_opened_per_min);
		write_unseen_opens(out, r);
		fputc('\n', out);
	}
	if (r->server.idle_session_timeout_s > 0) {
		units_format_duration(span, sizeof(span),
				      r->server.idle_session_timeout_s);
		fprintf(out,
			"idle_session_timeout: %s (the server closes idle "
			"sessions: this can hide a leak)\n",
			span);
	}
	if (r->wrapped) {
		char *line = command_quoted(r);

		fputs("command: ", out);
		text_write_cut(out, line, report_text_room_after(st, 30, 20),
			       st->utf8);
		free(line);
		fprintf(out, " (exit status %d)\n", r->command_status);
	}
}

/* "pid 4242 (python3 -m pytest tests/), started by the wrapped command",
 * cut to the width after an indent of `indent` columns. */
static void write_process(FILE *out, const char *lead,
			  const struct report_process *p, int indent,
			  const struct text_style *st)
{
	static const char *const relation[] = {
		[CLIENT_RELATION_UNRELATED] = "",
		[CLIENT_RELATION_COMMAND] = ", the wrapped command",
		[CLIENT_RELATION_DESCENDANT] =
			", started by the wrapped command",
	};
	char line[700];
	char what[640];

	report_pooler_process_text(what, sizeof(what), p,
				   relation[p->relation]);
	snprintf(line, sizeof(line), "%s%s", lead, what);
	fprintf(out, "%*s", indent, "");
	text_write_cut(out, line, report_text_room_after(st, indent, 20),
		       st->utf8);
	fputc('\n', out);
}

static void write_holder(FILE *out, const struct report_group *g,
			 const struct text_style *st)
{
	char lead[64];

	if (g->holder.pid <= 0) {
		return;
	}
	/* The most it held at once, not the sessions the verdict counts
	 * ("up to 23" beside "left 22 unused"). */
	snprintf(lead, sizeof(lead), "up to %d held %s", g->holder_sessions,
		 report_pooler_is_via(&g->holder) ? "" : "by ");
	write_process(out, lead, &g->holder, 4, st);
}

static void write_idle_tx(FILE *out, const struct report *r,
			  const struct text_style *st)
{
	if (r->idle_tx_count == 0) {
		return;
	}
	fprintf(out, "\nIdle in transaction (%zu, oldest first):\n",
		r->idle_tx_count);
	fprintf(out, "  %-8s %-9s %9s %9s  %s\n", "PID", "STATE", "IDLE FOR",
		"XACT AGE", "ROLE/APPLICATION/DATABASE: QUERY");
	for (size_t i = 0; i < r->idle_tx_count; i++) {
		const struct report_session *s = &r->idle_tx[i];
		char idle[32];
		char xact[32];
		char who[600];

		snprintf(who, sizeof(who), "%s/%s/%s%s%s", s->user, s->app,
			 s->db, s->query[0] != '\0' ? ": " : "", s->query);
		units_format_duration(idle, sizeof(idle), s->idle_s);
		units_format_duration(xact, sizeof(xact), s->xact_age_s);
		fprintf(out, "  %-8d %-9s %9s %9s  ", s->pid,
			s->state == SESSION_STATE_IDLE_TX_ABORTED ? "aborted"
								  : "idle-tx",
			idle, xact);
		text_write_cut(out, who, report_text_room_after(st, 42, 20),
			       st->utf8);
		fputc('\n', out);
		if (s->client.pid > 0 || report_pooler_is_via(&s->client)) {
			write_process(out, "client: ", &s->client, 11, st);
		}
	}
}

/* "40s-9m", or one duration when both are about the same. */
static void format_range(char *buf, size_t len, double lo, double hi)
{
	char a[32];
	char b[32];

	units_format_duration(a, sizeof(a), lo);
	units_format_duration(b, sizeof(b), hi);
	if (strcmp(a, b) == 0) {
		snprintf(buf, len, "%s", a);
	} else {
		snprintf(buf, len, "%s-%s", a, b);
	}
}

/* The verdict in numbers: how many sessions sit unused, for how long,
 * whether any came back, how often one more is left. */
static void write_session_verdict(FILE *out, const struct report *r,
				  const struct report_group *g)
{
	const struct group_sessions *s = &g->sessions;
	char range[80];
	char every[32];

	if (r->wrapped) {
		double lo = INFINITY;
		double hi = 0;

		for (size_t i = 0; i < g->evidence_count; i++) {
			lo = fmin(lo, g->evidence[i].unused_s);
			hi = fmax(hi, g->evidence[i].unused_s);
		}
		format_range(range, sizeof(range), lo, hi);
		fprintf(out,
			"the command left %d session%s unused (another "
			"opened after each one's last use, and it was never "
			"used again), for %s",
			g->evidence_total, g->evidence_total == 1 ? "" : "s",
			range);
		return;
	}
	format_range(range, sizeof(range), s->unused_min_s, s->unused_max_s);
	fprintf(out, "%s%d of its %d open sessions unused for %s\n    %s",
		strcmp(g->verdict, "stuck") == 0 ? "stuck: " : "",
		s->abandoned + s->unused_long, s->tracked, range,
		s->exonerated == 0 ? "none reused"
				   : "some came back (the wait was raised)");
	if (isfinite(s->every_s)) {
		units_format_duration(every, sizeof(every), s->every_s);
		fprintf(out, ", one more left every ~%s", every);
	}
}

/* A trend needs two samples over some time: --once's one sample has
 * none to show ("+0.0/min over 0ms" said nothing). */
static bool trend_known(const struct report_group *g)
{
	return g->trend.points >= 2 && g->trend.span_s > 0;
}

/*
 * The count's second opinion, apart from the verdict: the slope, whether
 * the detector sees a steady trend in it (its confidence only then: a
 * verdict resting on sessions never sits beside "confidence 0%"), and
 * the forecast.  The slope times the span is left to the JSON
 * (net_growth): an estimate that can pass the count itself.
 */
static void write_trend(FILE *out, const struct report_group *g,
			const struct text_style *st)
{
	char span[32];

	units_format_duration(span, sizeof(span), g->trend.span_s);
	if (g->trend.flagged) {
		fprintf(out,
			"growth %+.1f/min over %s, a steady trend "
			"(confidence %.1f%%)",
			g->trend.slope_per_min, span,
			100 * g->trend.confidence);
	} else {
		fprintf(out, "count %+.1f/min over %s, no steady trend",
			g->trend.slope_per_min, span);
	}
	if (isfinite(g->forecast_s)) {
		char lim[300];
		char when[32];

		text_sanitize(lim, sizeof(lim), g->forecast_name,
			      strlen(g->forecast_name), st->utf8);
		units_format_duration(when, sizeof(when), g->forecast_s);
		if (g->forecast_kind == LIMIT_KIND_SERVER) {
			fprintf(out,
				"; exhausts the server's %d usable "
				"connections in %s",
				g->forecast_limit, when);
		} else if (g->forecast_kind == LIMIT_KIND_CLIENTS) {
			fprintf(out,
				"; exhausts the pooler's max_client_conn of "
				"%d in %s",
				g->forecast_limit, when);
		} else if (report_pooler_is_limit_kind(g->forecast_kind)) {
			/* "pool postgres/app's pool_size of 4" */
			fprintf(out, "; exhausts %s %s's %s of %d in %s",
				report_limit_kind_name(g->forecast_kind), lim,
				report_pooler_setting(g->forecast_kind),
				g->forecast_limit, when);
		} else {
			fprintf(out, "; exhausts %s %s's limit of %d in %s",
				report_limit_kind_name(g->forecast_kind), lim,
				g->forecast_limit, when);
		}
	}
}

/* The sessions the verdict rests on, so the user can line them up
 * with what the application did: when each opened, its last query. */
static void write_evidence(FILE *out, const struct report *r,
			   const struct report_group *g,
			   const struct text_style *st)
{
	size_t shown = g->evidence_count < 5 ? g->evidence_count : 5;

	for (size_t i = 0; i < shown; i++) {
		const struct report_evidence *e = &g->evidence[i];
		char opened[48];
		char unused[32];
		int query_width = report_text_room_after(st, 60, 20);

		units_format_utc(opened, sizeof(opened), e->opened_epoch_s,
				 UTC_TIME_ZONE);
		units_format_duration(unused, sizeof(unused), e->unused_s);
		fprintf(out, "    pid %d opened %s, unused %s%s: ", e->pid,
			opened, unused,
			isfinite(e->closed_epoch_s) ? " until it closed" : "");
		text_write_cut(out, e->query[0] ? e->query : "(no query)",
			       query_width, st->utf8);
		if (e->client.pid > 0) {
			fprintf(out, " (held by pid %d)", e->client.pid);
		}
		fputc('\n', out);
	}
	if (g->evidence_total > (int)g->evidence_count) {
		fprintf(out,
			"    ... and %d more (the JSON report lists the first "
			"%zu)\n",
			g->evidence_total - (int)shown, g->evidence_count);
	} else if (g->evidence_total > (int)shown) {
		fprintf(out, "    ... and %d more (all in the JSON report)\n",
			g->evidence_total - (int)shown);
	}
	(void)r;
}

static void write_leaks(FILE *out, const struct report *r,
			const struct text_style *st)
{
	bool any = false;

	for (size_t i = 0; i < r->group_count; i++) {
		const struct report_group *g = &r->groups[i];
		char label[500];
		char name[600];

		if (!g->flagged) {
			continue;
		}
		if (!any) {
			fputs(r->wrapped
				      ? "\nLeaks (sessions the command opened "
					"and left unused):\n"
				      : "\nLeaks (sessions left unused while "
					"others were opened):\n",
			      out);
			any = true;
		}
		report_group_label(r, g, label, sizeof(label));
		text_sanitize(name, sizeof(name), label, strlen(label),
			      st->utf8);
		fprintf(out, "  %s: ", name);
		if (g->by_sessions) {
			write_session_verdict(out, r, g);
			if (trend_known(g)) {
				fputs("\n    ", out);
				write_trend(out, g, st);
			}
		} else {
			fputs("(by its count alone: the server hides its "
			      "sessions' times) ",
			      out);
			write_trend(out, g, st);
		}
		fputc('\n', out);
		write_holder(out, g, st);
		write_evidence(out, r, g, st);
	}
}

/* A section's line for group g, "  label" (the heading first, when
 * *any is still false). */
static void write_group_line(FILE *out, const struct report *r,
			     const struct report_group *g,
			     const struct text_style *st, const char *heading,
			     bool *any)
{
	char label[500];

	if (!*any) {
		fputs(heading, out);
		*any = true;
	}
	report_group_label(r, g, label, sizeof(label));
	fputs("  ", out);
	text_write_cut(out, label, report_text_room_after(st, 40, 20),
		       st->utf8);
}

/* Groups with sessions unused past their wait yet not counted as
 * leaked, and why (sessions.listeners, sessions.resting). */
static void write_not_counted(FILE *out, const struct report *r,
			      const struct text_style *st)
{
	bool any = false;

	for (size_t i = 0; i < r->group_count; i++) {
		const struct report_group *g = &r->groups[i];
		const struct group_sessions *s = &g->sessions;

		if (s->listeners + s->resting == 0) {
			continue;
		}
		write_group_line(out, r, g, st,
				 "\nUnused, not counted as leaked:\n", &any);
		fputs(":", out);
		if (s->listeners > 0) {
			fprintf(out,
				" %d listening (LISTEN, waiting for "
				"notifications)%s",
				s->listeners, s->resting > 0 ? ";" : "");
		}
		if (s->resting > 0) {
			fprintf(out,
				" %d resting (the pool went quiet with "
				"them, its load fell, or it never handed "
				"them out)",
				s->resting);
		}
		fputc('\n', out);
	}
}

static void write_leftovers(FILE *out, const struct report *r,
			    const struct text_style *st)
{
	bool any = false;

	for (size_t i = 0; i < r->group_count; i++) {
		const struct report_group *g = &r->groups[i];

		/* Not leaked (left unused, closed or not, in Leaks above):
		 * what is open at the end, as the CONN column shows. */
		if (g->open_after <= 0) {
			continue;
		}
		write_group_line(out, r, g, st,
				 "\nStill open after the command:\n", &any);
		fprintf(out, ": %d more than the %d before it ran\n",
			g->open_after, g->baseline);
		write_holder(out, g, st);
	}
}

static void write_footer(FILE *out, const struct report *r,
			 const struct text_style *st)
{
	size_t failures = check_list_failures(&r->checks);

	if (r->warning_count > 0) {
		fputs("\nWarnings:\n", out);
		for (size_t i = 0; i < r->warning_count; i++) {
			char line[2048];

			text_sanitize(line, sizeof(line), r->warnings[i],
				      strlen(r->warnings[i]), st->utf8);
			fprintf(out, "  %s\n", line);
		}
	}
	if (r->checks.count > 0) {
		size_t unevaluated = check_list_unevaluated(&r->checks);

		fprintf(out, "\nChecks: %zu passed, %zu failed",
			r->checks.count - failures - unevaluated, failures);
		if (unevaluated > 0) {
			fprintf(out, ", %zu not evaluated", unevaluated);
		}
		fputc('\n', out);
	}
}

void report_text_write(FILE *out, const struct report *report,
		       const struct text_style *style)
{
	const struct report *r = report;

	if (r->samples == 0 && r->failed_samples > 0) {
		/* Never reached (one server of several): no figures to
		 * show, only why. */
		fputs("pgdrip: server ", out);
		text_write_cut(out, r->server_label,
			       report_text_room_after(style, 30, 20),
			       style->utf8);
		fputs(" could not be sampled\n", out);
		write_footer(out, r, style);
		return;
	}
	write_header(out, r, style);
	report_text_table_write(out, r, style);
	write_idle_tx(out, r, style);
	write_leaks(out, r, style);
	write_not_counted(out, r, style);
	report_text_sections_tests(out, r, style);
	report_hooks_write_text(out, r, style);
	write_leftovers(out, r, style);
	report_pooler_write_text(out, r, style);
	report_text_sections_limits(out, r, style);
	write_footer(out, r, style);
}

void report_text_format_check(char *buf, size_t len,
			      const struct check_result *c)
{
	if (strcmp(c->name, "max-usage") == 0) {
		snprintf(buf, len, "%.1f%% used (limit %.1f%%)", c->value,
			 c->limit);
	} else if (strcmp(c->name, "max-growth") == 0) {
		snprintf(buf, len, "growing %.1f/min (limit %.1f/min)",
			 c->value, c->limit);
	} else if (strcmp(c->name, "max-churn") == 0) {
		snprintf(buf, len, "opening %.1f sessions/min (limit %.1f/min)",
			 c->value, c->limit);
	} else if (strcmp(c->name, "fail-on-growth") == 0) {
		snprintf(buf, len, "is leaking (sessions left unused)");
	} else if (strcmp(c->name, "max-idle-tx") == 0) {
		snprintf(buf, len, "%.0f sessions (limit %.0f)", c->value,
			 c->limit);
	} else if (strcmp(c->name, "max-leaked-per-test") == 0) {
		snprintf(buf, len,
			 "%.0f session%s left open and never used again "
			 "(limit %.0f)",
			 c->value, c->value == 1 ? "" : "s", c->limit);
	} else if (strcmp(c->name, "max-unused") == 0) {
		snprintf(buf, len,
			 "%.0f open session%s unused for --max-unused's age "
			 "or longer (limit %.0f)",
			 c->value, c->value == 1 ? "" : "s", c->limit);
	} else if (strcmp(c->name, "max-leaked") == 0) {
		snprintf(buf, len, "%.0f leaked connections (limit %.0f)",
			 c->value, c->limit);
	} else {
		snprintf(buf, len, "%.0f connections (limit %.0f)", c->value,
			 c->limit);
	}
}

/* "pgdrip: check max-idle-tx not evaluated: ...: why", then the hint. */
static void write_unevaluated(FILE *out, const struct check_result *c,
			      const char *where, bool utf8)
{
	char reason[1100];

	text_sanitize(reason, sizeof(reason), c->reason, strlen(c->reason),
		      utf8);
	fprintf(out, "pgdrip: check %s not evaluated: %s: %s\n", c->name, where,
		reason);
	if (c->hint[0] != '\0') {
		text_sanitize(reason, sizeof(reason), c->hint, strlen(c->hint),
			      utf8);
		fprintf(out,
			"pgdrip: hint: %s (as a superuser) to let pgdrip "
			"see every session's state\n",
			reason);
	}
}

void report_text_write_breaches(FILE *out, const struct report *report,
				bool utf8)
{
	for (size_t i = 0; i < report->checks.count; i++) {
		const struct check_result *c = &report->checks.items[i];
		char where[1200];
		char value[128];

		if (c->ok) {
			continue;
		}
		text_sanitize(where, sizeof(where), c->where, strlen(c->where),
			      utf8);
		if (!c->evaluated) {
			write_unevaluated(out, c, where, utf8);
			continue;
		}
		report_text_format_check(value, sizeof(value), c);
		fprintf(out, "pgdrip: check %s failed: %s: %s\n", c->name,
			where, value);
	}
}
