/*
 * record_read.c - the reader behind --replay (see record.h).  Each line
 * is parsed into a small tree held in an arena, then the fields it knows
 * are mapped onto a sample; unknown fields are ignored so files with
 * fields added later stay readable.
 */
#include "record.h"

#include "arena.h"
#include "bouncer.h"
#include "json.h"
#include "record_pooler.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum node_type {
	NODE_NULL,
	NODE_BOOL,
	NODE_NUMBER,
	NODE_STRING,
	NODE_ARRAY,
	NODE_OBJECT
};

struct node {
	enum node_type type;
	const char *key; /* inside an object */
	char *str;       /* NUL-terminated; len may hold NULs */
	size_t len;
	double num;
	bool boolean;
	struct node *child; /* first member */
	struct node *next;
};

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

static const struct node *member(const struct node *obj, const char *key)
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

/*
 * What a number field may hold.  A record pgdrip wrote holds nothing
 * else, so a value outside is a corrupt or forged file: an error naming
 * the field, never a number that would mislead the analysis (or, like
 * t=1e308, overflow the formatting of a duration).
 */
struct range {
	double lo;
	double hi;
	bool whole; /* an integer */
	const char *what;
};

/* Every time and age pgdrip records is far below this (year 5138). */
#define PLAUSIBLE_S 1e11

static const struct range COUNT = {0, 2147483647.0, true,
				   "a whole number >= 0"};
static const struct range PORT = {-1, 65535, true, "a port (-1 to 65535)"};
static const struct range EPOCH = {1e-3, PLAUSIBLE_S, false,
				   "a time in seconds since 1970"};
static const struct range AGE = {-PLAUSIBLE_S, PLAUSIBLE_S, false,
				 "a duration in seconds"};
static const struct range MILLIS = {0, PLAUSIBLE_S * 1e3, false,
				    "milliseconds >= 0"};

/*
 * The number at key in obj into *out: dflt when absent or null (a
 * number that was not finite is written as null); false with why when
 * it is anything else or outside r.
 */
static bool num_in(const struct node *obj, const char *key,
		   const struct range *r, double dflt, double *out,
		   struct errbuf *why)
{
	const struct node *m = member(obj, key);

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

/* num_in() for an int field; absent or null gives dflt. */
static bool int_in(const struct node *obj, const char *key,
		   const struct range *r, int dflt, int *out,
		   struct errbuf *why)
{
	double v;

