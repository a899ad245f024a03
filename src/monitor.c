/*
 * monitor.c - the sampling loop behind every mode.  One persistent
 * session (never a reconnect per sample, so exhaustion stays visible),
 * samples scheduled on the monotonic clock, signals as events, and one
 * report at the end built from the history.
 */
#include "monitor.h"

#include "attrib.h"
#include "clock.h"
#include "conninfo.h"
#include "fleet.h"
#include "config.h"
#include "core/record.h"
#include "core/report.h"
#include "core/report_fold.h"
#include "core/report_prom.h"
#include "core/text.h"
#include "listen.h"
#include "output.h"
#include "poll.h"
#include "sig.h"
#include "tui.h"
#include "wrap.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct monitor {
	const struct options *opts;
	enum report_mode mode;
	struct conn_params params;
	struct poller *poller;
	struct sample sample; /* the sample being taken */
	struct sample last;   /* the last successful one, for the report */
	bool have_last;
	struct group_set set;
	struct history history;
	struct wrapped child;
	char *command_line; /* owned */
	double command_started_s;
	double command_ended_s;
	int64_t lost_since_ms; /* monotonic; 0 while connected */
	char label[256];
	FILE *record;      /* --record, append mode; NULL when not asked */
	struct plot_file plot; /* --plot */
	double ended_epoch_s; /* replay: the last sample's time; 0 = now */
	bool replay_truncated;
	size_t late_samples;
	int64_t next_connect_ms; /* reconnect backoff: not before this */
	int64_t reconnect_backoff_ms;
	size_t reconnects;
	char last_error[512];
	struct group_keys keys; /* the live view can change the grouping */
	struct attributor *attrib; /* NULL: --no-attribution, or replay */
	bool *wanted;              /* per session of the sample: trace it */
	size_t wanted_cap;
	bool *group_wanted;        /* per group of the set: its sessions */
	size_t group_wanted_cap;
	bool last_failed;       /* the last sample attempt failed */
	bool ever_connected;    /* a reconnection is not the first one */
	struct listener *listener; /* --listen; NULL when not asked */
	size_t published;          /* samples + failures when last served */
};

static void monitor_init(struct monitor *m, const struct options *opts,
			 enum report_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->opts = opts;
	m->mode = mode;
	m->params.dbname = opts->dbname;
	m->params.host = opts->host;
	m->params.port = opts->port;
	m->params.user = opts->user;
	m->params.connect_timeout_ms = opts->connect_timeout_ms;
	sample_init(&m->sample);
	sample_init(&m->last);
	group_set_init(&m->set);
	m->keys = opts->group_keys;
	history_init(&m->history, &m->keys, opts->window_ms / 1000.0,
		     opts->interval_ms / 1000.0);
	m->child.status = -1;
	m->command_started_s = m->command_ended_s = NAN;
	if (!opts->no_attribution && mode != REPORT_MODE_REPLAY) {
		m->attrib = attributor_new();
		if (mode == REPORT_MODE_ONCE) {
			attributor_set_single_look(m->attrib);
		}
	}
}

static void monitor_finish(struct monitor *m)
{
	if (m->record != NULL) {
		/* A killed run loses at most the sample in flight; a clean
		 * one leaves the file on disk. */
		fflush(m->record);
		fsync(fileno(m->record));
		fclose(m->record);
	}
	listen_stop(m->listener);
	output_plot_close(&m->plot);
	poll_destroy(m->poller);
	sample_finish(&m->sample);
	sample_finish(&m->last);
	group_set_finish(&m->set);
	history_finish(&m->history);
	free(m->command_line);
	attributor_free(m->attrib);
	free(m->wanted);
	free(m->group_wanted);
}

/* Exit status and message for a connection that could not be made. */
static int connect_failed(enum poll_failure failure, const char *msg)
{
	fprintf(stderr, "pgdrip: %s\n", msg);
	if (failure == POLL_FAILURE_SLOTS) {
		/* Out of slots is the finding pgdrip exists for, not an
		 * outage: exit 1, and say how to get in anyway. */
		fprintf(stderr, "pgdrip: hint: the server or role is out of "
				"connection slots; a superuser can still "
				"connect through the reserved slots\n");
		return PGD_EXIT_CHECK_FAILED;
	}
	return PGD_EXIT_UNAVAILABLE;
}

static bool connect_now(struct monitor *m, enum poll_failure *failure,
			struct errbuf *err);

/* --retry-for: 30 s for --once, else until stopped. */
static int64_t retry_budget_ms(const struct monitor *m)
{
	if (m->opts->retry_for_ms >= 0) {
		return m->opts->retry_for_ms;
	}
	return m->mode == REPORT_MODE_ONCE ? 30000 : -1;
}

static void wait_until(int64_t due_ms);

/* The first connection: a server that is down or restarting is waited
 * for, with backoff, within the retry budget; anything else fails now. */
