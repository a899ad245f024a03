/*
 * record.c - writing samples as JSON Lines for --record (see record.h);
 * record_read.c reads them back.  The one core file that writes to a
 * file descriptor: a line must reach the file whole or not at all, which
 * stdio's buffering cannot promise, and cutting a half line back off
 * takes ftruncate(2).
 */
#include "record.h"

#include "arena.h"
#include "group.h"
#include "json.h"
#include "record_pooler.h"
#include "report_json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- writing ---- */

static int compare_sessions(const void *pa, const void *pb)
{
	const struct session *a = *(const struct session *const *)pa;
	const struct session *b = *(const struct session *const *)pb;
	int c;

	for (int k = 0; k < GROUP_KEY_COUNT; k++) {
		c = strcmp(group_session_key(a, (enum group_key)k),
			   group_session_key(b, (enum group_key)k));
		if (c != 0) {
			return c;
		}
	}
	/* Sessions held by different local processes stay apart, so a
	 * replay can still say who held what. */
	return (a->client_pid > b->client_pid) -
	       (a->client_pid < b->client_pid);
}

/*
 * Kept whole in "idle_in_transaction".  A session standing for several
 * (read back from a row) goes to "rows" again, where its count is kept.
 */
static bool is_idle_tx(const struct session *s)
{
	return (s->state == SESSION_STATE_IDLE_TX ||
		s->state == SESSION_STATE_IDLE_TX_ABORTED) &&
	       s->weight == 1;
}

static double round_to(double v, double per_second)
{
	return round(v * per_second) / per_second;
}

void record_round_times(struct sample *sample)
{
	sample->taken_at_epoch_s = round_to(sample->taken_at_epoch_s, 1e3);
	sample->elapsed_ms = round_to(sample->elapsed_ms, 1e3);
	for (size_t i = 0; i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];

		s->state_age_s = round_to(s->state_age_s, 1e3);
		s->xact_age_s = round_to(s->xact_age_s, 1e3);
		s->backend_age_s = round_to(s->backend_age_s, 1e3);
		s->query_age_s = round_to(s->query_age_s, 1e3);
		s->xact_start_epoch_s = round_to(s->xact_start_epoch_s, 1e6);
	}
}

static void write_server(struct json_writer *w, const struct server_info *s)
{
	json_key(w, "server");
	json_begin_object(w);
	json_key(w, "source");
	json_string(w, sample_source_key(s->source));
	json_key(w, "version");
	json_string(w, s->version);
	json_key(w, "version_num");
	json_int(w, s->version_num);
	json_key(w, "max_connections");
	json_int(w, s->max_connections);
	json_key(w, "superuser_reserved");
	json_int(w, s->superuser_reserved);
	json_key(w, "reserved");
	json_int(w, s->reserved);
	json_key(w, "idle_session_timeout_s");
	json_double(w, s->idle_session_timeout_s, 3);
	json_key(w, "can_read_all_stats");
	json_bool(w, s->can_read_all_stats);
	json_key(w, "current_user");
	json_string(w, s->current_user);
	json_end_object(w);
}

void record_write_client_process(struct json_writer *w, const struct session *s)
{
	if (s->client_pid <= 0) {
		return;
	}
	json_key(w, "client_process");
	json_begin_object(w);
	report_json_process_members(w, s->client_pid, s->client_command,
				    s->client_relation);
	json_end_object(w);
}

static void write_row(struct json_writer *w, const struct session *s, int n)
{
	json_begin_object(w);
	json_key(w, "user");
	json_string(w, s->user);
	json_key(w, "application");
	json_string(w, s->app);
	json_key(w, "database");
	json_string(w, s->db);
	json_key(w, "client");
	json_string(w, group_session_key(s, GROUP_KEY_CLIENT));
	json_key(w, "state");
	json_string(w, sample_state_key(s->state));
	json_key(w, "count");
	json_int(w, n);
	record_write_client_process(w, s);
	json_end_object(w);
}

/* Sessions not idle in a transaction, counted per distinct key tuple. */
static void write_rows(struct json_writer *w, const struct sample *sample)
{
	const struct session **order;
	size_t n = 0;

	order = xcalloc(sample->session_count + 1, sizeof(*order));
	for (size_t i = 0; i < sample->session_count; i++) {
		if (!is_idle_tx(&sample->sessions[i])) {
			order[n++] = &sample->sessions[i];
		}
	}
	qsort(order, n, sizeof(*order), compare_sessions);
	json_key(w, "rows");
	json_begin_array(w);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		int count = 0;

		while (j < n && compare_sessions(&order[i], &order[j]) == 0) {
			count += order[j++]->weight;
		}
		write_row(w, order[i], count);
		i = j;
	}
	json_end_array(w);
	free(order);
}

