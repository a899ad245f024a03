/*
 * poll_sample.c - a sample's round trip on the poller's session (see
 * poll.c): the statement sent (changes only, since the last sample the
 * caller holds), the results read as they come without blocking, the
 * rows handed to the core's merge (core/wire.c), a failed transaction
 * rolled back; and poll_advance(), which drives every step.
 */
#include "poll.h"

#include "clock.h"
#include "core/wire.h"
#include "poll_private.h"

#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every sample is its own read-only transaction with its own limits,
 * SET LOCAL: through a pooler in transaction mode the next client gets
 * the server connection exactly as it was. */
static const char tx_begin[] =
	"BEGIN READ ONLY; SET LOCAL statement_timeout = '5s'; "
	"SET LOCAL lock_timeout = '1s'; "
	"SET LOCAL idle_in_transaction_session_timeout = '10s'; ";

/* The changes a sample asks for: since the last one delivered, when
 * that is the sample the caller still holds; else everything. */
static double changes_since(const struct poller *p)
{
	return wire_changes_since(p->previous != NULL,
				  p->previous != NULL
					  ? p->previous->server_tx_epoch_s
					  : NAN,
				  p->delivered_tx_epoch_s);
}

/* The one statement a sample sends: the transaction, and the sample
 * query itself or, once prepared, its EXECUTE. */
static void build_sample_statement(struct poller *p, char *buf, size_t size)
{
	char since[64];

	snprintf(since, sizeof(since), "%.6f", p->since_epoch_s);
	if (p->prepared) {
		snprintf(buf, size, "%sEXECUTE pgdrip_sample(%s); COMMIT",
			 tx_begin, since);
	} else {
		char query[sizeof(p->query)];

		wire_sample_query(query, sizeof(query), since,
				  p->server.version_num);
		snprintf(buf, size, "%s%s; COMMIT", tx_begin, query);
	}
}

static bool start_sample(struct poller *poller, struct errbuf *err)
{
	char statement[sizeof(poller->query) + sizeof(tx_begin) + 128];

	if (poller->console) {
		poller->show = 0;
		if (!poll_console_send_show(poller, err)) {
			return false;
		}
		poller->phase = POLL_PHASE_SAMPLING;
		poller->started_s = clock_mono_s();
		return true;
	}
	poller->reading = (struct sample_reading){0};
	build_sample_statement(poller, statement, sizeof(statement));
	if (!poll_send_query(poller, statement, err)) {
		return false;
	}
	poller->phase = POLL_PHASE_SAMPLING;
	poller->started_s = clock_mono_s();
	return true;
}

bool poll_sample_start(struct poller *poller, const struct sample *previous,
		       struct errbuf *err)
{
	poller->previous = previous;
	wire_delta_begin(&poller->delta);
	poller->since_epoch_s = changes_since(poller);
	return start_sample(poller, err);
}

/* Again, asking for everything. */
static bool restart_sample(struct poller *poller, struct errbuf *err)
{
	poller->since_epoch_s = 0;
	return start_sample(poller, err);
}

/* Reads what arrived; true when every result of the query is in. */
static bool results_ready(struct poller *p, bool *lost)
{
	*lost = false;
	if (p->flushing) {
		int flushed = PQflush(p->conn);

		if (flushed < 0) {
			*lost = true;
			return false;
		}
		p->flushing = flushed == 1;
		p->events = (short)(POLLIN | (p->flushing ? POLLOUT : 0));
	}
	if (!PQconsumeInput(p->conn)) {
		*lost = true;
		return false;
	}
	return !PQisBusy(p->conn);
}

/* The rows as text cells (NULL for an SQL NULL) into the sample: the
 * merge is wire.c's.  False when an unchanged row could not be filled
 * in. */
static bool fill_sample(struct poller *poller, struct sample *sample,
			PGresult *res)
{
	size_t rows = (size_t)PQntuples(res);
	const char **cells = xcalloc(rows * WIRE_COL_COUNT + 1, sizeof(*cells));
	bool filled;

	for (size_t r = 0; r < rows; r++) {
		for (int c = 0; c < WIRE_COL_COUNT; c++) {
			cells[r * WIRE_COL_COUNT + (size_t)c] =
				poll_cell(res, (int)r, c);
		}
	}
	sample_reset(sample);
	sample->server = poller->server;
	filled = wire_delta_fill(&poller->delta, sample, poller->previous,
				 cells, rows);
	free(cells);
	if (!filled) {
		return false;
	}
	sample->taken_at_epoch_s = clock_wall_s();
	/* The round trip: the server's work and the wire's, as a floor
	 * measured by pgbench counts it; what we do with the rows is our
	 * CPU, counted apart. */
	sample->elapsed_ms = (poller->received_s - poller->started_s) * 1000;
	sample->status = SAMPLE_STATUS_OK;
	return true;
}

