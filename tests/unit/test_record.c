/*
 * test_record.c - the --record format: samples with hostile names written
 * and read back equal, sessions followed by identity across lines (open,
 * change, gone; a whole line after a lost one), sessions without an
 * identity counted in rows, failed samples, cut and corrupt lines, huge
 * lines and binary garbage, and the lines of formats 1 and 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "record.h"
#include "session.h"
#include "support.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* record_write_sample() into a malloc'd buffer (NUL-terminated). */
static char *capture_sample(const struct sample *sample, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	assert_non_null(out);
	record_write_sample(out, sample);
	fclose(out);
	*len = size;
	return buf;
}

/* Reads every sample of text; returns how many, or -1 with err filled. */
static int read_all(const char *text, size_t len, struct sample *last,
		    struct errbuf *err, bool *truncated)
{
	FILE *in = fmemopen((void *)(uintptr_t)text, len ? len : 1, "r");
	struct record_reader reader;
	int n = 0;
	int got;

	assert_non_null(in);
	if (len == 0) {
		fgetc(in);
	}
	record_reader_init(&reader, in);
	while ((got = record_reader_next(&reader, last, err)) > 0) {
		n++;
	}
	if (truncated != NULL) {
		*truncated = reader.truncated_last_line;
	}
	record_reader_finish(&reader);
	fclose(in);
	return got < 0 ? -1 : n;
}

static void fill_server(struct sample *s)
{
	snprintf(s->server.version, sizeof(s->server.version), "15.18");
	s->server.version_num = 150018;
	s->server.max_connections = 100;
	s->server.superuser_reserved = 3;
	s->server.reserved = 2;
	s->server.idle_session_timeout_s = NAN;
	s->server.can_read_all_stats = true;
	snprintf(s->server.current_user, sizeof(s->server.current_user),
		 "watcher\xff");
}

/* The server's clock in the test samples: their ages are against it. */
#define NOW 1763900000.0

/* A session with an identity: opened 3600 s before NOW, idle (its last
 * query ended) 60 s before, no transaction. */
static struct session *add(struct sample *s, const char *name, const char *addr,
			   int port, enum session_state state)
{
	struct session *x = sample_add_session(s);

	x->weight = 1;
	x->pid = 100 + (int)s->session_count;
	x->user = sample_strdup(s, name);
	x->app = sample_strdup(s, name);
	x->db = sample_strdup(s, name);
	x->client_addr = sample_strdup(s, addr);
	x->client_port = port;
	x->state = state;
	x->backend_start_us = session_start_us(NOW - 3600 + x->pid / 1000.0);
	x->query_start_epoch_s = NOW - 61;
	x->state_change_epoch_s = NOW - 60;
	s->server_epoch_s = NOW;
	return x;
}

/* A session the server hid the times of: no identity, counted in rows. */
static struct session *add_hidden(struct sample *s, const char *name,
				  enum session_state state, int weight)
{
	struct session *x = add(s, name, "", -1, state);

	x->weight = weight;
	x->backend_start_us = session_start_us(NAN);
	x->query_start_epoch_s = NAN;
	x->state_change_epoch_s = NAN;
	return x;
}

/* The sessions of a read-back sample standing for (user, state, client). */
static int weight_of(const struct sample *s, const char *user,
		     enum session_state state, const char *addr, int port)
{
	int w = 0;

	for (size_t i = 0; i < s->session_count; i++) {
		const struct session *x = &s->sessions[i];

		if (strcmp(x->user, user) == 0 && strcmp(x->app, user) == 0 &&
		    strcmp(x->db, user) == 0 && x->state == state &&
		    strcmp(x->client_addr, addr) == 0 &&
		    x->client_port == port) {
			w += x->weight;
		}
	}
	return w;
}

