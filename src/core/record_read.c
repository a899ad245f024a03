/*
 * record_read.c - the reader behind --replay (see record.h).  Each line
 * is parsed into a small tree held in an arena, then the fields it knows
 * are mapped onto a sample; unknown fields are ignored so files with
 * fields added later stay readable.
 */
#include "record.h"

#include "record_parse.h"
#include "record_sessions.h"

#include "arena.h"
#include "json.h"
#include "record_hooks.h"
#include "record_pooler.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool read_rows(const struct node *rows, struct sample *out,
		      long long *total, struct errbuf *why)
{
	for (const struct node *r = rows ? rows->child : NULL; r; r = r->next) {
		struct session *s;
		int count;
		enum session_state state;

		if (record_parse_member(r, "count") == NULL ||
		    !record_parse_state(r, &state)) {
			errbuf_set(why, "a row without a valid count or state");
			return false;
		}
		if (!record_parse_int(r, "count", &RECORD_RANGE_COUNT, 0,
				      &count, why) ||
		    !record_parse_count(total, count, why)) {
			return false;
		}
		s = sample_add_session(out);
		s->weight = count;
		s->state = state;
		s->user = record_parse_str(out, r, "user");
		s->app = record_parse_str(out, r, "application");
		s->db = record_parse_str(out, r, "database");
		record_parse_client(s, record_parse_str(out, r, "client"));
		if (!record_parse_client_process(r, out, s, why)) {
			return false;
		}
	}
	return true;
}

/* The numbers of an idle-in-transaction entry. */
static bool read_idle_tx_numbers(const struct node *e, struct session *s,
				 struct errbuf *why)
{
	return record_parse_int(e, "pid", &RECORD_RANGE_COUNT, 0, &s->pid,
				why) &&
	       record_parse_int(e, "client_port", &RECORD_RANGE_PORT, 0,
				&s->client_port, why) &&
	       record_parse_num(e, "idle_s", &RECORD_RANGE_AGE, NAN,
				&s->state_age_s, why) &&
	       record_parse_num(e, "xact_age_s", &RECORD_RANGE_AGE, NAN,
				&s->xact_age_s, why) &&
	       record_parse_num(e, "backend_age_s", &RECORD_RANGE_AGE, NAN,
				&s->backend_age_s, why) &&
	       record_parse_num(e, "xact_start", &RECORD_RANGE_EPOCH, NAN,
				&s->xact_start_epoch_s, why);
}

