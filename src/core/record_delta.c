/*
 * record_delta.c - format 3's writer (see record_sessions.h): what it
 * wrote of each session, by identity, so only what changed since goes
 * into a line.
 */
#include "record_sessions.h"

#include "group.h"
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool same_moment(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h = (h ^ *p) * 1099511628211ULL;
	}
	return h;
}

/* The wait event as one field: "Client:ClientRead", "" for none. */
static void format_wait(char *buf, size_t size, const struct session *s)
{
	snprintf(buf, size, "%s%s%s", s->wait_event_type,
		 s->wait_event[0] != '\0' ? ":" : "", s->wait_event);
}

/* A session as last written: enough to see what changed. */
struct written {
	struct session_id id;
	enum session_state state;
	double state_change;
	double query_start;
	double xact_start;
	uint64_t app; /* a session may SET application_name */
	uint64_t wait;
	uint64_t query;
	int client_pid;
	uint64_t client_command;
	enum client_relation relation;
	bool seen; /* in the sample being written */
};

struct record_delta {
	struct written *sessions;
	size_t count;
	size_t cap;
	struct group_index index;
	bool full; /* the next line is whole */
	struct server_info server;
	uint64_t limits; /* a hash of the role and database limits */
	/* The analysis interval last written (s); 0 none since the last
	 * whole line, so every whole line says it again. */
	double interval_s;
};

struct record_delta *record_delta_create(void)
{
	struct record_delta *d = xcalloc(1, sizeof(*d));

	group_index_init(&d->index);
	d->full = true;
	return d;
}

void record_delta_destroy(struct record_delta *d)
{
	if (d != NULL) {
		free(d->sessions);
		group_index_finish(&d->index);
		free(d);
	}
}

void record_delta_reset(struct record_delta *d)
{
	d->count = 0;
	group_index_clear(&d->index);
	d->full = true;
	d->interval_s = 0;
}

static bool has_identity(const struct session *s)
{
	return s->weight == 1 && session_id_known(session_id_of(s));
}

static size_t find_written(const struct record_delta *d, struct session_id id)
{
	size_t cursor = 0;
	size_t i;

	while ((i = group_index_find(&d->index, session_id_hash(id),
				     &cursor)) != (size_t)GROUP_NONE) {
		if (session_id_equal(d->sessions[i].id, id)) {
			return i;
		}
	}
	return (size_t)GROUP_NONE;
}

static void remember(struct written *w, const struct session *s)
{
	char wait[256];

	format_wait(wait, sizeof(wait), s);
	w->id = session_id_of(s);
	w->state = s->state;
	w->state_change = s->state_change_epoch_s;
	w->query_start = s->query_start_epoch_s;
	w->xact_start = s->xact_start_epoch_s;
	w->app = hash_text(s->app);
	w->wait = hash_text(wait);
	w->query = hash_text(s->query);
	w->client_pid = s->client_pid;
	w->client_command = hash_text(s->client_command);
	w->relation = s->client_relation;
}

/* The start as epoch seconds with six decimals, as the server sends it
 * and every version of the record holds it: exact to the microsecond. */
static void write_identity(struct json_writer *w, struct session_id id)
{
	json_key(w, "pid");
	json_int(w, id.pid);
	json_key(w, "start");
	json_double(w, session_start_epoch_s(id.backend_start_us), 6);
}

static void write_client_process(struct json_writer *w, const struct session *s)
{
	json_key(w, "client_process");
	if (s->client_pid <= 0) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "pid");
	json_int(w, s->client_pid);
	json_key(w, "command");
	json_string(w, s->client_command);
	json_key(w, "relation");
	json_string(w, sample_relation_name(s->client_relation));
	json_end_object(w);
}

static void write_state(struct json_writer *w, const struct session *s)
{
	json_key(w, "state");
	json_string(w, sample_state_key(s->state));
}

static void write_moment(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v, 6);
}

static void write_wait(struct json_writer *w, const struct session *s)
{
	char wait[256];

	format_wait(wait, sizeof(wait), s);
	json_key(w, "wait");
	json_string(w, wait);
}

