/*
 * mode_live.c - the live view: the watch mode on a terminal, drawn as
 * it goes.  Keys change the view (tui.c) or the run: pause, interval,
 * grouping (every grouping of the cycle is followed from the start, so
 * switching keeps its history), baseline.  It ends on 'q', a stop
 * signal, --duration, or a terminal that went away, always with the
 * report.
 */
#include "clock.h"
#include "loop.h"
#include "modes.h"
#include "notice.h"
#include "tui.h"

#include "core/view.h"

#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct live {
	struct patience patience;
	int64_t end_ms; /* --duration; INT64_MAX none */
	bool paused;
	struct report report; /* the analysis on screen */
	bool dirty;           /* something to redraw */
	int64_t drawn_second;
	bool drawn_late;
	/* The group on screen, copied out of the report. */
	bool shown;
	char shown_values[GROUP_KEY_COUNT][256];
	struct group_keys keys; /* the grouping shown */
	bool first_done;        /* the first sample (or the reason for none) */
	char listen_summary[256]; /* --listen's refusals, for the footer */
	char said[128];           /* the answer to the last key that has one */
};

/* Fatal signals: give the terminal back, then die as we would have. */
static void on_fatal(int signo)
{
	tui_emergency_restore();
	signal(signo, SIG_DFL);
	raise(signo);
}

/* What the detail pane shows decides what is traced and listed. */
static void follow_selection(struct run *run, struct live *lv)
{
	const char *values[GROUP_KEY_COUNT] = {0};
	struct trace_policy policy = {0};

	lv->shown = tui_selected_group(&lv->report, values);
	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		snprintf(lv->shown_values[k], sizeof(lv->shown_values[k]), "%s",
			 values[k] != NULL ? values[k] : "");
		policy.shown_values[k] = lv->shown_values[k];
	}
	policy.shown = lv->shown;
	target_set_trace_policy(run_target(run), &policy);
}

/* Rebuilds the analysis shown: after a sample, a regrouping, a new
 * baseline, a new selection; not on every frame. */
static void analyze(struct run *run, struct live *lv)
{
	struct run_facts facts;
	struct target *t = run_target(run);

	pipeline_facts_init(&facts, options_mode_name(run->opts->mode));
	facts.ended_epoch_s = clock_wall_s();
	if (run->listener != NULL) {
		facts.listening = true;
		facts.listen_refused_total = listen_refused_total(
			run->listener);
	}
	facts.detail = lv->shown;
	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		facts.detail_values[k] = lv->shown_values[k];
	}
	report_finish(&lv->report);
	report_init(&lv->report);
	target_report(t, &facts, &lv->report);
	lv->dirty = true;
}

/* A new selection: the pane's sessions come from a new report. */
static void reselect(struct run *run, struct live *lv)
{
	char before[GROUP_KEY_COUNT][256];
	bool was_shown = lv->shown;

	memcpy(before, lv->shown_values, sizeof(before));
	follow_selection(run, lv);
	if (lv->shown != was_shown ||
	    memcmp(before, lv->shown_values, sizeof(before)) != 0) {
		analyze(run, lv);
	}
}

static void live_outcome(struct run *run, struct target *t, bool ok)
{
	struct live *lv = loop_mode(run)->state;

	if (!lv->first_done) {
		/* Before the view: the first connection, on the plain
		 * terminal (a password prompt, a refusal). */
		if (ok ||
		    patience_exhausted(&lv->patience, t, clock_mono_ms())) {
			lv->first_done = true;
			run->done = true;
		}
		return;
	}
	if (ok) {
		patience_reset(&lv->patience);
	} else {
		(void)patience_exhausted(&lv->patience, t, clock_mono_ms());
	}
	analyze(run, lv);
	reselect(run, lv);
}

static void draw(struct run *run, struct live *lv, int64_t now_ms)
{
	struct target *t = run_target(run);
	struct tui_view view;
	char held[512];
	const char *error = NULL;
	int64_t interval = target_interval_ms(t);
	bool late = target_sample_wait_ms(t, now_ms) > interval;
	int64_t second = (now_ms - run->started_ms) / 1000;

	/* Curses sends only changed cells; not drawing at all when nothing
	 * changed keeps an idle refresh nearly free.  The clock in the
	 * header moves once a second. */
	if (!lv->dirty && second == lv->drawn_second &&
	    late == lv->drawn_late) {
		return;
	}
	memset(&view, 0, sizeof(view));
	view.report = &lv->report;
	view.elapsed_s = (double)second;
	view.interval_s = interval / 1000.0;
	view.paused = lv->paused;
	view.late = late;
	view.lost_for_s = target_ever_connected(t)
				  ? target_failing_for_ms(t, now_ms) / 1000.0
				  : 0;
	if (target_failure(t, &error) != POLL_FAILURE_NONE) {
		view.message = error;
	} else if (run->listener != NULL &&
		   listen_take_summary(run->listener, lv->listen_summary,
				       sizeof(lv->listen_summary))) {
		view.message = lv->listen_summary;
	} else if (lv->listen_summary[0] != '\0') {
		view.message = lv->listen_summary;
	} else if (lv->said[0] != '\0') {
		view.message = lv->said;
	} else if (notice_latest(held, sizeof(held)) > 0) {
		view.message = held;
	}
	tui_draw(&view);
	lv->dirty = false;
	lv->drawn_second = second;
	lv->drawn_late = late;
}

