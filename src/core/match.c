/*
 * match.c - glob filters and grouping keys (see match.h).  The glob
 * matcher is our own: byte semantics, our own validation, and iterative
 * '*' backtracking so that no pattern is exponential.
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum group_key key;
} key_names[] = {
	{"user", GROUP_KEY_USER},     {"role", GROUP_KEY_USER},
	{"app", GROUP_KEY_APP},       {"application", GROUP_KEY_APP},
	{"db", GROUP_KEY_DB},         {"database", GROUP_KEY_DB},
	{"client", GROUP_KEY_CLIENT}, {"state", GROUP_KEY_STATE},
};

static bool parse_key(const char *name, size_t len, enum group_key *out)
{
	for (size_t i = 0; i < PGD_ARRAY_LEN(key_names); i++) {
		if (strlen(key_names[i].name) == len &&
		    memcmp(key_names[i].name, name, len) == 0) {
			*out = key_names[i].key;
			return true;
		}
	}
	return false;
}

bool match_parse_group_keys(const char *text, struct group_keys *out,
			    struct errbuf *err)
{
	const char *p = text;

	out->count = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		enum group_key key;

		if (len == 0) {
			errbuf_set(err,
				   "empty group key in \"%s\": use a comma "
				   "list of user, app, db, client, state",
				   text);
			return false;
		}
		if (!parse_key(p, len, &key)) {
			errbuf_set(err,
				   "unknown group key \"%.*s\" in \"%s\": "
				   "use user, app, db, client or state",
				   (int)len, p, text);
			return false;
		}
		if (match_group_keys_has(out, key)) {
			errbuf_set(err, "repeated group key \"%.*s\" in \"%s\"",
				   (int)len, p, text);
			return false;
		}
		out->keys[out->count++] = key;
		if (p[len] == '\0') {
			return true;
		}
		p += len + 1;
	}
}

void match_default_group_keys(struct group_keys *out)
{
	out->keys[0] = GROUP_KEY_USER;
	out->keys[1] = GROUP_KEY_APP;
	out->count = 2;
}

const char *match_group_key_name(enum group_key key)
{
	static const char *const names[] = {
		[GROUP_KEY_USER] = "user",   [GROUP_KEY_APP] = "application",
		[GROUP_KEY_DB] = "database", [GROUP_KEY_CLIENT] = "client",
		[GROUP_KEY_STATE] = "state",
	};

	if ((unsigned)key >= PGD_ARRAY_LEN(names)) {
		return "?";
	}
	return names[key];
}

bool match_group_keys_has(const struct group_keys *keys, enum group_key key)
{
	for (size_t i = 0; i < keys->count; i++) {
		if (keys->keys[i] == key) {
			return true;
		}
	}
	return false;
}

/* Matches one bracket expression at pattern (just after '[') against c.
 * Returns the pattern position after ']', or NULL when c is not in it. */
static const char *match_class(const char *pattern, unsigned char c)
{
	bool negate = *pattern == '!' || *pattern == '^';
	bool found = false;
	const char *p = pattern + negate;

	/* A ']' first in the class is a literal.  An unclosed class (the
	 * pattern was not checked) matches nothing rather than reading past
	 * the end. */
	do {
		unsigned char lo = (unsigned char)*p;
		unsigned char hi;

		if (lo == '\0') {
			return NULL;
		}
		if (lo == '\\' && p[1] != '\0') {
			lo = (unsigned char)*++p;
		}
		hi = lo;
		if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
			hi = (unsigned char)p[2];
			if (hi == '\\' && p[3] != '\0') {
				hi = (unsigned char)p[3];
				p++;
			}
			p += 2;
		}
		if (lo <= c && c <= hi) {
			found = true;
		}
		p++;
	} while (*p != ']' && *p != '\0');
	if (*p != ']') {
		return NULL;
	}
	return found != negate ? p + 1 : NULL;
}

