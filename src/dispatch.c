/*
 * dispatch.c - a run from the options to its exit status (see
 * dispatch.h): the targets, --listen and --plot opened before anything
 * is sampled (a bad path fails first), then the mode the options name.
 * It sits above the modes; they, the loop and run.c's services never
 * call back up here.
 */
#include "dispatch.h"

#include "clock.h"
#include "loop.h"
#include "modes.h"
#include "notice.h"
#include "sig.h"

#include "core/bouncer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Two -d, a server and PgBouncer's console in front of it: each server
 * sample's pooled sessions are linked to the pooler's clients from the
 * console's last sample (at most an interval old: a connection pinned
 * by an open transaction stays linked much longer than that).
 */
static void link_pooled(struct target *t, struct sample *sample, void *ctx)
{
	const struct run *run = ctx;

	if (sample->server.source != SAMPLE_SOURCE_SERVER) {
		return;
	}
	for (size_t i = 0; i < run->target_count; i++) {
		const struct sample *other = pipeline_last(
			target_pipeline(run->targets[i]));

		if (run->targets[i] != t && other != NULL) {
			(void)bouncer_link(sample, other);
		}
	}
}

static bool create_targets(struct run *run, struct errbuf *err)
{
	const struct options *opts = run->opts;
	size_t count = opts->target_count > 0 ? opts->target_count : 1;

	run->targets = xcalloc(count, sizeof(*run->targets));
	for (size_t i = 0; i < count; i++) {
		struct target_config config = {
			.opts = opts,
			.conninfo = opts->target_count > 0
					    ? opts->targets[i].conninfo
					    : NULL,
			.one_shot = opts->mode == RUN_MODE_ONCE,
			.record = opts->record_file != NULL,
			.on_outcome = loop_on_outcome,
			.on_sample = count > 1 ? link_pooled : NULL,
			.ctx = run,
		};

		run->targets[i] = target_create(&config, err);
		if (run->targets[i] == NULL) {
			return false;
		}
		run->target_count++;
	}
	return true;
}

static void finish_run(struct run *run)
{
	for (size_t i = 0; i < run->target_count; i++) {
		target_destroy(run->targets[i]);
	}
	free(run->targets);
	listen_stop(run->listener);
	output_plot_close(&run->plot);
	free(run->command_line);
}

static int dispatch(struct run *run)
{
	switch (run->opts->mode) {
	case RUN_MODE_ONCE:
		return mode_once(run);
	case RUN_MODE_WRAP:
		return mode_wrap(run);
	case RUN_MODE_DRAIN:
		return mode_drain(run);
	case RUN_MODE_LIVE:
		return mode_live(run);
	case RUN_MODE_REPLAY:
	case RUN_MODE_WATCH:
		break;
	}
	return mode_watch(run);
}

int dispatch_run(const struct options *opts)
{
	struct run run;
	struct errbuf err;
	int status = PGD_EXIT_OK;

	if (!sig_install()) {
		notice_say("cannot install signal handlers: %s",
			   strerror(errno));
		return PGD_EXIT_UNAVAILABLE;
	}
	if (opts->mode == RUN_MODE_REPLAY) {
		return mode_replay(opts);
	}
	memset(&run, 0, sizeof(run));
	run.opts = opts;
	run.child.status = -1;
	run.command_started_s = run.command_ended_s = NAN;
	if (!create_targets(&run, &err)) {
		notice_say("%s", err.msg);
		finish_run(&run);
		return PGD_EXIT_USAGE;
	}
	/* --listen is bound before connecting, so a bad or busy address
	 * fails at once; until the first sample /metrics answers 503. */
	if (!listen_from_options(opts->listen_host, opts->listen_port,
				 &run.listener, &status)) {
		finish_run(&run);
		return status;
	}
	/* Like --record: an unwritable path is known before the run. */
	if (!output_check_path(opts, &err) ||
	    !output_plot_open(opts, &run.plot, &err)) {
		notice_say("%s", err.msg);
		finish_run(&run);
		return PGD_EXIT_USAGE;
	}
	run.started_ms = clock_mono_ms();
	status = dispatch(&run);
	finish_run(&run);
	return status;
}
