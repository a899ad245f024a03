/*
 * report_prom.c - the Prometheus exposition of a report (see
 * report_prom.h).  Names follow Prometheus conventions: a pgdrip_ prefix,
 * seconds as the base unit, _total on counters, _ratio for 0..1.  The one
 * exception, pgdrip_group_growth_per_minute, keeps the unit every other
 * pgdrip output and --max-growth use, and says so in its name.
 */
#include "report_prom.h"

#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Printable ASCII that goes out as it is. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

/* One byte or sequence that is not plain; returns the bytes used. */
static size_t escape_one(FILE *out, const unsigned char *p, size_t len)
{
	unsigned cp;
	size_t n;

	if (p[0] == '"') {
		fputs("\\\"", out);
		return 1;
	}
	if (p[0] == '\\') {
		/* Two in the value, as in every pgdrip output, so that the
		 * text \xNN of a name never passes for a byte (and two names
		 * never make one series); each escaped for the format. */
		fputs("\\\\\\\\", out);
		return 1;
	}
	if (p[0] == '\n') {
		fputs("\\n", out);
		return 1;
	}
	n = p[0] >= 0x80 ? utf8_decode(p, len, &cp) : 0;
	if (n > 0 && cp >= 0xA0 && !utf8_is_hidden(cp)) {
		fwrite(p, 1, n, out);
		return n;
	}
	/* C0, DEL and C1 controls are allowed raw by the format, but a
	 * terminal showing a scrape would obey them (and the invisible
	 * ones of utf8_is_hidden hide or move text); bytes that are not
	 * UTF-8 cannot go out raw at all: the text \xNN for each byte. */
	n = n > 0 ? n : 1;
	for (size_t k = 0; k < n; k++) {
		fprintf(out, "\\\\x%02x", p[k]);
	}
	return n;
}

void report_prom_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	size_t i = 0;

	while (i < len) {
		size_t run = i;

		/* Runs of plain bytes in one write: most names are. */
		while (run < len && plain(p[run])) {
			run++;
		}
		fwrite(p + i, 1, run - i, out);
		i = run;
		if (i < len) {
			i += escape_one(out, p + i, len - i);
		}
	}
}

/* Numbers as Go's ParseFloat reads them; C locale digits (main sets
 * LC_NUMERIC to "C"; a ',' is replaced all the same). */
static void write_value(FILE *out, double v)
{
	char buf[64];

	if (isnan(v)) {
		fputs("NaN", out);
		return;
	}
	if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", out);
		return;
	}
	if (fabs(v) < 1e15 && v == (double)(long long)v) {
		/* Counts, most values: no float formatting (500 groups give
		 * thousands of series per sample). */
		long long n = (long long)v;
		char *p = buf + sizeof(buf) - 1;

		*p = '\0';
		do {
			*--p = (char)('0' + (n < 0 ? -(n % 10) : n % 10));
			n /= 10;
		} while (n != 0);
		if (v < 0) {
			*--p = '-';
		}
		fputs(p, out);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	for (char *c = buf; *c != '\0'; c++) {
		if (*c == ',') {
			*c = '.';
		}
	}
	fputs(buf, out);
}

