/*
 * target.c - one server being watched (see target.h): the session's
 * state machine over the slots of its schedule, reconnection with
 * backoff, and what each outcome feeds (the record, the tracing of
 * client processes, the pipeline).
 */
#include "target.h"
#include "target_private.h"

#include "attrib.h"
#include "clock.h"
#include "notice.h"
#include "prompt.h"
#include "safepath.h"

#include "core/bouncer.h"
#include "core/record.h"
#include "core/schedule.h"
#include "core/text.h"
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool open_record(struct target *t, struct errbuf *err)
{
	int fd;

	record_writer_init(&t->record);
	if (t->opts->record_file == NULL) {
		return true;
	}
	/* Opened at the edge (safepath.h: no planted link followed, a
	 * FIFO without a reader said at once, 0600: it holds other roles'
	 * query text), appended to by the core. */
	fd = safepath_open_path(t->opts->record_file, O_WRONLY | O_APPEND, 0600,
				err);
	t->recording = fd >= 0 &&
		       record_writer_attach(&t->record, t->opts->record_file,
					    fd, err);
	return t->recording;
}

struct target *target_create(const struct target_config *config,
			     struct errbuf *err)
{
	const struct options *opts = config->opts;
	struct target *t = xcalloc(1, sizeof(*t));
	struct pipeline_config pc = {
		.keys = opts->group_keys,
		.filter = &opts->filter,
		.thresholds = &opts->thresholds,
		.window_s = opts->window_ms / 1000.0,
		.interval_s = opts->interval_ms / 1000.0,
		.wrap = opts->mode == RUN_MODE_WRAP,
	};

	t->opts = opts;
	t->one_shot = config->one_shot;
	t->on_outcome = config->on_outcome;
	t->on_sample = config->on_sample;
	t->ctx = config->ctx;
	t->params.dbname = config->conninfo;
	t->params.host = opts->host;
	t->params.port = opts->port;
	t->params.user = opts->user;
	t->params.connect_timeout_ms = opts->connect_timeout_ms;
	t->params.one_shot = config->one_shot;
	t->interval_ms = opts->interval_ms;
	t->analysis_interval_ms = opts->interval_ms;
	t->command_started = t->command_ended = NAN;
	record_writer_init(&t->record);
	pipeline_init(&t->pipeline, &pc);
	sample_init(&t->sample);
	t->policy.everything = config->one_shot;
	if (!opts->no_attribution) {
		t->attrib = attributor_new();
		if (config->one_shot) {
			attributor_set_single_look(t->attrib);
		}
	}
	/* Named before it is reached, so an unreachable one has a name. */
	poll_describe(&t->params, t->label, sizeof(t->label));
	if (config->record && !open_record(t, err)) {
		target_destroy(t);
		return NULL;
	}
	return t;
}

/* A write error is said once, with the file's name; monitoring goes on
 * and the run ends with status 3. */
static void record_failed(struct target *t, const struct errbuf *err)
{
	if (!t->output_failed) {
		notice_say("%s", err->msg);
	}
	t->output_failed = true;
}

void target_destroy(struct target *t)
{
	struct errbuf err;

	if (t == NULL) {
		return;
	}
	/* A killed run loses at most the sample in flight; a clean one
	 * leaves the file on disk (fsync). */
	if (t->recording && !record_writer_close(&t->record, &err)) {
		record_failed(t, &err);
	}
	poll_destroy(t->poller);
	pipeline_finish(&t->pipeline);
	sample_finish(&t->sample);
	attributor_free(t->attrib);
	free(t->wanted);
	free(t->command_line);
	memset(t->password, 0, sizeof(t->password));
	free(t);
}

void target_start(struct target *t, int64_t now_ms)
{
	t->started = true;
	t->due_ms = now_ms;
	t->failing_since_ms = now_ms;
	if (t->opts->ask_password && !t->prompted) {
		t->prompted = true;
		if (prompt_password(t->label, t->password,
				    sizeof(t->password))) {
			t->params.password = t->password;
		}
	}
}

void target_set_interval(struct target *t, int64_t interval_ms, int64_t now_ms)
{
	t->due_ms = schedule_retime(t->due_ms, t->interval_ms, interval_ms,
				    now_ms);
	t->interval_ms = interval_ms;
}

