/*
 * record_parse.h - the parse tree of one --record line and the checked
 * accessors that map its fields onto a sample: the private interface of
 * the record readers (record_read.c for the lines, record_table.c for
 * format 3's session deltas), also read by clientfacts.c for the client
 * hooks' JSON lines.  Not for use outside them.
 */
#ifndef PGDRIP_RECORD_PARSE_H
#define PGDRIP_RECORD_PARSE_H

#include "arena.h"
#include "common.h"
#include "sample.h"

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

extern const struct range RECORD_RANGE_COUNT;
extern const struct range RECORD_RANGE_PORT;
extern const struct range RECORD_RANGE_EPOCH;
extern const struct range RECORD_RANGE_AGE;
extern const struct range RECORD_RANGE_MILLIS;
extern const struct range RECORD_RANGE_TOTAL;    /* a counter: whole, >= 0 */
extern const struct range RECORD_RANGE_INTERVAL; /* 1 ms to a day */

/* Parses one line into root (nodes in arena); false with *error. */
bool record_parse_line(const char *line, size_t len, struct arena *arena,
		       struct node *root, const char **error);

/* The member key of obj; NULL when absent or obj is not an object. */
const struct node *record_parse_member(const struct node *obj, const char *key);

/*
 * The number at key in obj into *out: dflt when absent or null (a
 * number that was not finite is written as null); false with why when
 * it is anything else or outside r.
 */
bool record_parse_num(const struct node *obj, const char *key,
		      const struct range *r, double dflt, double *out,
		      struct errbuf *why);
/* The same for an int field. */
bool record_parse_int(const struct node *obj, const char *key,
		      const struct range *r, int dflt, int *out,
		      struct errbuf *why);

/* Restores the raw bytes of every string value in the tree, as the
 * line's format version wrote them. */
void record_parse_unescape(struct node *n, int version);

/* A string field copied into the sample's arena ("" when absent). */
const char *record_parse_str(struct sample *sample, const struct node *obj,
			     const char *key);
/* The same into dst (cut to size). */
void record_parse_copy(char *dst, size_t size, const struct node *obj,
		       const char *key);

bool record_parse_server(const struct node *s, struct server_info *out,
			 struct errbuf *why);
/* The "state" field; false when absent or unknown. */
bool record_parse_state(const struct node *obj, enum session_state *out);
/* "local" or an address into the session's client fields. */
void record_parse_client(struct session *s, const char *client);
/* The optional "client_process" object into the session. */
bool record_parse_client_process(const struct node *obj, struct sample *out,
				 struct session *s, struct errbuf *why);
/* Counts n more sessions; false past what any server holds. */
bool record_parse_count(long long *total, int n, struct errbuf *why);

#endif