static void family(FILE *out, const char *name, const char *type,
		   const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{server="..." and more labels follow with label(); close with
 * value(). */
static void series(FILE *out, const struct report *r, const char *name)
{
	fputs(name, out);
	fputs("{server=\"", out);
	report_prom_escape(out, r->server_label);
	fputc('"', out);
}

static void label(FILE *out, const char *name, const char *value)
{
	fputc(',', out);
	fputs(name, out);
	fputs("=\"", out);
	report_prom_escape(out, value != NULL ? value : "");
	fputc('"', out);
}

static void value(FILE *out, double v)
{
	fputs("} ", out);
	write_value(out, v);
	fputc('\n', out);
}

/* The reports of one exposition (one per server); every family lists
 * the series of all of them together, as parsers require. */
struct reports {
	const struct report *const *r;
	size_t n;
};

/* A family with one series per server and no other label; NAN leaves
 * a server's series out. */
struct server_family {
	const char *name;
	const char *type;
	const char *help;
	double (*get)(const struct report *r);
};

static double s_up(const struct report *r)
{
	return r->up ? 1 : 0;
}

static double s_samples(const struct report *r)
{
	return (double)r->samples;
}

static double s_failures(const struct report *r)
{
	return (double)r->failed_samples;
}

static double s_reconnects(const struct report *r)
{
	return (double)r->reconnects;
}

static double s_duration(const struct report *r)
{
	return r->last_sample_s;
}

static double s_sampled_at(const struct report *r)
{
	return r->last_sample_epoch_s;
}

static double s_cpu(const struct report *r)
{
	return isfinite(r->self_cpu_s) ? r->self_cpu_s : NAN;
}

static double s_listen_refused(const struct report *r)
{
	return r->listen_refused_total;
}

static double s_max_connections(const struct report *r)
{
	return r->server.max_connections;
}

static double s_usable(const struct report *r)
{
	return r->usable_connections;
}

static double s_all(const struct report *r)
{
	return r->total_all;
}

static double s_selected(const struct report *r)
{
	return r->total;
}

static double s_idle_tx(const struct report *r)
{
	return (double)r->idle_tx_count;
}

static double s_idle_tx_over_age(const struct report *r)
{
	int over = 0;

	for (size_t i = 0; i < r->idle_tx_count; i++) {
		over += r->idle_tx[i].over_age;
	}
	return over;
}

static double s_idle_tx_oldest(const struct report *r)
{
	double oldest = NAN;

	for (size_t i = 0; i < r->idle_tx_count; i++) {
		oldest = fmax(oldest, r->idle_tx[i].idle_s);
	}
	return oldest;
}

static double s_sessions_opened(const struct report *r)
{
	return r->sessions_opened_total;
}

static const struct server_family self_families[] = {
	{"pgdrip_up", "gauge",
	 "1 when the last sample of the server succeeded, else 0", s_up},
	{"pgdrip_samples_total", "counter", "Samples taken successfully",
	 s_samples},
	{"pgdrip_sample_failures_total", "counter",
	 "Samples that failed (query error, lost connection)", s_failures},
	{"pgdrip_reconnects_total", "counter",
	 "Times the monitoring session was re-established after a loss",
	 s_reconnects},
	{"pgdrip_sample_duration_seconds", "gauge",
	 "Query round trip of the last successful sample", s_duration},
	{"pgdrip_last_sample_timestamp_seconds", "gauge",
	 "Unix time of the last successful sample", s_sampled_at},
	{"pgdrip_process_cpu_seconds_total", "counter",
	 "CPU time pgdrip itself has used (user and system)", s_cpu},
	/* Like the CPU time, pgdrip's own: with several servers the one
	 * listener's count is on each of them. */
	{"pgdrip_listen_refused_total", "counter",
	 "Connections to --listen refused (too many from one address, or in "
	 "all), closed to make room for a newer one, or closed (no whole "
	 "request in time)",
	 s_listen_refused},
	{"pgdrip_server_max_connections", "gauge",
	 "The server's max_connections", s_max_connections},
	{"pgdrip_server_sessions_opened_total", "counter",
	 "Sessions the server's databases ever had (pg_stat_database, "
	 "PostgreSQL 14 on; absent before): churn that samples miss",
	 s_sessions_opened},
	{"pgdrip_server_usable_connections", "gauge",
	 "max_connections less the reserved slots", s_usable},
	{"pgdrip_server_connections", "gauge",
	 "Client sessions on the server, unfiltered", s_all},
	{"pgdrip_selected_connections", "gauge",
	 "Client sessions passing the --app/--user/--db filters", s_selected},
};

static const struct server_family idle_tx_families[] = {
	{"pgdrip_idle_in_transaction_sessions", "gauge",
	 "Selected sessions idle in transaction (aborted included)", s_idle_tx},
	{"pgdrip_idle_in_transaction_over_age_sessions", "gauge",
	 "Of those, idle at least --idle-tx-age", s_idle_tx_over_age},
	{"pgdrip_idle_in_transaction_oldest_seconds", "gauge",
	 "How long the oldest of them has been idle (absent: none)",
	 s_idle_tx_oldest},
};

static void write_server_families(FILE *out, const struct reports *rs,
				  const struct server_family *f, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		family(out, f[k].name, f[k].type, f[k].help);
		for (size_t i = 0; i < rs->n; i++) {
			double v = f[k].get(rs->r[i]);

			if (!isnan(v)) {
				series(out, rs->r[i], f[k].name);
				value(out, v);
			}
		}
	}
}

static void write_build_info(FILE *out, const struct reports *rs,
			     const char *version)
{
	family(out, "pgdrip_build_info", "gauge",
	       "Always 1; the version label is pgdrip's");
	for (size_t i = 0; i < rs->n; i++) {
		series(out, rs->r[i], "pgdrip_build_info");
		label(out, "version", version);
		value(out, 1);
	}
}

static void write_breakdown(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->breakdown_count; i++) {
		const struct report_breakdown *b = &r->breakdown[i];

		series(out, r, "pgdrip_connections");
		label(out, "user", b->user);
		label(out, "application", b->app);
		label(out, "database", b->db);
		label(out, "state", sample_state_name(b->state));
		if (b->other) {
			label(out, "other", "true");
		}
		value(out, b->connections);
	}
}

