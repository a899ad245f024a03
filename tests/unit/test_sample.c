/*
 * test_sample.c - the sample model: state names, usable connections,
 * UTF-8-safe cutting, copies and reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sample.h"

#include <math.h>
#include <string.h>

struct state_case {
	const char *server;
	enum session_state state;
	const char *key;
};

static const struct state_case state_cases[] = {
	{"active", SESSION_STATE_ACTIVE, "active"},
	{"idle", SESSION_STATE_IDLE, "idle"},
	{"idle in transaction", SESSION_STATE_IDLE_TX, "idle_in_transaction"},
	{"idle in transaction (aborted)", SESSION_STATE_IDLE_TX_ABORTED,
	 "idle_in_transaction_aborted"},
	{"fastpath function call", SESSION_STATE_OTHER, "other"},
	{"disabled", SESSION_STATE_OTHER, "other"},
	{NULL, SESSION_STATE_UNKNOWN, "unknown"},
};

static void test_states(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(state_cases) / sizeof(state_cases[0]);
	     i++) {
		const struct state_case *c = &state_cases[i];
		enum session_state back;

		assert_int_equal(sample_state_parse(c->server), c->state);
		assert_string_equal(sample_state_key(c->state), c->key);
		assert_true(sample_state_from_key(c->key, &back));
		assert_int_equal(back, c->state);
	}
	assert_false(
		sample_state_from_key("sleeping", &(enum session_state){0}));
	assert_string_equal(sample_state_name(SESSION_STATE_IDLE_TX),
			    "idle in transaction");
}

struct usable_case {
	int max;
	int su_reserved;
	int reserved;
	int usable;
};

static const struct usable_case usable_cases[] = {
	{100, 3, 0, 97},
	{100, 3, 5, 92},
	{3, 3, 0, 0},
	{2, 3, 0, 0},
};

static void test_usable(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(usable_cases) / sizeof(usable_cases[0]);
	     i++) {
		struct server_info server = {
			.max_connections = usable_cases[i].max,
			.superuser_reserved = usable_cases[i].su_reserved,
			.reserved = usable_cases[i].reserved,
		};

		assert_int_equal(sample_usable_connections(&server),
				 usable_cases[i].usable);
	}
}

static void test_cut_keeps_characters_whole(void **state)
{
	struct sample sample;

	(void)state;
	sample_init(&sample);
	/* "é" is two bytes: a cut at 2 must not keep half of it. */
	assert_string_equal(sample_strndup_utf8(&sample, "a\xc3\xa9z", 2), "a");
	assert_string_equal(sample_strndup_utf8(&sample, "a\xc3\xa9z", 3),
			    "a\xc3\xa9");
	assert_string_equal(sample_strndup_utf8(&sample, "abc", 10), "abc");
	assert_string_equal(sample_strndup_utf8(&sample, NULL, 10), "");
	sample_finish(&sample);
}

static void test_copy_and_reuse(void **state)
{
	struct sample a;
	struct sample b;
	struct session *s;

	(void)state;
	sample_init(&a);
	sample_init(&b);
	for (int round = 0; round < 3; round++) {
		sample_reset(&a);
		for (int i = 0; i < 1000; i++) {
			s = sample_add_session(&a);
			s->pid = i;
			s->user = sample_strdup(&a, "role\x1b[31m");
			s->query = sample_strdup(&a, "SELECT 1");
		}
		sample_add_role_limit(&a, "r", 5);
		sample_add_db_limit(&a, "d", 7);
		sample_copy(&b, &a);
	}
	assert_int_equal(b.session_count, 1000);
	assert_true(isnan(b.sessions[999].xact_age_s));
	assert_int_equal(b.sessions[999].weight, 1);
	assert_string_equal(b.sessions[5].user, "role\x1b[31m");
	assert_ptr_not_equal(b.sessions[5].user, a.sessions[5].user);
	assert_int_equal(b.role_limits[0].limit, 5);
	assert_string_equal(b.db_limits[0].name, "d");
	assert_int_equal(sample_session_total(&b), 1000);
	sample_finish(&a);
	sample_finish(&b);
	sample_finish(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_usable),
		cmocka_unit_test(test_cut_keeps_characters_whole),
		cmocka_unit_test(test_copy_and_reuse),
	};

	return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