static void write_open(struct json_writer *w, const struct session *s)
{
	json_begin_object(w);
	write_identity(w, session_id_of(s));
	json_key(w, "user");
	json_string(w, s->user);
	json_key(w, "application");
	json_string(w, s->app);
	json_key(w, "database");
	json_string(w, s->db);
	json_key(w, "client");
	json_string(w, group_session_key(s, GROUP_KEY_CLIENT));
	json_key(w, "client_port");
	json_int(w, s->client_port);
	write_state(w, s);
	write_moment(w, "state_change", s->state_change_epoch_s);
	write_moment(w, "query_start", s->query_start_epoch_s);
	write_moment(w, "xact_start", s->xact_start_epoch_s);
	write_wait(w, s);
	json_key(w, "query");
	json_string(w, s->query);
	if (s->client_pid > 0) {
		write_client_process(w, s);
	}
	if (s->pooler_ptr[0] != '\0') {
		/* a console's client: SHOW SERVERS' link names it so */
		json_key(w, "ptr");
		json_string(w, s->pooler_ptr);
	}
	json_end_object(w);
}

static bool changed(const struct written *was, const struct session *s)
{
	struct written now;

	remember(&now, s);
	return now.state != was->state ||
	       !same_moment(now.state_change, was->state_change) ||
	       !same_moment(now.query_start, was->query_start) ||
	       !same_moment(now.xact_start, was->xact_start) ||
	       now.app != was->app || now.wait != was->wait ||
	       now.query != was->query || now.client_pid != was->client_pid ||
	       now.client_command != was->client_command ||
	       now.relation != was->relation;
}

/* The fields of s that differ from what was written; false when none. */
static bool write_change(struct json_writer *w, const struct written *was,
			 const struct session *s)
{
	struct written now;
	bool begun = false;

	remember(&now, s);
#define FIELD_CHANGED(cond, write)                                   \
	do {                                                         \
		if (cond) {                                          \
			if (!begun) {                                \
				json_begin_object(w);                \
				write_identity(w, session_id_of(s)); \
				begun = true;                        \
			}                                            \
			write;                                       \
		}                                                    \
	} while (0)
	FIELD_CHANGED(now.app != was->app,
		      (json_key(w, "application"), json_string(w, s->app)));
	FIELD_CHANGED(now.state != was->state, write_state(w, s));
	FIELD_CHANGED(!same_moment(now.state_change, was->state_change),
		      write_moment(w, "state_change", s->state_change_epoch_s));
	FIELD_CHANGED(!same_moment(now.query_start, was->query_start),
		      write_moment(w, "query_start", s->query_start_epoch_s));
	FIELD_CHANGED(!same_moment(now.xact_start, was->xact_start),
		      write_moment(w, "xact_start", s->xact_start_epoch_s));
	FIELD_CHANGED(now.wait != was->wait, write_wait(w, s));
	FIELD_CHANGED(now.query != was->query,
		      (json_key(w, "query"), json_string(w, s->query)));
	FIELD_CHANGED(now.client_pid != was->client_pid ||
			      now.client_command != was->client_command ||
			      now.relation != was->relation,
		      write_client_process(w, s));
#undef FIELD_CHANGED
	if (begun) {
		json_end_object(w);
	}
	return begun;
}

static uint64_t hash_limits(const struct sample *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < s->role_limit_count; i++) {
		h = (h ^ hash_text(s->role_limits[i].name)) * 31 +
		    (uint64_t)(unsigned)s->role_limits[i].limit;
	}
	h = h * 1099511628211ULL + 0xD;
	for (size_t i = 0; i < s->db_limit_count; i++) {
		h = (h ^ hash_text(s->db_limits[i].name)) * 31 +
		    (uint64_t)(unsigned)s->db_limits[i].limit;
	}
	return h;
}

