/*
 * mode_replay.c - --replay FILE: a --record file analysed again by the
 * same pipeline a live run uses, so the report, the checks and --plot
 * come out as they did (or would have, with other options).  No server,
 * no loop: the samples are read one after the other.
 */
#include "modes.h"
#include "notice.h"

#include "core/record.h"
#include "core/report_fold.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The interval the run was analysed at: as its record says (later
 * changes come with their samples), else, from a record older than that
 * key, the spacing of its first two samples. */
static double recorded_interval_s(const struct sample *a,
				  const struct sample *b, double fallback)
{
	double dt = b->taken_at_epoch_s - a->taken_at_epoch_s;

	if (a->interval_s > 0) {
		return a->interval_s;
	}
	return dt > 0.001 && dt < 3600 ? dt : fallback;
}

/* A wrapped command's run, as its record tells it. */
struct replayed_command {
	bool started;
	double started_epoch_s;
	double ended_epoch_s; /* NAN while it ran */
	int status;
	char line[1024];
	/* Not the command's: lines skipped for repeating the moment of the
	 * line before (two samples at one moment are a rate over no time),
	 * and that moment. */
	size_t repeated;
	double last_t_s;
};

static void note_command(struct replayed_command *c, struct pipeline *p,
			 const struct sample *s)
{
	if (isfinite(s->command_started_epoch_s)) {
		c->started = true;
		c->started_epoch_s = s->command_started_epoch_s;
		snprintf(c->line, sizeof(c->line), "%s", s->command_line);
		pipeline_set_wrap(p);
	}
	if (isfinite(s->command_ended_epoch_s)) {
		c->ended_epoch_s = s->command_ended_epoch_s;
		c->status = s->command_status;
	}
}

/* Folds one recorded sample in, as a target does a live one. */
static void replay_one(struct pipeline *p, struct sample *sample,
		       struct replayed_command *c)
{
	if (sample->taken_at_epoch_s == c->last_t_s) {
		c->repeated++;
		return;
	}
	c->last_t_s = sample->taken_at_epoch_s;
	if (sample->status == SAMPLE_STATUS_FAILED) {
		pipeline_absorb_failure(p, sample->taken_at_epoch_s, "");
		return;
	}
	note_command(c, p, sample);
	pipeline_absorb(p, sample);
}

/* Reads the whole file into p; the first two samples set the interval.
 * Returns what record_reader_next() last returned. */
static int read_all(struct record_reader *reader, struct pipeline *p,
		    const struct pipeline_config *config,
		    struct replayed_command *c, struct errbuf *err)
{
	struct pipeline_config pc = *config;
	struct sample first;
	struct sample second;
	bool have_first;
	int got;

	sample_init(&first);
	sample_init(&second);
	got = record_reader_next(reader, &first, err);
	have_first = got > 0;
	if (have_first && first.interval_s > 0) {
		pc.interval_s = first.interval_s;
	}
	if (got > 0) {
		got = record_reader_next(reader, &second, err);
		if (got > 0) {
			pc.interval_s = recorded_interval_s(&first, &second,
							    pc.interval_s);
		}
	}
	pipeline_init(p, &pc);
	if (have_first) {
		replay_one(p, &first, c);
	}
	if (got > 0) {
		replay_one(p, &second, c);
	}
	while (got > 0) {
		got = record_reader_next(reader, &second, err);
		if (got > 0) {
			replay_one(p, &second, c);
		}
	}
	/* The connection made anew as often as live: the same warning. */
	for (size_t i = 0; i < reader->reconnects; i++) {
		pipeline_note_reconnect(p);
	}
	if (reader->clock_steps > 0) {
		/* The steps as one: their sum is what the report says. */
		pipeline_note_clock_step(p, reader->clock_step_s);
		p->clock_steps = reader->clock_steps;
	}
	sample_finish(&first);
	sample_finish(&second);
	return got;
}

/* The facts of a wrapped run, from its record. */
static void wrap_facts(struct run_facts *facts, const struct pipeline *p,
		       const struct replayed_command *c)
{
	double t0 = pipeline_history(p)->started_epoch_s;

	if (!c->started) {
		return;
	}
	facts->wrapped = true;
	facts->command = c->line;
	facts->command_status = isfinite(c->ended_epoch_s) ? c->status : -1;
	facts->command_started_s = c->started_epoch_s - t0;
	facts->command_ended_s = isfinite(c->ended_epoch_s)
					 ? c->ended_epoch_s - t0
					 : NAN;
}

