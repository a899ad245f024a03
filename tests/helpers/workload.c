/*
 * workload.c - opens real PostgreSQL sessions for the integration tests
 * and the demo, each with a chosen role, application_name and state.
 *
 *   pgdrip-workload [-d CONNINFO] [--hold SECONDS] SPEC...
 *
 *   idle:ROLE:APP:N         N idle sessions
 *   active:ROLE:APP:N       N sessions running pg_sleep(3600)
 *   idle-tx:ROLE:APP:N      N sessions idle in transaction (BEGIN; SELECT 1)
 *   aborted:ROLE:APP:N      N sessions in a failed transaction
 *   leak:ROLE:APP:MS[:MAX]  one more idle session every MS ms, never closed
 *   churn:ROLE:APP:MS       connect, SELECT 1, disconnect, every MS ms
 *   names:ROLE:APP:N:MS     N sessions, every one named anew every MS ms
 *                           (APP0, APP1, ...): the oldest is replaced by a
 *                           new session, the others rename themselves (an
 *                           application putting a pid or a request id in
 *                           its name); prints "names K" every 100 names
 *   many:ROLE:APP:GROUPS:PER
 *                           GROUPS groups of PER idle sessions: roles ROLE0..
 *                           ROLE99 (cycling), applications APP0..APPn-1
 *   suite:ROLE:APP:TESTS:MS:close|leak
 *                           a test suite: one connection per test every MS
 *                           ms, closed after the test or kept; the
 *                           process exits after the last test
 *
 * Prints "ready" once the fixed sessions are open; runs until SIGTERM or
 * SIGINT, --hold, or the end of every suite.  ROLE "-" means PGUSER.
 */
#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_SPECS = 32, MAX_CONNS = 4096 };

enum kind { IDLE, ACTIVE, IDLE_TX, ABORTED, MANY, LEAK, CHURN, SUITE, NAMES };

struct spec {
	enum kind kind;
	char role[128];
	char app[128];
	long n;        /* sessions, or the period in ms */
	long max;      /* leak: at most this many; suite: tests */
	bool keep;     /* suite: leak the test's connection */
	long done;     /* opened so far (names: names given) */
	long opened;   /* names: sessions opened */
	double due_ms; /* next action */
};

static volatile sig_atomic_t stop;
static const char *conninfo = "";
static PGconn *conns[MAX_CONNS];
static size_t nconns;
/* names: the sessions of the newest names, oldest replaced first. */
static PGconn *named[MAX_CONNS];

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static PGconn *open_session(const struct spec *s)
{
	const char *keys[] = {"dbname", "user", "application_name", NULL};
	const char *values[] = {conninfo, s->role, s->app, NULL};
	PGconn *conn;

	if (strcmp(s->role, "-") == 0) {
		keys[1] = "application_name";
		values[1] = s->app;
		keys[2] = values[2] = NULL;
	}
	conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "pgdrip-workload: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static bool keep(PGconn *conn)
{
	if (nconns >= MAX_CONNS) {
		PQfinish(conn);
		return false;
	}
	conns[nconns++] = conn;
	return true;
}

static bool exec_ok(PGconn *conn, const char *sql, bool expect_error)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = expect_error
			  ? st == PGRES_FATAL_ERROR
			  : (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);

	if (!ok) {
		fprintf(stderr, "pgdrip-workload: %s: %s", sql,
			PQerrorMessage(conn));
	}
	PQclear(res);
	return ok;
}

/* many: GROUPS x PER idle sessions over 100 roles and GROUPS apps. */
static bool open_many(const struct spec *s)
{
	for (long g = 0; g < s->n; g++) {
		struct spec one = *s;

		snprintf(one.role, sizeof(one.role), "%s%ld", s->role, g % 100);
		snprintf(one.app, sizeof(one.app), "%s%ld", s->app, g);
		for (long i = 0; i < s->max; i++) {
			PGconn *conn = open_session(&one);

			if (conn == NULL || !keep(conn)) {
				return false;
			}
		}
	}
	return true;
}

static bool open_fixed(const struct spec *s)
{
	if (s->kind == MANY) {
		return open_many(s);
	}
	for (long i = 0; i < s->n; i++) {
		PGconn *conn = open_session(s);
		bool ok = conn != NULL;

		if (ok && s->kind == ACTIVE) {
			ok = PQsendQuery(conn, "SELECT pg_sleep(3600)") == 1;
		} else if (ok && (s->kind == IDLE_TX || s->kind == ABORTED)) {
			ok = exec_ok(conn, "BEGIN", false) &&
			     exec_ok(conn,
				     s->kind == ABORTED ? "SELECT 1/0"
							: "SELECT 1",
				     s->kind == ABORTED);
		}
		if (!ok || !keep(conn)) {
			return false;
		}
	}
	return true;
}

/* names: the held session renames itself to the next name (set_config,
 * as an application that names each request does). */
static void rename_session(PGconn *conn, struct spec *s)
{
	char name[160];
	const char *values[] = {name};
	PGresult *res;

	snprintf(name, sizeof(name), "%s%ld", s->app, s->done++);
	res = PQexecParams(conn,
			   "SELECT set_config('application_name', $1, false)",
			   1, NULL, values, NULL, NULL, 0);
	PQclear(res);
}

/* names: a session with a name never seen before replaces the oldest
 * held, and every other held session takes a new name too. */
