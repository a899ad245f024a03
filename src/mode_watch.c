/*
 * mode_watch.c - the watch mode: sample every --interval until
 * --duration ends (the last sample lands exactly at the end) or a stop
 * signal, then report.  One server or several side by side: a server
 * that is down or slow delays only itself.
 */
#include "clock.h"
#include "loop.h"
#include "modes.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

struct watch {
	struct patience *patience; /* per target */
	bool *gave_up;
	bool *answered; /* since the last sample was asked for */
	int64_t end_ms; /* INT64_MAX: until stopped */
	bool final_asked;
	int64_t final_deadline_ms;
};

static size_t index_of(const struct run *run, const struct target *t)
{
	size_t i = 0;

	while (i + 1 < run->target_count && run->targets[i] != t) {
		i++;
	}
	return i;
}

static bool all_answered(const struct run *run, const struct watch *w)
{
	for (size_t i = 0; i < run->target_count; i++) {
		if (!w->answered[i] && !w->gave_up[i]) {
			return false;
		}
	}
	return true;
}

static void watch_outcome(struct run *run, struct target *t, bool ok)
{
	struct watch *w = loop_mode(run)->state;
	size_t i = index_of(run, t);

	w->answered[i] = true;
	if (ok) {
		patience_reset(&w->patience[i]);
	} else if (patience_exhausted(&w->patience[i], t, clock_mono_ms())) {
		w->gave_up[i] = true;
		target_give_up(t, false);
		/* One server: nothing is left to watch. */
		run->done = run->target_count == 1;
	}
	if (w->final_asked && all_answered(run, w)) {
		run->done = true;
	}
}

static void watch_tick(struct run *run, int64_t now_ms)
{
	struct watch *w = loop_mode(run)->state;

	if (run->stop_signal != 0) {
		run->done = true;
		return;
	}
	if (now_ms < w->end_ms) {
		return;
	}
	if (!w->final_asked) {
		/* The last sample lands exactly at the end. */
		w->final_asked = true;
		w->final_deadline_ms = now_ms + 5000;
		for (size_t i = 0; i < run->target_count; i++) {
			w->answered[i] = false;
			target_sample_now(run->targets[i], now_ms);
		}
	} else if (now_ms >= w->final_deadline_ms) {
		run->done = true;
	}
}

static int64_t watch_next_wake(const struct run *run)
{
	const struct watch *w = loop_mode(run)->state;

	return w->final_asked ? w->final_deadline_ms : w->end_ms;
}

int mode_watch(struct run *run)
{
	const struct options *opts = run->opts;
	struct watch w = {
		.patience = xcalloc(run->target_count, sizeof(*w.patience)),
		.gave_up = xcalloc(run->target_count, sizeof(*w.gave_up)),
		.answered = xcalloc(run->target_count, sizeof(*w.answered)),
		.end_ms = opts->duration_ms >= 0
				  ? run->started_ms + opts->duration_ms
				  : INT64_MAX,
	};
	struct mode_ops ops = {
		.outcome = watch_outcome,
		.tick = watch_tick,
		.next_wake_ms = watch_next_wake,
		.state = &w,
	};
	int status;

	for (size_t i = 0; i < run->target_count; i++) {
		patience_init(&w.patience[i], opts);
		target_start(run->targets[i], run->started_ms);
	}
	loop_run(run, &ops);
	for (size_t i = 0; i < run->target_count; i++) {
		if (!w.gave_up[i]) {
			target_give_up(run->targets[i], run->stop_signal != 0);
		}
	}
	if (run->target_count == 1 && run->stop_signal == 0 &&
	    pipeline_last(target_pipeline(run_target(run))) == NULL) {
		status = run_unreachable(run_target(run));
	} else {
		status = run_finish(run, stdout);
	}
	free(w.patience);
	free(w.gave_up);
	free(w.answered);
	return status;
}