static void limit_series(FILE *out, const struct report *r,
			 const struct report_limit *l, const char *name)
{
	series(out, r, name);
	label(out, "kind", report_limit_kind_name(l->kind));
	if (l->kind != LIMIT_KIND_SERVER && l->kind != LIMIT_KIND_CLIENTS) {
		label(out, "name", l->name);
	}
}

static void write_limits(FILE *out, const struct reports *rs)
{
	static const struct {
		const char *name;
		const char *help;
	} f[] = {
		{"pgdrip_limit_connections",
		 "A connection limit: kind server (usable connections), role "
		 "or database (CONNECTION LIMIT); on PgBouncer's console "
		 "clients (max_client_conn), pool (pool_size), pool_database, "
		 "pool_user, client_database, client_user"},
		{"pgdrip_limit_used_connections",
		 "Sessions counting against the limit, unfiltered"},
		{"pgdrip_limit_usage_ratio",
		 "Used over limit (1 when the limit is 0 and used)"},
	};

	for (size_t k = 0; k < PGD_ARRAY_LEN(f); k++) {
		family(out, f[k].name, "gauge", f[k].help);
		for (size_t i = 0; i < rs->n; i++) {
			const struct report *r = rs->r[i];

			for (size_t j = 0; j < r->limit_count; j++) {
				const struct report_limit *l = &r->limits[j];

				limit_series(out, r, l, f[k].name);
				value(out, k == 0   ? l->limit
					   : k == 1 ? l->used
						    : l->usage_pct / 100.0);
			}
		}
	}
}

/* PgBouncer's pools (the console as the source): SHOW POOLS, per pool. */
struct pool_family {
	const char *name;
	const char *help;
	double (*get)(const struct pooler_pool *p);
};

/* -1 is a count the pooler's version does not show: no series. */
static double count_or_nan(int v)
{
	return v < 0 ? NAN : v;
}

static double p_cl_active(const struct pooler_pool *p)
{
	return count_or_nan(p->cl_active);
}

static double p_cl_waiting(const struct pooler_pool *p)
{
	return count_or_nan(p->cl_waiting);
}

static double p_sv_active(const struct pooler_pool *p)
{
	return count_or_nan(p->sv_active);
}

static double p_sv_idle(const struct pooler_pool *p)
{
	return count_or_nan(p->sv_idle);
}

static double p_sv_used(const struct pooler_pool *p)
{
	return count_or_nan(p->sv_used);
}

static double p_maxwait(const struct pooler_pool *p)
{
	return p->maxwait_s;
}

