/*
 * report_json_tests.c - the per-test part of the JSON report (see
 * report_json_tests.h): each test and shared set-up with the sessions
 * it opened, and the summary.
 */
#include "report_json_tests.h"

#include "report_json_parts.h"

#include <math.h>

/* Seconds from the run's first sample on the server's clock; null
 * when unknown or never (a session still open has no closed_s). */
static void write_test_moment(struct json_writer *w, const struct report *r,
			      const char *key, double epoch_s)
{
	json_key(w, key);
	json_double(w, epoch_s - r->tests.base_epoch_s, 3);
}

static void write_test_session(struct json_writer *w, const struct report *r,
			       const struct report_test_session *s)
{
	json_begin_object(w);
	json_key(w, "pid");
	json_int(w, s->pid);
	json_key(w, "user");
	json_string(w, s->user);
	json_key(w, "application");
	json_string(w, s->app);
	json_key(w, "database");
	json_string(w, s->db);
	json_key(w, "state");
	json_string(w, sample_state_key(s->state));
	json_key(w, "fate");
	json_string(w, s->fate);
	json_key(w, "opened_at");
	report_json_time(w, s->opened_epoch_s);
	write_test_moment(w, r, "opened_s", s->opened_epoch_s);
	write_test_moment(w, r, "last_used_s", s->last_use_epoch_s);
	write_test_moment(w, r, "closed_s", s->closed_epoch_s);
	json_key(w, "query");
	json_string(w, s->query);
	if (s->client.pid > 0) {
		json_key(w, "client_process");
		json_begin_object(w);
		report_json_process_members(w, s->client.pid, s->client.command,
					    s->client.relation);
		json_end_object(w);
	}
	json_end_object(w);
}

/* Whole-number members, in order. */
struct test_count {
	const char *key;
	long long value;
};

static void write_test_counts(struct json_writer *w, const struct test_count *c,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_key(w, c[i].key);
		json_int(w, c[i].value);
	}
}

static void write_test(struct json_writer *w, const struct report *r,
		       const struct report_test *t)
{
	const struct test_count counts[] = {
		{"before", t->before},
		{"after", t->after},
		{"opened", t->opened},
		{"closed", t->closed},
		{"left_open", t->left_open},
		{"leaked", t->leaked},
		{"client_leaked", t->client_leaked},
	};

	json_begin_object(w);
	json_key(w, "name");
	json_string(w, t->name);
	json_key(w, "process");
	json_int(w, t->pid);
	json_key(w, "started_at");
	report_json_time(w, t->started_epoch_s);
	json_key(w, "ended_at");
	report_json_time(w, t->ended_epoch_s);
	json_key(w, "started_s");
	json_double(w, t->started_s, 3);
	json_key(w, "ended_s");
	json_double(w, t->ended_s, 3);
	json_key(w, "ended");
	json_bool(w, t->ended);
	write_test_counts(w, counts, PGD_ARRAY_LEN(counts));
	json_key(w, "sessions");
	json_begin_array(w);
	for (size_t i = 0; i < t->session_count; i++) {
		write_test_session(w, r, &t->sessions[i]);
	}
	json_end_array(w);
	json_end_object(w);
}

/* "tests" (always an array), "test_setups", "tests_summary". */
void report_json_tests_write(struct json_writer *w, const struct report *r)
{
	const struct report_tests *rt = &r->tests;
	const struct test_count summary[] = {
		{"tests", (long long)rt->tests},
		{"leaking", (long long)rt->leaking},
		{"leaked_sessions", (long long)rt->leaked},
		{"processes", (long long)rt->processes},
		{"unfinished", (long long)rt->unfinished},
		{"sessions_outside_tests", (long long)rt->outside},
		{"sessions_unattributed", (long long)rt->unattributed},
	};

	for (int setups = 0; setups < 2; setups++) {
		json_key(w, setups ? "test_setups" : "tests");
		json_begin_array(w);
		for (size_t i = 0; i < rt->count; i++) {
			if (rt->items[i].setup == (setups == 1)) {
				write_test(w, r, &rt->items[i]);
			}
		}
		json_end_array(w);
	}
	json_key(w, "tests_summary");
	json_begin_object(w);
	json_key(w, "reported");
	json_bool(w, rt->reported);
	write_test_counts(w, summary, PGD_ARRAY_LEN(summary));
	json_end_object(w);
}