static void write_idle_tx(struct json_writer *w, const struct sample *sample)
{
	json_key(w, "idle_in_transaction");
	json_begin_array(w);
	for (size_t i = 0; i < sample->session_count; i++) {
		const struct session *s = &sample->sessions[i];

		if (!is_idle_tx(s)) {
			continue;
		}
		json_begin_object(w);
		json_key(w, "pid");
		json_int(w, s->pid);
		json_key(w, "user");
		json_string(w, s->user);
		json_key(w, "application");
		json_string(w, s->app);
		json_key(w, "database");
		json_string(w, s->db);
		json_key(w, "client");
		json_string(w, s->client_addr);
		json_key(w, "client_port");
		json_int(w, s->client_port);
		json_key(w, "state");
		json_string(w, sample_state_key(s->state));
		json_key(w, "idle_s");
		json_double(w, s->state_age_s, 3);
		json_key(w, "xact_age_s");
		json_double(w, s->xact_age_s, 3);
		json_key(w, "backend_age_s");
		json_double(w, s->backend_age_s, 3);
		json_key(w, "xact_start");
		json_double(w, s->xact_start_epoch_s, 6);
		json_key(w, "query");
		json_string(w, s->query);
		record_write_client_process(w, s);
		json_end_object(w);
	}
	json_end_array(w);
}

static void write_limits(struct json_writer *w, const char *key,
			 const struct named_limit *limits, size_t count)
{
	json_key(w, key);
	json_begin_array(w);
	for (size_t i = 0; i < count; i++) {
		json_begin_object(w);
		json_key(w, "name");
		json_string(w, limits[i].name);
		json_key(w, "limit");
		json_int(w, limits[i].limit);
		json_end_object(w);
	}
	json_end_array(w);
}

static void begin_line(struct json_writer *w, FILE *out, double t,
		       const char *status)
{
	json_init(w, out, false);
	json_begin_object(w);
	json_key(w, "v");
	json_int(w, RECORD_VERSION);
	json_key(w, "t");
	json_double(w, t, 3);
	json_key(w, "status");
	json_string(w, status);
}

void record_write_sample(FILE *out, const struct sample *sample)
{
	struct json_writer w;

	if (sample->status == SAMPLE_STATUS_FAILED) {
		/* Its data, if any, is not to be trusted. */
		record_write_failure(out, sample->taken_at_epoch_s,
				     "sample failed");
		return;
	}
	begin_line(&w, out, sample->taken_at_epoch_s,
		   sample->status == SAMPLE_STATUS_LATE ? "late" : "ok");
	json_key(&w, "elapsed_ms");
	json_double(&w, sample->elapsed_ms, 3);
	write_server(&w, &sample->server);
	write_rows(&w, sample);
	write_idle_tx(&w, sample);
	write_limits(&w, "role_limits", sample->role_limits,
		     sample->role_limit_count);
	write_limits(&w, "db_limits", sample->db_limits,
		     sample->db_limit_count);
	record_pooler_write(&w, sample);
	json_end_object(&w);
	fputc('\n', out);
}

void record_write_failure(FILE *out, double epoch_s, const char *error)
{
	struct json_writer w;

	begin_line(&w, out, epoch_s, "failed");
	json_key(&w, "error");
	json_string(&w, error);
	json_end_object(&w);
	fputc('\n', out);
}

/* ---- the --record file: whole lines or nothing ---- */

/* What every line a pgdrip of any format version writes begins with. */
static const char line_prefix[] = "{\"v\":";

void record_writer_init(struct record_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static bool fail(struct record_writer *w, int error, struct errbuf *err)
{
	w->last_errno = error;
	errbuf_set(err, "cannot write \"%s\": %s", w->path, strerror(error));
	return false;
}

/*
 * Where the last line of the file (size bytes, read through rd) starts:
 * after its last '\n', or 0.  False when it ends in '\n' (nothing to
 * cut), cannot be read, or no line of ours would be that long.
 */
static bool last_line_start(int rd, off_t size, off_t *start)
{
	char buf[4096];
	off_t end = size;

	while (end > 0 && size - end <= RECORD_MAX_LINE) {
		off_t from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf)
						      : 0;
		ssize_t n = pread(rd, buf, (size_t)(end - from), from);

		if (n != end - from) {
			return false;
		}
		for (ssize_t i = n - 1; i >= 0; i--) {
			if (buf[i] == '\n') {
				*start = from + i + 1;
				return *start < size;
			}
		}
		end = from;
	}
	*start = 0;
	return end == 0;
}

/*
 * A file a recorder killed mid-write ends inside a line: appending to it
 * would leave that half line in the middle, where --replay refuses the
 * whole file.  The tail is cut if it is one of ours (it starts like
 * every record line); anything else in the file is not ours to cut.
 */
