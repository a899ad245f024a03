/*
 * mask.c - passwords out of what pgdrip shows (see mask.h).
 *
 * One scanner serves both inputs.  For -d it follows libpq's own parsers
 * (conninfo_parse() and conninfo_uri_parse_options()): the "password"
 * key only.  For command lines, which may be any program's, every key
 * that looks like a password counts, and URIs of any scheme, anywhere.
 * Where the input is malformed both err towards hiding too much.
 */
#include "mask.h"

#include "common.h"

#include <stdbool.h>
#include <string.h>

static const char stars[] = "***";

/* Which keys hold a password: libpq's one, or anything that looks so. */
enum policy { POLICY_LIBPQ, POLICY_ANY };

struct out {
	char *dst;
	size_t size;
	size_t n;
};

/* Appends len bytes, cut to what fits; dst stays NUL-terminated. */
static void put(struct out *o, const char *s, size_t len)
{
	if (o->size == 0) {
		return;
	}
	if (len > o->size - 1 - o->n) {
		len = o->size - 1 - o->n;
	}
	memcpy(o->dst + o->n, s, len);
	o->n += len;
	o->dst[o->n] = '\0';
}

/* libpq separates conninfo words with isspace(); ASCII is all that can
 * matter here, whatever the locale. */
static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* What a key can be made of: letters, digits, _ - . and %XX. */
static bool is_key_char(char c)
{
	return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '%';
}

static bool is_scheme_char(char c)
{
	return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s);
	size_t t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/*
 * Whether key (len bytes) names a password.  Percent-decoded as libpq
 * decodes URI parameters ("pass%77ord" counts); under POLICY_ANY also
 * without leading dashes and in any case.
 */
static bool is_password_key(const char *key, size_t len, enum policy policy)
{
	char name[64];
	size_t n = 0;
	const char *bare;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)key[i];

		if (c == '%') {
			int hi = i + 2 < len ? common_hex_digit(key[i + 1])
					     : -1;
			int lo = i + 2 < len ? common_hex_digit(key[i + 2])
					     : -1;

			if (hi < 0 || lo < 0) {
				return false;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (n + 1 >= sizeof(name)) {
			return false;
		}
		if (policy == POLICY_ANY && c >= 'A' && c <= 'Z') {
			c += 'a' - 'A';
		}
		name[n++] = (char)c;
	}
	name[n] = '\0';
	if (policy == POLICY_LIBPQ) {
		return strcmp(name, "password") == 0;
	}
	bare = name + strspn(name, "-");
	return strstr(bare, "passw") != NULL || ends_with(bare, "pass") ||
	       ends_with(bare, "pwd");
}

/*
 * Where the value at s (len bytes to the end) ends: after its closing
 * quote when quoted (' as libpq quotes, or " as a shell does; backslash
 * escapes inside), else at whitespace (backslash escapes too).  In a
 * URI's query, '&' ends it too, and for any program '#'.
 */
static size_t value_end(const char *s, size_t len, bool in_query,
			enum policy policy)
{
	size_t i = 0;

	if (len > 0 && (s[0] == '\'' || s[0] == '"')) {
		for (i = 1; i < len && s[i] != s[0]; i++) {
			if (s[i] == '\\' && i + 1 < len) {
				i++;
			}
		}
		return i < len ? i + 1 : len;
	}
	while (i < len) {
		if (in_query &&
		    (s[i] == '&' || (policy == POLICY_ANY && s[i] == '#'))) {
			break;
		}
		if (is_space(s[i]) && !(in_query && policy == POLICY_LIBPQ)) {
			break;
		}
		i += s[i] == '\\' && i + 1 < len ? 2 : 1;
	}
	return i;
}

/* The length of "scheme://" at s, or 0 when no URI begins there. */
static size_t uri_scheme(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !is_alpha(s[0])) {
		return 0;
	}
	while (i < len && is_scheme_char(s[i])) {
		i++;
	}
	return i + 3 <= len && memcmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

