/*
 * match.h - the session filters (--app, --user, --db and the excludes,
 * shell globs) and the grouping keys (--group-by).
 */
#ifndef PGDRIP_MATCH_H
#define PGDRIP_MATCH_H

#include "common.h"

enum group_key {
	GROUP_KEY_USER,
	GROUP_KEY_APP,
	GROUP_KEY_DB,
	GROUP_KEY_CLIENT,
	GROUP_KEY_STATE,
	GROUP_KEY_COUNT
};

/* The keys in the order the user gave them, without repeats. */
struct group_keys {
	enum group_key keys[GROUP_KEY_COUNT];
	size_t count;
};

/*
 * Parses "user,app,db,client,state" (any non-empty subset, any order;
 * "application", "database", "role" are accepted as synonyms).  An
 * unknown or repeated key, or an empty item, is an error.
 */
PGD_NODISCARD bool match_parse_group_keys(const char *text,
					  struct group_keys *out,
					  struct errbuf *err);

/* The default, user,app. */
void match_default_group_keys(struct group_keys *out);

/* The name a key has in the JSON report and in table headers:
 * "user", "application", "database", "client", "state". */
const char *match_group_key_name(enum group_key key);

/* True when keys contains key. */
bool match_group_keys_has(const struct group_keys *keys, enum group_key key);

/*
 * fnmatch-like glob: '*', '?', '[...]' with ranges and '!'/'^' negation,
 * '\' escapes the next character.  Matches bytes, whole string.
 */
bool match_glob(const char *pattern, const char *text);

/* A pattern is bad when a '[' is never closed or it ends in a lone '\'. */
PGD_NODISCARD bool match_glob_check(const char *pattern, struct errbuf *err);

struct pattern_list {
	char **patterns; /* owned, each owned */
	size_t count;
	size_t cap;
};

struct filter {
	struct pattern_list app;
	struct pattern_list user;
	struct pattern_list db;
	struct pattern_list exclude_app;
	struct pattern_list exclude_user;
	struct pattern_list exclude_db;
};

void match_filter_init(struct filter *filter);
void match_filter_finish(struct filter *filter);

/* Checks the glob and appends a copy of it. */
PGD_NODISCARD bool match_pattern_add(struct pattern_list *list,
				     const char *pattern, struct errbuf *err);

/*
 * A session passes when, for each of app/user/db, its include list is
 * empty or one pattern matches, and no exclude pattern matches.  NULL
 * names are treated as "".
 */
bool match_filter_accepts(const struct filter *filter, const char *user,
			  const char *app, const char *db);

/* True when no pattern at all is set. */
bool match_filter_is_empty(const struct filter *filter);

#endif
