/*
 * test_match.c - globs, their validation, filters and group keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "match.h"

#include <string.h>

struct glob_case {
	const char *pattern;
	const char *text;
	bool match;
};

static const struct glob_case globs[] = {
	{"api", "api", true},
	{"api", "api2", false},
	{"*", "", true},
	{"*", "anything", true},
	{"app_*", "app_tests", true},
	{"app_*", "ap", false},
	{"*tests", "app_tests", true},
	{"a*b*c", "axxbyyc", true},
	{"a*b*c", "axxbyy", false},
	{"?", "x", true},
	{"?", "", false},
	{"??", "xyz", false},
	{"[abc]x", "bx", true},
	{"[abc]x", "dx", false},
	{"[a-c]", "b", true},
	{"[!a-c]", "b", false},
	{"[^a-c]", "d", true},
	{"[]]", "]", true},
	{"[a-]", "-", true},
	{"\\*", "*", true},
	{"\\*", "x", false},
	{"a\\?", "a?", true},
	{"\\[x", "[x", true},
	{"py*st", "pytest", true},
	{"py*st", "pyst", true},
	{"*.*", "a.b.c", true},
	{"evil\x1b*", "evil\x1b[31m", true},
	{"\xff*", "\xff\xfe", true},
	{"[\x80-\xff]", "\xc3", true},
	/* Unchecked bad patterns: no match, no read past the end. */
	{"[", "[", false},
	{"[!", "a", false},
	{"x[", "x[", false},
	{"*[", "ab", false},
	{"[a-", "a", false},
	{"a\\", "a\\", true},
};

static void test_glob(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(globs) / sizeof(globs[0]); i++) {
		if (match_glob(globs[i].pattern, globs[i].text) !=
		    globs[i].match) {
			fail_msg("glob \"%s\" vs \"%s\"", globs[i].pattern,
				 globs[i].text);
		}
	}
}

static void test_glob_is_not_exponential(void **state)
{
	char text[64];

	(void)state;
	memset(text, 'a', 50);
	text[50] = '\0';
	/* Backtracking matchers take ages here; ours is linear-ish. */
	assert_false(match_glob("a*a*a*a*a*a*a*a*a*a*a*b", text));
	assert_true(match_glob("a*a*a*a*a*a*a*a*a*a*a*", text));
}

static const struct {
	const char *pattern;
	bool ok;
} checks[] = {
	{"app", true},    {"[abc]", true}, {"[]]", true},
	{"\\[", true},    {"[abc", false}, {"x[", false},
	{"abc\\", false}, {"[!", false},   {"[\\]", false},
};

static void test_glob_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct errbuf err = {{0}};

		if (match_glob_check(checks[i].pattern, &err) != checks[i].ok) {
			fail_msg("check \"%s\"", checks[i].pattern);
		}
		if (!checks[i].ok) {
			assert_non_null(strstr(err.msg, "invalid pattern"));
		}
	}
}

static void test_filter(void **state)
{
	struct filter f;
	struct errbuf err;

	(void)state;
	match_filter_init(&f);
	assert_true(match_filter_is_empty(&f));
	assert_true(match_filter_accepts(&f, "u", "a", "d"));
	assert_true(match_filter_accepts(&f, NULL, NULL, NULL));
	assert_true(match_pattern_add(&f.app, "api", &err));
	assert_true(match_pattern_add(&f.app, "web*", &err));
	assert_false(match_pattern_add(&f.app, "[bad", &err));
	assert_false(match_filter_is_empty(&f));
	assert_true(match_filter_accepts(&f, "u", "api", "d"));
	assert_true(match_filter_accepts(&f, "u", "web-1", "d"));
	assert_false(match_filter_accepts(&f, "u", "worker", "d"));
	assert_false(match_filter_accepts(&f, "u", NULL, "d"));
	assert_true(match_pattern_add(&f.exclude_app, "web-2", &err));
	assert_false(match_filter_accepts(&f, "u", "web-2", "d"));
	assert_true(match_pattern_add(&f.user, "app_*", &err));
	assert_false(match_filter_accepts(&f, "postgres", "api", "d"));
	assert_true(match_filter_accepts(&f, "app_x", "api", "d"));
	assert_true(match_pattern_add(&f.exclude_db, "template*", &err));
	assert_false(match_filter_accepts(&f, "app_x", "api", "template1"));
	assert_true(match_pattern_add(&f.db, "shop", &err));
	assert_false(match_filter_accepts(&f, "app_x", "api", "other"));
	match_filter_finish(&f);
	match_filter_finish(&f);
	match_filter_finish(NULL);
}

struct keys_case {
	const char *text;
	bool ok;
	size_t count;
	enum group_key first;
	const char *error;
};

static const struct keys_case key_cases[] = {
	{"user,app", true, 2, GROUP_KEY_USER, NULL},
	{"db", true, 1, GROUP_KEY_DB, NULL},
	{"state,client,db,app,user", true, 5, GROUP_KEY_STATE, NULL},
	{"application,database,role", true, 3, GROUP_KEY_APP, NULL},
	{"user,foo", false, 0, 0, "unknown group key \"foo\""},
	{"user,user", false, 0, 0, "repeated group key \"user\""},
	{"user,role", false, 0, 0, "repeated"},
	{"", false, 0, 0, "empty group key"},
	{"user,", false, 0, 0, "empty group key"},
	{",user", false, 0, 0, "empty group key"},
	{"User", false, 0, 0, "unknown"},
};

static void test_group_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct keys_case *c = &key_cases[i];
		struct group_keys keys;
		struct errbuf err = {{0}};
		bool ok = match_parse_group_keys(c->text, &keys, &err);

		if (ok != c->ok) {
			fail_msg("\"%s\"", c->text);
		}
		if (ok) {
			assert_int_equal(keys.count, c->count);
			assert_int_equal(keys.keys[0], c->first);
		} else {
			assert_non_null(strstr(err.msg, c->error));
		}
	}
	assert_string_equal(match_group_key_name(GROUP_KEY_APP), "application");
	assert_string_equal(match_group_key_name(GROUP_KEY_DB), "database");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_glob_is_not_exponential),
		cmocka_unit_test(test_glob_check),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_group_keys),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
