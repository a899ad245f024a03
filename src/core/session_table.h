/*
 * session_table.h - every live session by identity, fed one sample at
 * a time by any source (the server's rows, the PgBouncer console's
 * clients, a record's lines on replay) and saying of each session, in
 * one vocabulary, what this sample is to it:
 *
 *   opened     first seen;
 *   changed    seen again, its row moved (state, a moment, the text,
 *              its client process);
 *   unchanged  seen again, as it was;
 *   gone       in the last sample, in none of this one's rows.
 *
 * Per session the table keeps the facts a source cannot resend: where
 * its row is in the sample merged last, what that row was (to tell a
 * change), what its client process said of it (the client hooks: a
 * fourth source, folded in by backend pid and time), and its owner's
 * payload (the tracker's uses, last use, passed over, idle in
 * transaction since), which moves with it.  Pure: no clock, no I/O.
 */
#ifndef PGDRIP_SESSION_TABLE_H
#define PGDRIP_SESSION_TABLE_H

#include "group.h"
#include "pidmap.h"
#include "sample.h"
#include "session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum session_change {
	SESSION_OPENED,
	SESSION_CHANGED,
	SESSION_UNCHANGED,
	SESSION_GONE,
};

/* The vocabulary's words: "opened", "changed", "unchanged", "gone". */
const char *session_change_name(enum session_change change);

/* What a row was, enough to tell whether the next one moved. */
struct session_look {
	enum session_state state;
	double state_change_epoch_s; /* NAN unknown */
	double query_start_epoch_s;
	double xact_start_epoch_s;
	uint64_t text; /* a hash of application, wait event and query */
	int client_pid;
};

/* What a client process reports of its own connection (the client
 * hooks), held for the session it names.  NAN and 0: not said. */
struct session_client_facts {
	int client_pid;
	double checked_out_epoch_s; /* handed out by its pool */
	double returned_epoch_s;    /* given back (before or after) */
	char where[128];            /* the code line that checked it out */
};

struct session_entry {
	struct session_id id;
	enum session_change change; /* what the last merge said */
	size_t row;                 /* its row in that sample; gone: none */
	struct session_look look;   /* its row's look at that sample */
	struct session_client_facts client;
};

/* One event of a merge: entry is an index into the table's entries
 * (valid until the next merge); row the sample's row (SIZE_MAX for
 * gone).  A row naming a session twice gives it a second event. */
struct session_event {
	enum session_change change;
	size_t entry;
	size_t row;
};

struct session_table {
	struct session_entry *entries; /* owned; live, then this merge's
					* gone ones */
	size_t count;
	size_t cap;
	size_t payload_size;
	unsigned char *payloads; /* owned; payload_size per entry */
	struct group_index by_id;
	struct pidmap by_pid;         /* a live session's pid -> its entry */
	struct session_event *events; /* owned; the last merge's */
	size_t event_count;
	size_t event_cap;
	size_t merges;
};

/* An empty table whose entries each carry payload_size zeroed bytes
 * for their owner (0 for none). */
void session_table_init(struct session_table *t, size_t payload_size);
void session_table_finish(struct session_table *t);

/*
 * Folds in one sample: the sessions gone at the last merge are dropped
 * (entries move: indexes from before are void), then each row with an
 * identity (weight 1, a known start) is opened, changed or unchanged,
 * and every live session no row named is gone.  The events, in the
 * sample's order and then the gone ones from the last entry down, are
 * in t->events until the next merge.  Rows without an identity (hidden
 * sessions, an old record's aggregated rows) are no event.
 */
void session_table_merge(struct session_table *t, const struct sample *sample);

/* Drops the sessions the last merge found gone (the next merge does it
 * first anyway): for an owner done with their events. */
void session_table_sweep(struct session_table *t);

/* The entry of a live session (not gone), SIZE_MAX when none. */
size_t session_table_find(const struct session_table *t, struct session_id id);

/* The live session that has pid now, SIZE_MAX when none: what the
 * server's unchanged rows and a client process's report name. */
size_t session_table_find_pid(const struct session_table *t, int pid);

/* The owner's payload of entry i. */
void *session_table_payload(const struct session_table *t, size_t i);

/*
 * Folds in what a client process says of the connection whose backend
 * is pid, as of at_epoch_s (the server's clock): held by the live
 * session with that pid if it had started by then.  False when there is
 * none (closed since, or a later session has the pid).
 */
bool session_table_fold_client(struct session_table *t, int backend_pid,
			       double at_epoch_s,
			       const struct session_client_facts *facts);

#endif