static const char long_name[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

static const char *const hostile_names[] = {
	"plain",
	"esc\x1b[31mred\x1b[0m",
	"bad\xff\xfeutf8",
	"new\nline\ttab\r",
	"quo\"te\\back/slash",
	long_name, /* 63 bytes, PostgreSQL's NAMEDATALEN - 1 */
	"",
	"\xe6\x97\xa5\xe6\x9c\xac",
	"\xf0\x9f\x98\x80 emoji",
	"local",
	"\\xff", /* the text, not the byte */
	"\\\xff\\\\x41\\",
};

static void test_roundtrip_hostile(void **state)
{
	(void)state;
	assert_int_equal(strlen(long_name), 63);
	for (size_t i = 0; i < PGD_ARRAY_LEN(hostile_names); i++) {
		const char *name = hostile_names[i];
		struct sample in;
		struct sample back;
		struct errbuf err = {{0}};
		struct session *tx;
		const struct session *got = NULL;
		char *text;
		size_t len;

		sample_init(&in);
		sample_init(&back);
		in.taken_at_epoch_s = 1763900000.125;
		in.elapsed_ms = 1.5;
		in.status = i % 2 ? SAMPLE_STATUS_LATE : SAMPLE_STATUS_OK;
		fill_server(&in);
		for (int k = 0; k < 3; k++) {
			add(&in, name, "", -1, SESSION_STATE_IDLE);
		}
		add(&in, name, "10.0.0.7", 5432, SESSION_STATE_ACTIVE);
		add(&in, name, "10.0.0.7", 5433, SESSION_STATE_ACTIVE);
		add(&in, "other", "10.0.0.7", 5433, SESSION_STATE_ACTIVE);
		tx = add(&in, name, "192.168.1.2", 40000,
			 SESSION_STATE_IDLE_TX_ABORTED);
		tx->pid = 4242;
		tx->state_change_epoch_s = NOW - 75.25;
		tx->xact_start_epoch_s = NOW - 80.5;
		tx->backend_start_us = session_start_us(NOW - 3600);
		tx->query = sample_strdup(&in, name);
		sample_add_role_limit(&in, name, 40);
		sample_add_db_limit(&in, name, -1);
		sample_add_db_limit(&in, "shop", 100);

		text = capture_sample(&in, &len);
		assert_int_equal(memchr(text, '\n', len), text + len - 1);
		assert_non_null(strstr(text, "{\"v\":3,\"t\":1763900000.125,"));
		assert_int_equal(read_all(text, len, &back, &err, NULL), 1);

		assert_true(fabs(back.taken_at_epoch_s - 1763900000.125) <
			    1e-6);
		assert_true(fabs(back.elapsed_ms - 1.5) < 1e-9);
		assert_int_equal(back.status, in.status);
		assert_string_equal(back.server.version, "15.18");
		assert_int_equal(back.server.version_num, 150018);
		assert_int_equal(back.server.max_connections, 100);
		assert_int_equal(back.server.superuser_reserved, 3);
		assert_int_equal(back.server.reserved, 2);
		assert_true(isnan(back.server.idle_session_timeout_s));
		assert_true(back.server.can_read_all_stats);
		assert_string_equal(back.server.current_user, "watcher\xff");

		assert_int_equal(sample_session_total(&back), 7);
		/* Every session comes back whole, its port too. */
		assert_int_equal(weight_of(&back, name, SESSION_STATE_IDLE, "",
					   -1),
				 3);
		assert_int_equal(weight_of(&back, name, SESSION_STATE_ACTIVE,
					   "10.0.0.7", 5432),
				 1);
		assert_int_equal(weight_of(&back, name, SESSION_STATE_ACTIVE,
					   "10.0.0.7", 5433),
				 1);
		for (size_t k = 0; k < back.session_count; k++) {
			if (back.sessions[k].pid == 4242) {
				got = &back.sessions[k];
			}
		}
		assert_non_null(got);
		assert_int_equal(got->weight, 1);
		assert_int_equal(got->state, SESSION_STATE_IDLE_TX_ABORTED);
		assert_string_equal(got->user, name);
		assert_string_equal(got->query, name);
		assert_string_equal(got->client_addr, "192.168.1.2");
		assert_int_equal(got->client_port, 40000);
		assert_true(fabs(got->state_age_s - 75.25) < 1e-6);
		assert_true(fabs(got->xact_age_s - 80.5) < 1e-6);
		assert_true(fabs(got->backend_age_s - 3600) < 1e-6);
		assert_true(got->xact_start_epoch_s == NOW - 80.5);
		assert_true(session_start_epoch_s(got->backend_start_us) ==
			    NOW - 3600);

		assert_int_equal(back.role_limit_count, 1);
		assert_string_equal(back.role_limits[0].name, name);
		assert_int_equal(back.role_limits[0].limit, 40);
		assert_int_equal(back.db_limit_count, 2);
		assert_string_equal(back.db_limits[0].name, name);
		assert_int_equal(back.db_limits[0].limit, -1);
		assert_string_equal(back.db_limits[1].name, "shop");
		free(text);
		sample_finish(&in);
		sample_finish(&back);
	}
}

/* Names that would print alike if a backslash were not doubled stay
 * apart through a record: each session read back as it was. */
static void test_lookalikes(void **state)
{
	static const char *const names[] = {"\xff",    "\\xff", "\\\xff",
					    "\\\\xff", "\x1b",  "\\e"};
	struct sample in;
	struct sample back;
	struct errbuf err;
	char *text;
	size_t len;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 1763900000;
	for (size_t i = 0; i < PGD_ARRAY_LEN(names); i++) {
		for (size_t k = 0; k <= i; k++) {
			add(&in, names[i], "", -1, SESSION_STATE_IDLE);
		}
	}
	text = capture_sample(&in, &len);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	assert_int_equal(back.session_count,
			 PGD_ARRAY_LEN(names) * (PGD_ARRAY_LEN(names) + 1) / 2);
	for (size_t i = 0; i < PGD_ARRAY_LEN(names); i++) {
		assert_int_equal(weight_of(&back, names[i], SESSION_STATE_IDLE,
					   "", -1),
				 (int)i + 1);
	}
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

/* A whole file in memory (NUL-terminated); *len its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *in = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);

	assert_non_null(in);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, in);
	fclose(in);
	return buf;
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void one_session(struct sample *s, double t)
{
	sample_reset(s);
	s->taken_at_epoch_s = t;
	fill_server(s);
	add(s, "app", "", -1, SESSION_STATE_IDLE);
}

/* A full disk: the line is refused with ENOSPC, said in err. */

/* Writes each sample through one record writer; returns the file. */
static char *write_through(struct sample *samples, size_t n, size_t *len)
{
	char path[] = "/tmp/pgdrip-test-record.XXXXXX";
	struct record_writer w;
	struct errbuf err;
	int fd = mkstemp(path);
	char *text;

	assert_true(fd >= 0);
	close(fd);
	assert_true(record_writer_open(&w, path, &err));
	for (size_t i = 0; i < n; i++) {
		assert_true(record_writer_sample(&w, &samples[i], &err));
	}
	assert_true(record_writer_close(&w, &err));
	text = slurp(path, len);
	unlink(path);
	return text;
}

/* Line i of text (0-based), NUL-terminated in a copy. */
static char *line_at(const char *text, size_t i)
{
	const char *p = text;
	size_t n;

	while (i-- > 0) {
		p = strchr(p, '\n') + 1;
	}
	n = strcspn(p, "\n");
	return strndup(p, n);
}

/* A second line says only what changed: one session new, one changed,
 * one gone; read back, each sample is whole again. */
static void test_deltas(void **state)
{
	struct sample s[2];
	struct sample back;
	struct errbuf err;
	struct session *x;
	char *text;
	char *second;
	size_t len;

	(void)state;
	for (int i = 0; i < 2; i++) {
		sample_init(&s[i]);
		s[i].taken_at_epoch_s = NOW + i;
		fill_server(&s[i]);
		add(&s[i], "steady", "", -1, SESSION_STATE_IDLE);
		add(&s[i], "busy", "", -1, SESSION_STATE_IDLE);
	}
	add(&s[0], "leaving", "", -1, SESSION_STATE_IDLE);
	x = add(&s[1], "new\xff", "10.0.0.1", 5000, SESSION_STATE_ACTIVE);
	x->pid = 999;
	s[1].sessions[1].query_start_epoch_s = NOW + 0.5;
	s[1].sessions[1].state_change_epoch_s = NOW + 0.7;
	s[1].sessions[1].query = "SELECT 2";
	/* SET application_name: the same session under another name. */
	s[1].sessions[1].app = "busy-renamed";
	s[1].server_epoch_s = NOW + 1;
	text = write_through(s, 2, &len);
	second = line_at(text, 1);
	assert_non_null(strstr(text, "\"full\":true"));
	assert_null(strstr(second, "\"full\""));
	assert_null(strstr(second, "\"server\""));
	assert_non_null(strstr(second, "\"open\":[{\"pid\":999,"));
	assert_non_null(strstr(second, "\"change\":[{\"pid\":102,"));
	assert_non_null(strstr(second, "\"query\":\"SELECT 2\""));
	assert_non_null(strstr(second, "\"application\":\"busy-renamed\""));
	assert_non_null(strstr(second, "\"gone\":[[103,"));
	assert_null(strstr(second, "steady"));
	sample_init(&back);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 2);
	assert_int_equal(back.session_count, 3);
	for (size_t i = 0; i < back.session_count; i++) {
		const struct session *b = &back.sessions[i];

		assert_true(b->weight == 1 &&
			    b->backend_start_us != SESSION_START_UNKNOWN);
		if (b->pid == 102) {
			assert_string_equal(b->query, "SELECT 2");
			assert_string_equal(b->app, "busy-renamed");
			assert_string_equal(b->user, "busy");
			assert_true(fabs(b->state_age_s - 0.3) < 1e-6);
		}
		if (b->pid == 999) {
			assert_string_equal(b->user, "new\xff");
			assert_int_equal(b->client_port, 5000);
			assert_int_equal(b->state, SESSION_STATE_ACTIVE);
		}
		assert_true(b->pid != 103);
	}
	assert_string_equal(back.server.version, "15.18");
	free(second);
	free(text);
	sample_finish(&back);
	sample_finish(&s[0]);
	sample_finish(&s[1]);
}

/* The analysis interval travels with the samples: written on the first
 * line and where it changes (the live view's +/-), carried forward by the
 * reader, so a replay analyses each sample at the interval it had. */
static void test_interval_travels(void **state)
{
	const double intervals[3] = {1.0, 1.0, 0.5};
	struct sample s[3];
	struct sample back;
	struct errbuf err;
	char *text;
	char *line;
	size_t len;
	size_t two;

	(void)state;
	for (int i = 0; i < 3; i++) {
		sample_init(&s[i]);
		s[i].taken_at_epoch_s = NOW + i;
		s[i].server_epoch_s = NOW + i;
		s[i].interval_s = intervals[i];
		fill_server(&s[i]);
		add(&s[i], "steady", "", -1, SESSION_STATE_IDLE);
	}
	text = write_through(s, 3, &len);
	line = line_at(text, 0);
	assert_non_null(strstr(line, "\"interval_s\":1"));
	free(line);
	line = line_at(text, 1);
	assert_null(strstr(line, "interval_s"));
	free(line);
	line = line_at(text, 2);
	assert_non_null(strstr(line, "\"interval_s\":0.5"));
	free(line);
	/* Read back up to the second line: the first line's interval is
	 * carried to it; read whole: the change arrives with its line. */
	two = (size_t)(strchr(strchr(text, '\n') + 1, '\n') + 1 - text);
	sample_init(&back);
	assert_int_equal(read_all(text, two, &back, &err, NULL), 2);
	assert_true(back.interval_s == 1.0);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 3);
	assert_true(back.interval_s == 0.5);
	free(text);
	sample_finish(&back);
	for (int i = 0; i < 3; i++) {
		sample_finish(&s[i]);
	}
}

