/*
 * mode_once.c - --once: one sample of each server, then the report.  A
 * server down or starting is waited for within --retry-for (30 s by
 * default); one that refuses for good is given up at once.
 */
#include "clock.h"
#include "loop.h"
#include "modes.h"

#include <stdlib.h>

struct once {
	struct patience *patience; /* per target */
	bool *finished;            /* sampled, or given up */
	size_t left;
};

static size_t index_of(const struct run *run, const struct target *t)
{
	size_t i = 0;

	while (i + 1 < run->target_count && run->targets[i] != t) {
		i++;
	}
	return i;
}

static void finish_target(struct run *run, struct once *o, size_t i,
			  bool sampled)
{
	if (o->finished[i]) {
		return;
	}
	o->finished[i] = true;
	if (!sampled) {
		target_give_up(run->targets[i], run->stop_signal != 0);
	} else {
		target_pause(run->targets[i], true, 0);
	}
	run->done = --o->left == 0;
}

static void once_outcome(struct run *run, struct target *t, bool ok)
{
	struct once *o = loop_mode(run)->state;
	size_t i = index_of(run, t);

	if (ok || patience_exhausted(&o->patience[i], t, clock_mono_ms())) {
		finish_target(run, o, i, ok);
	}
}

static void once_tick(struct run *run, int64_t now_ms)
{
	struct once *o = loop_mode(run)->state;

	(void)now_ms;
	for (size_t i = 0; run->stop_signal != 0 && i < run->target_count;
	     i++) {
		finish_target(run, o, i, false);
	}
}

int mode_once(struct run *run)
{
	struct once o = {
		.patience = xcalloc(run->target_count, sizeof(*o.patience)),
		.finished = xcalloc(run->target_count, sizeof(*o.finished)),
		.left = run->target_count,
	};
	struct mode_ops ops = {
		.outcome = once_outcome,
		.tick = once_tick,
		.state = &o,
	};
	int status;

	for (size_t i = 0; i < run->target_count; i++) {
		patience_init(&o.patience[i], run->opts);
		target_start(run->targets[i], run->started_ms);
	}
	loop_run(run, &ops);
	if (run->target_count == 1 &&
	    pipeline_last(target_pipeline(run_target(run))) == NULL) {
		status = run_unreachable(run_target(run));
	} else {
		status = run_finish(run, stdout);
	}
	free(o.patience);
	free(o.finished);
	return status;
}
