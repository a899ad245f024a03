/*
 * target_query.c - what a run asks of and tells a target between its
 * steps (see target.h): its name, state and failure, the command's
 * events for the next sample, the hooks, and its report.
 */
#include "target.h"
#include "target_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void target_set_sample_hook(struct target *t, target_sample_fn *fn, void *ctx)
{
	t->sample_hook = fn;
	t->sample_ctx = ctx;
}

uint64_t target_samples_sent(const struct target *t)
{
	return t->sent;
}

void target_set_trace_policy(struct target *t,
			     const struct trace_policy *policy)
{
	t->policy = *policy;
}

void target_note_command_start(struct target *t, double epoch_s,
			       const char *line)
{
	t->command_started = epoch_s;
	free(t->command_line);
	t->command_line = xstrdup(line != NULL ? line : "");
}

void target_note_command_end(struct target *t, double epoch_s, int status)
{
	t->command_ended = epoch_s;
	t->command_status = status;
}

void target_set_wrapped(struct target *t, int pid)
{
	if (t->attrib != NULL) {
		attributor_set_wrapped(t->attrib, pid);
	}
}

struct pipeline *target_pipeline(struct target *t)
{
	return &t->pipeline;
}

const char *target_label(const struct target *t)
{
	return t->label;
}

bool target_ever_connected(const struct target *t)
{
	return t->ever_connected;
}

bool target_up(const struct target *t)
{
	return t->up;
}

enum poll_failure target_failure(const struct target *t, const char **msg)
{
	if (msg != NULL) {
		*msg = t->error;
	}
	return t->failure;
}

bool target_connecting(const struct target *t)
{
	return t->poller != NULL &&
	       poll_phase(t->poller) == POLL_PHASE_CONNECTING;
}

int64_t target_failing_for_ms(const struct target *t, int64_t now_ms)
{
	return t->failing_since_ms != 0 ? now_ms - t->failing_since_ms : 0;
}

int64_t target_sample_wait_ms(const struct target *t, int64_t now_ms)
{
	if (t->poller == NULL || poll_phase(t->poller) != POLL_PHASE_SAMPLING) {
		return 0;
	}
	return now_ms - t->phase_since_ms;
}

void target_report(const struct target *t, struct run_facts *facts,
		   struct report *out)
{
	char lines[TARGET_WARNINGS][512];
	const char *pointers[TARGET_WARNINGS + 8];
	size_t n = 0;

	for (size_t i = 0;
	     i < facts->warning_count && n < PGD_ARRAY_LEN(pointers); i++) {
		pointers[n++] = facts->warnings[i];
	}
	if (t->attrib != NULL) {
		size_t got = attributor_warnings(t->attrib, lines,
						 TARGET_WARNINGS);

		for (size_t i = 0; i < got && n < PGD_ARRAY_LEN(pointers);
		     i++) {
			pointers[n++] = lines[i];
		}
	}
	if (t->output_failed && n < PGD_ARRAY_LEN(pointers)) {
		pointers[n++] = "the record could not be written completely "
				"(see the error above)";
	}
	facts->server_label = t->label;
	facts->warnings = pointers;
	facts->warning_count = n;
	pipeline_report(&t->pipeline, facts, out);
	facts->warnings = NULL;
	facts->warning_count = 0;
}

bool target_output_failed(const struct target *t)
{
	return t->output_failed;
}