static bool repair_tail(struct record_writer *w, off_t size, struct errbuf *err)
{
	char head[sizeof(line_prefix) - 1];
	off_t start;
	int rd = open(w->path, O_RDONLY | O_CLOEXEC);
	bool ours;

	if (rd < 0) {
		/* Write-only for us: the file stays as it is. */
		return true;
	}
	ours = last_line_start(rd, size, &start) &&
	       pread(rd, head, sizeof(head), start) == (ssize_t)sizeof(head) &&
	       memcmp(head, line_prefix, sizeof(head)) == 0;
	close(rd);
	if (ours && ftruncate(w->fd, start) != 0) {
		return fail(w, errno, err);
	}
	return true;
}

bool record_writer_open(struct record_writer *w, const char *path,
			struct errbuf *err)
{
	struct stat st;

	record_writer_init(w);
	w->path = xstrdup(path);
	/* O_APPEND: after a cut, the next line goes to the new end.
	 * O_CLOEXEC: a wrapped command must not inherit it. */
	w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (w->fd >= 0 && fstat(w->fd, &st) == 0) {
		w->regular = S_ISREG(st.st_mode);
		if (!w->regular || repair_tail(w, st.st_size, err)) {
			return true;
		}
	} else {
		fail(w, errno, err);
	}
	(void)record_writer_close(w, NULL);
	return false;
}

/* record_writer_cut_back(), which a failed write tries at once without
 * waiting on the result: the next line tries again. */
static bool cut_back(struct record_writer *w, struct errbuf *err)
{
	if (!w->dirty) {
		return true;
	}
	if (ftruncate(w->fd, w->good_size) != 0) {
		w->last_errno = errno;
		errbuf_set(err,
			   "cannot cut \"%s\" back to its last whole line: "
			   "%s",
			   w->path, strerror(errno));
		return false;
	}
	w->dirty = false;
	return true;
}

bool record_writer_cut_back(struct record_writer *w, struct errbuf *err)
{
	return cut_back(w, err);
}

/* One whole line, with as many write(2)s as short writes take. */
static bool write_line(struct record_writer *w, const char *line, size_t len,
		       struct errbuf *err)
{
	struct stat st;
	size_t done = 0;

	if (w->fd < 0) {
		return fail(w, EBADF, err);
	}
	/* A line left half written by the last failure goes first. */
	if (!cut_back(w, err)) {
		return false;
	}
	/* The size now, not as last seen: another writer may append too. */
	if (w->regular) {
		if (fstat(w->fd, &st) != 0) {
			return fail(w, errno, err);
		}
		w->good_size = st.st_size;
	}
	while (done < len) {
		ssize_t n = write(w->fd, line + done, len - done);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			/* write() returning 0 for a non-empty buffer: the
			 * device took nothing; call it an I/O error. */
			int error = n < 0 ? errno : EIO;

			w->dirty = w->regular;
			cut_back(w, NULL);
			return fail(w, error, err);
		}
		done += (size_t)n;
	}
	return true;
}

/* Formats a line with the FILE * writer, into memory, then writes it. */
static bool write_formatted(struct record_writer *w, const struct sample *s,
			    double epoch_s, const char *error,
			    struct errbuf *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	bool ok;

	if (mem == NULL) {
		return fail(w, errno, err);
	}
	if (s != NULL) {
		record_write_sample(mem, s);
	} else {
		record_write_failure(mem, epoch_s, error);
	}
	if (fclose(mem) != 0) {
		free(buf);
		return fail(w, ENOMEM, err);
	}
	ok = write_line(w, buf, len, err);
	free(buf);
	return ok;
}

bool record_writer_sample(struct record_writer *w, const struct sample *sample,
			  struct errbuf *err)
{
	return write_formatted(w, sample, 0, NULL, err);
}

bool record_writer_failure(struct record_writer *w, double epoch_s,
			   const char *error, struct errbuf *err)
{
	return write_formatted(w, NULL, epoch_s, error, err);
}

bool record_writer_close(struct record_writer *w, struct errbuf *err)
{
	bool ok = true;
	int error = 0;

	if (w == NULL) {
		return true;
	}
	if (w->fd >= 0) {
		/* On disk before the report says the run is recorded.  A
		 * pipe or a terminal cannot be synced: not an error. */
		if (w->regular && fsync(w->fd) != 0) {
			error = errno;
		}
		if (close(w->fd) != 0 && error == 0) {
			error = errno;
		}
		w->fd = -1;
		if (error != 0 && err != NULL) {
			ok = fail(w, error, err);
		}
	}
	free(w->path);
	w->path = NULL;
	return ok;
}
