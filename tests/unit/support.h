/*
 * support.h - helpers shared by the unit tests: a strict JSON validator
 * and a report built by hand around a name, for the renderers' tests.
 */
#ifndef PGDRIP_TEST_SUPPORT_H
#define PGDRIP_TEST_SUPPORT_H

#include "group.h"
#include "history.h"
#include "report.h"

#include <stdbool.h>
#include <stddef.h>

/* Elements in a table. */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* True when text is one valid JSON value: structure, escapes, numbers,
 * and UTF-8 of the raw bytes. */
bool support_json_valid(const char *text);

/* Names a client can send; every renderer must make them harmless. */
extern const char *const support_hostile[];
extern const size_t support_hostile_count;

/* Fills r (report_init()ed) with groups, sessions, limits, checks and
 * warnings named after name. */
void support_build_report(struct report *r, const char *name);

/*
 * The core pipeline a report comes out of, for tests that feed it
 * samples: default grouping, no filter, default thresholds, a 300 s
 * window at 1 s.  Fill .sample, absorb it, repeat, then report_build()
 * into .report with the test's own input.
 */
struct support_run {
	struct sample sample;
	struct group_set set;
	struct history history;
	struct filter filter;
	struct thresholds thresholds;
	struct group_keys keys;
	struct report report;
};

void support_run_init(struct support_run *run);
/* Groups .sample and folds it into the history. */
void support_run_absorb(struct support_run *run);
void support_run_finish(struct support_run *run);

#endif
