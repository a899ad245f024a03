/*
 * test_group.c - sessions to groups: the key model (values, hash,
 * equality, the index) and a sample counted into its groups: keys,
 * filters, state counts, ages and holders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "group.h"
#include "history.h"
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct row {
	const char *user;
	const char *app;
	const char *db;
	const char *state; /* pg_stat_activity spelling; NULL hidden */
	int port;
	double state_age_s;
	double xact_age_s;
};

static const struct row rows[] = {
	{"app_api", "api", "shop", "idle", 5432, 1, NAN},
	{"app_api", "api", "shop", "idle", 5433, 2, NAN},
	{"app_api", "api", "shop", "active", 5434, 0, 0.1},
	{"app_tests", "pytest", "test", "idle in transaction", -1, 75, 80},
	{"app_tests", "pytest", "test", "idle in transaction (aborted)", -1, 90,
	 NAN},
	{"app_tests", "pytest", "test", "idle", -1, 3, NAN},
	{"other", "", "shop", NULL, 0, NAN, NAN},
};

static void fill(struct sample *sample)
{
	sample_init(sample);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct session *s = sample_add_session(sample);

		s->pid = 100 + (int)i;
		s->user = sample_strdup(sample, rows[i].user);
		s->app = sample_strdup(sample, rows[i].app);
		s->db = sample_strdup(sample, rows[i].db);
		s->client_addr = sample_strdup(sample, rows[i].port > 0
							       ? "10.0.0.7"
							       : "");
		s->client_port = rows[i].port;
		s->state = sample_state_parse(rows[i].state);
		s->state_age_s = rows[i].state_age_s;
		s->xact_age_s = rows[i].xact_age_s;
	}
}

static const struct group_history *find(const struct history *h,
					enum group_key key, const char *value)
{
	for (size_t i = 0; i < h->group_count; i++) {
		if (strcmp(h->groups[i].keys[key], value) == 0) {
			return &h->groups[i];
		}
	}
	return NULL;
}

/* The sample grouped by keys through a new history (h initialised). */
static void group(struct history *h, const struct sample *sample,
		  const struct group_keys *keys, const struct filter *filter,
		  size_t *member)
{
	history_init(h, keys, 300, 1);
	history_add(h, sample, filter, member);
}

static void test_default_grouping(void **state)
{
	struct sample sample;
	struct history h;
	struct group_keys keys;
	struct filter filter;
	const struct group_history *g;

	(void)state;
	fill(&sample);
	match_default_group_keys(&keys);
	match_filter_init(&filter);
	group(&h, &sample, &keys, &filter, NULL);
	assert_int_equal(h.group_count, 3);
	assert_int_equal(h.last_total, 7);
	assert_null(h.groups[0].keys[GROUP_KEY_DB]);
	g = find(&h, GROUP_KEY_USER, "app_api");
	assert_int_equal(g->last, 3);
	assert_int_equal(g->baseline, 3);
	assert_int_equal(g->states[SESSION_STATE_IDLE], 2);
	assert_int_equal(g->states[SESSION_STATE_ACTIVE], 1);
	assert_true(isnan(g->oldest_idle_tx_s));
	g = find(&h, GROUP_KEY_USER, "app_tests");
	assert_int_equal(g->states[SESSION_STATE_IDLE_TX], 1);
	assert_int_equal(g->states[SESSION_STATE_IDLE_TX_ABORTED], 1);
	/* The aborted one is older: its age comes from state_change. */
	assert_float_equal(g->oldest_idle_tx_s, 90, 1e-9);
	assert_float_equal(g->oldest_xact_s, 80, 1e-9);
	g = find(&h, GROUP_KEY_USER, "other");
	assert_int_equal(g->states[SESSION_STATE_UNKNOWN], 1);
	assert_int_equal(g->states[SESSION_STATE_IDLE], 0);
	history_finish(&h);
	match_filter_finish(&filter);
	sample_finish(&sample);
}

