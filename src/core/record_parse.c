/*
 * record_parse.c - a small JSON parser for --record lines (a tree in an
 * arena: a NUL byte in a corrupt file is just another byte) and the
 * checked field accessors of record_parse.h.
 */
#include "record_parse.h"

#include "json.h"
#include "record.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *p;
	const char *end;
	struct arena *arena;
	const char *error;
	int depth;
};

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\r' || *ps->p == '\n')) {
		ps->p++;
	}
}

static bool read_hex4(struct parser *ps, unsigned *out)
{
	*out = 0;
	if (ps->end - ps->p < 4) {
		return false;
	}
	for (int i = 0; i < 4; i++) {
		int h = common_hex_digit(ps->p[i]);

		if (h < 0) {
			return false;
		}
		*out = *out * 16 + (unsigned)h;
	}
	ps->p += 4;
	return true;
}

static size_t put_utf8(char *dst, unsigned cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xC0 | cp >> 6);
		dst[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xE0 | cp >> 12);
		dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		dst[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	dst[0] = (char)(0xF0 | cp >> 18);
	dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	dst[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* \uXXXX, with surrogate pairs; a lone surrogate is an error. */
static bool read_unicode(struct parser *ps, char *dst, size_t *used)
{
	unsigned cp;
	unsigned low;

	if (!read_hex4(ps, &cp)) {
		return false;
	}
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
		    ps->p[1] != 'u') {
			return false;
		}
		ps->p += 2;
		if (!read_hex4(ps, &low) || low < 0xDC00 || low > 0xDFFF) {
			return false;
		}
		cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return false;
	}
	*used += put_utf8(dst + *used, cp);
	return true;
}

static bool parse_string(struct parser *ps, struct node *n)
{
	const char *start = ++ps->p;
	const char *q = start;
	char *dst;
	size_t used = 0;

	/* The common case, a string without escapes, is copied as is. */
	while (q < ps->end && *q != '"' && *q != '\\' &&
	       (unsigned char)*q >= 0x20) {
		q++;
	}
	if (q < ps->end && *q == '"') {
		dst = arena_strndup(ps->arena, start, (size_t)(q - start));
		ps->p = q + 1;
		n->type = NODE_STRING;
		n->str = dst;
		n->len = (size_t)(q - start);
		return true;
	}
	while (q < ps->end && *q != '"') {
		q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
	}
	if (q >= ps->end) {
		ps->error = "unterminated string";
		return false;
	}
	/* Unescaping never grows a string. */
	dst = arena_alloc(ps->arena, (size_t)(q - start) + 1);
	while (ps->p < q) {
		char c = *ps->p++;

		if ((unsigned char)c < 0x20) {
			ps->error = "control character in a string";
			return false;
		}
		if (c != '\\') {
			dst[used++] = c;
			continue;
		}
		c = *ps->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			dst[used++] = c;
			break;
		case 'b':
			dst[used++] = '\b';
			break;
		case 'f':
			dst[used++] = '\f';
			break;
		case 'n':
			dst[used++] = '\n';
			break;
		case 'r':
			dst[used++] = '\r';
			break;
		case 't':
			dst[used++] = '\t';
			break;
		case 'u':
			if (!read_unicode(ps, dst, &used)) {
				ps->error = "bad \\u escape";
				return false;
			}
			break;
		default:
			ps->error = "bad escape in a string";
			return false;
		}
	}
	ps->p = q + 1;
	n->type = NODE_STRING;
	n->str = dst;
	n->len = used;
	dst[used] = '\0';
	return true;
}

static bool parse_value(struct parser *ps, struct node *n);

static bool parse_members(struct parser *ps, struct node *n, char close)
{
	struct node **tail = &n->child;

	ps->p++;
	if (++ps->depth > 32) {
		ps->error = "nested too deeply";
		return false;
	}
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		struct node *m = arena_alloc(ps->arena, sizeof(*m));
		struct node key;

		memset(m, 0, sizeof(*m));
		skip_ws(ps);
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"' ||
			    !parse_string(ps, &key)) {
				ps->error = ps->error ? ps->error
						      : "expected a key";
				return false;
			}
			m->key = key.str;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':') {
				ps->error = "expected ':'";
				return false;
			}
		}
		if (!parse_value(ps, m)) {
			return false;
		}
		*tail = m;
		tail = &m->next;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return true;
		}
		ps->error = ps->p >= ps->end
				    ? "unexpected end of line"
				    : "expected ',' or a closing bracket";
		return false;
	}
}

static bool parse_literal(struct parser *ps, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) {
		ps->error = "unexpected character";
		return false;
	}
	ps->p += len;
	return true;
}

static bool is_digit_at(const struct parser *ps, size_t i)
{
	return ps->p + i < ps->end && ps->p[i] >= '0' && ps->p[i] <= '9';
}

/* Strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool parse_number(struct parser *ps, struct node *n)
{
	char buf[64];
	size_t len = 0;
	char *end;

	if (ps->p < ps->end && ps->p[0] == '-') {
		len++;
	}
	if (!is_digit_at(ps, len)) {
		ps->error = "unexpected character";
		return false;
	}
	if (ps->p[len] == '0') {
		len++;
	} else {
		while (is_digit_at(ps, len)) {
			len++;
		}
	}
	if (ps->p + len < ps->end && ps->p[len] == '.') {
		if (!is_digit_at(ps, ++len)) {
			ps->error = "bad number";
			return false;
		}
		while (is_digit_at(ps, len)) {
			len++;
		}
	}
	if (ps->p + len < ps->end && (ps->p[len] == 'e' || ps->p[len] == 'E')) {
		len++;
		if (ps->p + len < ps->end &&
		    (ps->p[len] == '+' || ps->p[len] == '-')) {
			len++;
		}
		if (!is_digit_at(ps, len)) {
			ps->error = "bad number";
			return false;
		}
		while (is_digit_at(ps, len)) {
			len++;
		}
	}
	/* No pgdrip number needs more digits than a double holds. */
	if (len >= sizeof(buf)) {
		ps->error = "number too long";
		return false;
	}
	memcpy(buf, ps->p, len);
	buf[len] = '\0';
	errno = 0;
	n->num = strtod(buf, &end);
	if (*end != '\0' || !isfinite(n->num)) {
		ps->error = "bad number";
		return false;
	}
	n->type = NODE_NUMBER;
	ps->p += len;
	return true;
}

static bool parse_value(struct parser *ps, struct node *n)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		ps->error = "unexpected end of line";
		return false;
	}
	switch (*ps->p) {
	case '{':
		n->type = NODE_OBJECT;
		return parse_members(ps, n, '}');
	case '[':
		n->type = NODE_ARRAY;
		return parse_members(ps, n, ']');
	case '"':
		return parse_string(ps, n);
	case 't':
		n->type = NODE_BOOL;
		n->boolean = true;
		return parse_literal(ps, "true");
	case 'f':
		n->type = NODE_BOOL;
		return parse_literal(ps, "false");
	case 'n':
		n->type = NODE_NULL;
		return parse_literal(ps, "null");
	default:
		return parse_number(ps, n);
	}
}

const struct node *record_parse_member(const struct node *obj, const char *key)
{
	if (obj == NULL || obj->type != NODE_OBJECT) {
		return NULL;
	}
	for (const struct node *m = obj->child; m != NULL; m = m->next) {
		if (strcmp(m->key, key) == 0) {
			return m;
		}
	}
	return NULL;
}

const struct range RECORD_RANGE_COUNT = {0, 2147483647.0, true,
					 "a whole number >= 0"};
const struct range RECORD_RANGE_PORT = {-1, 65535, true,
					"a port (-1 to 65535)"};
const struct range RECORD_RANGE_EPOCH = {1e-3, PLAUSIBLE_S, false,
					 "a time in seconds since 1970"};
const struct range RECORD_RANGE_AGE = {-PLAUSIBLE_S, PLAUSIBLE_S, false,
				       "a duration in seconds"};
const struct range RECORD_RANGE_TOTAL = {0, 9007199254740992.0, true,
					 "a count >= 0"};
const struct range RECORD_RANGE_INTERVAL = {0.001, 86400, false,
					    "an interval in seconds"};
const struct range RECORD_RANGE_MILLIS = {0, PLAUSIBLE_S * 1e3, false,
					  "milliseconds >= 0"};

/*
 * The number at key in obj into *out: dflt when absent or null (a
 * number that was not finite is written as null); false with why when
 * it is anything else or outside r.
 */
bool record_parse_num(const struct node *obj, const char *key,
		      const struct range *r, double dflt, double *out,
		      struct errbuf *why)
{
	const struct node *m = record_parse_member(obj, key);

	*out = dflt;
	if (m == NULL || m->type == NODE_NULL) {
		return true;
	}
	if (m->type != NODE_NUMBER) {
		errbuf_set(why, "\"%s\" is not a number", key);
		return false;
	}
	if (!(m->num >= r->lo && m->num <= r->hi) ||
	    (r->whole && m->num != floor(m->num))) {
		errbuf_set(why, "\"%s\" is %.15g, not %s", key, m->num,
			   r->what);
		return false;
	}
	*out = m->num;
	return true;
}

/* record_parse_num() for an int field; absent or null gives dflt. */
bool record_parse_int(const struct node *obj, const char *key,
		      const struct range *r, int dflt, int *out,
		      struct errbuf *why)
{
	double v;

	if (!record_parse_num(obj, key, r, dflt, &v, why)) {
		return false;
	}
	*out = (int)v;
	return true;
}

/* Version 1's decoding: \xNN back into the byte, a backslash before
 * anything else kept.  That format did not double a name's backslash, so
 * a name holding the text \xNN reads back as the byte (its ambiguity). */