	if (!num_in(obj, key, r, dflt, &v, why)) {
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
static void unescape_strings(struct node *n, int version)
{
	for (; n != NULL; n = n->next) {
		if (n->type == NODE_STRING && memchr(n->str, '\\', n->len)) {
			n->len = version >= 2
					 ? json_unescape_value(n->str, n->len)
					 : decode_hex_escapes(n->str, n->len);
		}
		unescape_strings(n->child, version);
	}
}

/* A string field copied into the sample. */
static const char *str_of(struct sample *sample, const struct node *obj,
			  const char *key)
{
	const struct node *m = member(obj, key);

	if (m == NULL || m->type != NODE_STRING) {
		return "";
	}
	return arena_strdup(&sample->arena, m->str);
}

static void copy_string(char *dst, size_t size, const struct node *obj,
			const char *key)
{
	const struct node *m = member(obj, key);

	snprintf(dst, size, "%s",
		 m != NULL && m->type == NODE_STRING ? m->str : "");
}

static bool read_server(const struct node *s, struct server_info *out,
			struct errbuf *why)
{
	static const struct range timeout = {0, PLAUSIBLE_S, false,
					     "a duration in seconds >= 0"};
	const struct node *ok = member(s, "can_read_all_stats");
	const struct node *source = member(s, "source");

	/* Absent before the console was a source: a server. */
	if (source != NULL && source->type == NODE_STRING &&
	    !sample_source_from_key(source->str, &out->source)) {
		errbuf_set(why, "\"source\" is not one pgdrip knows");
		return false;
	}
	copy_string(out->version, sizeof(out->version), s, "version");
	copy_string(out->current_user, sizeof(out->current_user), s,
		    "current_user");
	out->can_read_all_stats = ok != NULL && ok->boolean;
	return int_in(s, "version_num", &COUNT, 0, &out->version_num, why) &&
	       int_in(s, "max_connections", &COUNT, 0, &out->max_connections,
		      why) &&
	       int_in(s, "superuser_reserved", &COUNT, 0,
		      &out->superuser_reserved, why) &&
	       int_in(s, "reserved", &COUNT, 0, &out->reserved, why) &&
	       num_in(s, "idle_session_timeout_s", &timeout, NAN,
		      &out->idle_session_timeout_s, why);
}

static bool read_state(const struct node *obj, enum session_state *out)
{
	const struct node *m = member(obj, "state");

	return m != NULL && m->type == NODE_STRING &&
	       sample_state_from_key(m->str, out);
}

static void set_client(struct session *s, const char *client)
{
	if (strcmp(client, "local") == 0) {
		s->client_port = -1;
	} else {
		s->client_addr = client;
	}
}

static bool read_client_process(const struct node *obj, struct sample *out,
				struct session *s, struct errbuf *why)
{
	const struct node *p = member(obj, "client_process");
	const struct node *relation;

	if (p == NULL || p->type != NODE_OBJECT) {
		return true;
	}
	if (!int_in(p, "pid", &COUNT, 0, &s->client_pid, why)) {
		return false;
	}
	s->client_command = str_of(out, p, "command");
	relation = member(p, "relation");
	if (relation == NULL || relation->type != NODE_STRING ||
	    !sample_relation_parse(relation->str, &s->client_relation)) {
		s->client_relation = CLIENT_RELATION_UNRELATED;
	}
	return true;
}

/* Counts n more sessions; false past what any server holds. */
static bool add_to_total(long long *total, int n, struct errbuf *why)
{
	*total += n;
	if (*total > RECORD_MAX_SESSIONS) {
		errbuf_set(why, "more sessions than any server holds");
		return false;
	}
	return true;
}

static bool read_rows(const struct node *rows, struct sample *out,
		      long long *total, struct errbuf *why)
{
	for (const struct node *r = rows ? rows->child : NULL; r; r = r->next) {
		struct session *s;
		int count;
		enum session_state state;

		if (member(r, "count") == NULL || !read_state(r, &state)) {
			errbuf_set(why, "a row without a valid count or state");
			return false;
		}
		if (!int_in(r, "count", &COUNT, 0, &count, why) ||
		    !add_to_total(total, count, why)) {
			return false;
		}
		s = sample_add_session(out);
		s->weight = count;
		s->state = state;
		s->user = str_of(out, r, "user");
		s->app = str_of(out, r, "application");
		s->db = str_of(out, r, "database");
		set_client(s, str_of(out, r, "client"));
		if (!read_client_process(r, out, s, why)) {
			return false;
		}
	}
	return true;
}

/* The numbers of an idle-in-transaction entry. */
static bool read_idle_tx_numbers(const struct node *e, struct session *s,
				 struct errbuf *why)
{
	return int_in(e, "pid", &COUNT, 0, &s->pid, why) &&
	       int_in(e, "client_port", &PORT, 0, &s->client_port, why) &&
	       num_in(e, "idle_s", &AGE, NAN, &s->state_age_s, why) &&
	       num_in(e, "xact_age_s", &AGE, NAN, &s->xact_age_s, why) &&
	       num_in(e, "backend_age_s", &AGE, NAN, &s->backend_age_s, why) &&
	       num_in(e, "xact_start", &EPOCH, NAN, &s->xact_start_epoch_s,
		      why);
}

static bool read_idle_tx(const struct node *list, struct sample *out,
			 long long *total, struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct session *s;
		enum session_state state;

		if (!read_state(e, &state)) {
			errbuf_set(why, "an idle-in-transaction entry without "
					"a state");
			return false;
		}
		if (!add_to_total(total, 1, why)) {
			return false;
		}
		s = sample_add_session(out);
		s->state = state;
		s->user = str_of(out, e, "user");
		s->app = str_of(out, e, "application");
		s->db = str_of(out, e, "database");
		s->client_addr = str_of(out, e, "client");
		s->query = str_of(out, e, "query");
		if (!read_idle_tx_numbers(e, s, why) ||
		    !read_client_process(e, out, s, why)) {
			return false;
		}
	}
	return true;
}

/* A CONNECTION LIMIT: -1 (none, as PostgreSQL spells it) or more. */
static bool read_limits(const struct node *list, struct sample *out, bool roles,
			struct errbuf *why)
{
	static const struct range limit_range = {
		-1, 2147483647.0, true, "a connection limit (-1 or more)"};

	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		const char *name = str_of(out, e, "name");
		int limit;

