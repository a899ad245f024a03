/*
 * wire.c - the sample query's text, the merge of its rows with the last
 * sample, and libpq's failure messages classified (see wire.h).
 */
#include "wire.h"

#include "session.h"
#include "units.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the query ---- */

/* Moments as epoch seconds (ages are worked out against the server's
 * clock, its own row 'n'), so a session's identity and its last use
 * can be followed from sample to sample.
 * date_part() rather than extract(): float8 on every version, where
 * extract() returns the slower numeric from 14 on.
 * pg_stat_get_activity() rather than the pg_stat_activity view: the
 * view joins pg_authid and pg_database for every row, changed or not;
 * here a changed row alone is named (pg_get_userbyid is a cache lookup;
 * a role dropped under its session reads "unknown (OID=n)").
 * Sessions of other roles come back with backend_type NULL when we lack
 * pg_read_all_stats: count them (a role and a database), skip background
 * processes (no role, or like the logical replication launcher, a role
 * but no database).  Parallel workers are not client backends and are
 * left out where backend_type shows; for hidden rows leader_pid (13+)
 * is NULL as well, and only datid, pid, usesysid, application_name,
 * backend_xid and backend_xmin remain, which a worker shares with its
 * leader: such a worker is counted, and the report says so (report.c). */
static const char sample_sql[] =
	"SELECT CASE WHEN NOT k.session THEN 'b' WHEN c.f THEN 's' "
	"ELSE 'u' END, a.pid::text, "
	"CASE WHEN c.f THEN pg_get_userbyid(a.usesysid)::text END, "
	"CASE WHEN c.f THEN a.application_name END, "
	"CASE WHEN c.f THEN d.datname::text END, "
	"CASE WHEN c.f THEN host(a.client_addr) END, "
	"CASE WHEN c.f THEN a.client_port::text END, "
	"CASE WHEN c.f THEN a.state END, "
	"a.wait_event_type, a.wait_event, "
	"CASE WHEN c.f THEN date_part('epoch', a.backend_start)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.xact_start)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.state_change)::text END, "
	"CASE WHEN c.f THEN date_part('epoch', a.query_start)::text END, "
	"CASE WHEN c.f THEN left(a.query, %d) END "
	"FROM pg_stat_get_activity(NULL) a "
	"CROSS JOIN LATERAL (SELECT a.pid <> pg_backend_pid() AND "
	"coalesce(a.backend_type = 'client backend', a.usesysid IS NOT NULL "
	"AND a.datid IS NOT NULL) AS session) k "
	"CROSS JOIN LATERAL (SELECT k.session AND coalesce(greatest("
	"a.backend_start, a.xact_start, a.state_change, a.query_start) > "
	"to_timestamp(%s), true) AS f) c "
	"LEFT JOIN pg_database d ON d.oid = a.datid "
	"WHERE NOT k.session OR c.f OR a.state IS DISTINCT FROM 'idle' "
	"UNION ALL SELECT 'U', string_agg(pg_stat_get_backend_pid(i)::text, "
	"','), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, NULL FROM pg_stat_get_backend_idset() i "
	"UNION ALL SELECT 'n', NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, date_part('epoch', clock_timestamp())::text, "
	"date_part('epoch', now())::text, NULL, NULL, NULL "
	"UNION ALL SELECT 'r', NULL, rolname, rolconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_roles WHERE rolconnlimit >= 0 "
	"UNION ALL SELECT 'd', NULL, datname, datconnlimit::text, NULL, NULL, "
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
	"FROM pg_database WHERE datconnlimit >= 0%s";

/*
 * Only what changed: a session none of whose moments (backend_start,
 * xact_start, state_change, query_start) moved since the last sample's
 * transaction began comes back as an 'u' row, its pid and wait event
 * alone, and the rest is the last sample's.  Every change of state,
 * query, application_name (a SET is a query) or transaction moves one
 * of them; the wait event of a long query does not, so it always comes.
 * An unchanged idle session has no wait event to follow (it waits for
 * its client), so it is no row at all: the 'U' row lists every pid the
 * server's status snapshot holds (pg_stat_get_backend_idset(), read
 * from the same snapshot as pg_stat_get_activity(), and far cheaper
 * than a second pass over its rows), and a pid listed there that is no
 * row is an unchanged idle session.  Every process that is not a
 * session comes as a 'b' row, its pid alone: a pid the kernel gave to
 * a background worker since the last sample can never pass for the
 * session that had it.  On a steady server: a few rows for the server
 * to send and for libpq to parse, not thousands.  (The margin:
 * WIRE_DELTA_MARGIN_S.)  Hidden sessions
 * have no moments and always come whole.
 */
/* PostgreSQL 14 counts every session a database ever had: the exact
 * churn that samples, seeing only the sessions open at that moment,
 * miss. */
static const char sessions_sql[] =
	" UNION ALL SELECT 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
	"NULL, NULL, (SELECT sum(sessions) FROM pg_stat_database)::text, "
	"NULL, NULL, NULL, NULL";