/* A steady server costs a few bytes a sample, however many sessions. */
static void test_steady_is_small(void **state)
{
	struct sample s[3];
	char *text;
	char *line;
	size_t len;

	(void)state;
	for (int i = 0; i < 3; i++) {
		sample_init(&s[i]);
		s[i].taken_at_epoch_s = NOW + i;
		fill_server(&s[i]);
		for (int k = 0; k < 2500; k++) {
			char name[32];

			snprintf(name, sizeof(name), "app%d", k % 50);
			add(&s[i], name, "", -1, SESSION_STATE_IDLE);
		}
		s[i].server_epoch_s = NOW + i;
	}
	text = write_through(s, 3, &len);
	line = line_at(text, 2);
	assert_true(strlen(line) < 200);
	assert_true(len > 2500 * 100);
	free(line);
	free(text);
	for (int i = 0; i < 3; i++) {
		sample_finish(&s[i]);
	}
}

struct table_case {
	const char *name;
	const char *text;
	const char *error;
};

#define WHOLE                                                                 \
	"{\"v\":3,\"t\":1,\"status\":\"ok\",\"now\":1,\"full\":true,"         \
	"\"server\":{\"version\":\"15\"},\"open\":[{\"pid\":1,\"start\":0.5," \
	"\"state\":\"idle\"}],\"sessions\":1}\n"

static const struct table_case table_cases[] = {
	{"a change before its open",
	 WHOLE "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"change\":[{"
	       "\"pid\":2,\"start\":0.5}]}\n",
	 "line 2: session 2 changed before it opened"},
	{"gone before its open",
	 WHOLE
	 "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"gone\":[[7,1]]}\n",
	 "line 2: session 7 gone before it opened"},
	{"a count that disagrees",
	 WHOLE "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"sessions\":5}\n",
	 "line 2: the line says 5 sessions and holds 1"},
	{"sessions before a whole line",
	 "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"sessions\":0}\n",
	 "line 1: a line of sessions before any whole line"},
	{"opened twice",
	 WHOLE "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"open\":[{"
	       "\"pid\":1,\"start\":0.5}]}\n",
	 "line 2: session 1 opened twice"},
	{"a session without its start",
	 WHOLE "{\"v\":3,\"t\":2,\"status\":\"ok\",\"now\":2,\"open\":[{"
	       "\"pid\":3}]}\n",
	 "line 2: a session without its pid and start"},
};

/* What cannot follow from the lines before is an error naming the line. */
static void test_table_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(table_cases); i++) {
		const struct table_case *c = &table_cases[i];
		struct sample back;
		struct errbuf err = {{0}};

		sample_init(&back);
		if (read_all(c->text, strlen(c->text), &back, &err, NULL) !=
			    -1 ||
		    strcmp(err.msg, c->error) != 0) {
			fail_msg("%s: got \"%s\"", c->name, err.msg);
		}
		sample_finish(&back);
	}
}

static void test_writer_full(void **state)
{
	struct record_writer w;
	struct errbuf err = {{0}};
	struct sample s;

	(void)state;
	sample_init(&s);
	one_session(&s, 1763900000);
	assert_true(record_writer_open(&w, "/dev/full", &err));
	assert_false(record_writer_sample(&w, &s, &err));
	assert_int_equal(w.last_errno, ENOSPC);
	assert_string_equal(err.msg, "cannot write \"/dev/full\": No space "
				     "left on device");
	err.msg[0] = '\0';
	assert_false(record_writer_failure(&w, 1763900001, "lost", &err));
	assert_int_equal(w.last_errno, ENOSPC);
	assert_non_null(strstr(err.msg, "No space left on device"));
	assert_true(record_writer_close(&w, &err));
	/* Closing twice, or what was never opened, is fine. */
	assert_true(record_writer_close(&w, &err));
	assert_false(record_writer_open(&w, "/nonexistent/dir/rec", &err));
	assert_int_equal(w.last_errno, ENOENT);
	assert_string_equal(err.msg, "cannot write \"/nonexistent/dir/rec\": "
				     "No such file or directory");
	assert_int_equal(w.fd, -1);
	sample_finish(&s);
}