		if (member(e, "limit") == NULL) {
			errbuf_set(why, "a limit without \"limit\"");
			return false;
		}
		if (!int_in(e, "limit", &limit_range, 0, &limit, why)) {
			return false;
		}
		if (roles) {
			sample_add_role_limit(out, name, limit);
		} else {
			sample_add_db_limit(out, name, limit);
		}
	}
	return true;
}

/* ---- PgBouncer's console ---- */

/* A pooler's count: -1 where its version did not show it. */
static const struct range POOLER_COUNT = {-1, 2147483647.0, true,
					  "a whole number >= -1"};

static bool read_pools(const struct node *list, struct sample *out,
		       struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct pooler_pool *p = sample_add_pool(out);

		p->database = str_of(out, e, "database");
		p->user = str_of(out, e, "user");
		p->mode = str_of(out, e, "mode");
		if (!int_in(e, "cl_active", &POOLER_COUNT, -1, &p->cl_active,
			    why) ||
		    !int_in(e, "cl_waiting", &POOLER_COUNT, -1, &p->cl_waiting,
			    why) ||
		    !int_in(e, "sv_active", &POOLER_COUNT, -1, &p->sv_active,
			    why) ||
		    !int_in(e, "sv_idle", &POOLER_COUNT, -1, &p->sv_idle,
			    why) ||
		    !int_in(e, "sv_used", &POOLER_COUNT, -1, &p->sv_used,
			    why) ||
		    !int_in(e, "sv_tested", &POOLER_COUNT, -1, &p->sv_tested,
			    why) ||
		    !int_in(e, "sv_login", &POOLER_COUNT, -1, &p->sv_login,
			    why) ||
		    !num_in(e, "maxwait_s", &AGE, NAN, &p->maxwait_s, why) ||
		    !int_in(e, "pool_size", &POOLER_COUNT, -1, &p->pool_size,
			    why)) {
			return false;
		}
	}
	return true;
}

static bool read_pooler_servers(const struct node *list, struct sample *out,
				struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct pooler_server *v = sample_add_pooler_server(out);

		v->ptr = str_of(out, e, "ptr");
		v->link = str_of(out, e, "link");
		v->database = str_of(out, e, "database");
		v->user = str_of(out, e, "user");
		v->state = str_of(out, e, "state");
		v->app = str_of(out, e, "application");
		v->addr = str_of(out, e, "addr");
		if (!int_in(e, "port", &PORT, 0, &v->port, why) ||
		    !int_in(e, "local_port", &PORT, 0, &v->local_port, why) ||
		    !int_in(e, "remote_pid", &COUNT, 0, &v->remote_pid, why)) {
			return false;
		}
	}
	return true;
}

static bool read_pooler_limits(const struct node *list, struct sample *out,
			       struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		const struct node *kind = member(e, "kind");
		int k = 0;
		int limit;
		int used;

		while (k < POOLER_LIMIT_KIND_COUNT &&
		       (kind == NULL || kind->type != NODE_STRING ||
			strcmp(kind->str, record_pooler_limit_key(
						  (enum pooler_limit_kind)k)) !=
				0)) {
			k++;
		}
		if (k == POOLER_LIMIT_KIND_COUNT) {
			errbuf_set(why, "a pooler limit of no known kind");
			return false;
		}
		if (!int_in(e, "limit", &COUNT, 0, &limit, why) ||
		    !int_in(e, "used", &POOLER_COUNT, -1, &used, why)) {
			return false;
		}
		sample_add_pooler_limit(out, (enum pooler_limit_kind)k,
					str_of(out, e, "name"), limit, used);
	}
	return true;
}

static bool read_pooler_clients(const struct node *list, struct sample *out,
				long long *total, struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct session *s;
		enum session_state state;

		if (!read_state(e, &state)) {
			errbuf_set(why, "a pooler client without a state");
			return false;
		}
		if (!add_to_total(total, 1, why)) {
			return false;
		}
		s = sample_add_session(out);
		s->state = state;
		s->pooler_ptr = str_of(out, e, "ptr");
		s->user = str_of(out, e, "user");
		s->app = str_of(out, e, "application");
		s->db = str_of(out, e, "database");
		set_client(s, str_of(out, e, "client"));
		if (!int_in(e, "pid", &COUNT, 0, &s->pid, why) ||
		    !int_in(e, "client_port", &PORT, 0, &s->client_port, why) ||
		    !num_in(e, "connect_time", &EPOCH, NAN,
			    &s->backend_start_epoch_s, why) ||
		    !num_in(e, "request_time", &EPOCH, NAN,
			    &s->state_change_epoch_s, why) ||
		    !num_in(e, "query_start", &EPOCH, NAN,
			    &s->query_start_epoch_s, why) ||
		    !read_client_process(e, out, s, why)) {
			return false;
		}
	}
	return true;
}