/* "COUNT TEXT" into buf as the next warning, when count is not 0. */
static void count_warning(const char **warnings, size_t *n, char *buf,
			  size_t size, size_t count, const char *text)
{
	if (count > 0) {
		snprintf(buf, size, "%zu %s", count, text);
		warnings[(*n)++] = buf;
	}
}

static int report_replay(const struct options *opts, const struct pipeline *p,
			 const struct record_reader *reader,
			 const struct replayed_command *c)
{
	struct plot_file plot;
	struct run_facts facts;
	struct report report;
	const struct report *each = &report;
	const char *warnings[4];
	char unwritten[160];
	char repeated[160];
	size_t nwarnings = 0;
	char label[300];
	struct errbuf err;
	int status;

	if (!output_check_path(opts, &err) ||
	    !output_plot_open(opts, &plot, &err)) {
		notice_say("%s", err.msg);
		return PGD_EXIT_USAGE;
	}
	snprintf(label, sizeof(label), "replay of %s", opts->replay_file);
	pipeline_facts_init(&facts, options_mode_name(opts->mode));
	facts.server_label = label;
	if (reader->truncated_last_line) {
		warnings[nwarnings++] = "the record's last line was cut short "
					"(its recorder was stopped mid-write) "
					"and was skipped";
	}
	if (reader->version < 3) {
		warnings[nwarnings++] = "this record is of format 1 or 2, "
					"which kept no session's identity: its "
					"verdict rests on counts alone";
	}
	count_warning(warnings, &nwarnings, unwritten, sizeof(unwritten),
		      reader->unwritten,
		      "samples could not be written to the record (a full "
		      "disk?): the replay has gaps there");
	count_warning(warnings, &nwarnings, repeated, sizeof(repeated),
		      c->repeated,
		      "lines repeated the moment of the line before and were "
		      "skipped");
	facts.warnings = warnings;
	facts.warning_count = nwarnings;
	wrap_facts(&facts, p, c);
	report_init(&report);
	pipeline_report(p, &facts, &report);
	if (opts->format == OUTPUT_FORMAT_PROMETHEUS) {
		(void)report_fold(&report, (size_t)opts->max_groups);
	}
	status = report.exit_code;
	if (!output_reports(opts, &each, 1, status, stdout, &err)) {
		notice_say("%s", err.msg);
		status = status ? status : PGD_EXIT_UNAVAILABLE;
	}
	if (!output_plot_write(&plot, &report, pipeline_history(p), &err)) {
		notice_say("%s", err.msg);
		status = status ? status : PGD_EXIT_UNAVAILABLE;
	}
	output_plot_close(&plot);
	report_finish(&report);
	return status;
}

int mode_replay(const struct options *opts)
{
	struct pipeline_config config = {
		.keys = opts->group_keys,
		.filter = &opts->filter,
		.thresholds = &opts->thresholds,
		.window_s = opts->window_ms / 1000.0,
		.interval_s = opts->interval_ms / 1000.0,
	};
	struct record_reader reader;
	struct pipeline p;
	struct replayed_command command = {.ended_epoch_s = NAN, .status = -1};
	struct errbuf err;
	FILE *in = strcmp(opts->replay_file, "-") == 0
			   ? stdin
			   : fopen(opts->replay_file, "r");
	int status;

	if (in == NULL) {
		notice_say("cannot read \"%s\": %s", opts->replay_file,
			   strerror(errno));
		return PGD_EXIT_USAGE;
	}
	record_reader_init(&reader, in);
	if (read_all(&reader, &p, &config, &command, &err) < 0) {
		notice_say("%s: %s", opts->replay_file, err.msg);
		status = PGD_EXIT_USAGE;
	} else if (pipeline_last(&p) == NULL) {
		notice_say("%s: no sample to replay", opts->replay_file);
		status = PGD_EXIT_USAGE;
	} else {
		status = report_replay(opts, &p, &reader, &command);
	}
	pipeline_finish(&p);
	record_reader_finish(&reader);
	if (in != stdin) {
		fclose(in);
	}
	return status;
}
