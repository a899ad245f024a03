/*
 * mode_wrap.c - -- COMMAND: a baseline sample, then the command runs
 * while pgdrip samples; when it exits, pgdrip samples on for --settle
 * (until none of its own sessions is open) and reports to stderr, so
 * the report never mixes with the command's own output.
 *
 * A stop signal is passed on to the command (the terminal already sent
 * its own to the process group) and the run ends as if the command had
 * exited by itself: its sessions still get --settle to close, so the
 * verdict is the same on every run.  A second signal cuts the settling
 * short; a third kills the command.
 */
#include "clock.h"
#include "loop.h"
#include "modes.h"
#include "notice.h"
#include "sig.h"
#include "testmark.h"
#include "verdict.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>

/* The sampling interval while the command runs, at most: milliseconds. */
enum { WRAP_FAST_MS = 250 };

enum wrap_phase {
	WRAP_BASELINE, /* waiting for the first sample */
	WRAP_RUNNING,  /* the command runs */
	WRAP_SETTLING, /* it exited: its sessions may still be closing */
};

struct wrap {
	enum wrap_phase phase;
	struct patience patience;
	unsigned forwarded; /* stop signals passed on so far */
	int64_t settle_end_ms;
	bool last_asked; /* the sample at the end of --settle */
	bool start_failed;
	struct testmark *marks; /* the runner's endpoint; NULL without */
};

/* Settled when none of the command's own sessions (its process tree's,
 * or held by no process known here) is open: a neighbour's sessions
 * decide nothing. */
static bool settled(const struct run *run, struct target *t)
{
	const struct pipeline *p = target_pipeline(t);
	double cmd_start = p->tracker.started + run->command_started_s;

	if (!p->tracker.identities) {
		/* Sessions without identities (a pooler's console): by the
		 * groups' counts, back at their baselines. */
		const struct history *h = pipeline_history(p);

		for (size_t i = 0; i < h->group_count; i++) {
			if (h->groups[i].last > h->groups[i].baseline) {
				return false;
			}
		}
		return true;
	}
	return verdict_command_open(&p->tracker, p->config.filter, cmd_start) ==
	       0;
}

static void start_command(struct run *run, struct wrap *w)
{
	struct target *t = run_target(run);
	struct trace_policy trace = {.everything = true};
	struct errbuf err;

	run->command_line = wrap_command_line(run->opts->command);
	/* The runner's endpoint, named in the command's environment; a
	 * runner that says nothing changes nothing. */
	w->marks = testmark_open(t, &err);
	if (w->marks != NULL) {
		testmark_export(w->marks);
	} else {
		notice_say("%s: tests cannot be named", err.msg);
	}
	run->command_started_s = run_time_s(run, t);
	if (!wrap_start(&run->child, run->opts->command, &err)) {
		notice_say("%s", err.msg);
		run->status = PGD_EXIT_UNAVAILABLE;
		run->done = true;
		w->start_failed = true;
		return;
	}
	/* Sessions shorter than a sample are half seen or missed: while
	 * the command runs, sample at least every WRAP_FAST_MS, whatever
	 * --interval says (the verdict's waits still follow it). */
	if (run->opts->interval_ms > WRAP_FAST_MS) {
		target_set_interval(t, WRAP_FAST_MS, clock_mono_ms());
	}
	target_set_wrapped(t, run->child.pid);
	target_note_command_start(t, clock_wall_s(), run->command_line);
	if (w->marks != NULL) {
		testmark_set_command(w->marks, run->child.pid);
	}
	/* Every session the command opens is traced, once. */
	target_set_trace_policy(t, &trace);
	w->phase = WRAP_RUNNING;
}

static void wrap_outcome(struct run *run, struct target *t, bool ok)
{
	struct wrap *w = loop_mode(run)->state;

	if (w->marks != NULL) {
		testmark_outcome(w->marks, ok, clock_mono_ms());
	}
	if (ok) {
		patience_reset(&w->patience);
	} else if (patience_exhausted(&w->patience, t, clock_mono_ms()) &&
		   w->phase == WRAP_BASELINE) {
		run->status = target_ever_connected(t) ? PGD_EXIT_UNAVAILABLE
						       : run_unreachable(t);
		run->done = true;
		return;
	}
	if (w->phase == WRAP_BASELINE && ok) {
		/* The baseline: taken before the command opens anything. */
		start_command(run, w);
	} else if (w->phase == WRAP_SETTLING &&
		   (settled(run, t) || clock_mono_ms() >= w->settle_end_ms)) {
		run->done = true;
	}
}