static size_t decode_hex_escapes(char *s, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		int hi;
		int lo;

		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    (hi = common_hex_digit(s[i + 2])) >= 0 &&
		    (lo = common_hex_digit(s[i + 3])) >= 0) {
			s[out++] = (char)(hi * 16 + lo);
			i += 3;
		} else {
			s[out++] = s[i];
		}
	}
	s[out] = '\0';
	return out;
}

/* Restores the raw bytes of every string value in the tree (keys are
 * pgdrip's own ASCII), as the line's format version wrote them. */
void record_parse_unescape(struct node *n, int version)
{
	for (; n != NULL; n = n->next) {
		if (n->type == NODE_STRING && memchr(n->str, '\\', n->len)) {
			n->len = version >= 2
					 ? json_unescape_value(n->str, n->len)
					 : decode_hex_escapes(n->str, n->len);
		}
		record_parse_unescape(n->child, version);
	}
}

/* A string field copied into the sample. */
const char *record_parse_str(struct sample *sample, const struct node *obj,
			     const char *key)
{
	const struct node *m = record_parse_member(obj, key);

	if (m == NULL || m->type != NODE_STRING) {
		return "";
	}
	return arena_strdup(&sample->arena, m->str);
}

void record_parse_copy(char *dst, size_t size, const struct node *obj,
		       const char *key)
{
	const struct node *m = record_parse_member(obj, key);

	snprintf(dst, size, "%s",
		 m != NULL && m->type == NODE_STRING ? m->str : "");
}

bool record_parse_server(const struct node *s, struct server_info *out,
			 struct errbuf *why)
{
	static const struct range timeout = {0, PLAUSIBLE_S, false,
					     "a duration in seconds >= 0"};
	const struct node *ok = record_parse_member(s, "can_read_all_stats");
	const struct node *source = record_parse_member(s, "source");

	/* Absent before the console was a source: a server. */
	if (source != NULL && source->type == NODE_STRING &&
	    !sample_source_from_key(source->str, &out->source)) {
		errbuf_set(why, "\"source\" is not one pgdrip knows");
		return false;
	}
	record_parse_copy(out->version, sizeof(out->version), s, "version");
	record_parse_copy(out->current_user, sizeof(out->current_user), s,
			  "current_user");
	out->can_read_all_stats = ok != NULL && ok->boolean;
	return record_parse_int(s, "version_num", &RECORD_RANGE_COUNT, 0,
				&out->version_num, why) &&
	       record_parse_int(s, "max_connections", &RECORD_RANGE_COUNT, 0,
				&out->max_connections, why) &&
	       record_parse_int(s, "superuser_reserved", &RECORD_RANGE_COUNT, 0,
				&out->superuser_reserved, why) &&
	       record_parse_int(s, "reserved", &RECORD_RANGE_COUNT, 0,
				&out->reserved, why) &&
	       record_parse_num(s, "idle_session_timeout_s", &timeout, NAN,
				&out->idle_session_timeout_s, why);
}

bool record_parse_state(const struct node *obj, enum session_state *out)
{
	const struct node *m = record_parse_member(obj, "state");

	return m != NULL && m->type == NODE_STRING &&
	       sample_state_from_key(m->str, out);
}

void record_parse_client(struct session *s, const char *client)
{
	if (strcmp(client, "local") == 0) {
		s->client_port = -1;
	} else {
		s->client_addr = client;
	}
}

bool record_parse_client_process(const struct node *obj, struct sample *out,
				 struct session *s, struct errbuf *why)
{
	const struct node *p = record_parse_member(obj, "client_process");
	const struct node *relation;

	if (p == NULL || p->type != NODE_OBJECT) {
		return true;
	}
	if (!record_parse_int(p, "pid", &RECORD_RANGE_COUNT, 0, &s->client_pid,
			      why)) {
		return false;
	}
	s->client_command = record_parse_str(out, p, "command");
	relation = record_parse_member(p, "relation");
	if (relation == NULL || relation->type != NODE_STRING ||
	    !sample_relation_parse(relation->str, &s->client_relation)) {
		s->client_relation = CLIENT_RELATION_UNRELATED;
	}
	return true;
}

/* Counts n more sessions; false past what any server holds. */
bool record_parse_count(long long *total, int n, struct errbuf *why)
{
	*total += n;
	if (*total > RECORD_MAX_SESSIONS) {
		errbuf_set(why, "more sessions than any server holds");
		return false;
	}
	return true;
}

bool record_parse_line(const char *line, size_t len, struct arena *arena,
		       struct node *root, const char **error)
{
	struct parser ps;
	bool ok;

	memset(&ps, 0, sizeof(ps));
	memset(root, 0, sizeof(*root));
	ps.p = line;
	ps.end = line + len;
	ps.arena = arena;
	ok = parse_value(&ps, root);
	if (ok) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			ok = false;
			ps.error = "trailing characters";
		}
	}
	*error = ps.error;
	return ok;
}