int64_t target_interval_ms(const struct target *t)
{
	return t->interval_ms;
}

void target_set_analysis_interval(struct target *t, int64_t interval_ms)
{
	t->analysis_interval_ms = interval_ms;
}

void target_sample_now(struct target *t, int64_t now_ms)
{
	t->due_ms = now_ms;
}

void target_pause(struct target *t, bool paused, int64_t now_ms)
{
	t->paused = paused;
	if (!paused) {
		t->due_ms = now_ms;
	}
}

void target_hold(struct target *t, bool held)
{
	t->held = held;
}

void target_pollfd(const struct target *t, struct pollfd *pfd)
{
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	if (t->poller != NULL && poll_phase(t->poller) != POLL_PHASE_READY) {
		pfd->fd = poll_socket(t->poller);
		pfd->events = poll_events(t->poller);
	}
}

int64_t target_next_wake_ms(const struct target *t)
{
	int64_t wake = INT64_MAX;

	if (t->started && !t->paused) {
		wake = t->due_ms;
	}
	if (t->poller != NULL) {
		enum poll_phase phase = poll_phase(t->poller);
		int64_t limit = phase == POLL_PHASE_CONNECTING
					? poll_connect_timeout_ms(t->poller)
					: -1;

		if (limit >= 0 && t->phase_since_ms + limit < wake) {
			wake = t->phase_since_ms + limit;
		}
		if (phase == POLL_PHASE_SAMPLING) {
			int64_t look = schedule_in_flight_wake_ms(
				t->phase_since_ms, t->interval_ms,
				t->cancelled || t->one_shot);

			wake = look < wake ? look : wake;
		}
	} else if (t->slot_pending && t->next_connect_ms < wake) {
		wake = t->next_connect_ms;
	}
	return wake;
}

static void outcome(struct target *t, bool ok)
{
	t->slot_pending = false;
	if (t->on_outcome != NULL) {
		t->on_outcome(t, ok, t->ctx);
	}
}

/* A slot without a sample: a gap in the series, a line in the record. */
static void fail_slot(struct target *t, int64_t now_ms)
{
	/* Dated when the slot began, as a sample is (its query starts
	 * then): a record's failures keep the schedule's spacing. */
	double now = t->slot_pending && t->slot_wall_s > 0 ? t->slot_wall_s
							   : clock_wall_s();

	if (t->failing_since_ms == 0) {
		t->failing_since_ms = now_ms;
	}
	t->up = false;
	if (!t->one_shot) {
		struct errbuf err;

		pipeline_absorb_failure(&t->pipeline, now, t->error);
		if (t->recording &&
		    !record_writer_failure(&t->record, now, t->error, &err)) {
			record_failed(t, &err);
		}
	}
	outcome(t, false);
}

static void note_failure(struct target *t, enum poll_failure failure,
			 const char *msg)
{
	t->failure = failure;
	snprintf(t->error, sizeof(t->error), "%s", msg);
}

static void drop_session(struct target *t)
{
	poll_destroy(t->poller);
	t->poller = NULL;
	t->orphaned = false;
	t->cancelled = false;
}

static void back_off(struct target *t, int64_t now_ms)
{
	t->backoff_ms = schedule_backoff_ms(t->backoff_ms);
	t->next_connect_ms = now_ms + t->backoff_ms;
}

static void start_connect(struct target *t, int64_t now_ms)
{
	enum poll_failure failure;
	struct errbuf err;

	t->poller = poll_start(&t->params, &failure, &err);
	t->phase_since_ms = now_ms;
	if (t->poller != NULL && t->one_shot && t->attrib != NULL) {
		char dir[4096];

		/* The one sample's processes are read from now on. */
		if (poll_socket_dir(t->poller, dir, sizeof(dir))) {
			attributor_read_ahead_early(t->attrib, dir,
						    poll_server_port(t->poller),
						    poll_socket(t->poller));
		}
	}
	if (t->poller == NULL) {
		note_failure(t, failure, err.msg);
		back_off(t, now_ms);
		if (t->slot_pending) {
			fail_slot(t, now_ms);
		}
	}
}