/*
 * The user info password of the URI whose rest (after "://") is at s:
 * [*from, *to).  libpq ends the user info at the first '@' or '/', so a
 * password with a raw '/' or '@' is misparsed and its pieces may show
 * in libpq's error: everything from the first ':' to the LAST '@' before
 * the query goes.  The URI ends where the text does (whole), or else at
 * whitespace or a quote; one cut short there (cut) before any '@' is
 * masked from its ':' on.
 */
static bool uri_password(const char *s, size_t len, bool whole, bool cut,
			 size_t *from, size_t *to)
{
	size_t end = 0;
	size_t query;
	const char *at = NULL;
	const char *colon;
	const char *mark;

	while (end < len && (whole || (!is_space(s[end]) && s[end] != '\'' &&
				       s[end] != '"'))) {
		end++;
	}
	mark = memchr(s, '?', end);
	query = mark != NULL ? (size_t)(mark - s) : end;
	for (size_t i = 0; i < query; i++) {
		if (s[i] == '@') {
			at = s + i;
		}
	}
	colon = memchr(s, ':', at != NULL ? (size_t)(at - s) : end);
	if (colon == NULL || (at == NULL && !(cut && end == len))) {
		return false;
	}
	*from = (size_t)(colon + 1 - s);
	*to = at != NULL ? (size_t)(at - s) : len;
	return true;
}

/*
 * A quoted key just before the ':' at s[colon] (JSON's "key": or a
 * Python dict's 'key':), not reaching back before floor: true with
 * [*key, *key + *key_len) its name.
 */
static bool quoted_key(const char *s, size_t floor, size_t colon, size_t *key,
		       size_t *key_len)
{
	size_t end = colon;
	size_t start;

	while (end > floor && is_space(s[end - 1])) {
		end--;
	}
	if (end < floor + 2 || (s[end - 1] != '"' && s[end - 1] != '\'')) {
		return false;
	}
	start = end - 1;
	/* A key is short (is_password_key() takes 63 bytes at most): the
	 * look back stops there, so many ':' cost no more than many '='. */
	while (start > floor && end - start < 70 &&
	       s[start - 1] != s[end - 1]) {
		start--;
	}
	if (start == floor || s[start - 1] != s[end - 1]) {
		return false; /* no opening quote */
	}
	*key = start;
	*key_len = end - 1 - start;
	return true;
}

/* Where a JSON value at s ends: a quoted one after its quote, else at
 * ',', '}', ']' or whitespace. */
static size_t json_value_end(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && (s[0] == '"' || s[0] == '\'')) {
		return value_end(s, len, false, POLICY_ANY);
	}
	while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
	       !is_space(s[i])) {
		i++;
	}
	return i;
}

/*
 * Copies s (len bytes, NUL bytes allowed) with every password masked.
 * Under POLICY_LIBPQ a URI is only the whole text; under POLICY_ANY one
 * may start anywhere a word does.
 */
static void mask_text(struct out *o, const char *s, size_t len,
		      enum policy policy, bool cut)
{
	size_t copied = 0; /* s[copied..i) is still to copy */
	size_t floor = 0;  /* no key reaches back before this */
	size_t i = 0;

	while (i < len) {
		bool word_start = policy == POLICY_ANY
					  ? i == 0 || !is_scheme_char(s[i - 1])
					  : i == 0;
		size_t scheme = word_start ? uri_scheme(s + i, len - i) : 0;
		size_t from;
		size_t to;

		if (scheme > 0) {
			i += scheme;
			if (uri_password(s + i, len - i, policy == POLICY_LIBPQ,
					 cut, &from, &to)) {
				put(o, s + copied, i + from - copied);
				put(o, stars, strlen(stars));
				i = copied = floor = i + to;
			}
			continue;
		}
		if (s[i] == ':' && policy == POLICY_ANY &&
		    quoted_key(s, floor, i, &from, &to) &&
		    is_password_key(s + from, to, policy)) {
			size_t v = i + 1;

			while (v < len && is_space(s[v])) {
				v++;
			}
			put(o, s + copied, v - copied);
			put(o, stars, strlen(stars));
			i = copied = floor = v + json_value_end(s + v, len - v);
			continue;
		}
		if (s[i] == '=') {
			size_t key_end = i;
			size_t key;

			/* "key = value": libpq allows spaces around '='. */
			while (key_end > floor && is_space(s[key_end - 1])) {
				key_end--;
			}
			key = key_end;
			while (key > floor && is_key_char(s[key - 1])) {
				key--;
			}
			if (key < key_end &&
			    is_password_key(s + key, key_end - key, policy)) {
				char before = key > 0 ? s[key - 1] : ' ';
				bool query = before == '?' || before == '&';
				size_t v = i + 1;

				while (v < len && is_space(s[v])) {
					v++;
				}
				put(o, s + copied, v - copied);
				put(o, stars, strlen(stars));
				i = copied = floor = v +
						     value_end(s + v, len - v,
							       query, policy);
				continue;
			}
		}
		i++;
	}
	put(o, s + copied, len - copied);
}