struct keys_case {
	const char *group_by;
	size_t groups;
	enum group_key key;
	const char *value;
	int connections;
};

static const struct keys_case keys_cases[] = {
	{"db", 2, GROUP_KEY_DB, "shop", 4},
	{"client", 3, GROUP_KEY_CLIENT, "local", 3},
	{"client", 3, GROUP_KEY_CLIENT, "10.0.0.7", 3},
	{"state", 5, GROUP_KEY_STATE, "idle", 3},
	{"state", 5, GROUP_KEY_STATE, "unknown", 1},
	{"db,state", 6, GROUP_KEY_STATE, "active", 1},
	{"user,app,db,client,state", 6, GROUP_KEY_USER, "other", 1},
};

static void test_group_by(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(keys_cases); i++) {
		const struct keys_case *c = &keys_cases[i];
		struct sample sample;
		struct history h;
		struct group_keys keys;
		struct filter filter;
		struct errbuf err;
		const struct group_history *g;
		int sum = 0;

		fill(&sample);
		assert_true(match_parse_group_keys(c->group_by, &keys, &err));
		match_filter_init(&filter);
		group(&h, &sample, &keys, &filter, NULL);
		assert_int_equal(h.group_count, c->groups);
		g = find(&h, c->key, c->value);
		assert_non_null(g);
		assert_int_equal(g->last, c->connections);
		for (size_t k = 0; k < h.group_count; k++) {
			sum += h.groups[k].last;
		}
		assert_int_equal(sum, 7);
		history_finish(&h);
		match_filter_finish(&filter);
		sample_finish(&sample);
	}
}

static void test_filter_and_weight(void **state)
{
	struct sample sample;
	struct history h;
	struct group_keys keys;
	struct filter filter;
	struct errbuf err;
	struct session *agg;
	size_t member[16];

	(void)state;
	fill(&sample);
	/* A row read back from a record stands for many sessions. */
	agg = sample_add_session(&sample);
	agg->user = "app_api";
	agg->app = "api";
	agg->db = "shop";
	agg->state = SESSION_STATE_IDLE;
	agg->weight = 40;
	match_default_group_keys(&keys);
	match_filter_init(&filter);
	assert_true(match_pattern_add(&filter.user, "app_*", &err));
	assert_true(match_pattern_add(&filter.exclude_app, "pyt?st", &err));
	group(&h, &sample, &keys, &filter, member);
	assert_int_equal(h.group_count, 1);
	assert_int_equal(h.last_total, 43);
	assert_int_equal(sample_session_total(&sample), 47);
	assert_int_equal(h.groups[0].states[SESSION_STATE_IDLE], 42);
	/* Sessions the filter left out have no group; the others are
	 * found again through the index. */
	for (size_t i = 0; i < sample.session_count; i++) {
		const struct session *s = &sample.sessions[i];
		bool kept = strcmp(s->user, "app_api") == 0;

		assert_int_equal(member[i] != (size_t)GROUP_NONE, kept);
		if (kept) {
			assert_int_equal(history_group_of(&h, s), member[i]);
		}
	}
	history_finish(&h);
	match_filter_finish(&filter);
	sample_finish(&sample);
}

static void test_many_groups(void **state)
{
	struct sample sample;
	struct history h;
	struct group_keys keys;
	struct filter filter;
	char name[32];

	(void)state;
	sample_init(&sample);
	/* 3000 sessions over 1000 groups: the index must keep them apart. */
	for (int i = 0; i < 3000; i++) {
		struct session *s = sample_add_session(&sample);

		snprintf(name, sizeof(name), "role%d", i % 1000);
		s->user = sample_strdup(&sample, name);
		s->app = "app";
		s->state = SESSION_STATE_IDLE;
	}
	match_default_group_keys(&keys);
	match_filter_init(&filter);
	group(&h, &sample, &keys, &filter, NULL);
	assert_int_equal(h.group_count, 1000);
	for (size_t i = 0; i < h.group_count; i++) {
		assert_int_equal(h.groups[i].last, 3);
	}
	/* The next sample finds the same groups. */
	history_add(&h, &sample, &filter, NULL);
	assert_int_equal(h.group_count, 1000);
	assert_int_equal(h.groups[999].last, 3);
	history_finish(&h);
	history_finish(NULL);
	match_filter_finish(&filter);
	sample_finish(&sample);
}