static void start_sample(struct target *t, int64_t now_ms)
{
	struct errbuf err;

	if (!poll_sample_start(t->poller, pipeline_last(&t->pipeline), &err)) {
		note_failure(t, POLL_FAILURE_LOST, err.msg);
		drop_session(t);
		fail_slot(t, now_ms);
		return;
	}
	t->sent++;
	t->phase_since_ms = now_ms;
	t->orphaned = false;
	t->cancelled = false;
}

/*
 * The slot ends with a sample still in flight (its own, or an earlier
 * slot's): it fails now, on time, so every slot has its line however
 * long the server hangs.  The sample may still answer: within the next
 * slot, it is that slot's (dated when it came in, as every sample is);
 * check_flight() cancels it, then drops the session.
 */
static void close_late_slot(struct target *t, int64_t now_ms)
{
	char msg[200];
	int64_t age_ms = now_ms - t->phase_since_ms;

	if (age_ms < t->interval_ms) {
		/* Sent late in the slot, once connected. */
		snprintf(msg, sizeof(msg),
			 "no answer from the server within the slot (its "
			 "sample was sent %.1fs before the slot's end)",
			 age_ms / 1000.0);
	} else {
		snprintf(msg, sizeof(msg),
			 "the sample took longer than the interval (%gs): no "
			 "answer after %.1fs%s",
			 t->interval_ms / 1000.0, age_ms / 1000.0,
			 t->cancelled ? ", cancelled" : "");
	}
	note_failure(t, POLL_FAILURE_DOWN, msg);
	t->orphaned = true;
	fail_slot(t, now_ms);
}

/* The slot ends while connecting or backing off: no sample. */
static void fail_connecting_slot(struct target *t, int64_t now_ms)
{
	if (t->poller != NULL) {
		char msg[200];

		snprintf(msg, sizeof(msg),
			 "no answer from the server yet (connecting for "
			 "%.1fs)",
			 (now_ms - t->phase_since_ms) / 1000.0);
		note_failure(t, POLL_FAILURE_DOWN, msg);
	}
	fail_slot(t, now_ms);
}

/* A slot begins: sample, connect, or say why neither can be. */
static void begin_slot(struct target *t, int64_t now_ms)
{
	if (t->slot_pending) {
		if (t->poller != NULL &&
		    poll_phase(t->poller) == POLL_PHASE_SAMPLING) {
			if (now_ms - t->slot_mono_ms < t->interval_ms) {
				/* Asked for early (target_sample_now()):
				 * the sample in flight is the one asked for,
				 * and the slot keeps its end. */
				t->due_ms = t->slot_mono_ms + t->interval_ms;
				return;
			}
			if (t->one_shot) {
				/* --once waits for its one sample. */
				return;
			}
			close_late_slot(t, now_ms);
		} else {
			/* Still connecting (or backing off): the last slot
			 * had no sample, and says so now, on time. */
			fail_connecting_slot(t, now_ms);
		}
		if (!t->started) {
			return; /* given up on that failure */
		}
	}
	t->slot_pending = true;
	t->slot_wall_s = clock_wall_s();
	t->slot_mono_ms = now_ms;
	if (t->poller != NULL) {
		/* Sampling still: a closed slot's sample is in flight, and
		 * this slot's is sent once it is answered (advance()). */
		if (poll_phase(t->poller) == POLL_PHASE_READY) {
			start_sample(t, now_ms);
		}
		return;
	}
	if (now_ms >= t->next_connect_ms) {
		start_connect(t, now_ms);
	} else {
		/* Backing off: this slot is a gap, no attempt. */
		fail_slot(t, now_ms);
	}
}

static void connected(struct target *t, int64_t now_ms)
{
	snprintf(t->label, sizeof(t->label), "%s",
		 poll_server_label(t->poller));
	if (t->ever_connected && t->failing_since_ms != 0) {
		notice_say("reconnected after %.1fs",
			   (now_ms - t->failing_since_ms) / 1000.0);
		pipeline_note_reconnect(&t->pipeline);
		/* ... and in the record, so a replay says it too. */
		record_writer_note_reconnect(&t->record);
	}
	t->ever_connected = true;
	t->backoff_ms = 0;
	if (t->attrib != NULL) {
		attributor_set_server(t->attrib, poll_socket(t->poller),
				      poll_server_port(t->poller));
		if (t->one_shot) {
			/* Confirmed for this server, or started now. */
			attributor_read_ahead(t->attrib,
					      poll_server_backend_pid(
						      t->poller));
		}
	}
	target_say_pooler(t);
	if (t->slot_pending) {
		start_sample(t, now_ms);
	}
}

