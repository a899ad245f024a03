/*
 * fleet.c - several servers watched side by side (-d given more than
 * once, or --targets FILE): one thread and one connection per server, so
 * a server that is down or slow delays only itself; the main thread
 * waits for the end (--duration, a signal) and writes one report with a
 * section per server.
 *
 * With --listen, each server's thread renders the exposition of them all
 * after each of its samples and hands it to the HTTP thread: a scrape
 * reads the latest buffer, never the databases.
 */
#include "fleet.h"

#include "clock.h"
#include "config.h"
#include "core/report_fold.h"
#include "core/report_prom.h"
#include "listen.h"
#include "monitor.h"
#include "output.h"
#include "sig.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fleet;

struct server {
	struct fleet *fleet;
	struct monitor *monitor; /* driven by this server's thread only */
	pthread_t thread;
	bool started;
	struct report latest; /* under fleet->lock; for --listen */
	bool have_latest;
};

struct fleet {
	const struct options *opts;
	struct server *servers;
	size_t count;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stopping, on CLOCK_MONOTONIC */
	bool stopping;
	struct listener *listener;
};

static bool stopping(struct fleet *f)
{
	bool stop;

	pthread_mutex_lock(&f->lock);
	stop = f->stopping;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

/* Sleeps until due_ms (monotonic) or until the fleet stops. */
static void sleep_until(struct fleet *f, int64_t due_ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(due_ms / 1000);
	ts.tv_nsec = (long)(due_ms % 1000) * 1000000L;
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && clock_mono_ms() < due_ms) {
		if (pthread_cond_timedwait(&f->wake, &f->lock, &ts) ==
		    ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

/* The exposition of every server's latest report; under f->lock. */
static void publish_locked(struct fleet *f)
{
	const struct report **reports = xcalloc(f->count, sizeof(*reports));
	size_t n = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	for (size_t i = 0; i < f->count; i++) {
		if (f->servers[i].have_latest) {
			reports[n++] = &f->servers[i].latest;
		}
	}
	out = open_memstream(&buf, &len);
	if (out != NULL) {
		report_prom_write_many(out, reports, n, PGDRIP_VERSION);
		if (fclose(out) == 0) {
			listen_publish(f->listener, buf, len);
		} else {
			free(buf);
		}
	}
	free(reports);
}

/* After a sample: this server's report replaces its last one. */
static void publish(struct server *s)
{
	struct fleet *f = s->fleet;
	struct report fresh;

	if (f->listener == NULL) {
		return;
	}
	report_init(&fresh);
	monitor_report(s->monitor, &fresh);
	(void)report_fold(&fresh, (size_t)f->opts->max_groups);
	pthread_mutex_lock(&f->lock);
	if (s->have_latest) {
		report_finish(&s->latest);
	}
	/* The report's strings live in its arena, which moves with it. */
	s->latest = fresh;
	s->have_latest = true;
	publish_locked(f);
	pthread_mutex_unlock(&f->lock);
}

static void *run_server(void *arg)
{
	struct server *s = arg;
	struct fleet *f = s->fleet;
	int64_t due = clock_mono_ms();

	for (;;) {
		(void)monitor_sample(s->monitor);
		publish(s);
		if (f->opts->once || stopping(f)) {
			break;
		}
		due = monitor_next_due(due, f->opts->interval_ms);
		sleep_until(f, due);
		if (stopping(f)) {
			break;
		}
	}
	return NULL;
}

/* The main thread's wait: --duration, or a stop signal. */
static void wait_for_end(const struct options *opts)
{
	int64_t start = clock_mono_ms();

	while (sig_stop_requested() == 0) {
		struct pollfd pfd = {.fd = sig_fd(), .events = POLLIN};
		int64_t left = 1000;

		if (opts->duration_ms >= 0) {
			left = start + opts->duration_ms - clock_mono_ms();
			if (left <= 0) {
				return;
			}
			left = left < 1000 ? left : 1000;
		}
		if (poll(&pfd, 1, (int)left) > 0) {
			sig_drain();
		}
	}
}

static void init_fleet(struct fleet *f, const struct options *opts)
{
	pthread_condattr_t attr;

	memset(f, 0, sizeof(*f));
	f->opts = opts;
	f->count = opts->target_count;
	f->servers = xcalloc(f->count, sizeof(*f->servers));
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&attr);
	/* Timed waits on the clock samples are scheduled by. */
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &attr);
	pthread_condattr_destroy(&attr);
	for (size_t i = 0; i < f->count; i++) {
		f->servers[i].fleet = f;
		f->servers[i].monitor = monitor_new(
			opts, opts->targets[i].conninfo, opts->once);
	}
}

static void finish_fleet(struct fleet *f)
{
	for (size_t i = 0; i < f->count; i++) {
		if (f->servers[i].have_latest) {
			report_finish(&f->servers[i].latest);
		}
		monitor_free(f->servers[i].monitor);
	}
	free(f->servers);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	listen_stop(f->listener);
}

/* Threads run with the signals blocked: the main thread takes them. */
static bool start_threads(struct fleet *f)
{
	sigset_t all;
	sigset_t old;
	bool ok = true;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < f->count && ok; i++) {
		int rc = pthread_create(&f->servers[i].thread, NULL, run_server,
					&f->servers[i]);

		if (rc != 0) {
			fprintf(stderr, "pgdrip: cannot start a thread: %s\n",
				strerror(rc));
			ok = false;
		}
		f->servers[i].started = rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ok;
}

static void stop_threads(struct fleet *f)
{
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; i < f->count; i++) {
		if (f->servers[i].started) {
			pthread_join(f->servers[i].thread, NULL);
		}
	}
}

