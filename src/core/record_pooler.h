/*
 * record_pooler.h - the "pooler" member of a --record line: what
 * PgBouncer's admin console gave (see record.h for the format).
 */
#ifndef PGDRIP_RECORD_POOLER_H
#define PGDRIP_RECORD_POOLER_H

#include "common.h"
#include "json.h"
#include "sample.h"

/* "db_servers", "user_servers", "db_clients", "user_clients". */
const char *record_pooler_limit_key(enum pooler_limit_kind kind);

/* Writes "pooler": {...} at the writer's position in a line's object
 * (nothing for a server's sample). */
void record_pooler_write(struct json_writer *w, const struct sample *sample);

/* Reads that member (its parse tree, record_parse.h) back into out's
 * pooler; nothing when p is NULL.  False with why on a bad field. */
struct node;
bool record_pooler_read(const struct node *p, struct sample *out,
			struct errbuf *why);

#endif
