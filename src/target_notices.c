/*
 * target_notices.c - what a target says on stderr as it runs (through
 * notice.h): that it watches a pooler, not the server; a sample's
 * progress; a step of the wall clock.
 */
#include "target.h"
#include "target_private.h"

#include "clock.h"
#include "notice.h"
#include "output.h"
#include "core/text.h"

#include <math.h>
#include <string.h>

/* Once: -d names a pooler or a proxy, whose clients are not seen. */
void target_say_pooler(struct target *t)
{
	if (t->said_pooler || !poll_through_pooler(t->poller)) {
		return;
	}
	t->said_pooler = true;
	notice_say("%s is a pooler or a proxy, not the server itself: only the "
		   "server connections it holds are seen, not its clients",
		   t->label);
	notice_say("hint: point -d at the pooler's admin console (for "
		   "PgBouncer: dbname=pgbouncer) to watch its clients");
}

/* --progress: the sample, and the fastest growing flagged group. */
void target_print_progress(const struct target *t)
{
	const struct history *h = pipeline_history(&t->pipeline);
	const struct group_history *worst = NULL;
	char name[256];

	for (size_t i = 0; i < h->group_count; i++) {
		const struct group_history *g = &h->groups[i];

		if (g->flagged &&
		    (worst == NULL ||
		     g->trend.slope_per_min > worst->trend.slope_per_min)) {
			worst = g;
		}
	}
	if (worst == NULL) {
		notice_say("sample %zu at %.1fs: %d connections in %zu groups",
			   h->samples, h->last_t_s, h->last_total,
			   h->group_count);
		return;
	}
	text_sanitize(name, sizeof(name), worst->keys[h->keys.keys[0]],
		      strlen(worst->keys[h->keys.keys[0]]),
		      output_locale_is_utf8());
	notice_say("sample %zu at %.1fs: %d connections in %zu groups; "
		   "growing: %s (%+.1f/min)",
		   h->samples, h->last_t_s, h->last_total, h->group_count, name,
		   worst->trend.slope_per_min);
}

/* The wall clock stepped (NTP, a VM resumed): pgdrip's times stay on the
 * monotonic clock (clock.h), and the step is said, and noted in the
 * report and the record. */
void target_note_clock_step(struct target *t)
{
	double step = clock_wall_step_s();
	double by = step - t->clock_step_s;

	if (fabs(by) < 1) {
		return;
	}
	notice_say("the wall clock was stepped by %+.1fs: pgdrip's times "
		   "follow the monotonic clock",
		   by);
	pipeline_note_clock_step(&t->pipeline, by);
	record_writer_note_clock_step(&t->record, by);
	t->clock_step_s = step;
}