void mask_conninfo(char *dst, size_t dst_size, const char *text)
{
	struct out o = {dst, dst_size, 0};

	if (dst_size > 0) {
		dst[0] = '\0';
	}
	if (text != NULL) {
		mask_text(&o, text, strlen(text), POLICY_LIBPQ, false);
	}
}

/* An option whose value, the next argument, is a password: named like
 * one ("--password", "-pass", "--dbpass", "--db-pwd"), but not a
 * "--no-..." switch (psql's --no-password takes nothing). */
static bool takes_password(const char *arg, size_t len)
{
	size_t dashes = 0;

	while (dashes < len && arg[dashes] == '-') {
		dashes++;
	}
	if (dashes == 0 || dashes == len || memchr(arg, '=', len) != NULL ||
	    (len - dashes >= 3 && memcmp(arg + dashes, "no-", 3) == 0)) {
		return false;
	}
	return is_password_key(arg, len, POLICY_ANY);
}

/* Digits, or a comma list of them: what psql's -p takes. */
static bool is_port_list(const char *s, size_t len)
{
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != ',') {
			return false;
		}
	}
	return true;
}

/* "-pVALUE" that may be a password (see mask.h).  "-pass..." is a long
 * option with one dash, left to the KEY=VALUE rule. */
static bool is_p_password(const char *arg, size_t len, const char *prog,
			  size_t prog_len)
{
	bool mysql = (prog_len >= 5 && memcmp(prog, "mysql", 5) == 0) ||
		     (prog_len >= 7 && memcmp(prog, "mariadb", 7) == 0);

	if (len <= 2 || arg[0] != '-' || arg[1] != 'p' ||
	    (len >= 5 && memcmp(arg, "-pass", 5) == 0)) {
		return false;
	}
	return mysql || !is_port_list(arg + 2, len - 2);
}

size_t mask_command_line(char *dst, size_t dst_size, const char *raw,
			 size_t len)
{
	struct out o = {dst, dst_size, 0};
	const char *prog = "";
	size_t prog_len = 0;
	bool secret_next = false;

	if (dst_size > 0) {
		dst[0] = '\0';
	}
	for (size_t i = 0; i < len;) {
		const char *arg = raw + i;
		const char *nul = memchr(arg, '\0', len - i);
		size_t arg_len = nul != NULL ? (size_t)(nul - arg) : len - i;

		i += arg_len + 1;
		if (arg == raw) {
			/* The program by its base name, for the -p rule. */
			prog_len = arg_len;
			prog = arg;
			for (size_t k = 0; k < arg_len; k++) {
				if (arg[k] == '/') {
					prog = arg + k + 1;
					prog_len = arg_len - k - 1;
				}
			}
		}
		if (secret_next && arg_len > 0 && arg[0] != '-') {
			put(&o, stars, strlen(stars));
		} else if (is_p_password(arg, arg_len, prog, prog_len)) {
			put(&o, "-p", 2);
			put(&o, stars, strlen(stars));
		} else {
			mask_text(&o, arg, arg_len, POLICY_ANY, nul == NULL);
		}
		secret_next = takes_password(arg, arg_len);
		if (nul != NULL) {
			put(&o, "", 1);
		}
	}
	return o.n;
}