/*
 * One exit status for them all: a failed check anywhere is 1 (the
 * finding); otherwise a server never reached is 3; else 0.
 */
static int fleet_status(struct report *reports, size_t count)
{
	int status = PGD_EXIT_OK;

	for (size_t i = 0; i < count; i++) {
		if (reports[i].exit_code == PGD_EXIT_CHECK_FAILED) {
			return PGD_EXIT_CHECK_FAILED;
		}
		if (reports[i].samples == 0) {
			status = PGD_EXIT_UNAVAILABLE;
		}
	}
	return status;
}

static int write_reports(struct fleet *f)
{
	struct report *reports = xcalloc(f->count, sizeof(*reports));
	const struct report **each = xcalloc(f->count, sizeof(*each));
	struct errbuf err;
	int status;

	for (size_t i = 0; i < f->count; i++) {
		report_init(&reports[i]);
		monitor_report(f->servers[i].monitor, &reports[i]);
		if (f->opts->format == OUTPUT_FORMAT_PROMETHEUS) {
			(void)report_fold(&reports[i],
					       (size_t)f->opts->max_groups);
		}
		each[i] = &reports[i];
	}
	status = fleet_status(reports, f->count);
	if (!output_reports(f->opts, each, f->count, status, stdout, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		status = status ? status : PGD_EXIT_UNAVAILABLE;
	}
	for (size_t i = 0; i < f->count; i++) {
		report_finish(&reports[i]);
	}
	free(each);
	free(reports);
	return status;
}

int fleet_run(const struct options *opts)
{
	struct fleet f;
	int status = PGD_EXIT_OK;

	init_fleet(&f, opts);
	if (!listen_from_options(opts->listen_host, opts->listen_port,
				 &f.listener, &status)) {
		finish_fleet(&f);
		return status;
	}
	if (start_threads(&f)) {
		if (!opts->once) {
			wait_for_end(opts);
		}
		stop_threads(&f);
		status = write_reports(&f);
	} else {
		stop_threads(&f);
		status = PGD_EXIT_UNAVAILABLE;
	}
	finish_fleet(&f);
	return status;
}