/* The server asked for a password: ask the user, once, as psql does. */
static bool prompt_after_refusal(struct target *t)
{
	if (t->prompted || t->ever_connected || t->opts->no_password ||
	    !poll_needs_password(t->poller)) {
		return false;
	}
	t->prompted = true;
	if (!prompt_password(t->label, t->password, sizeof(t->password))) {
		return false;
	}
	t->params.password = t->password;
	return true;
}

static void connect_failed(struct target *t, enum poll_failure failure,
			   const char *msg, int64_t now_ms)
{
	bool retry_now = failure == POLL_FAILURE_PASSWORD &&
			 prompt_after_refusal(t);

	note_failure(t, failure, msg);
	drop_session(t);
	if (retry_now) {
		start_connect(t, now_ms);
		return;
	}
	back_off(t, now_ms);
	if (t->slot_pending) {
		fail_slot(t, now_ms);
	}
}

/* The command's events since the last sample ride on this one. */
static void attach_command_events(struct target *t)
{
	if (isfinite(t->command_started)) {
		t->sample.command_started_epoch_s = t->command_started;
		t->sample.command_line = sample_strdup(&t->sample,
						       t->command_line);
		t->command_started = NAN;
	}
	if (isfinite(t->command_ended)) {
		t->sample.command_ended_epoch_s = t->command_ended;
		t->sample.command_status = t->command_status;
		t->command_ended = NAN;
	}
}

/* A sample came in: trace, record, fold in. */
static void sampled(struct target *t)
{
	/* Times rounded as the record keeps them, so a replay analyses
	 * the very same numbers as the live run. */
	record_round_times(&t->sample);
	if (t->attrib != NULL) {
		xgrow((void **)&t->wanted, &t->wanted_cap,
		      t->sample.session_count + 1, sizeof(*t->wanted));
		pipeline_wanted(&t->pipeline, &t->sample, &t->policy,
				t->wanted);
		attributor_run(t->attrib, &t->sample, t->wanted);
		/* Server sessions whose client is PgBouncer: through it. */
		bouncer_mark_pooled(&t->sample);
	}
	if (t->on_sample != NULL) {
		t->on_sample(t, &t->sample, t->ctx);
	}
	attach_command_events(t);
	t->sample.interval_s = t->analysis_interval_ms / 1000.0;
	if (t->sample_hook != NULL) {
		/* One sample is in flight at a time: this one is the last
		 * sent. */
		t->sample_hook(t, &t->sample, t->sent, t->sample_ctx);
	}
	target_note_clock_step(t);
	if (t->recording) {
		struct errbuf err;

		if (!record_writer_sample(&t->record, &t->sample, &err)) {
			record_failed(t, &err);
		}
	}
	pipeline_absorb(&t->pipeline, &t->sample);
	t->up = true;
	t->failing_since_ms = 0;
	t->failure = POLL_FAILURE_NONE;
	t->error[0] = '\0';
	if (t->opts->progress) {
		target_print_progress(t);
	}
	outcome(t, true);
}

/* The sample in flight failed (its cancel, or the session lost). */
static void sample_failed(struct target *t, enum poll_failure failure,
			  const char *msg, int64_t now_ms)
{
	bool orphaned = t->orphaned;

	t->orphaned = false;
	if (failure == POLL_FAILURE_LOST) {
		note_failure(t, failure, msg);
		drop_session(t);
	}
	if (!orphaned) {
		note_failure(t, failure, msg);
		fail_slot(t, now_ms);
	} else if (t->slot_pending && t->poller != NULL) {
		/* Its slot has its line: the open one gets a sample of its
		 * own now (a lost session connects again for it in
		 * target_step()). */
		start_sample(t, now_ms);
	}
}