/* Applies a key's action; false to quit. */
static bool act(struct run *run, struct live *lv, enum tui_action a,
		int64_t now_ms)
{
	struct target *t = run_target(run);
	int64_t interval = target_interval_ms(t);

	lv->dirty = true;
	lv->said[0] = '\0';
	switch (a) {
	case TUI_QUIT:
		return false;
	case TUI_PAUSE:
		lv->paused = !lv->paused;
		target_pause(t, lv->paused, now_ms);
		break;
	case TUI_REBASELINE:
		pipeline_rebaseline(target_pipeline(t));
		analyze(run, lv);
		/* Said, or b looks like it did nothing: the +/- column
		 * reads 0 where the counts held still. */
		snprintf(lv->said, sizeof(lv->said),
			 "baseline reset at %llds: +/- counts from here",
			 (long long)((now_ms - run->started_ms) / 1000));
		break;
	case TUI_FASTER:
		interval = interval / 2 < 100 ? 100 : interval / 2;
		target_set_interval(t, interval, now_ms);
		target_set_analysis_interval(t, interval);
		break;
	case TUI_SLOWER:
		interval = interval * 2 > 60000 ? 60000 : interval * 2;
		target_set_interval(t, interval, now_ms);
		target_set_analysis_interval(t, interval);
		break;
	case TUI_REGROUP:
		view_next_group_keys(&lv->keys);
		pipeline_set_grouping(target_pipeline(t), &lv->keys);
		analyze(run, lv);
		break;
	default:
		break;
	}
	reselect(run, lv);
	return true;
}

static void live_input(struct run *run, short revents, int64_t now_ms)
{
	struct live *lv = loop_mode(run)->state;
	enum tui_action a;
	bool any = false;

	while (!run->done && tui_next_key(&a)) {
		any = true;
		run->done = !act(run, lv, a, now_ms);
	}
	if (!any && (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) {
		tui_note_empty_read();
	}
	if (tui_input_gone()) {
		run->done = true;
	}
}

static void live_tick(struct run *run, int64_t now_ms)
{
	struct live *lv = loop_mode(run)->state;

	if (run->stop_signal != 0 || now_ms >= lv->end_ms) {
		run->done = true;
		return;
	}
	if (run->resized) {
		run->resized = false;
		tui_resize();
		lv->dirty = true;
	}
	draw(run, lv, now_ms);
}

static void first_tick(struct run *run, int64_t now_ms)
{
	(void)now_ms;
	run->done |= run->stop_signal != 0;
}

static int64_t live_next_wake(const struct run *run)
{
	const struct live *lv = loop_mode(run)->state;
	int64_t next_second = run->started_ms +
			      ((clock_mono_ms() - run->started_ms) / 1000 + 1) *
				      1000;

	/* The header's clock moves every second. */
	return next_second < lv->end_ms ? next_second : lv->end_ms;
}

/* Every grouping the 'g' key cycles through is followed from the start. */
static void follow_groupings(struct pipeline *p, struct group_keys keys)
{
	struct group_keys k = keys;

	for (int i = 0; i < PIPELINE_MAX_GROUPINGS - 1; i++) {
		view_next_group_keys(&k);
		if (k.count == keys.count &&
		    memcmp(k.keys, keys.keys, k.count * sizeof(k.keys[0])) ==
			    0) {
			break;
		}
		pipeline_follow_grouping(p, &k);
	}
}

int mode_live(struct run *run)
{
	struct live lv = {
		.end_ms = run->opts->duration_ms >= 0
				  ? run->started_ms + run->opts->duration_ms
				  : INT64_MAX,
		.keys = run->opts->group_keys,
	};
	struct mode_ops ops = {
		.outcome = live_outcome,
		.tick = live_tick,
		.next_wake_ms = live_next_wake,
		.input = live_input,
		.watch_stdin = true,
		.state = &lv,
	};
	struct mode_ops first = {
		.outcome = live_outcome,
		.tick = first_tick,
		.state = &lv,
	};
	struct target *t = run_target(run);
	struct errbuf err;

	patience_init(&lv.patience, run->opts);
	follow_groupings(target_pipeline(t), lv.keys);
	/* Prompts and start-up errors belong on the plain terminal: the
	 * first sample is taken before the view takes it. */
	target_start(t, run->started_ms);
	loop_run(run, &first);
	if (pipeline_last(target_pipeline(t)) == NULL) {
		if (run->stop_signal != 0) {
			target_give_up(t, true);
			return run_finish(run, stdout);
		}
		return run_unreachable(t);
	}
	run->done = false;
	signal(SIGSEGV, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	if (!tui_start(!run->opts->no_color, &err)) {
		notice_say("%s", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	notice_hold(true);
	if (run->listener != NULL) {
		listen_hold_messages(run->listener, true);
	}
	lv.first_done = true;
	report_init(&lv.report);
	analyze(run, &lv);
	loop_run(run, &ops);
	tui_end();
	notice_hold(false);
	if (run->listener != NULL) {
		listen_hold_messages(run->listener, false);
	}
	report_finish(&lv.report);
	target_give_up(t, run->stop_signal != 0);
	return run_finish(run, stdout);
}
