/*
 * run.c - the services every mode uses (see run.h): the first target,
 * the run's clock, a target's report, and the reports written at the
 * end with the run's exit status.  dispatch.c sets the run up.
 */
#include "run.h"

#include "clock.h"
#include "notice.h"

#include "core/exitcode.h"
#include "core/report_fold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct target *run_target(const struct run *run)
{
	return run->targets[0];
}

double run_time_s(const struct run *run, const struct target *t)
{
	const struct history *h = pipeline_history(
		target_pipeline((struct target *)(uintptr_t)t));

	(void)run;
	return h->samples == 0 ? 0 : clock_wall_s() - h->started_epoch_s;
}

/* Our own footprint: the JSON report is how scripts/bench measures it,
 * side by side with the peers. */
static void self_usage(struct run_facts *facts)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0) {
		return;
	}
	facts->self_cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	facts->self_max_rss_kib = ru.ru_maxrss;
}

void run_report(const struct run *run, const struct target *t,
		struct report *out)
{
	struct run_facts facts;

	pipeline_facts_init(&facts, options_mode_name(run->opts->mode));
	facts.ended_epoch_s = clock_wall_s();
	if (run->opts->mode == RUN_MODE_WRAP) {
		facts.wrapped = true;
		facts.command = run->command_line;
		facts.argv = (const char *const *)run->opts->command;
		facts.command_status = run->child.status;
		facts.command_started_s = run->command_started_s;
		facts.command_ended_s = run->command_ended_s;
	}
	self_usage(&facts);
	if (run->listener != NULL) {
		facts.listening = true;
		facts.listen_refused_total = listen_refused_total(
			run->listener);
	}
	target_report(t, &facts, out);
}

int run_unreachable(const struct target *t)
{
	const char *msg;
	enum poll_failure failure = target_failure(t, &msg);

	notice_say("%s", msg);
	if (failure == POLL_FAILURE_SLOTS) {
		/* Out of slots is the finding pgdrip exists for, not an
		 * outage: say how to get in anyway. */
		notice_say("hint: the server or role is out of connection "
			   "slots; a superuser can still connect through the "
			   "reserved slots");
	}
	if (failure == POLL_FAILURE_PASSWORD) {
		notice_say("hint: give the password in PGPASSWORD or "
			   "~/.pgpass, or run pgdrip on a terminal (-W asks "
			   "for it)");
	} else if (strstr(msg, "password authentication failed") != NULL) {
		/* A password was given and refused: say where it came from
		 * (libpq's line names only the role). */
		notice_say("hint: the server refused the password given; "
			   "check PGPASSWORD, ~/.pgpass (host:port:db:role:"
			   "password) and any password in -d, or use -W to "
			   "type it");
	}
	if (strstr(msg, "FATAL:  not allowed") != NULL) {
		/* PgBouncer's refusal of its console to other users. */
		notice_say("hint: PgBouncer's admin console takes only the "
			   "users of its admin_users and stats_users");
	}
	return exitcode_unreached(failure == POLL_FAILURE_SLOTS);
}

/* A server never sampled has no figures to judge: its own exit code
 * says it could not be monitored. */
static void judge_unreached(struct report *report, const struct target *t)
{
	if (pipeline_last(target_pipeline((struct target *)(uintptr_t)t)) ==
	    NULL) {
		report->exit_code = exitcode_unreached(
			target_failure(t, NULL) == POLL_FAILURE_SLOTS);
	}
}

int run_finish(struct run *run, FILE *fallback)
{
	struct report *reports = xcalloc(run->target_count, sizeof(*reports));
	const struct report **each = xcalloc(run->target_count, sizeof(*each));
	int *codes = xcalloc(run->target_count, sizeof(*codes));
	struct errbuf err;
	int status;

	for (size_t i = 0; i < run->target_count; i++) {
		report_init(&reports[i]);
		run_report(run, run->targets[i], &reports[i]);
		if (run->opts->format == OUTPUT_FORMAT_PROMETHEUS) {
			(void)report_fold(&reports[i],
					  (size_t)run->opts->max_groups);
		}
		judge_unreached(&reports[i], run->targets[i]);
		each[i] = &reports[i];
		codes[i] = reports[i].exit_code;
	}
	status = exitcode_fleet(codes, run->target_count);
	free(codes);
	if (!output_reports(run->opts, each, run->target_count, status,
			    fallback, &err)) {
		notice_say("%s", err.msg);
		status = exitcode_after_write_error(status);
	}
	if (run->target_count == 1 &&
	    !output_plot_write(&run->plot, &reports[0],
			       pipeline_history(
				       target_pipeline(run->targets[0])),
			       &err)) {
		notice_say("%s", err.msg);
		status = exitcode_after_write_error(status);
	}
	for (size_t i = 0; i < run->target_count; i++) {
		if (target_output_failed(run->targets[i])) {
			status = exitcode_after_write_error(status);
		}
		report_finish(&reports[i]);
	}
	free(each);
	free(reports);
	return status;
}