static void advance(struct target *t, int64_t now_ms)
{
	enum poll_phase phase = poll_phase(t->poller);
	enum poll_failure failure;
	struct errbuf err;
	enum poll_status status;

	status = poll_advance(t->poller, &t->sample, &failure, &err);
	if (status == POLL_STATUS_WAIT) {
		return;
	}
	if (phase == POLL_PHASE_CONNECTING) {
		if (status == POLL_STATUS_DONE) {
			connected(t, now_ms);
		} else {
			connect_failed(t, failure, err.msg, now_ms);
		}
		return;
	}
	if (status == POLL_STATUS_DONE) {
		/* A closed slot's sample, answered with no slot open (the
		 * run holds its schedule): its slot has its line. */
		if (t->slot_pending) {
			sampled(t);
		}
		return;
	}
	sample_failed(t, failure, err.msg, now_ms);
}

/* A sample in flight for long: cancelled (not --once: it waits for its
 * one sample), then its session dropped. */
static void check_flight(struct target *t, int64_t now_ms)
{
	char msg[200];
	bool orphaned = t->orphaned;

	switch (schedule_in_flight(now_ms - t->phase_since_ms, t->interval_ms,
				   t->cancelled || t->one_shot)) {
	case SCHEDULE_FLIGHT_WAIT:
		break;
	case SCHEDULE_FLIGHT_CANCEL:
		/* Asked once: a server that does not act on it meets the
		 * deadline (and the sample's own statement_timeout). */
		t->cancelled = true;
		(void)poll_cancel(t->poller);
		break;
	case SCHEDULE_FLIGHT_DROP:
		snprintf(msg, sizeof(msg),
			 "sample took longer than %.1fs: the session was "
			 "dropped",
			 schedule_sample_deadline_ms(t->interval_ms) / 1000.0);
		note_failure(t, POLL_FAILURE_LOST, msg);
		drop_session(t);
		/* A closed slot's sample: the open slot connects again
		 * (target_step()) and may still get its sample. */
		if (!orphaned) {
			fail_slot(t, now_ms);
		}
		break;
	}
}

/* Connecting or sampling for too long: the session is given up. */
static void check_deadlines(struct target *t, int64_t now_ms)
{
	enum poll_phase phase;
	char msg[200];

	if (t->poller == NULL) {
		return;
	}
	phase = poll_phase(t->poller);
	if (phase == POLL_PHASE_CONNECTING &&
	    poll_connect_timeout_ms(t->poller) >= 0 &&
	    now_ms - t->phase_since_ms >= poll_connect_timeout_ms(t->poller)) {
		snprintf(msg, sizeof(msg),
			 "cannot connect: timeout expired after %.1fs",
			 (now_ms - t->phase_since_ms) / 1000.0);
		connect_failed(t, POLL_FAILURE_DOWN, msg, now_ms);
	} else if (phase == POLL_PHASE_SAMPLING) {
		check_flight(t, now_ms);
	}
}

void target_step(struct target *t, short revents, int64_t now_ms)
{
	if (t->poller != NULL && poll_phase(t->poller) != POLL_PHASE_READY &&
	    revents != 0) {
		advance(t, now_ms);
	}
	check_deadlines(t, now_ms);
	if (t->poller == NULL && t->slot_pending &&
	    now_ms >= t->next_connect_ms) {
		/* A slot waits for the end of a backoff: try now. */
		start_connect(t, now_ms);
	}
	if (t->started && !t->paused && !t->held && now_ms >= t->due_ms) {
		t->due_ms = schedule_next_slot(t->due_ms, t->interval_ms,
					       now_ms);
		begin_slot(t, now_ms);
	}
}

void target_give_up(struct target *t, bool stopped)
{
	/* A server never sampled says why in its report. */
	if (pipeline_last(&t->pipeline) == NULL &&
	    (t->one_shot || t->slot_pending)) {
		if (t->error[0] == '\0') {
			snprintf(t->error, sizeof(t->error),
				 "stopped before the server answered");
		} else if (stopped && target_connecting(t)) {
			/* Still trying when stopped: that is the news, what
			 * the tries met so far the detail. */
			char was[sizeof(t->error)];

			snprintf(was, sizeof(was), "%s", t->error);
			snprintf(t->error, sizeof(t->error),
				 "stopped before the server answered (%.400s)",
				 was);
		}
		pipeline_absorb_failure(&t->pipeline, clock_wall_s(), t->error);
	}
	t->slot_pending = false;
	drop_session(t);
	t->started = false;
}
