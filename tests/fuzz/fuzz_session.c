/*
 * fuzz_session.c - the session table against a plain model: any run of
 * samples (rows of few pids and starts, repeated, hidden, reused) gives
 * each identity opened once, then changed or unchanged while rows name
 * it, and gone once at the first sample none does; lookups by identity
 * and by pid find only live sessions; a client's facts land only on a
 * session that had started.
 *
 * Input: per sample, a byte of row count (low 4 bits), then per row
 * three bytes: pid (1-8), start (1-4, 0 hidden), state and moment.
 */
#include "session_table.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MODEL_MAX = 64 };

struct model {
	struct session_id live[MODEL_MAX];
	size_t count;
};

static bool model_has(const struct model *m, struct session_id id)
{
	for (size_t i = 0; i < m->count; i++) {
		if (session_id_equal(m->live[i], id)) {
			return true;
		}
	}
	return false;
}

static void fill_row(struct sample *s, const uint8_t *b)
{
	struct session *row = sample_add_session(s);

	row->pid = b[0] % 8 + 1;
	row->backend_start_us = b[1] % 5 == 0 ? SESSION_START_UNKNOWN
					      : (int64_t)(b[1] % 5);
	row->state = (enum session_state)(b[2] % 3);
	row->query_start_epoch_s = b[2] >> 2;
	row->weight = b[2] == 0xff ? 2 : 1; /* an aggregated row */
}

/* The events of one merge against the model; then the model is this
 * sample's identities. */
static void check_merge(const struct session_table *t, const struct sample *s,
			struct model *m)
{
	struct model now = {0};
	struct model named = {0}; /* named by an event so far */
	size_t gone = 0;

	for (size_t i = 0; i < s->session_count; i++) {
		struct session_id id = session_id_of(&s->sessions[i]);

		if (s->sessions[i].weight == 1 && session_id_known(id) &&
		    !model_has(&now, id)) {
			now.live[now.count++] = id;
		}
	}
	for (size_t i = 0; i < t->event_count; i++) {
		const struct session_event *e = &t->events[i];
		struct session_id id = t->entries[e->entry].id;

		if (e->change == SESSION_GONE) {
			assert(e->row == SIZE_MAX);
			assert(model_has(m, id) && !model_has(&now, id));
			assert(session_table_find(t, id) == SIZE_MAX);
			gone++;
			continue;
		}
		assert(session_id_equal(session_id_of(&s->sessions[e->row]),
					id));
		if (e->change == SESSION_OPENED) {
			assert(!model_has(m, id) && !model_has(&named, id));
		} else {
			/* Seen before, or a second row of this sample. */
			assert(model_has(m, id) || model_has(&named, id));
		}
		if (!model_has(&named, id)) {
			named.live[named.count++] = id;
		}
		assert(session_table_find(t, id) == e->entry);
	}
	for (size_t i = 0; i < now.count; i++) {
		size_t at = session_table_find(t, now.live[i]);
		size_t by_pid = session_table_find_pid(t, now.live[i].pid);

		assert(at != SIZE_MAX);
		assert(by_pid != SIZE_MAX &&
		       t->entries[by_pid].id.pid == now.live[i].pid);
	}
	{
		size_t was_gone = 0;

		for (size_t i = 0; i < m->count; i++) {
			was_gone += !model_has(&now, m->live[i]);
		}
		assert(gone == was_gone);
	}
	*m = now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_table t;
	struct sample s;
	struct model m = {0};
	size_t at = 0;

	session_table_init(&t, sizeof(double));
	sample_init(&s);
	while (at < size) {
		size_t rows = data[at++] & 0x0f;

		sample_reset(&s);
		for (size_t r = 0; r < rows && at + 3 <= size; r++, at += 3) {
			fill_row(&s, data + at);
		}
		session_table_merge(&t, &s);
		check_merge(&t, &s, &m);
		if (at < size) {
			struct session_client_facts f = {
				.client_pid = 77, .checked_out_epoch_s = 1};
			int pid = data[at] % 8 + 1;
			size_t live = session_table_find_pid(&t, pid);
			bool held = session_table_fold_client(
				&t, pid, (data[at] >> 4) / 1e6, &f);

			assert(!held ||
			       (live != SIZE_MAX &&
				t.entries[live].client.client_pid == 77 &&
				t.entries[live].id.backend_start_us <=
					data[at] >> 4));
		}
	}
	sample_finish(&s);
	session_table_finish(&t);
	return 0;
}
