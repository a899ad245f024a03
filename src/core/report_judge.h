/*
 * report_judge.h - the judgements a report shows, decided once: a
 * group's flags and their words, and which limits are near exhaustion.
 * Every renderer (text, JSON, Prometheus, the plot, the live view) reads
 * what report_judge() set and writes these words; none decides again.
 */
#ifndef PGDRIP_REPORT_JUDGE_H
#define PGDRIP_REPORT_JUDGE_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>

/* A limit used to this share (percent) or more is near exhaustion. */
#define REPORT_NEAR_LIMIT_PCT 80.0

/* A group's flags, in the order their words are written. */
enum report_flag {
	REPORT_FLAG_LEAK = 1u << 0,       /* the session verdict flagged it */
	REPORT_FLAG_IDLE_TX = 1u << 1,    /* a session idle in a transaction */
	REPORT_FLAG_NEAR_LIMIT = 1u << 2, /* its role's or database's limit */
	REPORT_FLAG_WAITING = 1u << 3,    /* a pooler's clients queued */
	REPORT_FLAG_LAST = REPORT_FLAG_WAITING,
};

/* True when usage_pct (percent) is at or past REPORT_NEAR_LIMIT_PCT;
 * false for NAN (no limit). */
bool report_judge_near_limit(double usage_pct);

/* The REPORT_FLAG_* bits of g, from its verdict, states and limits. */
unsigned report_judge_group_flags(const struct report_group *g);

/* "LEAK", "IDLE-TX", "NEAR-LIMIT", "WAITING"; "" for anything else. */
const char *report_judge_flag_word(enum report_flag flag);

/*
 * The words of flags separated by one space ("LEAK IDLE-TX"), into buf
 * (cut to fit, always terminated; "" for none).  Returns the length the
 * whole text needs, as snprintf does.
 */
size_t report_judge_flags_text(unsigned flags, char *buf, size_t len);

/* Sets every group's flags, every limit's near_limit and the report's
 * own (the server's usage).  report_build() and report_fold() call it
 * once their numbers are final. */
void report_judge(struct report *report);

#endif