/*
 * A regular file that fills up mid-line (the file size limit stands in
 * for a full disk: the kernel writes up to it, then refuses): the half
 * line is cut back off, writing goes on once there is room, and the file
 * replays whole.
 */
static void test_writer_cut_back(void **state)
{
	char path[] = "/tmp/pgdrip-test-record.XXXXXX";
	struct record_writer w;
	struct errbuf err = {{0}};
	struct rlimit saved;
	struct rlimit tight;
	struct sample s;
	struct sample last;
	off_t before;
	char *text;
	size_t len;
	bool truncated = true;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	sample_init(&s);
	sample_init(&last);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_true(record_writer_open(&w, path, &err));
	one_session(&s, 1763900000);
	assert_true(record_writer_sample(&w, &s, &err));
	assert_true(record_writer_failure(&w, 1763900001, "lost", &err));
	before = size_of(path);

	tight = saved;
	tight.rlim_cur = (rlim_t)before + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &tight), 0);
	one_session(&s, 1763900002);
	assert_false(record_writer_sample(&w, &s, &err));
	assert_int_equal(w.last_errno, EFBIG);
	assert_non_null(strstr(err.msg, "File too large"));
	assert_int_equal(size_of(path), before);
	assert_false(record_writer_failure(&w, 1763900003, "x", &err));
	assert_int_equal(size_of(path), before);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	one_session(&s, 1763900004);
	assert_true(record_writer_sample(&w, &s, &err));
	assert_true(record_writer_close(&w, &err));
	signal(SIGXFSZ, SIG_DFL);

	text = slurp(path, &len);
	assert_int_equal(read_all(text, len, &last, &err, &truncated), 3);
	assert_false(truncated);
	assert_true(fabs(last.taken_at_epoch_s - 1763900004) < 1e-9);
	free(text);
	unlink(path);
	sample_finish(&s);
	sample_finish(&last);
}

/* A recorder killed mid-line left half a line: opening cuts it, so the
 * next line does not land behind it.  A tail that is not ours stays. */
static void test_writer_repairs_tail(void **state)
{
	static const char good[] = "{\"v\":2,\"t\":1763900000,\"status\":"
				   "\"failed\",\"error\":\"x\"}\n";
	char path[] = "/tmp/pgdrip-test-record.XXXXXX";
	struct record_writer w;
	struct errbuf err = {{0}};
	struct sample s;
	char *text;
	size_t len;
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	sample_init(&s);
	f = fopen(path, "w");
	fprintf(f, "%s{\"v\":2,\"t\":17639000", good);
	fclose(f);
	assert_true(record_writer_open(&w, path, &err));
	assert_int_equal(size_of(path), (off_t)strlen(good));
	one_session(&s, 1763900001);
	assert_true(record_writer_sample(&w, &s, &err));
	assert_true(record_writer_close(&w, &err));
	text = slurp(path, &len);
	assert_int_equal(read_all(text, len, &s, &err, NULL), 2);
	free(text);

	/* Not a line of ours: left alone, the record appended after it. */
	f = fopen(path, "w");
	fprintf(f, "%snotes without a newline", good);
	fclose(f);
	assert_true(record_writer_open(&w, path, &err));
	assert_int_equal(size_of(path), (off_t)strlen(good) + 23);
	assert_true(record_writer_close(&w, &err));
	/* A file without any newline, all one half line of ours. */
	f = fopen(path, "w");
	fprintf(f, "{\"v\":2,\"t\":1");
	fclose(f);
	assert_true(record_writer_open(&w, path, &err));
	assert_int_equal(size_of(path), 0);
	assert_true(record_writer_close(&w, &err));
	unlink(path);
	sample_finish(&s);
}

/* Sessions the server hid the times of have no identity: counted in
 * rows per key tuple, a row read back keeping its weight. */
