/*
 * loop.c - the one event loop (see loop.h), and what follows every
 * outcome whatever the mode: the /metrics exposition is rendered anew.
 */
#include "loop.h"

#include "clock.h"
#include "config.h"
#include "sig.h"

#include "core/report_fold.h"
#include "core/report_prom.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The mode of the loop running now: one loop per process at a time. */
static const struct mode_ops *current;

const struct mode_ops *loop_mode(const struct run *run)
{
	(void)run;
	return current;
}

/*
 * --listen: after each outcome, every server's report is rendered into
 * one exposition and handed to the HTTP thread, so a scrape never waits
 * on (or queries) a database.  Its own reports: the fold must not
 * change what the live view or the final report shows.
 */
static void publish(struct run *run)
{
	const struct report **each;
	struct report *reports;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (run->listener == NULL) {
		return;
	}
	reports = xcalloc(run->target_count, sizeof(*reports));
	each = xcalloc(run->target_count, sizeof(*each));
	for (size_t i = 0; i < run->target_count; i++) {
		report_init(&reports[i]);
		run_report(run, run->targets[i], &reports[i]);
		(void)report_fold(&reports[i], (size_t)run->opts->max_groups);
		each[i] = &reports[i];
	}
	out = open_memstream(&buf, &len);
	if (out != NULL) {
		report_prom_write_many(out, each, run->target_count,
				       PGDRIP_VERSION);
		if (fclose(out) == 0) {
			listen_publish(run->listener, buf, len);
		} else {
			free(buf);
		}
	}
	for (size_t i = 0; i < run->target_count; i++) {
		report_finish(&reports[i]);
	}
	free(each);
	free(reports);
}

void loop_on_outcome(struct target *t, bool ok, void *ctx)
{
	struct run *run = ctx;

	publish(run);
	if (current != NULL && current->outcome != NULL) {
		current->outcome(run, t, ok);
	}
	if (run->done) {
		/* The answer the mode waited for: no sample after it, which
		 * the run would end in the middle of (through PgBouncer
		 * that costs the pool its server connection: "client
		 * disconnect while server was not ready"). */
		target_hold(t, true);
	}
}

static void take_signals(struct run *run)
{
	int signo = sig_stop_requested();

	sig_drain();
	if (signo != 0 && run->stop_signal == 0) {
		run->stop_signal = signo;
		run->stop_from_process = sig_stop_from_process();
	}
	run->stop_count = sig_stop_count();
	run->child_signalled |= sig_take_child();
	run->resized |= sig_take_winch();
}

static int64_t next_wake(const struct run *run, const struct mode_ops *ops)
{
	int64_t wake = INT64_MAX;

	for (size_t i = 0; i < run->target_count; i++) {
		int64_t w = target_next_wake_ms(run->targets[i]);

		wake = w < wake ? w : wake;
	}
	if (ops->next_wake_ms != NULL) {
		int64_t w = ops->next_wake_ms(run);

		wake = w < wake ? w : wake;
	}
	return wake;
}

/* Waits for the next event or timer; returns the fds' readiness. */
static void wait_events(struct run *run, const struct mode_ops *ops,
			struct pollfd *fds, size_t nfds)
{
	int64_t now = clock_mono_ms();
	int64_t wake = next_wake(run, ops);
	/* Wake at least once a second: nothing is lost by looking. */
	int64_t timeout = wake == INT64_MAX ? 1000 : wake - now;

	timeout = timeout < 0 ? 0 : timeout > 1000 ? 1000 : timeout;
	if (poll(fds, nfds, (int)timeout) < 0 && errno != EINTR) {
		/* poll() itself failing is not something to spin on. */
		usleep(10000);
	}
}

/* The mode's own descriptors after the targets'; how many it gave. */
static size_t mode_pollfds(struct run *run, const struct mode_ops *ops,
			   struct pollfd *fds)
{
	size_t n;

	if (ops->pollfds == NULL) {
		return 0;
	}
	n = ops->pollfds(run, fds, LOOP_EXTRA_FDS);
	n = n > LOOP_EXTRA_FDS ? LOOP_EXTRA_FDS : n;
	for (size_t i = 0; i < n; i++) {
		fds[i].revents = 0;
	}
	return n;
}

static int64_t max_ms(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/*
 * Continued after a stop (SIGSTOP, ^Z): the stop began in one of the
 * waits since the last look (a wait woken by the signal may end before
 * the signal's byte is read), so the longest of them, longest_ms, is how
 * long no sample could be taken; it goes in every report.  Returns what
 * longest_ms is from now on: 0 after a stop was noted.
 */
static int64_t note_stopped(struct run *run, int64_t longest_ms)
{
	if (!sig_take_continued()) {
		return longest_ms;
	}
	for (size_t i = 0; i < run->target_count; i++) {
		pipeline_note_stopped(target_pipeline(run->targets[i]),
				      (double)longest_ms / 1000);
	}
	return 0;
}

void loop_run(struct run *run, const struct mode_ops *ops)
{
	size_t base = run->target_count + 2;
	struct pollfd *fds = xcalloc(base + LOOP_EXTRA_FDS, sizeof(*fds));
	int64_t longest_ms = 0; /* the longest wait since a stop was noted */

	current = ops;
	/* A mode running the loop again (the live view after its first
	 * sample) samples on from where the last run held. */
	for (size_t i = 0; i < run->target_count; i++) {
		target_hold(run->targets[i], false);
	}
	take_signals(run);
	while (!run->done) {
		int64_t now = clock_mono_ms();
		size_t extra;

		for (size_t i = 0; i < run->target_count && !run->done; i++) {
			target_step(run->targets[i], 0, now);
		}
		if (run->done) {
			break;
		}
		ops->tick(run, now);
		if (run->done) {
			break;
		}
		fds[0] = (struct pollfd){.fd = sig_fd(), .events = POLLIN};
		fds[1] = (struct pollfd){.fd = ops->watch_stdin ? STDIN_FILENO
								: -1,
					 .events = POLLIN};
		for (size_t i = 0; i < run->target_count; i++) {
			target_pollfd(run->targets[i], &fds[i + 2]);
		}
		extra = mode_pollfds(run, ops, fds + base);
		wait_events(run, ops, fds, base + extra);
		longest_ms = max_ms(longest_ms, clock_mono_ms() - now);
		now = clock_mono_ms();
		if (fds[0].revents != 0) {
			take_signals(run);
			longest_ms = note_stopped(run, longest_ms);
		}
		for (size_t i = 0; i < run->target_count && !run->done; i++) {
			if (fds[i + 2].fd >= 0 && fds[i + 2].revents != 0) {
				target_step(run->targets[i], fds[i + 2].revents,
					    now);
			}
		}
		if (fds[1].fd >= 0 && fds[1].revents != 0 && ops->input) {
			ops->input(run, fds[1].revents, now);
		}
		if (extra > 0 && ops->ready != NULL) {
			ops->ready(run, fds + base, extra, now);
		}
	}
	current = NULL;
	free(fds);
}