static double p_pool_size(const struct pooler_pool *p)
{
	return count_or_nan(p->pool_size);
}

static const struct pool_family pool_families[] = {
	{"pgdrip_pool_client_active_connections",
	 "PgBouncer cl_active: client connections linked to a server or idle",
	 p_cl_active},
	{"pgdrip_pool_client_waiting_connections",
	 "PgBouncer cl_waiting: clients queued for a server connection",
	 p_cl_waiting},
	{"pgdrip_pool_server_active_connections",
	 "PgBouncer sv_active: server connections linked to a client",
	 p_sv_active},
	{"pgdrip_pool_server_idle_connections",
	 "PgBouncer sv_idle: server connections ready for a client", p_sv_idle},
	{"pgdrip_pool_server_used_connections",
	 "PgBouncer sv_used: server connections idle, to be checked",
	 p_sv_used},
	{"pgdrip_pool_max_wait_seconds",
	 "PgBouncer maxwait: how long the oldest waiting client has waited",
	 p_maxwait},
	{"pgdrip_pool_size_connections",
	 "The pool's pool_size: server connections it may open", p_pool_size},
};

static void write_pools(FILE *out, const struct reports *rs)
{
	bool any = false;

	for (size_t i = 0; i < rs->n; i++) {
		any |= rs->r[i]->pool_count > 0;
	}
	for (size_t f = 0; any && f < PGD_ARRAY_LEN(pool_families); f++) {
		const struct pool_family *pf = &pool_families[f];

		family(out, pf->name, "gauge", pf->help);
		for (size_t i = 0; i < rs->n; i++) {
			const struct report *r = rs->r[i];

			for (size_t j = 0; j < r->pool_count; j++) {
				const struct pooler_pool *p = &r->pools[j];
				double v = pf->get(p);

				if (isnan(v)) {
					continue;
				}
				series(out, r, pf->name);
				label(out, "database", p->database);
				label(out, "user", p->user);
				label(out, "mode", p->mode);
				value(out, v);
			}
		}
	}
}

/* What one group family shows; NAN leaves the series out. */
struct group_family {
	const char *name;
	const char *help;
	double (*get)(const struct report_group *g);
};

static double g_connections(const struct report_group *g)
{
	return g->connections;
}

static double g_baseline(const struct report_group *g)
{
	return g->baseline;
}

static double g_peak(const struct report_group *g)
{
	return g->peak;
}

static double g_slope(const struct report_group *g)
{
	return g->trend.slope_per_min;
}

static double g_confidence(const struct report_group *g)
{
	return g->trend.confidence;
}

static double g_flagged(const struct report_group *g)
{
	return g->flagged ? 1 : 0;
}

/* Not growing: no series rather than +Inf, which graphs and averages
 * cannot use; "< 900" alerts behave the same either way. */
static double g_forecast(const struct report_group *g)
{
	return isfinite(g->forecast_s) ? g->forecast_s : NAN;
}

static double g_idle_tx(const struct report_group *g)
{
	return g->oldest_idle_tx_s;
}

/* The session verdict's evidence; absent where it rests on counts. */
static double g_abandoned(const struct report_group *g)
{
	return g->by_sessions ? (double)g->evidence_total : NAN;
}

static double g_stuck(const struct report_group *g)
{
	return g->verdict != NULL && strcmp(g->verdict, "stuck") == 0 ? 1 : 0;
}

static double g_unused_max(const struct report_group *g)
{
	return g->by_sessions ? g->sessions.unused_max_s : NAN;
}

static double g_opened_per_min(const struct report_group *g)
{
	return g->opened_per_min;
}

static double g_lifetime(const struct report_group *g)
{
	return g->median_lifetime_s;
}

