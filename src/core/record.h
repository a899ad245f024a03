/*
 * record.h - the --record file: one JSON object per sample (JSON Lines),
 * and the reader behind --replay.
 *
 * Format 3 (written now) follows every session by its identity: a
 * session is written whole when it appears, then only what changed, and
 * its identity when it goes (record_sessions.h has the fields), so the
 * replay's tracker follows each session as the live run's did, and a
 * steady server costs a few bytes a sample.  A line:
 *   {"v":3,"t":1763900000.123,"status":"ok","elapsed_ms":1.8,
 *    "now":1763900000.120511,"full":true,"server":{...},
 *    "role_limits":[...],"db_limits":[...],
 *    "open":[{"pid":42,"start":1763899990.5,"user":"app",...}],
 *    "change":[{"pid":41,"start":...,"state":"idle",
 *               "state_change":...}],
 *    "gone":[[40,1763899980.25]],"sessions":12}
 * PgBouncer's console ("server":{"source":"pgbouncer",...}) writes its
 * clients as the sessions above (identity: the client's id and
 * connect_time, "ptr" when it opens) and adds, every sample,
 *    "pooler":{"max_client_conn":..,"default_pool_size":..,
 *              "client_idle_timeout_s":..,"pools":[SHOW POOLS],
 *              "servers":[SHOW SERVERS],"limits":[{"kind":"db_servers",
 *              "name":..,"limit":..,"used":..}]}
 * A failed sample is {"v":3,"t":..,"status":"failed","error":".."}.
 * Numbers that are not finite are written as null and read back as NAN.
 * Fields the reader does not know are ignored, so files with fields
 * added later stay readable; "v" is raised when a change would make an
 * older reader misread a file.
 *
 * Formats 1 and 2 (read still) counted sessions in "rows" per (user,
 * application, database, client, state), and kept only those idle in a
 * transaction whole: their replays judge groups by their counts alone.
 *
 * Strings are json.c's: a byte that is not valid UTF-8 is written as the
 * text \xNN in the value, with a backslash before an 'x' doubled, and
 * the reader undoes both (json_unescape_value()), so every name reads
 * back as the bytes it was (from format 2 on; format 1 read a name's
 * own text \xNN back as one byte).
 */
#ifndef PGDRIP_RECORD_H
#define PGDRIP_RECORD_H

#include "common.h"
#include "sample.h"

#include <stdio.h>

/* Rounds a sample's times to the precision a record keeps (milliseconds;
 * microseconds for a transaction's start), so that a live run and the
 * replay of its record analyse the very same numbers. */
void record_round_times(struct sample *sample);

/* One line for a sample, ending in '\n', to any stream (the formatter
 * behind struct record_writer; a stdio stream may write part of a line
 * and report the error only later: --record uses the writer below). */
void record_write_sample(FILE *out, const struct sample *sample);

/* One line for a failed sample. */
void record_write_failure(FILE *out, double epoch_s, const char *error);

/*
 * The --record file.  Each line is formatted whole in memory and written
 * with one write(2) (more only for what a short write left), so it
 * reaches the file whole or, on a regular file, not at all: after a
 * failed write the file is cut back (ftruncate) to its size before the
 * write, so the record stays replayable even if space comes back later
 * in the run.  A pipe or a device is written the same way but cannot be
 * cut back.
 *
 * How the loop uses it:
 *
 *	struct record_writer rec;
 *	if (!record_writer_open(&rec, path, &err))   -> print err.msg,
 *		exit 2 before sampling, as an unwritable --record is now
 *	each sample:
 *	if (!record_writer_sample(&rec, &sample, &err) && !said) {
 *		fprintf(stderr, "pgdrip: %s\n", err.msg);   once: "cannot
 *		said = true;           write \"FILE\": No space left on device"
 *	}                      and keep monitoring; the run exits 3 at the
 *	                       end (rec.last_errno says why)
 *	a failed sample: record_writer_failure(&rec, now, msg, &err), alike
 *	at the end: record_writer_close(&rec, &err) (fsync, close); false
 *		is one more write error
 *
 * Every call after a failure first cuts back what the failure may have
 * left (record_writer_cut_back()), so writing simply goes on once the
 * disk has room again.  The writer never prints, and never retries a
 * line: a failed sample stays missing from the record.
 */
struct record_writer {
	int fd;              /* owned; -1 when closed */
	char *path;          /* owned; for messages */
	bool regular;        /* a regular file: it can be cut back */
	bool dirty;          /* a failed write may have left part of a line */
	long long good_size; /* the size before the last write began */
	int last_errno;      /* of the last failure; 0 before any */
	struct record_delta *delta; /* owned: what the last line said */
	size_t unwritten;           /* lines lost since the last one written */
	bool reconnected;           /* the connection was made anew since */
	double clock_step_s;        /* the wall clock stepped since, by this */
};