/* The sample's results: the rows, or the first error. */
static enum poll_status read_sample(struct poller *p, struct sample *sample,
				    enum poll_failure *failure,
				    struct errbuf *err)
{
	struct sample_reading *r = &p->reading;
	PGresult *res;

	/* Each result as it is whole: PQgetResult() would block for the
	 * rest of a large one (the transaction's first results come ahead
	 * of the rows), and a server stalling then would stall the loop. */
	while (!PQisBusy(p->conn) && (res = PQgetResult(p->conn)) != NULL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQnfields(res) == WIRE_COL_COUNT) {
			p->received_s = clock_mono_s();
			r->got = fill_sample(p, sample, res);
			r->incomplete = !r->got;
			p->delivered_tx_epoch_s =
				r->got ? sample->server_tx_epoch_s : NAN;
		} else if (p->prepared && state != NULL &&
			   strcmp(state, "26000") == 0) {
			/* The prepared statement is gone: DISCARD ALL, or
			 * a pooler put us on another server.  Plain queries
			 * from now on. */
			p->prepared = false;
			r->retry = true;
		} else if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
			   r->msg[0] == '\0') {
			poll_one_line(r->msg, sizeof(r->msg),
				      PQresultErrorMessage(res), p->password);
		}
		PQclear(res);
	}
	if (PQisBusy(p->conn) && PQstatus(p->conn) == CONNECTION_OK) {
		return POLL_STATUS_WAIT;
	}
	/* Every result is in (start_sample() clears what they said for
	 * the next statement). */
	if (PQstatus(p->conn) != CONNECTION_OK) {
		return poll_lost(p, failure, err);
	}
	if (PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		/* An error skipped the COMMIT: end the transaction before
		 * anything else, and only then say what failed. */
		snprintf(p->failed_msg, sizeof(p->failed_msg), "%s",
			 r->retry ? "" : r->msg);
		p->rolling_back = true;
		return poll_send_query(p, "ROLLBACK", err)
			       ? POLL_STATUS_WAIT
			       : poll_lost(p, failure, err);
	}
	if (r->got) {
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		return POLL_STATUS_DONE;
	}
	if (r->incomplete && p->since_epoch_s > 0) {
		return restart_sample(p, err) ? POLL_STATUS_WAIT
					      : poll_lost(p, failure, err);
	}
	if (r->incomplete) {
		/* Asked for everything and still a pid without a row: a
		 * server we do not understand; asking again would spin. */
		snprintf(r->msg, sizeof(r->msg),
			 "a pid in the server's list came with no row");
	}
	if (r->retry) {
		return start_sample(p, err) ? POLL_STATUS_WAIT
					    : poll_lost(p, failure, err);
	}
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	*failure = POLL_FAILURE_QUERY;
	errbuf_set(err, "sample query failed: %s", r->msg);
	return POLL_STATUS_ERROR;
}

static enum poll_status after_rollback(struct poller *p,
				       enum poll_failure *failure,
				       struct errbuf *err)
{
	PGresult *res;

	while ((res = PQgetResult(p->conn)) != NULL) {
		PQclear(res);
	}
	p->rolling_back = false;
	if (PQstatus(p->conn) != CONNECTION_OK ||
	    PQtransactionStatus(p->conn) != PQTRANS_IDLE) {
		return poll_lost(p, failure, err);
	}
	if (p->failed_msg[0] == '\0') {
		/* The prepared statement was missing: try again plainly. */
		return start_sample(p, err) ? POLL_STATUS_WAIT
					    : poll_lost(p, failure, err);
	}
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	*failure = POLL_FAILURE_QUERY;
	errbuf_set(err, "sample query failed: %s", p->failed_msg);
	return POLL_STATUS_ERROR;
}

enum poll_status poll_advance(struct poller *poller, struct sample *sample,
			      enum poll_failure *failure, struct errbuf *err)
{
	bool gone;

	*failure = POLL_FAILURE_NONE;
	if (poller->phase == POLL_PHASE_READY) {
		return POLL_STATUS_DONE;
	}
	if (poller->phase == POLL_PHASE_CONNECTING &&
	    poller->step == STEP_CONNECT) {
		return poll_connect_advance(poller, failure, err);
	}
	if (!results_ready(poller, &gone)) {
		return gone ? poll_lost(poller, failure, err)
			    : POLL_STATUS_WAIT;
	}
	if (poller->phase == POLL_PHASE_CONNECTING) {
		return poller->step == STEP_SETUP
			       ? poll_connect_after_setup(poller, failure, err)
			       : poll_connect_after_prepare(poller);
	}
	if (poller->rolling_back) {
		return after_rollback(poller, failure, err);
	}
	if (poller->console) {
		return poll_console_read(poller, sample, failure, err);
	}
	return read_sample(poller, sample, failure, err);
}