static bool connect_first(struct monitor *m, enum poll_failure *failure,
			  struct errbuf *err)
{
	int64_t start = clock_mono_ms();
	int64_t budget = retry_budget_ms(m);
	int64_t backoff = 250;
	bool said = false;

	while (!connect_now(m, failure, err)) {
		int64_t now = clock_mono_ms();
		int64_t left = budget - (now - start);

		if (*failure != POLL_FAILURE_DOWN || sig_stop_requested() != 0 ||
		    (budget >= 0 && left <= 0)) {
			return false;
		}
		if (!said) {
			fprintf(stderr, "pgdrip: waiting for the server: %s\n",
				err->msg);
			said = true;
		}
		wait_until(now + (budget >= 0 && left < backoff ? left : backoff));
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
	return true;
}

static bool connect_now(struct monitor *m, enum poll_failure *failure,
			struct errbuf *err)
{
	m->poller = poll_connect(&m->params, failure, err);
	if (m->poller == NULL) {
		return false;
	}
	snprintf(m->label, sizeof(m->label), "%s", poll_server_label(m->poller));
	m->ever_connected = true;
	if (m->attrib != NULL) {
		attributor_set_server(m->attrib, poll_socket(m->poller),
				      poll_server_port(m->poller));
	}
	return true;
}

static double run_time_s(const struct monitor *m, double wall_s)
{
	if (m->history.samples == 0) {
		return 0;
	}
	return wall_s - m->history.started_epoch_s;
}

static void print_progress(const struct monitor *m)
{
	char name[256];
	const struct group_history *worst = NULL;

	for (size_t i = 0; i < m->history.group_count; i++) {
		const struct group_history *g = &m->history.groups[i];

		if (g->trend.flagged &&
		    (worst == NULL ||
		     g->trend.slope_per_min > worst->trend.slope_per_min)) {
			worst = g;
		}
	}
	fprintf(stderr, "pgdrip: sample %zu at %.1fs: %d connections in %zu "
			"groups",
		m->history.samples, m->history.last_t_s, m->set.total,
		m->set.count);
	if (worst != NULL) {
		const char *key = worst->keys[m->history.keys.keys[0]];

		text_sanitize(name, sizeof(name), key, strlen(key),
			      output_locale_is_utf8());
		fprintf(stderr, "; growing: %s (%+.1f/min)", name,
			worst->trend.slope_per_min);
	}
	fputc('\n', stderr);
}

/* The sample just taken becomes the report's "last": a swap, not a copy
 * (the group set's strings move with their arena). */
static void keep_as_last(struct monitor *m)
{
	struct sample spare = m->last;

	m->last = m->sample;
	m->sample = spare;
	m->have_last = true;
}

static void note_failure(struct monitor *m, const struct errbuf *err)
{
	double now = clock_wall_s();

	history_add_failure(&m->history, now);
	m->last_failed = true;
	snprintf(m->last_error, sizeof(m->last_error), "%s", err->msg);
	if (m->record != NULL) {
		record_write_failure(m->record, now, err->msg);
		fflush(m->record);
	}
}

/*
 * Whether a group's sessions are worth tracing to their processes: a
 * one-shot report shows them all; a run follows the groups that are
 * flagged or above their baseline (where a leak shows), and new ones.
 */
static bool group_wanted(const struct monitor *m, const struct group *g)
{
	const struct group_history *h;

	if (m->mode == REPORT_MODE_ONCE) {
		return true;
	}
	h = history_find(&m->history, g);
	return h == NULL || h->trend.flagged || g->connections > h->baseline;
}

/* Traces the sessions shown or flagged to their local processes, and
 * names each group's holder. */
static void attribute(struct monitor *m)
{
	struct sample *sample = &m->sample;
	struct group_set *set = &m->set;

	/* Per group first (one history lookup each), then per session. */
	xgrow((void **)&m->group_wanted, &m->group_wanted_cap, set->count + 1,
	      sizeof(*m->group_wanted));
	for (size_t g = 0; g < set->count; g++) {
		m->group_wanted[g] = group_wanted(m, &set->groups[g]);
	}
	xgrow((void **)&m->wanted, &m->wanted_cap, sample->session_count + 1,
	      sizeof(*m->wanted));
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];
		size_t g = set->member[i];

		m->wanted[i] = g != (size_t)GROUP_NONE &&
			       (m->group_wanted[g] ||
				s->state == SESSION_STATE_IDLE_TX ||
				s->state == SESSION_STATE_IDLE_TX_ABORTED ||
				tui_shows_session(&m->keys, s));
	}
	attributor_run(m->attrib, sample, m->wanted);
	group_set_assign_holders(set, sample);
}

/* Folds a sample just taken into the record, the history and the last
 * sample, as every mode does. */
