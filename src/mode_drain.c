/*
 * mode_drain.c - --wait-drain DURATION: sample until no selected
 * session is left (exit 0) or DURATION has passed (exit 1, naming what
 * is still connected).  The last sample lands exactly at the end.  No
 * report is printed; --plot still draws the run.
 */
#include "clock.h"
#include "loop.h"
#include "modes.h"
#include "notice.h"

#include "core/text.h"

#include <stdio.h>
#include <string.h>

struct drain {
	struct patience patience;
	int64_t end_ms;
	bool final_asked;
	int64_t final_deadline_ms;
};

/* The selected sessions still connected, named, for the failure line. */
static void say_remaining(const struct run *run, double waited_s)
{
	const struct history *h = pipeline_history(
		target_pipeline(run_target(run)));
	char line[1024];
	size_t used = 0;
	size_t shown = 0;
	size_t present = 0;

	used += (size_t)snprintf(line, sizeof(line),
				 "%d selected sessions still connected after "
				 "%.1fs:",
				 h->last_total, waited_s);
	for (size_t i = 0; i < h->group_count; i++) {
		const struct group_history *g = &h->groups[i];
		char name[256];
		char label[600] = "";

		if (g->last == 0) {
			continue;
		}
		present++;
		if (shown == 5) {
			continue;
		}
		for (size_t k = 0; k < h->keys.count; k++) {
			const char *key = g->keys[h->keys.keys[k]];

			text_sanitize(name, sizeof(name), key, strlen(key),
				      output_locale_is_utf8());
			snprintf(label + strlen(label),
				 sizeof(label) - strlen(label), "%s%s",
				 k > 0 ? "/" : "", name);
		}
		if (used < sizeof(line)) {
			used += (size_t)snprintf(line + used,
						 sizeof(line) - used,
						 "%s %s (%d)", shown ? "," : "",
						 label, g->last);
		}
		shown++;
	}
	if (present > shown && used < sizeof(line)) {
		snprintf(line + used, sizeof(line) - used,
			 " and %zu more groups", present - shown);
	}
	notice_say("%s", line);
}

static void drain_outcome(struct run *run, struct target *t, bool ok)
{
	struct drain *d = loop_mode(run)->state;
	int64_t now = clock_mono_ms();
	double waited_s = (now - run->started_ms) / 1000.0;

	if (ok) {
		patience_reset(&d->patience);
		if (pipeline_history(target_pipeline(t))->last_total == 0) {
			notice_say("drained: no selected session remains after "
				   "%.1fs",
				   waited_s);
			run->status = PGD_EXIT_OK;
			run->done = true;
			return;
		}
	} else if (patience_exhausted(&d->patience, t, now)) {
		run->status = target_ever_connected(t) ? PGD_EXIT_UNAVAILABLE
						       : run_unreachable(t);
		run->done = true;
		return;
	}
	if (d->final_asked) {
		say_remaining(run, waited_s);
		run->status = PGD_EXIT_CHECK_FAILED;
		run->done = true;
	}
}

static void drain_tick(struct run *run, int64_t now_ms)
{
	struct drain *d = loop_mode(run)->state;

	if (!d->final_asked && (now_ms >= d->end_ms || run->stop_signal)) {
		d->final_asked = true;
		d->final_deadline_ms = now_ms + 5000;
		target_sample_now(run_target(run), now_ms);
	} else if (d->final_asked && now_ms >= d->final_deadline_ms) {
		say_remaining(run, (now_ms - run->started_ms) / 1000.0);
		run->status = PGD_EXIT_CHECK_FAILED;
		run->done = true;
	}
}

static int64_t drain_next_wake(const struct run *run)
{
	const struct drain *d = loop_mode(run)->state;

	return d->final_asked ? d->final_deadline_ms : d->end_ms;
}

/* --wait-drain prints no report, but --plot still draws its run. */
static int draw_plot(struct run *run, int status)
{
	struct report report;
	struct errbuf err;
	struct target *t = run_target(run);

	if (run->plot.out == NULL ||
	    pipeline_last(target_pipeline(t)) == NULL) {
		return status;
	}
	report_init(&report);
	run_report(run, t, &report);
	if (!output_plot_write(&run->plot, &report,
			       pipeline_history(target_pipeline(t)), &err)) {
		notice_say("%s", err.msg);
		status = status ? status : PGD_EXIT_UNAVAILABLE;
	}
	report_finish(&report);
	return status;
}

int mode_drain(struct run *run)
{
	struct drain d = {
		.end_ms = run->started_ms + run->opts->wait_drain_ms,
	};
	struct mode_ops ops = {
		.outcome = drain_outcome,
		.tick = drain_tick,
		.next_wake_ms = drain_next_wake,
		.state = &d,
	};

	patience_init(&d.patience, run->opts);
	target_start(run_target(run), run->started_ms);
	loop_run(run, &ops);
	if (target_output_failed(run_target(run)) && run->status == 0) {
		run->status = PGD_EXIT_UNAVAILABLE;
	}
	return draw_plot(run, run->status);
}
