/*
 * report_judge.c - a group's flags and the near-limit rule, decided once
 * for every renderer (see report_judge.h).
 */
#include "report_judge.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
	enum report_flag flag;
	const char *word;
} flag_words[] = {
	{REPORT_FLAG_LEAK, "LEAK"},
	{REPORT_FLAG_IDLE_TX, "IDLE-TX"},
	{REPORT_FLAG_NEAR_LIMIT, "NEAR-LIMIT"},
	{REPORT_FLAG_WAITING, "WAITING"},
};

bool report_judge_near_limit(double usage_pct)
{
	/* NAN compares false: a group with no limit is never near one. */
	return usage_pct >= REPORT_NEAR_LIMIT_PCT;
}

unsigned report_judge_group_flags(const struct report_group *g)
{
	unsigned flags = 0;

	if (g->flagged) {
		flags |= REPORT_FLAG_LEAK;
	}
	if (g->states[SESSION_STATE_IDLE_TX] +
		    g->states[SESSION_STATE_IDLE_TX_ABORTED] >
	    0) {
		flags |= REPORT_FLAG_IDLE_TX;
	}
	if (report_judge_near_limit(g->role_usage_pct) ||
	    report_judge_near_limit(g->db_usage_pct)) {
		flags |= REPORT_FLAG_NEAR_LIMIT;
	}
	if (g->states[SESSION_STATE_WAITING] > 0) {
		/* A pooler's clients queued for a server. */
		flags |= REPORT_FLAG_WAITING;
	}
	return flags;
}

const char *report_judge_flag_word(enum report_flag flag)
{
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]);
	     i++) {
		if (flag_words[i].flag == flag) {
			return flag_words[i].word;
		}
	}
	return "";
}

size_t report_judge_flags_text(unsigned flags, char *buf, size_t len)
{
	size_t need = 0;

	if (len > 0) {
		buf[0] = '\0';
	}
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]);
	     i++) {
		int n;

		if ((flags & flag_words[i].flag) == 0) {
			continue;
		}
		n = snprintf(need < len ? buf + need : NULL,
			     need < len ? len - need : 0, "%s%s",
			     need > 0 ? " " : "", flag_words[i].word);
		need += (size_t)n;
	}
	return need;
}

void report_judge(struct report *report)
{
	report->near_limit = report_judge_near_limit(report->usage_pct);
	for (size_t i = 0; i < report->limit_count; i++) {
		struct report_limit *l = &report->limits[i];

		l->near_limit = report_judge_near_limit(l->usage_pct);
	}
	for (size_t i = 0; i < report->group_count; i++) {
		struct report_group *g = &report->groups[i];

		g->flags = report_judge_group_flags(g);
	}
}
