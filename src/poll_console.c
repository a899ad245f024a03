/*
 * poll_console.c - PgBouncer's admin console (see poll.c's header): no
 * transactions, no SET, no prepared statements and one command per
 * simple query, so a sample is its SHOW commands one after the other,
 * read by bouncer.c once all are in.
 */
#include "poll.h"

#include "clock.h"
#include "core/bouncer.h"
#include "poll_private.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void poll_console_clear(struct poller *p)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(p->shows); i++) {
		PQclear(p->shows[i]);
		p->shows[i] = NULL;
	}
}

bool poll_console_send_show(struct poller *p, struct errbuf *err)
{
	return poll_send_query(p,
			       bouncer_show_command((enum bouncer_show)p->show),
			       err);
}

/* This host's offset east of UTC now (seconds), without tm_gmtoff. */
static long local_utc_offset_s(void)
{
	time_t now = time(NULL);
	struct tm utc;
	time_t as_local;

	if (gmtime_r(&now, &utc) == NULL) {
		return 0;
	}
	utc.tm_isdst = -1;
	as_local = mktime(&utc);
	return as_local == (time_t)-1 ? 0 : (long)difftime(now, as_local);
}

/* Our own connection as the console lists it: our local TCP port, or
 * over a unix socket our pid. */
static void console_self(const struct poller *p, struct bouncer_self *me)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);

	memset(me, 0, sizeof(*me));
	me->pid = (int)getpid();
	me->utc_offset_s = local_utc_offset_s();
	if (getsockname(PQsocket(p->conn), (struct sockaddr *)&local, &len) !=
	    0) {
		return;
	}
	if (local.ss_family == AF_INET) {
		me->tcp_port = ntohs(((struct sockaddr_in *)&local)->sin_port);
	} else if (local.ss_family == AF_INET6) {
		me->tcp_port = ntohs(
			((struct sockaddr_in6 *)&local)->sin6_port);
	}
}

/* One result as bouncer.c reads it: pointers into the PGresult. */
static void add_show(struct sample *sample, enum bouncer_show show,
		     const PGresult *res, const struct bouncer_self *me)
{
	size_t cols = (size_t)PQnfields(res);
	size_t rows = (size_t)PQntuples(res);
	const char **names = xcalloc(cols + 1, sizeof(*names));
	const char **cells = xcalloc(rows * cols + 1, sizeof(*cells));
	struct bouncer_table table = {cols, rows, names, cells};

	for (size_t c = 0; c < cols; c++) {
		names[c] = PQfname(res, (int)c);
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			cells[r * cols + c] = poll_cell(res, (int)r, (int)c);
		}
	}
	bouncer_sample_add(sample, show, &table, me);
	free(names);
	free(cells);
}

static void fill_console_sample(struct poller *p, struct sample *sample)
{
	struct bouncer_self me;
	/* One moment: the clients' ages and the sample's time agree, as
	 * the server's clock row does for a server. */
	double now = clock_wall_s();

	console_self(p, &me);
	bouncer_sample_begin(sample, &p->server, now);
	for (int i = 0; i < BOUNCER_SHOW_COUNT; i++) {
		add_show(sample, (enum bouncer_show)i, p->shows[i], &me);
	}
	bouncer_sample_end(sample);
	poll_console_clear(p);
	sample->taken_at_epoch_s = now;
	sample->elapsed_ms = (clock_mono_s() - p->started_s) * 1000;
	sample->status = SAMPLE_STATUS_OK;
}

/* A command's result is in: keep it, then send the next command or,
 * after the last, read them all into the sample. */
enum poll_status poll_console_read(struct poller *p, struct sample *sample,
				   enum poll_failure *failure,
				   struct errbuf *err)
{
	PGresult *res;
	char msg[400] = "";

	while ((res = PQgetResult(p->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    p->shows[p->show] == NULL) {
			p->shows[p->show] = res;
			continue;
		}
		if (PQresultStatus(res) == PGRES_FATAL_ERROR &&
		    msg[0] == '\0') {
			poll_one_line(msg, sizeof(msg),
				      PQresultErrorMessage(res), p->password);
		}
		PQclear(res);
	}
	if (PQstatus(p->conn) != CONNECTION_OK) {
		poll_console_clear(p);
		return poll_lost(p, failure, err);
	}
	if (p->shows[p->show] == NULL) {
		errbuf_set(err, "%s failed on the admin console: %s",
			   bouncer_show_command((enum bouncer_show)p->show),
			   msg[0] != '\0' ? msg : "no rows came back");
		poll_console_clear(p);
		p->phase = POLL_PHASE_READY;
		p->events = 0;
		*failure = POLL_FAILURE_QUERY;
		return POLL_STATUS_ERROR;
	}
	if (++p->show < BOUNCER_SHOW_COUNT) {
		return poll_console_send_show(p, err)
			       ? POLL_STATUS_WAIT
			       : poll_lost(p, failure, err);
	}
	fill_console_sample(p, sample);
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	return POLL_STATUS_DONE;
}

/* Connected to the console: nothing to set up (it runs no SQL); the
 * limits come with every sample. */
enum poll_status poll_console_connected(struct poller *p)
{
	bouncer_server_info(&p->server,
			    PQparameterStatus(p->conn, "server_version"),
			    PQuser(p->conn));
	p->console = true;
	p->phase = POLL_PHASE_READY;
	p->events = 0;
	return POLL_STATUS_DONE;
}