/* Stop signals: passed on to a running command once each. */
static void forward_stops(struct run *run, struct wrap *w)
{
	if (run->stop_count <= w->forwarded || run->child.pid <= 0) {
		return;
	}
	/* The terminal signalled the command's process group already;
	 * only a kill(1) aimed at pgdrip needs passing on. */
	if (run->stop_count >= 3) {
		wrap_forward(&run->child, SIGKILL);
	} else if (run->stop_from_process) {
		wrap_forward(&run->child, run->stop_signal);
	}
	w->forwarded = run->stop_count;
}

static void wrap_tick(struct run *run, int64_t now_ms)
{
	struct wrap *w = loop_mode(run)->state;

	if (w->phase == WRAP_BASELINE) {
		run->done = run->stop_signal != 0;
		return;
	}
	forward_stops(run, w);
	if (w->marks != NULL) {
		testmark_tick(w->marks, now_ms);
	}
	if (w->phase == WRAP_RUNNING) {
		run->child_signalled = false;
		if (wrap_poll(&run->child)) {
			run->command_ended_s = run_time_s(run, run_target(run));
			target_note_command_end(run_target(run), clock_wall_s(),
						run->child.status);
			w->phase = WRAP_SETTLING;
			if (w->marks != NULL) {
				testmark_stop(w->marks);
			}
			w->settle_end_ms = now_ms + run->opts->settle_ms;
			/* The first look right away: it is most often
			 * settled already. */
			target_sample_now(run_target(run), now_ms);
		}
		return;
	}
	if (now_ms >= w->settle_end_ms && !w->last_asked) {
		w->last_asked = true;
		target_sample_now(run_target(run), now_ms);
	}
	if (now_ms >= w->settle_end_ms + 5000 || run->stop_count >= 2) {
		/* A sample hung past --settle, or the user insists. */
		run->done = true;
	}
}

static int64_t wrap_next_wake(const struct run *run)
{
	const struct wrap *w = loop_mode(run)->state;
	int64_t marks = w->marks != NULL ? testmark_next_wake_ms(w->marks)
					 : INT64_MAX;
	int64_t settle;

	if (w->phase != WRAP_SETTLING) {
		return marks;
	}
	settle = w->last_asked ? w->settle_end_ms + 5000 : w->settle_end_ms;
	return settle < marks ? settle : marks;
}

static size_t wrap_pollfds(struct run *run, struct pollfd *fds, size_t max)
{
	struct wrap *w = loop_mode(run)->state;

	return w->marks != NULL ? testmark_pollfds(w->marks, fds, max) : 0;
}

static void wrap_ready(struct run *run, const struct pollfd *fds, size_t n,
		       int64_t now_ms)
{
	struct wrap *w = loop_mode(run)->state;

	if (w->marks != NULL) {
		testmark_ready(w->marks, fds, n, now_ms);
	}
}

int mode_wrap(struct run *run)
{
	struct wrap w = {.phase = WRAP_BASELINE};
	struct mode_ops ops = {
		.outcome = wrap_outcome,
		.tick = wrap_tick,
		.next_wake_ms = wrap_next_wake,
		.pollfds = wrap_pollfds,
		.ready = wrap_ready,
		.state = &w,
	};

	patience_init(&w.patience, run->opts);
	target_start(run_target(run), run->started_ms);
	loop_run(run, &ops);
	testmark_close(w.marks);
	if (w.phase == WRAP_BASELINE) {
		if (run->status == PGD_EXIT_OK) {
			notice_say(
				"stopped before the first sample: the command "
				"was not started");
			run->status = PGD_EXIT_UNAVAILABLE;
		}
		return run->status;
	}
	if (w.start_failed) {
		return run->status;
	}
	/* The report must not mix with the command's stdout. */
	return run_finish(run, stderr);
}
