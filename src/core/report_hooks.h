/*
 * report_hooks.h - the client hooks' word in the report (the facts are
 * clientfacts.c's): each checkout a client took from a pool and never
 * gave back, and each connection (no pool) it never closed, blamed on
 * the test during which it was taken (opened), with the line of the
 * user's code that did, beside the server's evidence for its session;
 * the libraries a hook could not follow; and the check that fails a
 * wrapped run on a checkout never returned.
 *
 * A client knows what the server cannot: that a session idle in its
 * pool was given back, or that one was taken and never returned.  So
 * for a session a client spoke of, its word replaces the server's in
 * the per-test tally.
 */
#ifndef PGDRIP_REPORT_HOOKS_H
#define PGDRIP_REPORT_HOOKS_H

#include "clientfacts.h"
#include "report.h"
#include "tests.h"
#include "tracker.h"

/* Leaks listed at most; the rest are counted (leaks_left_out). */
enum { REPORT_HOOKS_MAX_LEAKS = 1000 };

/*
 * Fills report->hooks from f and adjusts report->tests (built already
 * from t and tr): each leak blamed on a test (the line's "test", else
 * the window of the client's process, or an ancestor's, its time falls
 * in), the server's unused sessions a client spoke of taken out of its
 * tally, the client's leaks put in, tests.leaking and tests.leaked
 * counted again.  Nothing when no hook said anything.
 */
void report_hooks_build(struct report *report, const struct clientfacts *f,
			const struct tests *t, const struct tracker *tr);

/*
 * A wrapped command's groups, before their checks: a session the server
 * saw left unused that its client gave back to a pool shared by several
 * tests (a test file's pool, resting while the next file runs) is no
 * leak of its group either; a group left with none is not flagged.
 * Nothing when f is NULL or no hook said anything.
 */
void report_hooks_clear_groups(struct report *report,
			       const struct clientfacts *f);

/*
 * In wrap mode, once a hook spoke: the check "leaked-checkouts" (limit
 * 0: a checkout never given back fails the run, whether or not a count
 * grew), one failing line per leaked checkout naming its test and line;
 * when the runner named no test (a plain script), the check
 * "leaked-connections" too, one failing line per connection the code
 * opened and never closed.
 */
void report_hooks_check(struct report *report);

/* "tests/test_stock.py:11 (reserve)" of a leak's first frame into buf;
 * "an unknown line" without a stack. */
void report_hooks_where(const struct report_client_leak *leak, char *buf,
			size_t size);

/* ---- the text report (report_text_hooks.c) ---- */

#include "text.h"

#include <stdio.h>

/* "taken at tests/t.py:11 (reserve) during test_a, never returned; idle
 * in transaction 4.2s (the client and the server knew)", raw bytes (the
 * caller sanitizes). */
void report_hooks_describe(const struct report_client_leak *leak, char *buf,
			   size_t size);

/* The leaks blamed on report->tests.items[test_index], one indented line
 * each, under that test's line. */
void report_hooks_write_text_test(FILE *out, const struct report *r,
				  size_t test_index,
				  const struct text_style *st);

/* The hooks' section: counts, the leaks blamed on no test reported, the
 * libraries not hooked; nothing when no hook spoke. */
void report_hooks_write_text(FILE *out, const struct report *r,
			     const struct text_style *st);

/* ---- the JSON report (report_json_hooks.c) ---- */

#include "json.h"

/* "client_hooks": {...} at the writer's position (always there; its
 * "reported" false when no hook spoke). */
void report_hooks_write_json(struct json_writer *w, const struct report *r);

#endif