/* The console's own block: its clients stand for the rows, and their
 * ages are worked out and rounded as the live run's were. */
static bool read_pooler(const struct node *p, struct sample *out,
			long long *total, struct errbuf *why)
{
	struct pooler_info *info = &out->pooler;
	static const struct range timeout = {0, PLAUSIBLE_S, false,
					     "a duration in seconds >= 0"};

	if (!num_in(p, "now", &EPOCH, NAN, &out->server_epoch_s, why) ||
	    !int_in(p, "max_client_conn", &POOLER_COUNT, -1,
		    &info->max_client_conn, why) ||
	    !int_in(p, "default_pool_size", &POOLER_COUNT, -1,
		    &info->default_pool_size, why) ||
	    !num_in(p, "client_idle_timeout_s", &timeout, NAN,
		    &info->client_idle_timeout_s, why) ||
	    !read_pools(member(p, "pools"), out, why) ||
	    !read_pooler_servers(member(p, "servers"), out, why) ||
	    !read_pooler_limits(member(p, "limits"), out, why) ||
	    !read_pooler_clients(member(p, "clients"), out, total, why)) {
		return false;
	}
	bouncer_sample_end(out);
	record_round_times(out);
	return true;
}

/* "v": a format this reader knows (absent in no file pgdrip wrote, read
 * as 1); "t": a plausible time, less than RECORD_CLOCK_SLACK_S before
 * the latest line's. */
static bool read_header(struct record_reader *reader, const struct node *root,
			struct sample *out, struct errbuf *why)
{
	static const struct range version = {1, RECORD_VERSION, true, ""};
	const struct node *v = member(root, "v");
	const struct node *t = member(root, "t");

	if (v != NULL &&
	    !num_in(root, "v", &version, 1, &reader->version, why)) {
		if (v->type == NODE_NUMBER) {
			errbuf_set(why,
				   "format version %.15g is not one this "
				   "pgdrip reads (1 to %d)",
				   v->num, RECORD_VERSION);
		}
		return false;
	}
	if (v == NULL) {
		reader->version = 1;
	}
	if (t == NULL || t->type != NODE_NUMBER) {
		errbuf_set(why, "not a pgdrip record (missing \"t\")");
		return false;
	}
	if (!num_in(root, "t", &EPOCH, 0, &out->taken_at_epoch_s, why)) {
		return false;
	}
	if (reader->latest_t_s - out->taken_at_epoch_s >=
	    RECORD_CLOCK_SLACK_S) {
		errbuf_set(why,
			   "time runs backwards: \"t\" is %.3f, after "
			   "%.3f on an earlier line",
			   out->taken_at_epoch_s, reader->latest_t_s);
		return false;
	}
	reader->latest_t_s = fmax(reader->latest_t_s, out->taken_at_epoch_s);
	return num_in(root, "elapsed_ms", &MILLIS, 0, &out->elapsed_ms, why);
}

/* Maps a parsed line onto a sample. */
static bool read_sample(struct record_reader *reader, struct node *root,
			struct sample *out, struct errbuf *why)
{
	const struct node *status = member(root, "status");
	long long total = 0;

	if (root->type != NODE_OBJECT) {
		errbuf_set(why, "not a pgdrip record (not an object)");
		return false;
	}
	if (!read_header(reader, root, out, why)) {
		return false;
	}
	unescape_strings(root->child, (int)reader->version);
	if (status == NULL || status->type != NODE_STRING) {
		errbuf_set(why, "not a pgdrip record (missing \"status\")");
		return false;
	}
	if (strcmp(status->str, "failed") == 0) {
		out->status = SAMPLE_STATUS_FAILED;
		return true;
	}
	out->status = strcmp(status->str, "late") == 0 ? SAMPLE_STATUS_LATE
						       : SAMPLE_STATUS_OK;
	if (!read_server(member(root, "server"), &out->server, why) ||
	    !read_limits(member(root, "role_limits"), out, true, why) ||
	    !read_limits(member(root, "db_limits"), out, false, why)) {
		return false;
	}
	if (out->server.source == SAMPLE_SOURCE_PGBOUNCER &&
	    member(root, "pooler") != NULL) {
		return read_pooler(member(root, "pooler"), out, &total, why);
	}
	return read_rows(member(root, "rows"), out, &total, why) &&
	       read_idle_tx(member(root, "idle_in_transaction"), out, &total,
			    why);
}