/* A writer that is not open (fd -1), for record_writer_close(). */
void record_writer_init(struct record_writer *w);

/*
 * Takes fd, opened for appending (O_APPEND) and close-on-exec by the
 * caller, as the writer of path (named in messages): a regular file that
 * ends inside a line of ours is first cut back to its last whole line.
 * fd is owned from now on, closed on failure too.  False with err
 * ("cannot write \"PATH\": ...") and w closed.
 */
PGD_NODISCARD bool record_writer_attach(struct record_writer *w,
					const char *path, int fd,
					struct errbuf *err);

/*
 * Opens path for appending (created 0600 less the umask), close-on-exec.
 * A regular file that ends inside a line of ours (a recorder killed
 * mid-write) is first cut back to its last whole line.  False with err
 * ("cannot write \"PATH\": ...") and w closed.
 */
PGD_NODISCARD bool record_writer_open(struct record_writer *w, const char *path,
				      struct errbuf *err);

/* One sample line (a failed sample gets a failure line); false with err
 * and w->last_errno, the file as it was before the call. */
PGD_NODISCARD bool record_writer_sample(struct record_writer *w,
					const struct sample *sample,
					struct errbuf *err);

/* The connection was lost and made anew: the next line written says so
 * ("reconnected": true), so a replay counts it as the live run did.
 * Lines that could not be written are counted the same way
 * ("unwritten": N on the next line written). */
void record_writer_note_reconnect(struct record_writer *w);

/* The wall clock was stepped by step_s: the next line written says so
 * ("clock_step_s"); its "t" stays on the monotonic clock. */
void record_writer_note_clock_step(struct record_writer *w, double step_s);

/* One failure line ({"status":"failed","error":...}); as above. */
PGD_NODISCARD bool record_writer_failure(struct record_writer *w,
					 double epoch_s, const char *error,
					 struct errbuf *err);

/* After a failed write on a regular file, cuts the file back to its size
 * before that write (its last whole line); true when there is nothing to
 * cut.  The writers call it themselves, at once and again before the
 * next line; false with err when ftruncate fails too. */
PGD_NODISCARD bool record_writer_cut_back(struct record_writer *w,
					  struct errbuf *err);

/* fsync (regular files) and close; false with err (may be NULL) when
 * either fails.  Accepts a writer that is not open, and NULL. */
bool record_writer_close(struct record_writer *w, struct errbuf *err);

struct record_delta;
struct record_table;

struct record_reader {
	FILE *in;
	char *line; /* owned */
	size_t line_cap;
	size_t line_no;
	bool truncated_last_line; /* the file ended inside a line */
	/* Bytes read ahead with fread: memchr finds line ends, and a NUL
	 * byte in a corrupt file is just another byte. */
	char *chunk; /* owned */
	size_t chunk_pos;
	size_t chunk_len;
	struct arena parse_arena; /* one line's parse tree, reused */
	double version;           /* the format version of the last line read */
	struct record_table *table; /* owned: format 3\'s sessions so far */
	double latest_t_s;   /* the latest "t" read so far; 0 before any */
	size_t reconnects;   /* lines saying "reconnected" so far */
	size_t unwritten;    /* lines the recorder could not write, so far */
	size_t clock_steps;  /* lines saying the wall clock stepped */
	double clock_step_s; /* by this much in all */
};

void record_reader_init(struct record_reader *reader, FILE *in);
void record_reader_finish(struct record_reader *reader);

/* Lines longer than this are an error, not an allocation. */
enum { RECORD_MAX_LINE = 64 * 1024 * 1024 };
/* More sessions than this in one line is an error (sums stay in int). */
enum { RECORD_MAX_SESSIONS = 100 * 1000 * 1000 };
/* The newest format version the reader knows ("v"); a higher one is an
 * error rather than a file read wrong. */
enum { RECORD_VERSION = 3 };
/* A line's "t" may be less than this before the latest one read (a
 * wall clock stepped back by NTP during a recording); more is an error. */
#define RECORD_CLOCK_SLACK_S 1.0

/*
 * Reads the next sample into out (reset first).  Returns 1 for a sample
 * (status FAILED for a failed one), 0 at the end of the file (a last line
 * cut short, as by a killed recorder, sets truncated_last_line), -1 with
 * err naming the line ("line 12: ...") on anything malformed or that
 * pgdrip cannot have written: an unknown format version, a "t" that is
 * not a plausible time (0 < t < 1e11 seconds since 1970) or that runs
 * backwards by RECORD_CLOCK_SLACK_S or more, a negative or fractional
 * count or pid, a limit below -1, a port outside -1..65535, an age
 * beyond 1e11 s.
 */
PGD_NODISCARD int record_reader_next(struct record_reader *reader,
				     struct sample *out, struct errbuf *err);

#endif
