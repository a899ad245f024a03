/*
 * support.h - helpers shared by the unit tests: a strict JSON validator
 * and a report built by hand around a name, for the renderers' tests.
 */
#ifndef PGDRIP_TEST_SUPPORT_H
#define PGDRIP_TEST_SUPPORT_H

#include "group.h"
#include "history.h"
#include "pipeline.h"
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

/* The text report of r (text_style width, utf8, color) and its JSON
 * (version "0.1.0"), as strings the caller frees. */
char *support_render_text(const struct report *r, int width, bool utf8,
			  bool color);
char *support_render_json(const struct report *r);

/*
 * The core pipeline a report comes out of, for tests that feed it
 * samples: default grouping, no filter, default thresholds, a 300 s
 * window at 1 s.  Fill .sample, absorb it (the pipeline takes its
 * contents and leaves it empty), repeat, then support_run_report().
 * Thresholds and filter may be changed before the first absorb.
 */
struct support_run {
	struct sample sample;
	struct pipeline pipeline;
	struct filter filter;
	struct thresholds thresholds;
	struct group_keys keys;
	struct report report;
};

void support_run_init(struct support_run *run);
/* Folds .sample into the pipeline. */
void support_run_absorb(struct support_run *run);
/* A failed sample at epoch_s. */
void support_run_fail(struct support_run *run, double epoch_s);
/* The report (rebuilt) as pipeline_report() gives it for facts. */
void support_run_report(struct support_run *run, const struct run_facts *facts);
/* The history of the grouping reported. */
const struct history *support_run_history(const struct support_run *run);
void support_run_finish(struct support_run *run);

#endif