/* Matches one non-'*' pattern element at *pp against c; advances *pp. */
static bool match_one(const char **pp, unsigned char c)
{
	const char *p = *pp;

	if (*p == '?') {
		*pp = p + 1;
		return true;
	}
	if (*p == '[') {
		const char *next = match_class(p + 1, c);

		if (next != NULL) {
			*pp = next;
			return true;
		}
		return false;
	}
	if (*p == '\\' && p[1] != '\0') {
		p++;
	}
	*pp = p + 1;
	return (unsigned char)*p == c;
}

bool match_glob(const char *pattern, const char *text)
{
	const char *p = pattern;
	const char *t = text;
	const char *star_p = NULL;
	const char *star_t = NULL;

	/* Classic single-backtrack matcher: on a mismatch, let the last
	 * '*' swallow one more byte.  O(len(p) * len(t)) at worst. */
	while (*t != '\0') {
		const char *next = p;

		if (*p == '*') {
			star_p = ++p;
			star_t = t;
			continue;
		}
		if (*p != '\0' && match_one(&next, (unsigned char)*t)) {
			p = next;
			t++;
			continue;
		}
		if (star_p == NULL) {
			return false;
		}
		p = star_p;
		t = ++star_t;
	}
	while (*p == '*') {
		p++;
	}
	return *p == '\0';
}

bool match_glob_check(const char *pattern, struct errbuf *err)
{
	for (const char *p = pattern; *p != '\0'; p++) {
		if (*p == '\\') {
			if (p[1] == '\0') {
				errbuf_set(err,
					   "invalid pattern \"%s\": it ends "
					   "in a lone \\",
					   pattern);
				return false;
			}
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^') {
				q++;
			}
			if (*q == ']') {
				q++;
			}
			while (*q != '\0' && *q != ']') {
				q += (*q == '\\' && q[1] != '\0') ? 2 : 1;
			}
			if (*q != ']') {
				errbuf_set(err,
					   "invalid pattern \"%s\": unclosed "
					   "[",
					   pattern);
				return false;
			}
			p = q;
		}
	}
	return true;
}

void match_filter_init(struct filter *filter)
{
	memset(filter, 0, sizeof(*filter));
}

static void pattern_list_finish(struct pattern_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->patterns[i]);
	}
	free(list->patterns);
	memset(list, 0, sizeof(*list));
}

void match_filter_finish(struct filter *filter)
{
	if (filter == NULL) {
		return;
	}
	pattern_list_finish(&filter->app);
	pattern_list_finish(&filter->user);
	pattern_list_finish(&filter->db);
	pattern_list_finish(&filter->exclude_app);
	pattern_list_finish(&filter->exclude_user);
	pattern_list_finish(&filter->exclude_db);
}

bool match_pattern_add(struct pattern_list *list, const char *pattern,
		       struct errbuf *err)
{
	if (!match_glob_check(pattern, err)) {
		return false;
	}
	xgrow((void **)&list->patterns, &list->cap, list->count + 1,
	      sizeof(*list->patterns));
	list->patterns[list->count++] = xstrdup(pattern);
	return true;
}

static bool any_matches(const struct pattern_list *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++) {
		if (match_glob(list->patterns[i], name)) {
			return true;
		}
	}
	return false;
}

/* An empty include list lets everything in. */
static bool included(const struct pattern_list *include,
		     const struct pattern_list *exclude, const char *name)
{
	if (name == NULL) {
		name = "";
	}
	if (include->count > 0 && !any_matches(include, name)) {
		return false;
	}
	return !any_matches(exclude, name);
}

bool match_filter_accepts(const struct filter *filter, const char *user,
			  const char *app, const char *db)
{
	return included(&filter->user, &filter->exclude_user, user) &&
	       included(&filter->app, &filter->exclude_app, app) &&
	       included(&filter->db, &filter->exclude_db, db);
}

bool match_filter_is_empty(const struct filter *filter)
{
	return filter->app.count == 0 && filter->user.count == 0 &&
	       filter->db.count == 0 && filter->exclude_app.count == 0 &&
	       filter->exclude_user.count == 0 && filter->exclude_db.count == 0;
}
