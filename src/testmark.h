/*
 * testmark.h - the endpoint a wrapped command's test runner reports its
 * tests on (wrap mode): a unix socket in a private temporary directory,
 * named to the command in PGDRIP_TESTS.  One short line per boundary
 * ("start NAME", "end NAME", "setup NAME", "setup-end NAME", with an
 * optional "@PID" after the verb; tests.h has the syntax), each answered
 * "ok\n" once a sample sent after it has been folded in, or "error
 * WHY\n".  The runner waits for the answer, so the counts at every
 * boundary are exact.  The peer's pid (SO_PEERCRED) is the test's
 * process, so pytest-xdist and mocha --parallel workers are told apart.
 *
 * An end is answered after one more sample, a moment later, when the
 * test's process holds sessions opened during the test: a client's
 * close does not wait for its backend to leave pg_stat_activity, and a
 * session closed just before the end must not count as left open.  The
 * runner is still waiting then, so nothing it does can come between.
 *
 * Served by the one loop (mode_ops.pollfds and ready); the marks reach
 * the pipeline and --record with the samples that answered them
 * (target_set_sample_hook).  Also here: the client side, for
 * "pgdrip --test-mark VERB NAME" in any runner.
 */
#ifndef PGDRIP_TESTMARK_H
#define PGDRIP_TESTMARK_H

#include "target.h"

#include "core/common.h"

#include <poll.h>
#include <stdint.h>

struct testmark;

/* Makes the directory and the socket and hooks t's samples.  NULL with
 * err when either cannot be made (the run goes on without tests). */
struct testmark *testmark_open(struct target *t, struct errbuf *err);

/* Closes every connection and the socket, removes both; NULL is fine. */
void testmark_close(struct testmark *m);

/*
 * Names the socket to the command (PGDRIP_TESTS) and, unless
 * PGDRIP_TEST_PLUGINS=0, the runner plugins pgdrip ships: pytest's
 * loaded at once (PYTEST_PLUGINS, PYTHONPATH), mocha's root hooks and
 * jest's setup file named (PGDRIP_MOCHA_HOOKS, PGDRIP_JEST_SETUP).
 * Unless PGDRIP_CLIENT_HOOKS=0, the client hooks' socket too
 * (PGDRIP_HOOKS, hooks.h) and the hooks loaded in every Python and Node
 * process (PYTHONPATH, NODE_OPTIONS, after what the user set).
 * Sets pgdrip's own environment, which the command inherits.
 */
void testmark_export(const struct testmark *m);

/* The tests' socket; the hooks' (NULL when PGDRIP_CLIENT_HOOKS=0 or it
 * could not be made).  Valid until testmark_close(). */
const char *testmark_tests_path(const struct testmark *m);
const char *testmark_hooks_path(const struct testmark *m);

/* The wrapped command's pid: process parents are followed up to it. */
void testmark_set_command(struct testmark *m, int pid);

/* The command exited: no new connection is taken. */
void testmark_stop(struct testmark *m);

/* For the loop (mode_ops): the descriptors to wait on, at most max. */
size_t testmark_pollfds(struct testmark *m, struct pollfd *fds, size_t max);
void testmark_ready(struct testmark *m, const struct pollfd *fds, size_t n,
		    int64_t now_ms);
/* After every wake-up: asks the target for the samples lines wait for. */
void testmark_tick(struct testmark *m, int64_t now_ms);
/* When tick() must run next; INT64_MAX for no wish. */
int64_t testmark_next_wake_ms(const struct testmark *m);
/* After each of the target's outcomes: the answers that are due. */
void testmark_outcome(struct testmark *m, bool ok, int64_t now_ms);

/*
 * pgdrip --test-mark VERB NAME...: sends "VERB@PPID NAME" (the words
 * joined by spaces, the caller's parent as the test's process: the
 * shell or test binary that ran it) to $PGDRIP_TESTS and waits for the
 * answer.  Without PGDRIP_TESTS it does nothing (a suite run without
 * pgdrip), exit 0.  Returns the exit status: 2 for a bad verb or no
 * name, 3 when the endpoint cannot be reached or refuses the line.
 */
int testmark_client(char *const words[]);

#endif