static bool read_idle_tx(const struct node *list, struct sample *out,
			 long long *total, struct errbuf *why)
{
	for (const struct node *e = list ? list->child : NULL; e; e = e->next) {
		struct session *s;
		enum session_state state;

		if (!record_parse_state(e, &state)) {
			errbuf_set(why, "an idle-in-transaction entry without "
					"a state");
			return false;
		}
		if (!record_parse_count(total, 1, why)) {
			return false;
		}
		s = sample_add_session(out);
		s->state = state;
		s->user = record_parse_str(out, e, "user");
		s->app = record_parse_str(out, e, "application");
		s->db = record_parse_str(out, e, "database");
		s->client_addr = record_parse_str(out, e, "client");
		s->query = record_parse_str(out, e, "query");
		if (!read_idle_tx_numbers(e, s, why) ||
		    !record_parse_client_process(e, out, s, why)) {
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
		const char *name = record_parse_str(out, e, "name");
		int limit;

		if (record_parse_member(e, "limit") == NULL) {
			errbuf_set(why, "a limit without \"limit\"");
			return false;
		}
		if (!record_parse_int(e, "limit", &limit_range, 0, &limit,
				      why)) {
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

/* "v": a format this reader knows (absent in no file pgdrip wrote, read
 * as 1); "t": a plausible time, less than RECORD_CLOCK_SLACK_S before
 * the latest line's. */
/* What the recorder noted since the line before (record.c): lines it
 * could not write, a connection made anew. */
static bool read_marks(struct record_reader *reader, const struct node *root,
		       struct errbuf *why)
{
	static const struct range step_range = {-1e9, 1e9, false,
						"a clock step in seconds"};
	const struct node *again = record_parse_member(root, "reconnected");
	double unwritten;
	double step;

	if (!record_parse_num(root, "unwritten", &RECORD_RANGE_TOTAL, 0,
			      &unwritten, why)) {
		return false;
	}
	reader->unwritten += (size_t)unwritten;
	if (!record_parse_num(root, "clock_step_s", &step_range, 0, &step,
			      why)) {
		return false;
	}
	if (step != 0) {
		reader->clock_steps++;
		reader->clock_step_s += step;
	}
	if (again != NULL && again->type == NODE_BOOL && again->boolean) {
		reader->reconnects++;
	}
	return true;
}

static bool read_header(struct record_reader *reader, const struct node *root,
			struct sample *out, struct errbuf *why)
{
	static const struct range version = {1, RECORD_VERSION, true, ""};
	const struct node *v = record_parse_member(root, "v");
	const struct node *t = record_parse_member(root, "t");

	if (v != NULL &&
	    !record_parse_num(root, "v", &version, 1, &reader->version, why)) {
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
	if (!record_parse_num(root, "t", &RECORD_RANGE_EPOCH, 0,
			      &out->taken_at_epoch_s, why)) {
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
	return record_parse_num(root, "elapsed_ms", &RECORD_RANGE_MILLIS, 0,
				&out->elapsed_ms, why) &&
	       read_marks(reader, root, why);
}

/* Wrap mode's command, started or ended since the line before. */
static bool read_command(const struct node *c, struct sample *out,
			 struct errbuf *why)
{
	static const struct range status = {-1, 255 + 128, true,
					    "an exit status"};

	if (c == NULL) {
		return true;
	}
	out->command_line = record_parse_str(out, c, "line");
	return record_parse_num(c, "started", &RECORD_RANGE_EPOCH, NAN,
				&out->command_started_epoch_s, why) &&
	       record_parse_num(c, "ended", &RECORD_RANGE_EPOCH, NAN,
				&out->command_ended_epoch_s, why) &&
	       record_parse_int(c, "status", &status, -1, &out->command_status,
				why);
}

/* "tests": a runner's marks (record.c); a mark of a kind this reader
 * does not know is skipped, as an unknown field is. */
static bool read_test_marks(const struct node *list, struct sample *out,
			    struct errbuf *why)
{
	if (list == NULL) {
		return true;
	}
	if (list->type != NODE_ARRAY) {
		errbuf_set(why, "\"tests\" is not an array");
		return false;
	}
	for (const struct node *e = list->child; e != NULL; e = e->next) {
		const struct node *mark = record_parse_member(e, "mark");
		enum sample_mark_kind kind;
		int pid;
		int ppid;

		if (mark == NULL || mark->type != NODE_STRING) {
			errbuf_set(why, "a test mark without \"mark\"");
			return false;
		}
		if (!record_parse_int(e, "pid", &RECORD_RANGE_COUNT, 0, &pid,
				      why) ||
		    !record_parse_int(e, "ppid", &RECORD_RANGE_COUNT, 0, &ppid,
				      why)) {
			return false;
		}
		if (sample_mark_parse(mark->str, &kind)) {
			sample_add_mark(out, kind, pid, ppid,
					record_parse_str(out, e, "name"));
		}
	}
	return true;
}

/* A format 3 line's sessions, through the table of what the lines so
 * far held; then its times at the record's precision, as the live run
 * analysed them. */
static bool read_sessions(struct record_reader *reader, const struct node *root,
			  struct sample *out, struct errbuf *why)
{
	if (!record_table_read(reader->table, root, out, why)) {
		return false;
	}
	record_round_times(out);
	return true;
}

/* Maps a parsed line onto a sample. */
static bool read_sample(struct record_reader *reader, struct node *root,
			struct sample *out, struct errbuf *why)
{
	const struct node *status = record_parse_member(root, "status");
	long long total = 0;

	if (root->type != NODE_OBJECT) {
		errbuf_set(why, "not a pgdrip record (not an object)");
		return false;
	}
	if (!read_header(reader, root, out, why)) {
		return false;
	}
	record_parse_unescape(root->child, (int)reader->version);
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
	if (reader->version >= 3) {
		if (reader->table == NULL) {
			reader->table = record_table_create();
		}
		return read_command(record_parse_member(root, "command"), out,
				    why) &&
		       read_sessions(reader, root, out, why) &&
		       (out->server.source != SAMPLE_SOURCE_PGBOUNCER ||
			record_pooler_read(record_parse_member(root, "pooler"),
					   out, why)) &&
		       read_test_marks(record_parse_member(root, "tests"), out,
				       why) &&
		       record_hooks_read(record_parse_member(root, "hooks"),
					 out, why);
	}
	return record_parse_server(record_parse_member(root, "server"),
				   &out->server, why) &&
	       read_limits(record_parse_member(root, "role_limits"), out, true,
			   why) &&
	       read_limits(record_parse_member(root, "db_limits"), out, false,
			   why) &&
	       read_rows(record_parse_member(root, "rows"), out, &total, why) &&
	       read_idle_tx(record_parse_member(root, "idle_in_transaction"),
			    out, &total, why) &&
	       read_test_marks(record_parse_member(root, "tests"), out, why);
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
	record_table_destroy(reader->table);
	reader->table = NULL;
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
		struct node root;
		const char *error;
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
		ok = record_parse_line(reader->line, len, &reader->parse_arena,
				       &root, &error);
		if (!ok && !complete && reader->line[0] == '{') {
			/* A recorder killed mid-write leaves half a line:
			 * the samples before it are good.  Garbage that
			 * does not even start like a record is an error. */
			reader->truncated_last_line = true;
			return 0;
		}
		if (!ok) {
			snprintf(why.msg, sizeof(why.msg), "%s", error);
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
