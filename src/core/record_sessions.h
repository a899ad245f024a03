/*
 * record_sessions.h - format 3 of the --record file: every session by
 * its identity, written when it appears, when it changes and when it
 * goes, so a replay follows each session as the live run did, while a
 * steady server costs a few bytes a sample.
 *
 * A sample line of format 3 holds, after "v", "t", "status" and
 * "elapsed_ms":
 *   "now"          the server's clock as it answered (ages are against it)
 *   "full": true   on a writer's first line (and after a lost line): the
 *                  reader forgets what it held; "server", "role_limits" and
 *                  "db_limits" are then always there, else only when they
 *                  changed
 *   "open"  [...]  sessions new since the last line, whole: pid, start
 *                  (backend_start), user, application, database, client,
 *                  client_port, state, state_change, query_start,
 *                  xact_start, wait, query, client_process
 *   "change" [...] pid, start and the fields that changed
 *   "gone" [[pid, start], ...]
 *   "rows"  [...]  sessions without an identity (the server hid their
 *                  times), counted as format 1 counted every session
 *   "sessions" N   how many the sample held, a check for the reader
 * Moments are epoch seconds with microseconds, as the server gives them.
 */
#ifndef PGDRIP_RECORD_SESSIONS_H
#define PGDRIP_RECORD_SESSIONS_H

#include "common.h"
#include "json.h"
#include "record_parse.h"
#include "sample.h"

/* What the writer wrote last: the base of the next line's deltas. */
struct record_delta;

struct record_delta *record_delta_create(void);
void record_delta_destroy(struct record_delta *d);

/* The next line is written whole (a line was lost: the reader's state
 * and the writer's no longer agree). */
void record_delta_reset(struct record_delta *d);

/* Writes the members of sample's line after its header ("now", "full",
 * "server", limits, "open", "change", "gone", "rows", "sessions") and
 * makes them the base of the next line. */
void record_delta_write(struct json_writer *w, struct record_delta *d,
			const struct sample *sample);

/* What the reader holds between lines. */
struct record_table;

struct record_table *record_table_create(void);
void record_table_destroy(struct record_table *t);

/*
 * Applies a format 3 line (root, its strings unescaped) and fills out
 * with the whole sample: server, limits, every session with its ages.
 * False with why on anything malformed: an unknown session changed or
 * gone, a count that disagrees, a bad number.
 */
bool record_table_read(struct record_table *t, const struct node *root,
		       struct sample *out, struct errbuf *why);

#endif