static bool step_names(struct spec *s)
{
	struct spec one = *s;
	PGconn **slot = &named[s->opened % s->max];
	long before = s->done;
	PGconn *conn;

	snprintf(one.app, sizeof(one.app), "%s%ld", s->app, s->done++);
	conn = open_session(&one);
	if (conn == NULL) {
		return false;
	}
	exec_ok(conn, "SELECT 1", false);
	if (*slot != NULL) {
		PQfinish(*slot);
	}
	*slot = conn;
	s->opened++;
	for (long i = 0; i < s->max; i++) {
		if (named[i] != NULL && named[i] != conn) {
			rename_session(named[i], s);
		}
	}
	s->due_ms += s->n;
	if (s->done / 100 != before / 100) {
		printf("names %ld\n", s->done / 100 * 100);
		fflush(stdout);
	}
	return true;
}

/* Runs the timed specs due now; returns false when every suite is done
 * and there is nothing else to wait for. */
static bool step(struct spec *specs, size_t n, double t, bool *suites_left)
{
	*suites_left = false;
	for (size_t i = 0; i < n; i++) {
		struct spec *s = &specs[i];
		PGconn *conn;

		if (s->kind < LEAK) {
			continue;
		}
		if (s->kind == SUITE && s->done < s->max) {
			*suites_left = true;
		}
		if (s->kind == NAMES) {
			if (t >= s->due_ms && !step_names(s)) {
				return false;
			}
			continue;
		}
		if (t < s->due_ms || (s->kind != CHURN && s->done >= s->max)) {
			continue;
		}
		s->due_ms += s->n;
		conn = open_session(s);
		if (conn == NULL) {
			return false;
		}
		s->done++;
		if (s->kind != LEAK) {
			exec_ok(conn, "SELECT 1", false);
		}
		if (s->kind == LEAK || (s->kind == SUITE && s->keep)) {
			keep(conn);
		} else {
			PQfinish(conn);
		}
	}
	return true;
}

static bool parse_kind(const char *name, enum kind *out)
{
	static const char *const names[] = {
		[IDLE] = "idle",       [ACTIVE] = "active",
		[IDLE_TX] = "idle-tx", [ABORTED] = "aborted",
		[MANY] = "many",       [LEAK] = "leak",
		[CHURN] = "churn",     [SUITE] = "suite",
		[NAMES] = "names",
	};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (strcmp(name, names[k]) == 0) {
			*out = (enum kind)k;
			return true;
		}
	}
	return false;
}

static bool parse_spec(const char *text, struct spec *s)
{
	char kind[16];
	char last[16] = "";
	int fields;

	memset(s, 0, sizeof(*s));
	s->max = -1;
	fields = sscanf(text, "%15[^:]:%127[^:]:%127[^:]:%ld:%ld:%15s", kind,
			s->role, s->app, &s->n, &s->max, last);
	if (fields < 4) {
		return false;
	}
	if (!parse_kind(kind, &s->kind)) {
		return false;
	}
	if (s->kind == SUITE) {
		/* suite:ROLE:APP:TESTS:MS:close|leak */
		long tests = s->n;

		if (fields < 6) {
			return false;
		}
		s->n = s->max;
		s->max = tests;
		s->keep = strcmp(last, "leak") == 0;
	} else if (s->kind == NAMES) {
		/* names:ROLE:APP:N:MS */
		long held = s->n;

		s->n = s->max;
		s->max = held;
		if (held <= 0 || held > MAX_CONNS) {
			return false;
		}
	} else if (s->kind == LEAK && s->max < 0) {
		s->max = MAX_CONNS;
	}
	return s->n > 0 || s->kind < LEAK;
}

int main(int argc, char **argv)
{
	struct spec specs[MAX_SPECS];
	size_t n = 0;
	double hold_ms = -1;
	double start;
	bool any_suite = false;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			conninfo = argv[++i];
		} else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
			hold_ms = atof(argv[++i]) * 1000;
		} else if (n < MAX_SPECS && parse_spec(argv[i], &specs[n])) {
			any_suite |= specs[n].kind == SUITE;
			n++;
		} else {
			fprintf(stderr, "pgdrip-workload: bad spec \"%s\"\n",
				argv[i]);
			return 2;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (specs[i].kind < LEAK && !open_fixed(&specs[i])) {
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	start = now_ms();
	for (size_t i = 0; i < n; i++) {
		specs[i].due_ms = start;
	}
	while (!stop) {
		bool suites_left;
		double t = now_ms();

		if (!step(specs, n, t, &suites_left)) {
			return 1;
		}
		if ((any_suite && !suites_left) ||
		    (hold_ms >= 0 && t - start >= hold_ms)) {
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
	}
	for (size_t i = 0; i < MAX_CONNS; i++) {
		if (named[i] != NULL) {
			PQfinish(named[i]);
		}
	}
	for (size_t i = 0; i < nconns; i++) {
		/* A backend in pg_sleep() would not notice the client left
		 * until the sleep ends: cancel it first. */
		PGcancel *cancel = PQgetCancel(conns[i]);
		char err[256];

		if (cancel != NULL && PQisBusy(conns[i])) {
			PQcancel(cancel, err, sizeof(err));
		}
		PQfreeCancel(cancel);
		PQfinish(conns[i]);
	}
	return 0;
}
