/*
 * session.h - a session's identity, defined once: the backend's pid and
 * when the server started it (backend_start), as integer microseconds
 * since the epoch.  A pid the kernel hands out again after a close is a
 * new session: its start differs.  Every map of sessions (the tracker,
 * the record, the idle-in-transaction tracks, attribution's cache, the
 * report's lookups) hashes and compares with the two functions here.
 *
 * The server sends backend_start as epoch seconds with six decimals and
 * older records hold it as a JSON number: both are turned into
 * microseconds once, at the edge, by session_start_us().
 */
#ifndef PGDRIP_SESSION_H
#define PGDRIP_SESSION_H

#include "sample.h"

#include <stdbool.h>
#include <stdint.h>

/* A start the server hides (no pg_read_all_stats) or that an aggregated
 * row of an old record lacks: such a session has no identity. */
#define SESSION_START_UNKNOWN INT64_MIN

struct session_id {
	int pid;
	int64_t backend_start_us; /* epoch microseconds; or UNKNOWN */
};

/* Epoch seconds to microseconds, rounded to the nearest; UNKNOWN for a
 * NAN, an infinity or a moment outside +-2^53 us (no server's clock). */
int64_t session_start_us(double epoch_s);

/* Back to epoch seconds (exact to the microsecond for any server's
 * clock of this era); NAN for UNKNOWN. */
double session_start_epoch_s(int64_t us);

/* The identity of a sample's session (its start may be UNKNOWN). */
struct session_id session_id_of(const struct session *s);

/* True when id names one session: a pid and a known start. */
bool session_id_known(struct session_id id);

/* The one hash and the one equality of identities. */
uint64_t session_id_hash(struct session_id id);
bool session_id_equal(struct session_id a, struct session_id b);

#endif
