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
#include "record_sessions.h"
#include "record_hooks.h"
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

static double round_to(double v, double per_second)
{
	return round(v * per_second) / per_second;
}

void record_round_times(struct sample *sample)
{
	/* To the microsecond, as the record writes it: a runner's marks
	 * are answered by samples taken back to back, often within a
	 * millisecond, and a replay skips a line repeating the moment of
	 * the one before (marks and all). */
	sample->taken_at_epoch_s = round_to(sample->taken_at_epoch_s, 1e6);
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

/* What happened between this line and the last one written: how many
 * lines could not be written (a full disk), whether the connection was
 * made anew.  Omitted when nothing did. */
struct line_marks {
	size_t unwritten;
	bool reconnected;
	double clock_step_s; /* the wall clock's step; 0 none */
};

static void begin_line(struct json_writer *w, FILE *out, double t,
		       const char *status, const struct line_marks *marks)
{
	json_init(w, out, false);
	json_begin_object(w);
	json_key(w, "v");
	json_int(w, RECORD_VERSION);
	json_key(w, "t");
	json_double(w, t, 6);
	json_key(w, "status");
	json_string(w, status);
	if (marks != NULL && marks->unwritten > 0) {
		json_key(w, "unwritten");
		json_int(w, (long long)marks->unwritten);
	}
	if (marks != NULL && marks->reconnected) {
		json_key(w, "reconnected");
		json_bool(w, true);
	}
	if (marks != NULL && marks->clock_step_s != 0) {
		json_key(w, "clock_step_s");
		json_double(w, marks->clock_step_s, 3);
	}
}

/* Wrap mode: the command's start or end since the last line. */
static void write_command(struct json_writer *w, const struct sample *s)
{
	if (!isfinite(s->command_started_epoch_s) &&
	    !isfinite(s->command_ended_epoch_s)) {
		return;
	}
	json_key(w, "command");
	json_begin_object(w);
	if (isfinite(s->command_started_epoch_s)) {
		json_key(w, "started");
		json_double(w, s->command_started_epoch_s, 3);
		json_key(w, "line");
		json_string(w, s->command_line);
	}
	if (isfinite(s->command_ended_epoch_s)) {
		json_key(w, "ended");
		json_double(w, s->command_ended_epoch_s, 3);
		json_key(w, "status");
		json_int(w, s->command_status);
	}
	json_end_object(w);
}

/* A runner's marks this sample answered (wrap mode, tests.h), so a
 * replay has the same test boundaries: "tests": [{"mark": "start",
 * "pid": 4242, "name": "..."}, {"mark": "parent", "pid": 4243,
 * "ppid": 4242}, ...].  Absent when there are none. */
static void write_test_marks(struct json_writer *w, const struct sample *sample)
{
	if (sample->mark_count == 0) {
		return;
	}
	json_key(w, "tests");
	json_begin_array(w);
	for (size_t i = 0; i < sample->mark_count; i++) {
		const struct sample_mark *m = &sample->marks[i];

		json_begin_object(w);
		json_key(w, "mark");
		json_string(w, sample_mark_name(m->kind));
		json_key(w, "pid");
		json_int(w, m->pid);
		if (m->kind == SAMPLE_MARK_PARENT) {
			json_key(w, "ppid");
			json_int(w, m->ppid);
		} else if (m->name[0] != '\0') {
			json_key(w, "name");
			json_string(w, m->name);
		}
		json_end_object(w);
	}
	json_end_array(w);
}

/* A sample's line, its sessions against what d last wrote. */
static void write_sample_line(FILE *out, struct record_delta *d,
			      const struct sample *sample,
			      const struct line_marks *marks)
{
	struct json_writer w;

	begin_line(&w, out, sample->taken_at_epoch_s,
		   sample->status == SAMPLE_STATUS_LATE ? "late" : "ok", marks);
	json_key(&w, "elapsed_ms");
	json_double(&w, sample->elapsed_ms, 3);
	write_command(&w, sample);
	record_delta_write(&w, d, sample);
	record_pooler_write(&w, sample);
	write_test_marks(&w, sample);
	record_hooks_write(&w, sample);
	json_end_object(&w);
	fputc('\n', out);
}

void record_write_sample(FILE *out, const struct sample *sample)
{
	struct record_delta *d;

	if (sample->status == SAMPLE_STATUS_FAILED) {
		/* Its data, if any, is not to be trusted. */
		record_write_failure(out, sample->taken_at_epoch_s,
				     "sample failed");
		return;
	}
	/* On its own, a line is whole. */
	d = record_delta_create();
	write_sample_line(out, d, sample, NULL);
	record_delta_destroy(d);
}

static void write_failure_line(FILE *out, double epoch_s, const char *error,
			       const struct line_marks *marks)
{
	struct json_writer w;

	begin_line(&w, out, epoch_s, "failed", marks);
	json_key(&w, "error");
	json_string(&w, error);
	json_end_object(&w);
	fputc('\n', out);
}

void record_write_failure(FILE *out, double epoch_s, const char *error)
{
	write_failure_line(out, epoch_s, error, NULL);
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

bool record_writer_attach(struct record_writer *w, const char *path, int fd,
			  struct errbuf *err)
{
	struct stat st;

	record_writer_init(w);
	w->path = xstrdup(path);
	w->delta = record_delta_create();
	w->fd = fd;
	if (fstat(w->fd, &st) == 0) {
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

bool record_writer_open(struct record_writer *w, const char *path,
			struct errbuf *err)
{
	/* O_APPEND: after a cut, the next line goes to the new end.
	 * O_CLOEXEC: a wrapped command must not inherit it.  0600: the
	 * record holds other roles' query text. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		record_writer_init(w);
		w->path = xstrdup(path);
		(void)fail(w, errno, err);
		(void)record_writer_close(w, NULL);
		return false;
	}
	return record_writer_attach(w, path, fd, err);
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
	struct line_marks marks;
	bool ok;

	if (mem == NULL) {
		w->unwritten++;
		return fail(w, errno, err);
	}
	marks = (struct line_marks){w->unwritten, w->reconnected,
				    w->clock_step_s};
	if (s != NULL && s->status != SAMPLE_STATUS_FAILED) {
		write_sample_line(mem, w->delta, s, &marks);
	} else if (s != NULL) {
		write_failure_line(mem, s->taken_at_epoch_s, "sample failed",
				   &marks);
	} else {
		write_failure_line(mem, epoch_s, error, &marks);
	}
	if (fclose(mem) != 0) {
		free(buf);
		record_delta_reset(w->delta);
		return fail(w, ENOMEM, err);
	}
	ok = write_line(w, buf, len, err);
	if (!ok) {
		/* The reader will not see this line: the next is whole,
		 * and says how many went missing. */
		record_delta_reset(w->delta);
		w->unwritten++;
	} else {
		w->unwritten = 0;
		w->reconnected = false;
		w->clock_step_s = 0;
	}
	free(buf);
	return ok;
}

bool record_writer_sample(struct record_writer *w, const struct sample *sample,
			  struct errbuf *err)
{
	return write_formatted(w, sample, 0, NULL, err);
}

void record_writer_note_reconnect(struct record_writer *w)
{
	w->reconnected = true;
}

void record_writer_note_clock_step(struct record_writer *w, double step_s)
{
	w->clock_step_s += step_s;
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
	record_delta_destroy(w->delta);
	w->delta = NULL;
	return ok;
}