static void test_aggregation(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	char *text;
	size_t len;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 1000;
	fill_server(&in);
	for (int k = 0; k < 10; k++) {
		add_hidden(&in, "app", SESSION_STATE_UNKNOWN, 1);
	}
	add_hidden(&in, "app", SESSION_STATE_IDLE, 5);
	add(&in, "app", "10.1.1.1", 1, SESSION_STATE_ACTIVE);
	add_hidden(&in, "app", SESSION_STATE_IDLE_TX, 4);
	text = capture_sample(&in, &len);
	assert_non_null(strstr(text, "\"state\":\"unknown\",\"count\":1}"));
	assert_non_null(strstr(text, "\"state\":\"idle\",\"count\":5}"));
	assert_non_null(strstr(text, "\"state\":\"idle_in_transaction\","
				     "\"count\":4}"));
	assert_non_null(strstr(text, "\"open\":[{\"pid\":"));
	assert_non_null(strstr(text, "\"sessions\":20}"));
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	assert_int_equal(weight_of(&back, "app", SESSION_STATE_IDLE, "", -1),
			 5);
	assert_int_equal(weight_of(&back, "app", SESSION_STATE_UNKNOWN, "", -1),
			 10);
	assert_int_equal(weight_of(&back, "app", SESSION_STATE_IDLE_TX, "", -1),
			 4);
	assert_int_equal(sample_session_total(&back), 20);
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

/* Traced client processes survive the record: rows stay apart per
 * process, idle-in-transaction sessions keep theirs, hostile command
 * lines come back byte for byte. */
static void test_client_process(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	struct session *x;
	char *text;
	size_t len;
	int held_by_a = 0;
	int held_by_b = 0;
	int untraced = 0;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 1000;
	fill_server(&in);
	for (int k = 0; k < 5; k++) {
		x = add(&in, "app", "127.0.0.1", 50000 + k, SESSION_STATE_IDLE);
		x->client_pid = k < 3 ? 4242 : 77;
		x->client_command = k < 3 ? "python3 -m pytest 'a b'"
					  : "esc\x1b]0;x\x07\xff";
		x->client_relation = k < 3 ? CLIENT_RELATION_DESCENDANT
					   : CLIENT_RELATION_UNRELATED;
	}
	add(&in, "app", "127.0.0.1", 50010, SESSION_STATE_IDLE);
	x = add(&in, "app", "", -1, SESSION_STATE_IDLE_TX);
	x->client_pid = 4243;
	x->client_command = "psql";
	x->client_relation = CLIENT_RELATION_COMMAND;
	text = capture_sample(&in, &len);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	assert_int_equal(sample_session_total(&back), 7);
	for (size_t i = 0; i < back.session_count; i++) {
		const struct session *b = &back.sessions[i];

		if (b->client_pid == 4242) {
			held_by_a += b->weight;
			assert_string_equal(b->client_command,
					    "python3 -m pytest 'a b'");
			assert_int_equal(b->client_relation,
					 CLIENT_RELATION_DESCENDANT);
		} else if (b->client_pid == 77) {
			held_by_b += b->weight;
			assert_string_equal(b->client_command,
					    "esc\x1b]0;x\x07\xff");
		} else if (b->client_pid == 4243) {
			assert_int_equal(b->state, SESSION_STATE_IDLE_TX);
			assert_int_equal(b->client_relation,
					 CLIENT_RELATION_COMMAND);
		} else {
			untraced += b->weight;
			assert_string_equal(b->client_command, "");
		}
	}
	assert_int_equal(held_by_a, 3);
	assert_int_equal(held_by_b, 2);
	assert_int_equal(untraced, 1);
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

/* A live run analyses its samples after record_round_times(): read back
 * from the record, the very same numbers come out, so a replay reaches
 * the live run's verdicts to the last digit. */
static void test_rounded_times_survive(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	struct session *tx;
	char *text;
	size_t len;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 1795429418.123456789;
	in.elapsed_ms = 0.87654321;
	fill_server(&in);
	tx = add(&in, "app", "", -1, SESSION_STATE_IDLE_TX);
	in.server_epoch_s = 1795429418.120511;
	tx->state_change_epoch_s = 1795429343.001234;
	tx->query_start_epoch_s = 1795429343.000001;
	tx->backend_start_us = session_start_us(1795425818.119999);
	tx->xact_start_epoch_s = 1795429337.123456;
	/* What the poller does: ages from the server's clock, rounded. */
	sample_set_ages(&in);
	record_round_times(&in);
	assert_true(in.taken_at_epoch_s == 1795429418.123457);
	text = capture_sample(&in, &len);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	/* Exactly equal: not close, the same doubles. */
	assert_true(back.taken_at_epoch_s == in.taken_at_epoch_s);
	assert_true(back.elapsed_ms == in.elapsed_ms);
	assert_true(back.sessions[0].state_age_s == tx->state_age_s);
	assert_true(back.sessions[0].xact_age_s == tx->xact_age_s);
	assert_true(back.sessions[0].backend_age_s == tx->backend_age_s);
	assert_true(back.sessions[0].xact_start_epoch_s ==
		    tx->xact_start_epoch_s);
	assert_true(back.sessions[0].backend_start_us == tx->backend_start_us);
	assert_true(back.sessions[0].state_change_epoch_s ==
		    tx->state_change_epoch_s);
	assert_true(back.server_epoch_s == in.server_epoch_s);
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

/* Ages the server did not give are null in the file and NAN again. */
static void test_nan_ages(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	char *text;
	size_t len;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 1000;
	fill_server(&in);
	add(&in, "app", "", -1, SESSION_STATE_IDLE_TX)->state_change_epoch_s =
		NAN;
	in.sessions[0].query_start_epoch_s = NAN;
	text = capture_sample(&in, &len);
	assert_non_null(strstr(text, "\"query_start\":null"));
	assert_non_null(strstr(text, "\"xact_start\":null"));
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	assert_int_equal(back.session_count, 1);
	assert_true(isnan(back.sessions[0].state_age_s));
	assert_true(isnan(back.sessions[0].xact_age_s));
	assert_true(isnan(back.sessions[0].query_age_s));
	assert_true(isnan(back.sessions[0].xact_start_epoch_s));
	assert_int_equal(back.sessions[0].client_port, -1);
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

/* A runner's marks ride the sample line as "tests" and come back as
 * they went, hostile names included; an unknown kind is skipped, and a
 * "tests" that is not an array is an error. */
static void test_test_marks(void **state)
{
	struct sample in;
	struct sample out;
	struct errbuf err;
	size_t len;
	char *text;

	(void)state;
	sample_init(&in);
	sample_init(&out);
	in.taken_at_epoch_s = 1763900000.5;
	in.server_epoch_s = 1763900000.5;
	fill_server(&in);
	for (size_t i = 0; i < support_hostile_count; i++) {
		sample_add_mark(&in, SAMPLE_MARK_START, 4242 + (int)i, 0,
				support_hostile[i]);
	}
	sample_add_mark(&in, SAMPLE_MARK_PHASE, 7, 0, "call");
	sample_add_mark(&in, SAMPLE_MARK_SETTLED, 7, 0, "");
	sample_add_mark(&in, SAMPLE_MARK_PARENT, 8, 7, "");
	text = capture_sample(&in, &len);
	assert_int_equal(read_all(text, len, &out, &err, NULL), 1);
	assert_int_equal(out.mark_count, in.mark_count);
	for (size_t i = 0; i < in.mark_count; i++) {
		assert_int_equal(out.marks[i].kind, in.marks[i].kind);
		assert_int_equal(out.marks[i].pid, in.marks[i].pid);
		assert_int_equal(out.marks[i].ppid, in.marks[i].ppid);
		assert_string_equal(out.marks[i].name, in.marks[i].name);
	}
	free(text);
	{
		static const char unknown[] =
			"{\"v\":2,\"t\":1763900000,\"status\":\"ok\","
			"\"tests\":[{\"mark\":\"later\",\"pid\":1},"
			"{\"mark\":\"end\",\"pid\":2,\"name\":\"x\"}]}\n";
		static const char bad[] =
			"{\"v\":2,\"t\":1763900000,\"status\":\"ok\","
			"\"tests\":{}}\n";

		assert_int_equal(read_all(unknown, strlen(unknown), &out, &err,
					  NULL),
				 1);
		assert_int_equal(out.mark_count, 1);
		assert_string_equal(out.marks[0].name, "x");
		assert_int_equal(read_all(bad, strlen(bad), &out, &err, NULL),
				 -1);
		assert_non_null(strstr(err.msg, "tests"));
	}
	sample_finish(&in);
	sample_finish(&out);
}

static void test_failed(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	(void)state;
	sample_init(&in);
	sample_init(&back);
	assert_non_null(out);
	record_write_failure(out, 1763900001.5, "connection lost:\n\"x\"\xff");
	in.taken_at_epoch_s = 1763900002;
	in.status = SAMPLE_STATUS_FAILED;
	add(&in, "ghost", "", -1, SESSION_STATE_IDLE);
	record_write_sample(out, &in);
	fclose(out);
	assert_non_null(strstr(buf, "{\"v\":3,\"t\":1763900001.5,"
				    "\"status\":\"failed\",\"error\":"));
	assert_null(strstr(buf, "ghost"));
	assert_int_equal(read_all(buf, size, &back, &err, NULL), 2);
	assert_int_equal(back.status, SAMPLE_STATUS_FAILED);
	assert_int_equal(back.session_count, 0);
	assert_true(fabs(back.taken_at_epoch_s - 1763900002) < 1e-9);
	free(buf);
	sample_finish(&in);
	sample_finish(&back);
}

/* A literal that may hold NUL bytes, with its length. */
#define BIN(s) s, sizeof(s) - 1
#define OK_LINE "{\"v\":1,\"t\":1,\"status\":\"ok\",\"rows\":[]}\n"

struct read_case {
	const char *name;
	const char *text;
	size_t len;        /* 0: strlen */
	int samples;       /* -1: an error */
	const char *error; /* the start of the message */
	bool truncated;
};

static const struct read_case read_cases[] = {
	{"empty file", "", 0, 0, NULL, false},
	{"blank lines", "\n  \r\n\t\n", 0, 0, NULL, false},
	{"two good lines", OK_LINE "\n" OK_LINE, 0, 2, NULL, false},
	{"no newline at the end",
	 OK_LINE OK_LINE "{\"v\":1,\"t\":2,\"status\":\"ok\"}", 0, 3, NULL,
	 false},
	{"cut last line", OK_LINE "{\"v\":1,\"t\":2,\"status\":\"o", 0, 1, NULL,
	 true},
	{"cut last line after an escape", OK_LINE "{\"v\":1,\"error\":\"\\", 0,
	 1, NULL, true},
	{"cut middle line", OK_LINE "{\"v\":1,\"t\":\n" OK_LINE, 0, -1,
	 "line 2: unexpected end of line", false},
	{"not an object", "[1,2]\n", 0, -1,
	 "line 1: not a pgdrip record (not an object)", false},
	{"missing t", OK_LINE OK_LINE "{\"v\":1,\"status\":\"ok\"}\n", 0, -1,
	 "line 3: not a pgdrip record (missing \"t\")", false},
	{"missing status", "{\"v\":1,\"t\":1}\n", 0, -1,
	 "line 1: not a pgdrip record (missing \"status\")", false},
	{"binary garbage", BIN("\x01\x02\xff\xfe\x00\x13"), -1,
	 "line 1: ", false},
	{"NUL inside a line", BIN("{\"v\":1,\"t\":1\0,\"status\":\"ok\"}\n"),
	 -1, "line 1: expected ',' or a closing bracket", false},
	{"NUL at a line start", BIN(OK_LINE "\0" OK_LINE), -1,
	 "line 2: ", false},
	{"trailing characters", "{\"v\":1,\"t\":1,\"status\":\"ok\"} x\n", 0,
	 -1, "line 1: trailing characters", false},
	{"leading zero", "{\"t\":01,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: expected ','", false},
	{"plus sign", "{\"t\":+1,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: unexpected character", false},
	{"bare dot", "{\"t\":1.,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: bad number", false},
	{"huge exponent", "{\"t\":1e999,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: bad number", false},
	{"bad escape", "{\"t\":1,\"status\":\"o\\k\"}\n", 0, -1,
	 "line 1: bad escape in a string", false},
	{"lone surrogate", "{\"t\":1,\"status\":\"\\udc00\"}\n", 0, -1,
	 "line 1: bad \\u escape", false},
	{"raw control byte", "{\"t\":1,\"status\":\"a\tb\"}\n", 0, -1,
	 "line 1: control character in a string", false},
	{"too deep",
	 "{\"t\":1,\"status\":\"ok\",\"x\":"
	 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
	 0, -1, "line 1: nested too deeply", false},
	{"deep but allowed",
	 "{\"t\":1,\"status\":\"ok\",\"x\":"
	 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n",
	 0, 1, NULL, false},
	{"negative count",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{\"user\":"
	 "\"a\",\"state\":\"idle\",\"count\":-1}]}\n",
	 0, -1, "line 1: \"count\" is -1, not a whole number >= 0", false},
	{"no count",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{\"user\":"
	 "\"a\",\"state\":\"idle\"}]}\n",
	 0, -1, "line 1: a row without a valid count or state", false},
	{"fractional count",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{"
	 "\"state\":\"idle\",\"count\":1.5}]}\n",
	 0, -1, "line 1: \"count\" is 1.5, not a whole number >= 0", false},
	{"count as a string",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{"
	 "\"state\":\"idle\",\"count\":\"3\"}]}\n",
	 0, -1, "line 1: \"count\" is not a number", false},
	/* What pgdrip cannot have written: refused, the line named. */
	{"unknown version", OK_LINE "{\"v\":999,\"t\":2,\"status\":\"ok\"}\n",
	 0, -1,
	 "line 2: format version 999 is not one this pgdrip reads "
	 "(1 to 3)",
	 false},
	{"version 0", "{\"v\":0,\"t\":2,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: format version 0 is not", false},
	{"fractional version", "{\"v\":1.5,\"t\":2,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: format version 1.5 is not", false},
	{"version as a string", "{\"v\":\"1\",\"t\":2,\"status\":\"ok\"}\n", 0,
	 -1, "line 1: \"v\" is not a number", false},
	{"huge time", "{\"v\":1,\"t\":1e308,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: \"t\" is 1e+308, not a time in seconds "
	 "since 1970",
	 false},
	{"time past 1e11", "{\"v\":1,\"t\":100000000001,\"status\":\"ok\"}\n",
	 0, -1, "line 1: \"t\" is 100000000001, not a time", false},
	{"time zero", "{\"v\":1,\"t\":0,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: \"t\" is 0, not a time", false},
	{"negative time", "{\"v\":1,\"t\":-5,\"status\":\"failed\"}\n", 0, -1,
	 "line 1: \"t\" is -5, not a time", false},
	{"null time", "{\"v\":1,\"t\":null,\"status\":\"ok\"}\n", 0, -1,
	 "line 1: not a pgdrip record (missing \"t\")", false},
	{"time backwards",
	 "{\"t\":1763900010,\"status\":\"ok\"}\n"
	 "{\"t\":1763900005,\"status\":\"failed\"}\n",
	 0, -1,
	 "line 2: time runs backwards: \"t\" is 1763900005.000, after "
	 "1763900010.000 on an earlier line",
	 false},
	{"backwards after a slack step",
	 "{\"t\":1763900010,\"status\":\"ok\"}\n"
	 "{\"t\":1763900009.5,\"status\":\"ok\"}\n"
	 "{\"t\":1763900009,\"status\":\"ok\"}\n",
	 0, -1, "line 3: time runs backwards", false},
	{"equal times",
	 "{\"t\":1763900010,\"status\":\"ok\"}\n"
	 "{\"t\":1763900010,\"status\":\"failed\"}\n",
	 0, 2, NULL, false},
	{"a clock stepped back less than a second",
	 "{\"t\":1763900010,\"status\":\"ok\"}\n"
	 "{\"t\":1763900009.2,\"status\":\"ok\"}\n"
	 "{\"t\":1763900011,\"status\":\"ok\"}\n",
	 0, 3, NULL, false},
	{"negative elapsed", "{\"t\":1,\"elapsed_ms\":-3,\"status\":\"ok\"}\n",
	 0, -1, "line 1: \"elapsed_ms\" is -3, not milliseconds", false},
	{"negative max_connections",
	 "{\"t\":1,\"status\":\"ok\",\"server\":"
	 "{\"max_connections\":-1}}\n",
	 0, -1, "line 1: \"max_connections\" is -1, not a whole number >= 0",
	 false},
	{"huge max_connections",
	 "{\"t\":1,\"status\":\"ok\",\"server\":"
	 "{\"max_connections\":1e10}}\n",
	 0, -1, "line 1: \"max_connections\" is 10000000000, not", false},
	{"negative reserved",
	 "{\"t\":1,\"status\":\"ok\",\"server\":"
	 "{\"superuser_reserved\":-3}}\n",
	 0, -1, "line 1: \"superuser_reserved\" is -3", false},
	{"negative idle_session_timeout",
	 "{\"t\":1,\"status\":\"ok\","
	 "\"server\":{\"idle_session_timeout_s\":-1}}\n",
	 0, -1, "line 1: \"idle_session_timeout_s\" is -1", false},
	{"role limit below -1",
	 "{\"t\":1,\"status\":\"ok\",\"role_limits\":"
	 "[{\"name\":\"a\",\"limit\":-2}]}\n",
	 0, -1, "line 1: \"limit\" is -2, not a connection limit (-1 or more)",
	 false},
	{"db limit without a limit",
	 "{\"t\":1,\"status\":\"ok\",\"db_limits\":"
	 "[{\"name\":\"a\"}]}\n",
	 0, -1, "line 1: a limit without \"limit\"", false},
	{"negative pid",
	 "{\"t\":1,\"status\":\"ok\",\"idle_in_transaction\":"
	 "[{\"pid\":-4,\"state\":\"idle_in_transaction\"}]}\n",
	 0, -1, "line 1: \"pid\" is -4", false},
	{"port out of range",
	 "{\"t\":1,\"status\":\"ok\","
	 "\"idle_in_transaction\":[{\"client_port\":70000,"
	 "\"state\":\"idle_in_transaction\"}]}\n",
	 0, -1, "line 1: \"client_port\" is 70000, not a port (-1 to 65535)",
	 false},
	{"huge age",
	 "{\"t\":1,\"status\":\"ok\",\"idle_in_transaction\":"
	 "[{\"idle_s\":1e308,\"state\":\"idle_in_transaction\"}]}\n",
	 0, -1, "line 1: \"idle_s\" is 1e+308, not a duration", false},
	{"transaction from the future",
	 "{\"t\":1,\"status\":\"ok\","
	 "\"idle_in_transaction\":[{\"xact_start\":1e12,"
	 "\"state\":\"idle_in_transaction\"}]}\n",
	 0, -1, "line 1: \"xact_start\" is 1000000000000, not a time", false},
	{"negative client pid",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{"
	 "\"state\":\"idle\",\"count\":1,\"client_process\":{\"pid\":-7}}]}\n",
	 0, -1, "line 1: \"pid\" is -7", false},
	{"nulls read as unknown",
	 "{\"t\":1,\"elapsed_ms\":null,\"status\":"
	 "\"ok\",\"server\":{\"idle_session_timeout_s\":null},"
	 "\"idle_in_transaction\":[{\"idle_s\":null,\"xact_start\":null,"
	 "\"state\":\"idle_in_transaction\"}]}\n",
	 0, 1, NULL, false},
	{"unknown state",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":[{\"user\":"
	 "\"a\",\"state\":\"asleep\",\"count\":1}]}\n",
	 0, -1, "line 1: a row without a valid count or state", false},
	{"too many sessions",
	 "{\"t\":1,\"status\":\"ok\",\"rows\":["
	 "{\"state\":\"idle\",\"count\":2000000000},"
	 "{\"state\":\"idle\",\"count\":2000000000}]}\n",
	 0, -1, "line 1: more sessions than any server holds", false},
	/* Written by the first version: must stay readable. */
	{"version 1 line",
	 "{\"v\":1,\"t\":1795414761.463,\"status\":"
	 "\"late\",\"elapsed_ms\":4,\"server\":{\"version\":\"15.18\","
	 "\"version_num\":150018,\"max_connections\":100,"
	 "\"superuser_reserved\":3,\"reserved\":0,"
	 "\"idle_session_timeout_s\":0,\"can_read_all_stats\":true,"
	 "\"current_user\":\"postgres\"},\"rows\":[{\"user\":\"r_app\","
	 "\"application\":\"leaky\",\"database\":\"postgres\","
	 "\"client\":\"local\",\"state\":\"idle\",\"count\":1}],"
	 "\"idle_in_transaction\":[{\"pid\":42,\"user\":\"a\","
	 "\"application\":\"b\",\"database\":\"c\",\"client\":\"\","
	 "\"client_port\":-1,\"state\":\"idle_in_transaction\","
	 "\"idle_s\":75.2,\"xact_age_s\":null,\"backend_age_s\":90,"
	 "\"xact_start\":null,\"query\":\"select 1\"}],"
	 "\"role_limits\":[{\"name\":\"app\",\"limit\":40}],"
	 "\"db_limits\":[]}\n",
	 0, 1, NULL, false},
	{"unknown fields ignored",
	 "{\"v\":2,\"t\":1,\"status\":\"ok\","
	 "\"future\":{\"a\":[1,true,null,\"\\u00e9\"]},\"rows\":[{\"user\":"
	 "\"a\",\"state\":\"idle\",\"count\":2,\"color\":\"red\"}]}\n",
	 0, 1, NULL, false},
};

static void test_read_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(read_cases); i++) {
		const struct read_case *c = &read_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct sample s;
		struct errbuf err = {{0}};
		bool truncated = false;
		int n;

		sample_init(&s);
		n = read_all(c->text, len, &s, &err, &truncated);
		if (n != c->samples || truncated != c->truncated ||
		    (c->error != NULL &&
		     strncmp(err.msg, c->error, strlen(c->error)) != 0)) {
			fail_msg("%s: got %d (%s), truncated %d", c->name, n,
				 err.msg, truncated);
		}
		sample_finish(&s);
	}
}

struct string_case {
	int version;
	const char *json; /* the string literal in the file */
	const char *user; /* what the reader makes of it */
};

static const struct string_case string_cases[] = {
	{2, "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"},
	{2, "\"\\u00e9\\u20ac\"", "\xc3\xa9\xe2\x82\xac"},
	{2, "\"\\\"\\/\\b\\f\\n\\r\\t\"", "\"/\b\f\n\r\t"},
	{2, "\"\\\\xff\\\\x1B\"", "\xff\x1b"},
	/* Version 2 doubles a name's backslash before an 'x': the text
	 * \x41 stays four characters; elsewhere one backslash is one. */
	{2, "\"\\\\\\\\x41\"", "\\x41"},
	{2, "\"a\\\\b\"", "a\\b"},
	{2, "\"a\\\\\\\\b\"", "a\\\\b"},
	{2, "\"\\\\\\\\\\\\xff\"", "\\\xff"},
	{2, "\"\\\\xZZ\\\\x4\"", "\\xZZ\\x4"},
	{2, "\"\xff raw\"", "\xff raw"},
	{2, "\"a\\u0000b\"", "a"},
	/* Version 1 wrote a backslash as itself: the text \x41 reads back
	 * as "A" (that format's ambiguity), a lone backslash as one. */
	{1, "\"\\\\x41\"", "A"},
	{1, "\"\\\\xff\\\\x1B\"", "\xff\x1b"},
	{1, "\"back\\\\slash\"", "back\\slash"},
	{1, "\"\\\\xZZ\\\\x4\"", "\\xZZ\\x4"},
};

static void test_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < PGD_ARRAY_LEN(string_cases); i++) {
		const struct string_case *c = &string_cases[i];
		char text[256];
		struct sample s;
		struct errbuf err = {{0}};

		snprintf(text, sizeof(text),
			 "{\"v\":%d,\"t\":1,\"status\":\"ok\",\"rows\":[{"
			 "\"user\":%s,\"state\":\"idle\",\"count\":1}]}\n",
			 c->version, c->json);
		sample_init(&s);
		if (read_all(text, strlen(text), &s, &err, NULL) != 1) {
			fail_msg("%s: %s", c->json, err.msg);
		}
		assert_int_equal(s.session_count, 1);
		if (strcmp(s.sessions[0].user, c->user) != 0) {
			fail_msg("v%d %s: read \"%s\"", c->version, c->json,
				 s.sessions[0].user);
		}
		sample_finish(&s);
	}
}

/* A 10 MB line is read; one past RECORD_MAX_LINE is refused by name. */
static void test_huge_lines(void **state)
{
	const size_t pad = 10 * 1000 * 1000;
	const char head[] = "{\"v\":1,\"t\":1,\"status\":\"ok\",\"pad\":\"";
	const char tail[] = "\"}\n";
	size_t len = strlen(head) + pad + strlen(tail);
	size_t big = (size_t)RECORD_MAX_LINE + 100;
	/* malloc, not xmalloc: gcc's -Warray-bounds under ASan loses the
	 * size through the out-of-line wrapper and warns falsely. */
	char *text = calloc(2, len);
	struct sample s;
	struct errbuf err = {{0}};

	(void)state;
	/* An explicit return: the optimiser does not know cmocka's failure
	 * paths end, and warns about the NULL path otherwise. */
	if (text == NULL) {
		fail();
		return;
	}
	memcpy(text, head, strlen(head));
	memset(text + strlen(head), 'a', pad);
	memcpy(text + strlen(head) + pad, tail, strlen(tail));
	memcpy(text + len, text, len);
	sample_init(&s);
	assert_int_equal(read_all(text, len * 2, &s, &err, NULL), 2);
	free(text);

	text = malloc(big);
	if (text == NULL) {
		fail();
		return;
	}
	memset(text, 'a', big);
	text[big - 1] = '\n';
	memcpy(text, OK_LINE, strlen(OK_LINE));
	assert_int_equal(read_all(text, big, &s, &err, NULL), -1);
	assert_string_equal(err.msg, "line 2: longer than 64 MiB");
	free(text);
	sample_finish(&s);
}

/* A big sample: many rows and idle-tx sessions survive the trip. */
static void test_many_rows(void **state)
{
	struct sample in;
	struct sample back;
	struct errbuf err;
	char name[32];
	char *text;
	size_t len;

	(void)state;
	sample_init(&in);
	sample_init(&back);
	in.taken_at_epoch_s = 5;
	for (int k = 0; k < 20000; k++) {
		snprintf(name, sizeof(name), "user%d", k % 5000);
		add(&in, name, "", -1,
		    k % 7 == 0 ? SESSION_STATE_IDLE_TX : SESSION_STATE_IDLE);
	}
	text = capture_sample(&in, &len);
	assert_int_equal(read_all(text, len, &back, &err, NULL), 1);
	assert_int_equal(sample_session_total(&back), 20000);
	free(text);
	sample_finish(&in);
	sample_finish(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hostile),
		cmocka_unit_test(test_client_process),
		cmocka_unit_test(test_rounded_times_survive),
		cmocka_unit_test(test_lookalikes),
		cmocka_unit_test(test_writer_full),
		cmocka_unit_test(test_deltas),
		cmocka_unit_test(test_interval_travels),
		cmocka_unit_test(test_steady_is_small),
		cmocka_unit_test(test_table_errors),
		cmocka_unit_test(test_writer_cut_back),
		cmocka_unit_test(test_writer_repairs_tail),
		cmocka_unit_test(test_aggregation),
		cmocka_unit_test(test_nan_ages),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_read_cases),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_huge_lines),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_test_marks),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