static const struct group_family group_families[] = {
	{"pgdrip_group_connections", "Sessions of the group at the last sample",
	 g_connections},
	{"pgdrip_group_baseline_connections",
	 "Sessions of the group at the first sample", g_baseline},
	{"pgdrip_group_peak_connections", "Most sessions the group has held",
	 g_peak},
	{"pgdrip_group_growth_per_minute",
	 "Robust slope of the group's count over --window, sessions per "
	 "minute",
	 g_slope},
	{"pgdrip_group_growth_confidence_ratio",
	 "Confidence that the growth is a steady trend (1 - p)", g_confidence},
	{"pgdrip_group_leak_flagged",
	 "1 when the group is leaking: abandoned sessions accumulate (or, "
	 "where sessions' times are hidden, its count grows steadily)",
	 g_flagged},
	{"pgdrip_group_abandoned_sessions",
	 "Sessions left unused while others were opened, past the group's "
	 "own reuse gaps (absent: the verdict rests on counts)",
	 g_abandoned},
	{"pgdrip_group_leak_stuck",
	 "1 when abandoned sessions hold most of the group (a pool leaked "
	 "full)",
	 g_stuck},
	{"pgdrip_group_abandoned_unused_max_seconds",
	 "How long the group's longest-abandoned session has been unused "
	 "(absent: none)",
	 g_unused_max},
	{"pgdrip_group_sessions_opened_per_minute",
	 "Sessions the group opened per minute lately (churn; absent: none "
	 "seen)",
	 g_opened_per_min},
	{"pgdrip_group_session_median_lifetime_seconds",
	 "Median lifetime of the group's sessions seen closing (absent: none)",
	 g_lifetime},
	{"pgdrip_group_exhaustion_forecast_seconds",
	 "Seconds until the group's growth exhausts the nearest server, role "
	 "or database limit, or the pooler's (absent: not growing)",
	 g_forecast},
	{"pgdrip_group_oldest_idle_in_transaction_seconds",
	 "Idle time of the group's oldest session idle in transaction (absent: "
	 "none)",
	 g_idle_tx},
};

static void group_series(FILE *out, const struct report *r,
			 const struct report_group *g, const char *name)
{
	series(out, r, name);
	for (size_t k = 0; k < r->keys.count; k++) {
		enum group_key key = r->keys.keys[k];

		label(out, match_group_key_name(key), g->keys[key]);
	}
	if (g->other) {
		label(out, "other", "true");
	}
}

static void write_groups(FILE *out, const struct reports *rs)
{
	for (size_t f = 0; f < PGD_ARRAY_LEN(group_families); f++) {
		const struct group_family *gf = &group_families[f];

		family(out, gf->name, "gauge", gf->help);
		for (size_t i = 0; i < rs->n; i++) {
			const struct report *r = rs->r[i];

			for (size_t j = 0; j < r->group_count; j++) {
				double v = gf->get(&r->groups[j]);

				if (!isnan(v)) {
					group_series(out, r, &r->groups[j],
						     gf->name);
					value(out, v);
				}
			}
		}
	}
}

void report_prom_write_many(FILE *out, const struct report *const *reports,
			    size_t count, const char *pgdrip_version)
{
	struct reports rs = {reports, count};

	/* Comments are ignored by parsers; a reader of the file or of a
	 * scrape still sees what the text report would warn about. */
	for (size_t i = 0; i < count; i++) {
		for (size_t w = 0; w < reports[i]->warning_count; w++) {
			fputs("# warning: ", out);
			report_prom_escape(out, reports[i]->warnings[w]);
			fputc('\n', out);
		}
	}
	write_server_families(out, &rs, self_families,
			      PGD_ARRAY_LEN(self_families));
	write_build_info(out, &rs, pgdrip_version);
	family(out, "pgdrip_connections", "gauge",
	       "Selected client sessions by user, application, database and "
	       "state at the last sample (absent: none)");
	for (size_t i = 0; i < count; i++) {
		write_breakdown(out, reports[i]);
	}
	write_limits(out, &rs);
	write_pools(out, &rs);
	write_server_families(out, &rs, idle_tx_families,
			      PGD_ARRAY_LEN(idle_tx_families));
	write_groups(out, &rs);
}

void report_prom_write(FILE *out, const struct report *report,
		       const char *pgdrip_version)
{
	report_prom_write_many(out, &report, 1, pgdrip_version);
}
