/*
 * wire.h - the sample query's contract with the server, pure: its text,
 * the columns of its rows, and the merge of what a sample sends (only
 * what changed) with the last sample into a whole sample; and the rules
 * that classify libpq's failure messages.  poll.c holds the connection
 * and hands the rows over as text cells.
 *
 * Rows come tagged by kind in the first column:
 *   's'  a session that changed: every column
 *   'u'  a session unchanged since the last sample's transaction began:
 *        its pid and wait event alone, the rest the last sample's (a new
 *        session on a reused pid has a new backend_start, so it is an
 *        's' row: an 'u' row's identity is the last sample's row's)
 *   'U'  one row: every pid of the server's status snapshot, a comma
 *        list; a pid listed that is no row is an unchanged idle session
 *   'b'  a process that is no session (its pid alone)
 *   'n'  the server's clock (backend_start column) and its transaction's
 *        start (xact_start column)
 *   'x'  pg_stat_database's count of sessions ever (backend_start)
 *   'r'  'd' a role's or a database's connection limit (user, app)
 */
#ifndef PGDRIP_WIRE_H
#define PGDRIP_WIRE_H

#include "pidmap.h"
#include "sample.h"

#include <stdbool.h>
#include <stddef.h>

/* Columns of a row, the kind tag first. */
enum wire_col {
	WIRE_COL_KIND,
	WIRE_COL_PID,
	WIRE_COL_USER,
	WIRE_COL_APP,
	WIRE_COL_DB,
	WIRE_COL_ADDR,
	WIRE_COL_PORT,
	WIRE_COL_STATE,
	WIRE_COL_WAIT_TYPE,
	WIRE_COL_WAIT,
	WIRE_COL_BACKEND_START,
	WIRE_COL_XACT_START,
	WIRE_COL_STATE_CHANGE,
	WIRE_COL_QUERY_START,
	WIRE_COL_QUERY,
	WIRE_COL_COUNT
};

/* The changes a sample asks for reach this far before the last one's
 * transaction (a change dated just before it began but published just
 * after its read of pg_stat_activity). */
enum { WIRE_DELTA_MARGIN_S = 2 };

/* The sample query, without BEGIN/COMMIT, asking for what changed since
 * the moment since (epoch seconds as SQL text, "0" for everything, or a
 * parameter "$1"), for a server of version_num, into buf (size at least
 * 4096). */
void wire_sample_query(char *buf, size_t size, const char *since,
		       int version_num);

/* The moment the next sample asks for changes since: the delivered
 * sample's transaction start less the margin, when the caller still
 * holds that sample (previous_tx_epoch_s is its start as held); 0 for
 * everything. */
double wire_changes_since(bool have_previous, double previous_tx_epoch_s,
			  double delivered_tx_epoch_s);

/* The merge's indexes, kept from sample to sample. */
struct wire_delta {
	struct pidmap previous_rows; /* pid -> row of previous */
	struct pidmap row_pids;      /* the pids that are rows of a sample */
	bool previous_indexed;
	size_t previous_next; /* the row of previous likely asked next */
};

void wire_delta_init(struct wire_delta *d);
void wire_delta_finish(struct wire_delta *d);

/* A new sample is asked for against previous (indexed when needed). */
void wire_delta_begin(struct wire_delta *d);

/*
 * Adds the rows (cells: rows * WIRE_COL_COUNT text cells, NULL for an
 * SQL NULL) to sample (reset by the caller, its server set), unchanged
 * ones copied from previous (NULL: none), and sets the ages against the
 * server's clock.  False when an unchanged row or a listed pid has no
 * row in previous: that sample cannot be trusted to hold it, ask for
 * everything.
 */
bool wire_delta_fill(struct wire_delta *d, struct sample *sample,
		     const struct sample *previous, const char *const *cells,
		     size_t rows);

/* A decimal int, or fallback for NULL, "", junk or out of range. */
int wire_parse_int(const char *s, int fallback);

/* libpq's message says the server refused for want of slots. */
bool wire_error_slot_refusal(const char *msg);

/* A failure a restart or a moment of network trouble explains (worth
 * retrying within --retry-for); never one the server answered with a
 * FATAL error of its own. */
bool wire_error_transient(const char *msg);

#endif