void record_reader_init(struct record_reader *reader, FILE *in)
{
	memset(reader, 0, sizeof(*reader));
	reader->in = in;
	arena_init(&reader->parse_arena);
}

void record_reader_finish(struct record_reader *reader)
{
	if (reader == NULL) {
		return;
	}
	free(reader->line);
	free(reader->chunk);
	reader->line = NULL;
	reader->chunk = NULL;
	arena_finish(&reader->parse_arena);
}

enum { CHUNK_SIZE = 64 * 1024 };

/* Appends n bytes to the line; false when it would pass RECORD_MAX_LINE. */
static bool append_line(struct record_reader *r, size_t *len, const char *p,
			size_t n)
{
	if (n > RECORD_MAX_LINE - *len) {
		return false;
	}
	if (*len + n + 1 > r->line_cap) {
		xgrow((void **)&r->line, &r->line_cap, *len + n + 1, 1);
	}
	memcpy(r->line + *len, p, n);
	*len += n;
	r->line[*len] = '\0';
	return true;
}

/*
 * Reads one line (without '\n'; may hold NUL bytes).  Returns 0 at the
 * end of the file, -1 when longer than RECORD_MAX_LINE, else 1 with
 * *complete telling whether the line had its '\n'.
 */
static int read_line(struct record_reader *r, size_t *len, bool *complete)
{
	*len = 0;
	*complete = false;
	if (r->line == NULL) {
		xgrow((void **)&r->line, &r->line_cap, 4096, 1);
	}
	r->line[0] = '\0';
	if (r->chunk == NULL) {
		r->chunk = xmalloc(CHUNK_SIZE);
	}
	for (;;) {
		const char *start;
		const char *nl;
		size_t avail;

		if (r->chunk_pos == r->chunk_len) {
			r->chunk_pos = 0;
			r->chunk_len = fread(r->chunk, 1, CHUNK_SIZE, r->in);
			if (r->chunk_len == 0) {
				return *len > 0 ? 1 : 0;
			}
		}
		start = r->chunk + r->chunk_pos;
		avail = r->chunk_len - r->chunk_pos;
		nl = memchr(start, '\n', avail);
		if (nl != NULL) {
			avail = (size_t)(nl - start);
		}
		if (!append_line(r, len, start, avail)) {
			return -1;
		}
		r->chunk_pos += avail;
		if (nl != NULL) {
			r->chunk_pos++;
			*complete = true;
			return 1;
		}
	}
}

int record_reader_next(struct record_reader *reader, struct sample *out,
		       struct errbuf *err)
{
	for (;;) {
		struct parser ps;
		struct node root;
		size_t len;
		bool complete;
		struct errbuf why;
		bool ok;
		int got = read_line(reader, &len, &complete);

		if (got == 0) {
			return 0;
		}
		reader->line_no++;
		if (got < 0) {
			errbuf_set(err, "line %zu: longer than %d MiB",
				   reader->line_no, RECORD_MAX_LINE >> 20);
			return -1;
		}
		if (strspn(reader->line, " \t\r") == len) {
			continue;
		}
		sample_reset(out);
		arena_reset(&reader->parse_arena);
		memset(&ps, 0, sizeof(ps));
		memset(&root, 0, sizeof(root));
		ps.p = reader->line;
		ps.end = reader->line + len;
		ps.arena = &reader->parse_arena;
		ok = parse_value(&ps, &root);
		if (ok) {
			skip_ws(&ps);
			if (ps.p != ps.end) {
				ok = false;
				ps.error = "trailing characters";
			}
		}
		if (!ok && !complete && reader->line[0] == '{') {
			/* A recorder killed mid-write leaves half a line:
			 * the samples before it are good.  Garbage that
			 * does not even start like a record is an error. */
			reader->truncated_last_line = true;
			return 0;
		}
		if (!ok) {
			snprintf(why.msg, sizeof(why.msg), "%s", ps.error);
		}
		ok = ok && read_sample(reader, &root, out, &why);
		if (!ok) {
			sample_reset(out);
			errbuf_set(err, "line %zu: %s", reader->line_no,
				   why.msg);
			return -1;
		}
		return 1;
	}
}