static bool same_server(const struct server_info *a,
			const struct server_info *b)
{
	return a->source == b->source && strcmp(a->version, b->version) == 0 &&
	       a->version_num == b->version_num &&
	       a->max_connections == b->max_connections &&
	       a->superuser_reserved == b->superuser_reserved &&
	       a->reserved == b->reserved &&
	       same_moment(a->idle_session_timeout_s,
			   b->idle_session_timeout_s) &&
	       a->can_read_all_stats == b->can_read_all_stats &&
	       strcmp(a->current_user, b->current_user) == 0;
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

/* The server and the limits: on a whole line, or when they changed. */
static void write_settings(struct json_writer *w, struct record_delta *d,
			   const struct sample *s)
{
	uint64_t limits = hash_limits(s);

	if (d->full || !same_server(&d->server, &s->server)) {
		write_server(w, &s->server);
		d->server = s->server;
	}
	if (d->full || limits != d->limits) {
		write_limits(w, "role_limits", s->role_limits,
			     s->role_limit_count);
		write_limits(w, "db_limits", s->db_limits, s->db_limit_count);
		d->limits = limits;
	}
}

/* New and changed sessions, in two arrays; marks each seen. */
static void write_sessions(struct json_writer *w, struct record_delta *d,
			   const struct sample *s)
{
	bool any = false;

	for (size_t i = 0; i < s->session_count; i++) {
		const struct session *ss = &s->sessions[i];

		if (has_identity(ss) &&
		    find_written(d, session_id_of(ss)) == (size_t)GROUP_NONE) {
			if (!any) {
				json_key(w, "open");
				json_begin_array(w);
				any = true;
			}
			write_open(w, ss);
			xgrow((void **)&d->sessions, &d->cap, d->count + 1,
			      sizeof(*d->sessions));
			remember(&d->sessions[d->count], ss);
			d->sessions[d->count].seen = true;
			group_index_add(&d->index,
					session_id_hash(session_id_of(ss)),
					d->count++);
		}
	}
	if (any) {
		json_end_array(w);
	}
	any = false;
	for (size_t i = 0; i < s->session_count; i++) {
		const struct session *ss = &s->sessions[i];
		size_t at;

		if (!has_identity(ss)) {
			continue;
		}
		at = find_written(d, session_id_of(ss));
		if (d->sessions[at].seen) {
			continue; /* just opened, or a duplicate row */
		}
		d->sessions[at].seen = true;
		if (!any && changed(&d->sessions[at], ss)) {
			json_key(w, "change");
			json_begin_array(w);
			any = true;
		}
		(void)write_change(w, &d->sessions[at], ss);
		remember(&d->sessions[at], ss);
	}
	if (any) {
		json_end_array(w);
	}
}

/* Sessions gone since the last line; the rest are unmarked for the
 * next.  The table is compacted and its index rebuilt when any went. */
static void write_gone(struct json_writer *w, struct record_delta *d)
{
	size_t kept = 0;
	bool begun = false;

	for (size_t i = 0; i < d->count; i++) {
		if (!d->sessions[i].seen) {
			if (!begun) {
				json_key(w, "gone");
				json_begin_array(w);
				begun = true;
			}
			json_begin_array(w);
			json_int(w, d->sessions[i].id.pid);
			json_double(w,
				    session_start_epoch_s(
					    d->sessions[i].id.backend_start_us),
				    6);
			json_end_array(w);
			continue;
		}
		d->sessions[i].seen = false;
		d->sessions[kept++] = d->sessions[i];
	}
	if (begun) {
		json_end_array(w);
		d->count = kept;
		group_index_clear(&d->index);
		for (size_t i = 0; i < d->count; i++) {
			group_index_add(&d->index,
					session_id_hash(d->sessions[i].id), i);
		}
	}
}

/* Sessions without an identity, counted per key tuple as format 1 did;
 * few in number (only those whose times the server hid). */
static void write_rows(struct json_writer *w, const struct sample *s)
{
	bool begun = false;

	for (size_t i = 0; i < s->session_count; i++) {
		const struct session *ss = &s->sessions[i];

		if (has_identity(ss)) {
			continue;
		}
		if (!begun) {
			json_key(w, "rows");
			json_begin_array(w);
			begun = true;
		}
		json_begin_object(w);
		json_key(w, "user");
		json_string(w, ss->user);
		json_key(w, "application");
		json_string(w, ss->app);
		json_key(w, "database");
		json_string(w, ss->db);
		json_key(w, "client");
		json_string(w, group_session_key(ss, GROUP_KEY_CLIENT));
		write_state(w, ss);
		json_key(w, "count");
		json_int(w, ss->weight);
		json_end_object(w);
	}
	if (begun) {
		json_end_array(w);
	}
}

void record_delta_write(struct json_writer *w, struct record_delta *d,
			const struct sample *sample)
{
	if (d->full) {
		record_delta_reset(d);
		json_key(w, "full");
		json_bool(w, true);
	}
	json_key(w, "now");
	json_double(w, sample->server_epoch_s, 6);
	if (isfinite(sample->sessions_opened_total)) {
		json_key(w, "opened_total");
		json_double(w, sample->sessions_opened_total, 0);
	}
	/* The interval the run was analysed at (the live view's +/- change
	 * it): written when it changes, carried forward by the reader. */
	if (sample->interval_s > 0 && sample->interval_s != d->interval_s) {
		json_key(w, "interval_s");
		json_double(w, sample->interval_s, 3);
		d->interval_s = sample->interval_s;
	}
	write_settings(w, d, sample);
	write_sessions(w, d, sample);
	write_gone(w, d);
	write_rows(w, sample);
	json_key(w, "sessions");
	json_int(w, sample_session_total(sample));
	d->full = false;
}