void wire_sample_query(char *buf, size_t size, const char *since,
		       int version_num)
{
	snprintf(buf, size, sample_sql, SAMPLE_QUERY_MAX, since,
		 version_num >= 140000 ? sessions_sql : "");
}

double wire_changes_since(bool have_previous, double previous_tx_epoch_s,
			  double delivered_tx_epoch_s)
{
	if (!have_previous || isnan(delivered_tx_epoch_s) ||
	    previous_tx_epoch_s != delivered_tx_epoch_s) {
		return 0;
	}
	return delivered_tx_epoch_s - WIRE_DELTA_MARGIN_S;
}

/* ---- the merge ---- */

void wire_delta_init(struct wire_delta *d)
{
	memset(d, 0, sizeof(*d));
}

void wire_delta_finish(struct wire_delta *d)
{
	if (d != NULL) {
		pidmap_finish(&d->previous_rows);
		pidmap_finish(&d->row_pids);
	}
}

void wire_delta_begin(struct wire_delta *d)
{
	d->previous_indexed = false;
	d->previous_next = 0;
}

/* Row r's cell col. */
static const char *cell(const char *const *cells, size_t r, enum wire_col col)
{
	return cells[r * WIRE_COL_COUNT + col];
}

static void add_session(struct sample *sample, const char *const *cells,
			size_t r)
{
	struct session *s = sample_add_session(sample);

	s->pid = wire_parse_int(cell(cells, r, WIRE_COL_PID), 0);
	s->user = sample_strdup(sample, cell(cells, r, WIRE_COL_USER));
	s->app = sample_strdup(sample, cell(cells, r, WIRE_COL_APP));
	s->db = sample_strdup(sample, cell(cells, r, WIRE_COL_DB));
	s->client_addr = sample_strdup(sample, cell(cells, r, WIRE_COL_ADDR));
	s->client_port = wire_parse_int(cell(cells, r, WIRE_COL_PORT), 0);
	s->state = sample_state_parse(cell(cells, r, WIRE_COL_STATE));
	s->wait_event_type = sample_strdup(sample,
					   cell(cells, r, WIRE_COL_WAIT_TYPE));
	s->wait_event = sample_strdup(sample, cell(cells, r, WIRE_COL_WAIT));
	/* The identity's start, to the microsecond, once (session.h). */
	s->backend_start_us = session_start_us(
		units_parse_number(cell(cells, r, WIRE_COL_BACKEND_START)));
	s->xact_start_epoch_s = units_parse_number(
		cell(cells, r, WIRE_COL_XACT_START));
	s->state_change_epoch_s = units_parse_number(
		cell(cells, r, WIRE_COL_STATE_CHANGE));
	s->query_start_epoch_s = units_parse_number(
		cell(cells, r, WIRE_COL_QUERY_START));
	s->query = sample_strndup_utf8(sample, cell(cells, r, WIRE_COL_QUERY),
				       SAMPLE_QUERY_MAX);
}

/* The last sample's session pid, copied into sample; NULL when the
 * last sample has no such pid (it cannot be trusted to hold the rest:
 * the sample is asked for again, whole).  The pid names one session:
 * a new one on the pid would have come as a changed row. */
static struct session *copy_unchanged(struct wire_delta *d,
				      struct sample *sample,
				      const struct sample *prev, int pid)
{
	struct session *s;
	size_t i;

	if (prev == NULL) {
		return NULL;
	}
	if (!d->previous_indexed) {
		pidmap_reset(&d->previous_rows, prev->session_count);
		for (size_t k = 0; k < prev->session_count; k++) {
			pidmap_put(&d->previous_rows, prev->sessions[k].pid, k);
		}
		d->previous_indexed = true;
	}
	/* Rows come in the server's slot order, the same from sample to
	 * sample: the row after the last one found is nearly always it. */
	i = d->previous_next;
	if (i >= prev->session_count || prev->sessions[i].pid != pid) {
		if (!pidmap_get(&d->previous_rows, pid, &i)) {
			return NULL;
		}
	}
	d->previous_next = i + 1;
	s = sample_add_copy(sample, &prev->sessions[i]);
	/* Attribution looks the client up anew (from its own cache). */
	s->client_pid = 0;
	s->client_command = "";
	s->client_relation = CLIENT_RELATION_UNRELATED;
	return s;
}

/* An unchanged session ('u'), with its wait event as now. */
static bool add_unchanged(struct wire_delta *d, struct sample *sample,
			  const struct sample *prev, const char *const *cells,
			  size_t r)
{
	struct session *s =
		copy_unchanged(d, sample, prev,
			       wire_parse_int(cell(cells, r, WIRE_COL_PID), 0));

	if (s == NULL) {
		return false;
	}
	s->wait_event_type = sample_strdup(sample,
					   cell(cells, r, WIRE_COL_WAIT_TYPE));
	s->wait_event = sample_strdup(sample, cell(cells, r, WIRE_COL_WAIT));
	return true;
}