static void absorb_sample(struct monitor *m)
{
	if (m->sample.elapsed_ms > m->opts->interval_ms) {
		/* Taken, but slower than the interval: the schedule skips
		 * ahead rather than bunching samples up. */
		m->sample.status = SAMPLE_STATUS_LATE;
		m->late_samples++;
	}
	record_round_times(&m->sample);
	group_set_build(&m->set, &m->sample, &m->opts->filter, &m->keys);
	if (m->attrib != NULL) {
		attribute(m);
	}
	if (m->record != NULL) {
		record_write_sample(m->record, &m->sample);
		fflush(m->record);
	}
	history_add(&m->history, &m->sample, &m->set);
	keep_as_last(m);
	m->last_failed = false;
	m->lost_since_ms = 0;
	if (m->opts->progress) {
		print_progress(m);
	}
}

/* Takes one sample; on success folds it into the history.  On failure
 * marks a gap and drops the connection so the next step reconnects. */
static bool sample_step(struct monitor *m, struct errbuf *err)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	int64_t deadline_ms = m->opts->interval_ms > 5000 ? m->opts->interval_ms
							  : 5000;

	if (m->poller == NULL) {
		int64_t now = clock_mono_ms();
		bool again = m->ever_connected;

		if (now < m->next_connect_ms) {
			/* Backing off: this slot is a gap, no attempt. */
			errbuf_set(err, "%s", m->last_error);
			note_failure(m, err);
			return false;
		}
		if (!connect_now(m, &failure, err)) {
			m->reconnect_backoff_ms =
				m->reconnect_backoff_ms ? m->reconnect_backoff_ms * 2
							: 250;
			if (m->reconnect_backoff_ms > 5000) {
				m->reconnect_backoff_ms = 5000;
			}
			m->next_connect_ms = now + m->reconnect_backoff_ms;
			snprintf(m->last_error, sizeof(m->last_error), "%s",
				 err->msg);
			note_failure(m, err);
			return false;
		}
		if (m->lost_since_ms != 0) {
			fprintf(stderr, "pgdrip: reconnected after %.1fs\n",
				(now - m->lost_since_ms) / 1000.0);
		}
		m->reconnect_backoff_ms = 0;
		if (again) {
			m->reconnects++;
		}
	}
	if (!poll_sample(m->poller, &m->sample, deadline_ms, &failure, err)) {
		note_failure(m, err);
		if (failure == POLL_FAILURE_LOST) {
			poll_destroy(m->poller);
			m->poller = NULL;
		}
		return false;
	}
	absorb_sample(m);
	return true;
}

/* Waits until due_ms (monotonic), a signal, or a child exit. */
static void wait_until(int64_t due_ms)
{
	struct pollfd pfd = {.fd = sig_fd(), .events = POLLIN};
	int64_t left = due_ms - clock_mono_ms();

	if (left <= 0) {
		return;
	}
	if (poll(&pfd, 1, (int)left) > 0) {
		sig_drain();
	}
}

static void build_report(struct monitor *m, struct report *report)
{
	struct rusage ru;
	bool have_usage = getrusage(RUSAGE_SELF, &ru) == 0;
	struct report_input in = {
		.mode = m->mode,
		.history = &m->history,
		.last = m->have_last ? &m->last : NULL,
		.filter = &m->opts->filter,
		.thresholds = &m->opts->thresholds,
		.server_label = m->label,
		.ended_epoch_s = m->ended_epoch_s > 0 ? m->ended_epoch_s
						      : clock_wall_s(),
		.last_failed = m->last_failed,
		.reconnects = m->reconnects,
		.wrapped = m->mode == REPORT_MODE_WRAP,
		.command = m->command_line,
		.command_status = m->child.status,
		.command_started_s = m->command_started_s,
		.command_ended_s = m->command_ended_s,
		/* Our own footprint: the JSON report is how scripts/bench
		 * measures it, side by side with the peers. */
		.self_cpu_s = have_usage ? ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
						   (ru.ru_utime.tv_usec +
						    ru.ru_stime.tv_usec) / 1e6
					 : NAN,
		.self_max_rss_kib = have_usage ? ru.ru_maxrss : 0,
	};

	report_build(report, &in);
	if (m->attrib != NULL) {
		attributor_add_warnings(m->attrib, report);
	}
}

/* The report with what the run itself has to say about its samples. */
static void complete_report(struct monitor *m, struct report *report)
{
	build_report(m, report);
	if (m->reconnects > 0) {
		report_add_warning(report, "the connection was lost and "
					   "re-established %zu times; the gaps "
					   "are left out of the growth analysis",
				   m->reconnects);
	}
	if (m->late_samples > 0) {
		report_add_warning(report, "%zu samples took longer than the "
					   "interval (%gs)",
				   m->late_samples,
				   m->opts->interval_ms / 1000.0);
	}
	if (m->replay_truncated) {
		report_add_warning(report, "the record's last line was cut "
					   "short (its recorder was stopped "
					   "mid-write) and was skipped");
	}
	if (!m->have_last && m->last_error[0] != '\0') {
		report_add_warning(report, "no sample could be taken: %s",
				   m->last_error);
	}
}

