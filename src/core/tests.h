/*
 * tests.h - which test opened which session, from the boundaries a test
 * runner reports (wrap mode: "start NAME", "end NAME" on the socket
 * pgdrip offers the command, see pgdrip(1) TESTS) and the sessions the
 * tracker followed.
 *
 * Each boundary is carried by the sample that answered it (struct
 * sample_mark), so its moment is a sample's, on the server's clock, and
 * the counts at every boundary are exact: the runner waits for that
 * sample before it goes on.  A test is a window of one process (the
 * runner's: a pytest-xdist or mocha --parallel worker is its own), and
 * a session belongs to the window of the process that holds it (or an
 * ancestor of it) during which it opened.  A shared set-up (a pytest
 * fixture of wider scope, set up inside the first test that asks for
 * it) is a window of its own inside a test: its sessions are its own,
 * never the test's.
 *
 * A test leaked when sessions it opened were abandoned: opened during
 * it, still open when it ended, and never used again after it ended
 * (the tracker's last_use).  A pool warmed in one test and used by later
 * ones is not a leak, nor is a set-up's pool.  Where the runner reports
 * a test's phases (pytest: its fixtures' set-up, then its body), the
 * sessions one phase of a test opened in one process for one user,
 * application and database are taken as one pool: when one of them is
 * used after the test, the others that were not are its idle members
 * ("pooled"), not leaks.  Without phases, a test that leaks a session
 * beside warming a pool cannot be told apart from its pool, so the
 * rule is left out.
 *
 * The windows are all that is kept; the analysis runs over the tracker
 * when a report is made, so a replay of a record (which keeps the marks)
 * gives the same table.
 */
#ifndef PGDRIP_TESTS_H
#define PGDRIP_TESTS_H

#include "arena.h"
#include "common.h"
#include "match.h"
#include "sample.h"
#include "tracker.h"

/* ---- the runner's line protocol ---- */

/* A line longer than this (its '\n' included) is refused. */
enum { TESTS_LINE_MAX = 4096 };

struct tests_line {
	enum sample_mark_kind kind; /* START, END, SETUP, SETUP_END, PHASE */
	int pid;                    /* given as VERB@PID; 0: the peer's */
	const char *name;           /* into the line parsed; not terminated */
	size_t name_len;            /* at least 1 */
};

/*
 * Parses one line of the protocol, without its '\n' (a '\r' before it
 * is dropped): "VERB[@PID] NAME", VERB one of start, end, setup,
 * setup-end, phase; NAME is every byte after the first space (spaces,
 * tabs and any other byte but NUL kept as they are).  False with err for
 * an unknown verb, a bad pid, a missing name or a NUL byte.
 */
PGD_NODISCARD bool tests_parse_line(const char *line, size_t len,
				    struct tests_line *out, struct errbuf *err);

/* ---- the windows ---- */

struct tests_window {
	const char *name; /* the arena */
	int pid;          /* the process that ran it */
	bool setup;       /* a shared set-up: never blamed */
	/* Server epoch seconds of the samples that answered its start and
	 * its (settled) end; ended_at NAN while it runs. */
	double started_at;
	double ended_at;
	/* The same samples on pgdrip's clock, for drawing. */
	double started_wall_s;
	double ended_wall_s;
};

struct tests_parent {
	int pid;
	int ppid;
};

/* A test's next phase ("phase call": pytest's test body after its
 * function fixtures) began at a sample's moment. */
struct tests_phase {
	size_t window;
	double at;
};

struct tests {
	struct tests_window *windows; /* owned; in the order they began */
	size_t count;
	size_t cap;
	struct tests_parent *parents; /* owned */
	size_t parent_count;
	size_t parent_cap;
	struct tests_phase *phases; /* owned; in the order they came */
	size_t phase_count;
	size_t phase_cap;
	int *runners; /* owned: every pid that sent a boundary */
	size_t runner_count;
	size_t runner_cap;
	size_t unmatched; /* ends with no test running in their process */
	struct arena arena;
};

void tests_init(struct tests *t);
void tests_finish(struct tests *t);

/* Folds in the marks of a successful sample (after the tracker has
 * seen it): boundaries, settled ends, process parents. */
void tests_add(struct tests *t, const struct sample *sample);

/* True once any process reported a test (a set-up alone is not). */
bool tests_reported(const struct tests *t);

/* How many tests (set-ups left out) were reported. */
size_t tests_count(const struct tests *t);

/*
 * For the edge, after the sample that answered pid's "end": how many
 * sessions of pid (or its descendants) opened since that test began are
 * open in the tracker's last sample.  Some may be closing as the sample
 * was taken (a client's close does not wait for its backend to exit):
 * the edge samples once more before it answers, and marks the end
 * SAMPLE_MARK_SETTLED there.
 */
size_t tests_left_open(const struct tests *t, const struct tracker *tr,
		       int pid);

/* ---- the analysis ---- */

enum tests_fate {
	TESTS_FATE_CLOSED, /* closed before its window ended */
	TESTS_FATE_REUSED, /* left open, then used again: a pool */
	TESTS_FATE_UNUSED, /* left open and never used again */
	TESTS_FATE_POOLED, /* ... but a pool-mate was used again */
};

/* A session a window opened. */
struct tests_session {
	const struct tracked *session; /* borrowed from the tracker */
	enum tests_fate fate;
};

struct tests_outcome {
	const struct tests_window *window; /* borrowed */
	bool ended;
	/* Sessions of its process (and descendants) open at the samples of
	 * its start and end. */
	int before;
	int after;
	size_t opened;    /* sessions it opened (that a sample saw) */
	size_t closed;    /* its process's sessions closed during it */
	size_t left_open; /* of those it opened, open at its end */
	size_t leaked;    /* ... and never used again (0 for a set-up) */
	size_t first;     /* its sessions: result->sessions[first...] */
	size_t session_count;
};

struct tests_result {
	struct tests_outcome *outcomes; /* owned; windows' order */
	size_t count;
	struct tests_session *sessions; /* owned; by window, oldest first */
	size_t session_count;
	size_t tests;         /* windows that are tests */
	size_t leaking_tests; /* tests with leaked > 0 */
	size_t leaked;        /* sessions, summed over the tests */
	size_t outside;       /* sessions of runner processes opened outside
			       * every window */
	size_t unattributed;  /* sessions of the wrapped command held by no
			       * runner process (nor a descendant of one) */
};

/*
 * The windows over the tracker's sessions (live and closed, those
 * passing filter).  A session's process is its traced client pid; an
 * untraced one is given to the only runner when there is just one, and
 * to none otherwise.  Pointers into the tracker are valid until its next
 * tracker_add().  tests_result_finish() it afterwards.
 */
void tests_analyse(const struct tests *t, const struct tracker *tr,
		   const struct filter *filter, struct tests_result *out);
void tests_result_finish(struct tests_result *r);

#endif