/* The unchanged idle sessions: the pids of the 'U' row (a comma list,
 * NULL for none) that are no row of this sample. */
static bool add_unchanged_idle(struct wire_delta *d, struct sample *sample,
			       const struct sample *prev, const char *pids)
{
	const char *at = pids;
	size_t ignored;

	while (at != NULL && *at != '\0') {
		char *end;
		long pid = strtol(at, &end, 10);

		if (end == at || pid <= 0 || pid > INT_MAX ||
		    (*end != ',' && *end != '\0')) {
			return false;
		}
		if (!pidmap_get(&d->row_pids, (int)pid, &ignored) &&
		    copy_unchanged(d, sample, prev, (int)pid) == NULL) {
			return false;
		}
		at = *end == ',' ? end + 1 : end;
	}
	return true;
}

/* A row that is no session: the server's clock, the count of sessions
 * ever, a limit. */
static void add_other(struct sample *sample, const char *const *cells, size_t r,
		      char kind)
{
	if (kind == 'n') {
		sample->server_epoch_s = units_parse_number(
			cell(cells, r, WIRE_COL_BACKEND_START));
		sample->server_tx_epoch_s = units_parse_number(
			cell(cells, r, WIRE_COL_XACT_START));
	} else if (kind == 'x') {
		sample->sessions_opened_total = units_parse_number(
			cell(cells, r, WIRE_COL_BACKEND_START));
	} else if (kind == 'r') {
		sample_add_role_limit(
			sample, cell(cells, r, WIRE_COL_USER),
			wire_parse_int(cell(cells, r, WIRE_COL_APP), -1));
	} else if (kind == 'd') {
		sample_add_db_limit(sample, cell(cells, r, WIRE_COL_USER),
				    wire_parse_int(cell(cells, r, WIRE_COL_APP),
						   -1));
	}
}

bool wire_delta_fill(struct wire_delta *d, struct sample *sample,
		     const struct sample *previous, const char *const *cells,
		     size_t rows)
{
	const char *unchanged_idle = NULL;

	pidmap_reset(&d->row_pids, rows);
	for (size_t r = 0; r < rows; r++) {
		const char *tag = cell(cells, r, WIRE_COL_KIND);
		char kind = tag != NULL ? tag[0] : '\0';

		if (kind == 's' || kind == 'u' || kind == 'b') {
			/* A session, changed or busy, or not a session ('b'):
			 * whatever the list says, not an unchanged idle one. */
			int pid = wire_parse_int(cell(cells, r, WIRE_COL_PID),
						 0);

			if (pid > 0) {
				pidmap_put(&d->row_pids, pid, 0);
			}
		}
		if (kind == 's') {
			add_session(sample, cells, r);
		} else if (kind == 'u') {
			if (!add_unchanged(d, sample, previous, cells, r)) {
				return false;
			}
		} else if (kind == 'U') {
			unchanged_idle = cell(cells, r, WIRE_COL_PID);
		} else {
			add_other(sample, cells, r, kind);
		}
	}
	/* Once every row is in, so that a pid listed is known to be no
	 * row; the list comes whatever the rows' order. */
	if (!add_unchanged_idle(d, sample, previous, unchanged_idle)) {
		return false;
	}
	sample_set_ages(sample);
	return true;
}

/* ---- failures ---- */

int wire_parse_int(const char *s, int fallback)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0') {
		return fallback;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < -2147483647L || v > 2147483647L) {
		return fallback;
	}
	return (int)v;
}

bool wire_error_slot_refusal(const char *msg)
{
	static const char *const needles[] = {
		"too many clients already",
		"too many connections for role",
		"too many connections for database",
		"remaining connection slots are reserved",
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(needles); i++) {
		if (strstr(msg, needles[i]) != NULL) {
			return true;
		}
	}
	return false;
}

/*
 * Failures that a server restart or a moment of network trouble explain
 * are retried within --retry-for.  libpq tries every address a host
 * name has and reports each: a server that answered with a FATAL error
 * (bad password, unknown role or database) will answer the same again,
 * whatever other addresses said, so that is never retried.
 */
bool wire_error_transient(const char *msg)
{
	static const char *const healing[] = {
		"the database system is starting up",
		"the database system is shutting down",
		"the database system is in recovery mode",
		"the database system is not yet accepting connections",
		"the database system is not accepting connections",
	};
	static const char *const network[] = {
		"Connection refused",
		"No such file or directory",
		"timeout expired",
		"Connection timed out",
		"server closed the connection unexpectedly",
		"No route to host",
		"Network is unreachable",
		"Connection reset by peer",
	};

	for (size_t i = 0; i < PGD_ARRAY_LEN(healing); i++) {
		if (strstr(msg, healing[i]) != NULL) {
			return true;
		}
	}
	if (strstr(msg, "FATAL:") != NULL) {
		return false;
	}
	for (size_t i = 0; i < PGD_ARRAY_LEN(network); i++) {
		if (strstr(msg, network[i]) != NULL) {
			return true;
		}
	}
	return false;
}