/* Builds, writes and checks the report; returns the exit status. */
static int finish_with_report(struct monitor *m, FILE *fallback)
{
	struct report report;
	struct errbuf err;
	int status;

	if (!m->have_last) {
		fprintf(stderr, "pgdrip: no sample could be taken\n");
		return m->child.status > 0 ? m->child.status
					   : PGD_EXIT_UNAVAILABLE;
	}
	report_init(&report);
	complete_report(m, &report);
	if (m->opts->format == OUTPUT_FORMAT_PROMETHEUS) {
		(void)report_fold(&report, (size_t)m->opts->max_groups);
	}
	if (!output_report(m->opts, &report, fallback, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		report.exit_code = report.exit_code ? report.exit_code
						    : PGD_EXIT_UNAVAILABLE;
	}
	if (!output_plot_write(&m->plot, &report, &m->history, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		report.exit_code = report.exit_code ? report.exit_code
						    : PGD_EXIT_UNAVAILABLE;
	}
	status = report.exit_code;
	report_finish(&report);
	return status;
}

/*
 * --listen: after each sample attempt, renders the exposition into a
 * buffer and hands it to the server thread, so a scrape never waits on
 * (or queries) the database.  Its own report: the fold must not change
 * what the live view shows.
 */
static void publish_metrics(struct monitor *m)
{
	struct report report;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (m->listener == NULL ||
	    m->history.samples + m->history.failed_samples == m->published) {
		return;
	}
	m->published = m->history.samples + m->history.failed_samples;
	report_init(&report);
	build_report(m, &report);
	(void)report_fold(&report, (size_t)m->opts->max_groups);
	out = open_memstream(&buf, &len);
	if (out == NULL) {
		/* Out of memory: the previous exposition stays served. */
		report_finish(&report);
		return;
	}
	report_prom_write(out, &report, PGDRIP_VERSION);
	if (fclose(out) == 0) {
		listen_publish(m->listener, buf, len);
	} else {
		free(buf);
	}
	report_finish(&report);
}

static int run_once(struct monitor *m)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;

	if (!connect_first(m, &failure, &err)) {
		return connect_failed(failure, err.msg);
	}
	if (!sample_step(m, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	return finish_with_report(m, stdout);
}

/* True when the retry budget for a lost server is spent. */
static bool gave_up(struct monitor *m, const struct errbuf *err)
{
	int64_t now = clock_mono_ms();

	if (m->lost_since_ms == 0) {
		m->lost_since_ms = now;
		fprintf(stderr, "pgdrip: sample failed: %s\n", err->msg);
	}
	if (retry_budget_ms(m) >= 0 &&
	    now - m->lost_since_ms > retry_budget_ms(m)) {
		fprintf(stderr, "pgdrip: giving up after %.1fs without a "
				"sample: %s\n",
			(now - m->lost_since_ms) / 1000.0, err->msg);
		return true;
	}
	return false;
}

/* Schedules the next sample on the monotonic clock: a slow sample does
 * not shift the ones after it; missed slots are skipped, not bunched. */
static int64_t next_due(int64_t due_ms, int64_t interval_ms)
{
	int64_t now = clock_mono_ms();

	due_ms += interval_ms;
	if (due_ms <= now) {
		due_ms = now + interval_ms - (now - due_ms) % interval_ms;
	}
	return due_ms;
}

static int run_watch(struct monitor *m)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;
	int64_t start = clock_mono_ms();
	int64_t due = start;

	if (!connect_first(m, &failure, &err)) {
		return connect_failed(failure, err.msg);
	}
	while (sig_stop_requested() == 0) {
		bool ok = sample_step(m, &err);

		publish_metrics(m);
		if (!ok && gave_up(m, &err)) {
			break;
		}
		if (m->opts->duration_ms >= 0 &&
		    clock_mono_ms() - start >= m->opts->duration_ms) {
			break;
		}
		due = next_due(due, m->opts->interval_ms);
		if (m->opts->duration_ms >= 0 &&
		    due > start + m->opts->duration_ms) {
			/* The last sample lands exactly at the end. */
			due = start + m->opts->duration_ms;
		}
		wait_until(due);
	}
	return finish_with_report(m, stdout);
}

/* After the command exits: sample until every group is back at or
 * below its baseline, or --settle runs out. */
static bool settled(const struct monitor *m)
{
	for (size_t i = 0; i < m->history.group_count; i++) {
		const struct group_history *g = &m->history.groups[i];

		if (g->last > g->baseline) {
			return false;
		}
	}
	return true;
}

static void forward_stop(struct monitor *m, bool *forwarded)
{
	int signo = sig_stop_requested();

	if (signo == 0 || *forwarded) {
		return;
	}
	/* The terminal already signalled the command's process group;
	 * only a kill(1) aimed at pgdrip needs passing on. */
	if (sig_stop_from_process()) {
		wrap_forward(&m->child, signo);
	}
	*forwarded = true;
}

static int run_wrap(struct monitor *m)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;
	bool forwarded = false;
	int64_t due;
	int64_t settle_end;

	if (!connect_first(m, &failure, &err)) {
		return connect_failed(failure, err.msg);
	}
	/* The baseline: taken before the command opens anything. */
	if (!sample_step(m, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	m->command_line = wrap_command_line(m->opts->command);
	m->command_started_s = run_time_s(m, clock_wall_s());
	if (!wrap_start(&m->child, m->opts->command, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	if (m->attrib != NULL) {
		attributor_set_wrapped(m->attrib, m->child.pid);
	}
	due = next_due(clock_mono_ms(), m->opts->interval_ms);
	while (m->child.pid > 0) {
		wait_until(due);
		forward_stop(m, &forwarded);
		(void)sig_take_child();
		if (wrap_poll(&m->child)) {
			m->command_ended_s = run_time_s(m, clock_wall_s());
			break;
		}
		if (clock_mono_ms() >= due) {
			/* Monitoring may be lost; the command is not. */
			if (!sample_step(m, &err)) {
				(void)gave_up(m, &err);
			}
			due = next_due(due, m->opts->interval_ms);
		}
	}
	/* Settle: the suite's connections may take a moment to close. */
	settle_end = clock_mono_ms() + m->opts->settle_ms;
	for (;;) {
		if (!sample_step(m, &err)) {
			(void)gave_up(m, &err);
		}
		if (settled(m) || clock_mono_ms() >= settle_end ||
		    sig_stop_requested() != 0) {
			break;
		}
		due = next_due(clock_mono_ms(), m->opts->interval_ms);
		wait_until(due < settle_end ? due : settle_end);
	}
	/* The report must not mix with the command's stdout. */
	return finish_with_report(m, stderr);
}

/* The selected sessions still connected, named, for the failure line. */
static void print_remaining(const struct monitor *m, double waited_s)
{
	char name[256];
	const struct group_set *set = &m->set;

	fprintf(stderr, "pgdrip: %d selected sessions still connected after "
			"%.1fs:",
		set->total, waited_s);
	for (size_t i = 0; i < set->count && i < 5; i++) {
		const struct group *g = &set->groups[i];

		fputc(' ', stderr);
		for (size_t k = 0; k < m->opts->group_keys.count; k++) {
			const char *key = g->keys[m->opts->group_keys.keys[k]];

			text_sanitize(name, sizeof(name), key, strlen(key),
				      output_locale_is_utf8());
			fprintf(stderr, "%s%s", k > 0 ? "/" : "", name);
		}
		fprintf(stderr, " (%d)%s", g->connections,
			i + 1 < set->count && i < 4 ? "," : "");
	}
	if (set->count > 5) {
		fprintf(stderr, " and %zu more groups", set->count - 5);
	}
	fputc('\n', stderr);
}

/* --wait-drain prints no report, but --plot still draws its run. */
static int drain_done(struct monitor *m, int status)
{
	struct report report;
	struct errbuf err;

	if (m->plot.out == NULL || !m->have_last) {
		return status;
	}
	report_init(&report);
	build_report(m, &report);
	if (!output_plot_write(&m->plot, &report, &m->history, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		status = status ? status : PGD_EXIT_UNAVAILABLE;
	}
	report_finish(&report);
	return status;
}

static int run_drain(struct monitor *m)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;
	int64_t start = clock_mono_ms();
	int64_t due = start;

	if (!connect_first(m, &failure, &err)) {
		return connect_failed(failure, err.msg);
	}
	for (;;) {
		bool ok = sample_step(m, &err);
		int64_t waited = clock_mono_ms() - start;

		if (ok && m->set.total == 0) {
			fprintf(stderr, "pgdrip: drained: no selected session "
					"remains after %.1fs\n",
				waited / 1000.0);
			return drain_done(m, PGD_EXIT_OK);
		}
		if (!ok && gave_up(m, &err)) {
			return drain_done(m, PGD_EXIT_UNAVAILABLE);
		}
		if (waited >= m->opts->wait_drain_ms ||
		    sig_stop_requested() != 0) {
			print_remaining(m, waited / 1000.0);
			return drain_done(m, PGD_EXIT_CHECK_FAILED);
		}
		due = next_due(due, m->opts->interval_ms);
		if (due > start + m->opts->wait_drain_ms) {
			due = start + m->opts->wait_drain_ms;
		}
		wait_until(due);
	}
}

/* Folds one recorded sample in, as sample_step() does for a live one. */
static void replay_one(struct monitor *m)
{
	m->last_failed = m->sample.status == SAMPLE_STATUS_FAILED;
	if (m->last_failed) {
		history_add_failure(&m->history, m->sample.taken_at_epoch_s);
		return;
	}
	group_set_build(&m->set, &m->sample, &m->opts->filter,
			&m->opts->group_keys);
	history_add(&m->history, &m->sample, &m->set);
	keep_as_last(m);
}

/* The recording's own spacing, from its first two samples, so the window
 * analysis sees the run as it was sampled. */
static double recorded_interval_s(const struct sample *a,
				  const struct sample *b, double fallback)
{
	double dt = b->taken_at_epoch_s - a->taken_at_epoch_s;

	return dt > 0.001 && dt < 3600 ? dt : fallback;
}

static int run_replay(struct monitor *m)
{
	struct record_reader reader;
	struct sample second;
	struct errbuf err;
	FILE *in = strcmp(m->opts->replay_file, "-") == 0
			   ? stdin
			   : fopen(m->opts->replay_file, "r");
	int got;
	int status = PGD_EXIT_OK;

	if (in == NULL) {
		fprintf(stderr, "pgdrip: cannot read \"%s\": %s\n",
			m->opts->replay_file, strerror(errno));
		return PGD_EXIT_USAGE;
	}
	snprintf(m->label, sizeof(m->label), "replay of %s",
		 m->opts->replay_file);
	record_reader_init(&reader, in);
	sample_init(&second);
	got = record_reader_next(&reader, &m->sample, &err);
	if (got > 0) {
		got = record_reader_next(&reader, &second, &err);
		history_finish(&m->history);
		history_init(&m->history, &m->opts->group_keys,
			     m->opts->window_ms / 1000.0,
			     got > 0 ? recorded_interval_s(&m->sample, &second,
							   m->opts->interval_ms /
								   1000.0)
				     : m->opts->interval_ms / 1000.0);
		replay_one(m);
		if (got > 0) {
			sample_copy(&m->sample, &second);
			replay_one(m);
		}
	}
	while (got > 0) {
		got = record_reader_next(&reader, &m->sample, &err);
		if (got > 0) {
			replay_one(m);
		}
	}
	sample_finish(&second);
	if (got < 0) {
		fprintf(stderr, "pgdrip: %s: %s\n", m->opts->replay_file,
			err.msg);
		status = PGD_EXIT_USAGE;
	} else if (!m->have_last) {
		fprintf(stderr, "pgdrip: %s: no sample to replay\n",
			m->opts->replay_file);
		status = PGD_EXIT_USAGE;
	} else {
		m->replay_truncated = reader.truncated_last_line;
		m->ended_epoch_s = m->last.taken_at_epoch_s;
		status = finish_with_report(m, stdout);
	}
	record_reader_finish(&reader);
	if (in != stdin) {
		fclose(in);
	}
	return status;
}

static bool open_record(struct monitor *m)
{
	if (m->opts->record_file == NULL) {
		return true;
	}
	m->record = fopen(m->opts->record_file, "a");
	if (m->record == NULL) {
		fprintf(stderr, "pgdrip: cannot write \"%s\": %s\n",
			m->opts->record_file, strerror(errno));
		return false;
	}
	return true;
}


/* ---- the live view ---- */

/* Fatal signals: give the terminal back, then die as we would have. */
static void on_fatal(int signo)
{
	tui_emergency_restore();
	signal(signo, SIG_DFL);
	raise(signo);
}

static void live_regroup(struct monitor *m)
{
	/* A new grouping is a new history: its baseline starts now. */
	tui_next_group_keys(&m->keys);
	history_finish(&m->history);
	history_init(&m->history, &m->keys, m->opts->window_ms / 1000.0,
		     m->opts->interval_ms / 1000.0);
	if (m->have_last) {
		group_set_build(&m->set, &m->last, &m->opts->filter, &m->keys);
		history_add(&m->history, &m->last, &m->set);
	}
}

struct live {
	int64_t interval_ms;
	int64_t due_ms;
	int64_t sent_ms; /* a sample in flight since; 0 none */
	bool paused;
	int64_t started_ms;
	char message[600];
	struct report report; /* the analysis on screen */
	bool dirty;           /* something to redraw */
	int64_t drawn_second;
	bool drawn_late;
};

static void live_analyze(struct monitor *m, struct live *lv);

/* Sends a sample when one is due; reconnects (with backoff) if needed. */
static void live_send(struct monitor *m, struct live *lv, int64_t now)
{
	enum poll_failure failure;
	struct errbuf err;

	if (lv->paused || lv->sent_ms != 0 || now < lv->due_ms) {
		return;
	}
	lv->due_ms = next_due(lv->due_ms, lv->interval_ms);
	if (m->poller == NULL) {
		if (now < m->next_connect_ms || !connect_now(m, &failure, &err)) {
			if (m->lost_since_ms == 0) {
				m->lost_since_ms = now;
			}
			m->reconnect_backoff_ms = m->reconnect_backoff_ms
							  ? m->reconnect_backoff_ms * 2
							  : 250;
			if (m->reconnect_backoff_ms > 5000) {
				m->reconnect_backoff_ms = 5000;
			}
			m->next_connect_ms = now + m->reconnect_backoff_ms;
			history_add_failure(&m->history, clock_wall_s());
			m->last_failed = true;
			return;
		}
		m->reconnect_backoff_ms = 0;
		m->reconnects += m->lost_since_ms != 0;
	}
	if (poll_sample_start(m->poller, &err)) {
		lv->sent_ms = now;
	} else {
		snprintf(lv->message, sizeof(lv->message), "%s", err.msg);
		poll_destroy(m->poller);
		m->poller = NULL;
	}
}

/* Reads a sample in flight; cancels one past its deadline. */
static void live_receive(struct monitor *m, struct live *lv, int64_t now)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;
	int r;
	int64_t deadline = lv->interval_ms > 5000 ? lv->interval_ms : 5000;

	if (lv->sent_ms == 0 || m->poller == NULL) {
		return;
	}
	r = poll_sample_continue(m->poller, &m->sample, &failure, &err);
	if (r == 0 && now - lv->sent_ms <= deadline) {
		return;
	}
	lv->sent_ms = 0;
	if (r > 0) {
		absorb_sample(m);
		lv->message[0] = '\0';
		live_analyze(m, lv);
		return;
	}
	if (r == 0) {
		/* Hung: drop the session rather than wait on it. */
		errbuf_set(&err, "sample took longer than %.1fs", deadline / 1000.0);
		failure = POLL_FAILURE_LOST;
	}
	snprintf(lv->message, sizeof(lv->message), "%s", err.msg);
	lv->dirty = true;
	note_failure(m, &err);
	if (failure == POLL_FAILURE_LOST) {
		poll_destroy(m->poller);
		m->poller = NULL;
		if (m->lost_since_ms == 0) {
			m->lost_since_ms = now;
		}
	}
}

/* Rebuilds the analysis shown: after a sample, a regrouping, a new
 * baseline; not on every frame. */
static void live_analyze(struct monitor *m, struct live *lv)
{
	report_finish(&lv->report);
	report_init(&lv->report);
	build_report(m, &lv->report);
	lv->dirty = true;
}

static void live_draw(struct monitor *m, struct live *lv, int64_t now)
{
	struct tui_view view;
	bool late = lv->sent_ms != 0 && now - lv->sent_ms > lv->interval_ms;
	int64_t second = (now - lv->started_ms) / 1000;

	/* Curses sends only changed cells; not drawing at all when nothing
	 * changed keeps an idle refresh nearly free.  The clock in the
	 * header moves once a second. */
	if (!lv->dirty && second == lv->drawn_second && late == lv->drawn_late) {
		return;
	}
	memset(&view, 0, sizeof(view));
	view.report = &lv->report;
	view.last = &m->last;
	view.history = &m->history;
	view.elapsed_s = (double)second;
	view.interval_s = lv->interval_ms / 1000.0;
	view.paused = lv->paused;
	view.late = late;
	view.lost_for_s = m->lost_since_ms ? (now - m->lost_since_ms) / 1000.0
					   : 0;
	view.message = lv->message[0] ? lv->message : NULL;
	tui_draw(&view);
	lv->dirty = false;
	lv->drawn_second = second;
	lv->drawn_late = late;
}

/* Applies a key's action; false to quit. */
static bool live_act(struct monitor *m, struct live *lv, enum tui_action a)
{
	lv->dirty = true;
	switch (a) {
	case TUI_QUIT:
		return false;
	case TUI_PAUSE:
		lv->paused = !lv->paused;
		lv->due_ms = clock_mono_ms();
		break;
	case TUI_REBASELINE:
		history_rebaseline(&m->history);
		live_analyze(m, lv);
		break;
	case TUI_FASTER:
		lv->interval_ms = lv->interval_ms / 2 < 100 ? 100
							    : lv->interval_ms / 2;
		break;
	case TUI_SLOWER:
		lv->interval_ms = lv->interval_ms * 2 > 60000
					  ? 60000
					  : lv->interval_ms * 2;
		break;
	case TUI_REGROUP:
		live_regroup(m);
		live_analyze(m, lv);
		break;
	default:
		break;
	}
	return true;
}

static int run_live(struct monitor *m)
{
	enum poll_failure failure = POLL_FAILURE_NONE;
	struct errbuf err;
	struct live lv = {.interval_ms = m->opts->interval_ms};
	bool running = true;

	if (!connect_first(m, &failure, &err)) {
		return connect_failed(failure, err.msg);
	}
	signal(SIGSEGV, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	if (!tui_start(!m->opts->no_color, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	lv.started_ms = lv.due_ms = clock_mono_ms();
	report_init(&lv.report);
	live_analyze(m, &lv);
	while (running && sig_stop_requested() == 0) {
		struct pollfd fds[3] = {
			{.fd = STDIN_FILENO, .events = POLLIN},
			{.fd = sig_fd(), .events = POLLIN},
			{.fd = m->poller && lv.sent_ms ? poll_socket(m->poller) : -1,
			 .events = POLLIN},
		};
		int64_t now = clock_mono_ms();
		int64_t wait = lv.paused ? 500 : lv.due_ms - now;

		live_send(m, &lv, now);
		live_draw(m, &lv, now);
		/* Wake at least every 250 ms: the clock in the header moves,
		 * and a hung sample must be noticed. */
		wait = wait < 0 ? 0 : wait > 250 ? 250 : wait;
		fds[2].fd = m->poller && lv.sent_ms ? poll_socket(m->poller) : -1;
		if (poll(fds, 3, (int)wait) > 0) {
			if (fds[1].revents & POLLIN) {
				sig_drain();
			}
			if (fds[0].revents & (POLLIN | POLLHUP)) {
				enum tui_action a;

				while (running && tui_next_key(&a)) {
					running = live_act(m, &lv, a);
				}
			}
		}
		if (sig_take_winch()) {
			tui_resize();
			lv.dirty = true;
		}
		live_receive(m, &lv, clock_mono_ms());
		publish_metrics(m);
	}
	tui_end();
	report_finish(&lv.report);
	return finish_with_report(m, stdout);
}

/* --listen (cli.c allows it in the watch mode and the live view only):
 * bound before connecting, so a bad or busy address fails at once.
 * Until the first sample attempt /metrics answers 503. */
static bool start_listener(struct monitor *m, int *status)
{
	return listen_from_options(m->opts->listen_host, m->opts->listen_port,
				   &m->listener, status);
}

/* ---- one server among several: what fleet.c drives ---- */

struct monitor *monitor_new(const struct options *opts, const char *conninfo,
			    bool once)
{
	struct monitor *m = xcalloc(1, sizeof(*m));

	monitor_init(m, opts, once ? REPORT_MODE_ONCE : REPORT_MODE_WATCH);
	m->params.dbname = conninfo;
	/* Named before it is reached, so an unreachable one has a name. */
	poll_describe(&m->params, m->label, sizeof(m->label));
	return m;
}

void monitor_free(struct monitor *m)
{
	if (m != NULL) {
		monitor_finish(m);
		free(m);
	}
}

bool monitor_sample(struct monitor *m)
{
	struct errbuf err;

	return sample_step(m, &err);
}

void monitor_report(struct monitor *m, struct report *report)
{
	complete_report(m, report);
}

int64_t monitor_next_due(int64_t due_ms, int64_t interval_ms)
{
	return next_due(due_ms, interval_ms);
}

int monitor_run(const struct options *opts)
{
	struct monitor m;
	enum report_mode mode = REPORT_MODE_WATCH;
	struct errbuf err;
	int status;

	if (opts->replay_file != NULL) {
		mode = REPORT_MODE_REPLAY;
	} else if (opts->once) {
		mode = REPORT_MODE_ONCE;
	} else if (opts->command != NULL) {
		mode = REPORT_MODE_WRAP;
	} else if (opts->wait_drain_ms >= 0) {
		mode = REPORT_MODE_DRAIN;
	}
	if (!sig_install()) {
		fprintf(stderr, "pgdrip: cannot install signal handlers: %s\n",
			strerror(errno));
		return PGD_EXIT_UNAVAILABLE;
	}
	if (opts->target_count > 1) {
		return fleet_run(opts);
	}
	if (mode == REPORT_MODE_WATCH && !opts->no_live &&
	    (opts->live ||
	     (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)))) {
		mode = REPORT_MODE_LIVE;
	}
	monitor_init(&m, opts, mode);
	if (mode != REPORT_MODE_REPLAY && !open_record(&m)) {
		monitor_finish(&m);
		return PGD_EXIT_USAGE;
	}
	if (!start_listener(&m, &status)) {
		monitor_finish(&m);
		return status;
	}
	/* Like --record: an unwritable path is known before the run. */
	if (!output_plot_open(opts, &m.plot, &err)) {
		fprintf(stderr, "pgdrip: %s\n", err.msg);
		monitor_finish(&m);
		return PGD_EXIT_USAGE;
	}
	switch (mode) {
	case REPORT_MODE_REPLAY:
		status = run_replay(&m);
		break;
	case REPORT_MODE_ONCE:
		status = run_once(&m);
		break;
	case REPORT_MODE_WRAP:
		status = run_wrap(&m);
		break;
	case REPORT_MODE_DRAIN:
		status = run_drain(&m);
		break;
	case REPORT_MODE_LIVE:
		status = run_live(&m);
		break;
	default:
		status = run_watch(&m);
		break;
	}
	monitor_finish(&m);
	return status;
}