/* Each group's holder is the process holding most of its traced
 * sessions. */
static void test_holders(void **state)
{
	struct sample sample;
	struct history h;
	struct group_keys keys;
	struct filter filter;
	const struct group_history *g;
	size_t member[16];
	/* rows 0-2 are app_api, 3-5 app_tests */
	static const int holder[] = {4242, 4242, 77, 0, 9, 9};

	(void)state;
	fill(&sample);
	for (size_t i = 0; i < COUNT(holder); i++) {
		sample.sessions[i].client_pid = holder[i];
		sample.sessions[i].client_command =
			holder[i] == 4242 ? "python3 -m pytest" : "other";
		sample.sessions[i].client_relation = CLIENT_RELATION_DESCENDANT;
	}
	match_default_group_keys(&keys);
	match_filter_init(&filter);
	group(&h, &sample, &keys, &filter, member);
	for (size_t i = 0; i < sample.session_count; i++) {
		g = &h.groups[member[i]];
		assert_true(group_session_matches((const char *const *)g->keys,
						  &keys, &sample.sessions[i]));
	}
	g = find(&h, GROUP_KEY_USER, "app_api");
	assert_int_equal(g->holder_pid, 4242);
	assert_int_equal(g->holder_sessions, 2);
	assert_string_equal(g->holder_command, "python3 -m pytest");
	assert_int_equal(g->holder_relation, CLIENT_RELATION_DESCENDANT);
	g = find(&h, GROUP_KEY_USER, "app_tests");
	assert_int_equal(g->holder_pid, 9);
	assert_int_equal(g->holder_sessions, 2);
	g = find(&h, GROUP_KEY_USER, "other");
	assert_int_equal(g->holder_pid, 0);
	history_finish(&h);
	match_filter_finish(&filter);
	sample_finish(&sample);
}

/* The hash and equality of values, and the index under collisions. */
static void test_key_model(void **state)
{
	struct group_keys keys;
	struct group_index index;
	const char *ab_c[GROUP_KEY_COUNT] = {"ab", "c", NULL, NULL, NULL};
	const char *a_bc[GROUP_KEY_COUNT] = {"a", "bc", NULL, NULL, NULL};
	size_t cursor = 0;
	size_t seen = 0;

	(void)state;
	match_default_group_keys(&keys);
	assert_true(group_hash_values(ab_c, &keys) !=
		    group_hash_values(a_bc, &keys));
	assert_true(group_compare_values(ab_c, a_bc, &keys) > 0);
	group_index_init(&index);
	/* 100 entries under one hash: every one is found, then none. */
	for (size_t i = 0; i < 100; i++) {
		group_index_add(&index, 42, i);
	}
	group_index_add(&index, 7, 100);
	while (group_index_find(&index, 42, &cursor) != (size_t)GROUP_NONE) {
		seen++;
	}
	assert_int_equal(seen, 100);
	cursor = 0;
	assert_int_equal(group_index_find(&index, 7, &cursor), 100);
	cursor = 0;
	assert_int_equal(group_index_find(&index, 8, &cursor),
			 (size_t)GROUP_NONE);
	group_index_clear(&index);
	cursor = 0;
	assert_int_equal(group_index_find(&index, 7, &cursor),
			 (size_t)GROUP_NONE);
	group_index_finish(&index);
	group_index_finish(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_grouping),
		cmocka_unit_test(test_group_by),
		cmocka_unit_test(test_filter_and_weight),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_holders),
		cmocka_unit_test(test_key_model),
	};

	return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}
