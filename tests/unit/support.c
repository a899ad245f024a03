/*
 * support.c - what several unit tests share: a strict JSON validator and
 * a hand-built report full of hostile names (see support.h).
 */
#include "support.h"

#include "report_json.h"
#include "report_judge.h"
#include "report_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A strict validator for what the writer emits: structure, string
 * escapes, numbers, and UTF-8 of the raw bytes. */
struct cursor {
	const unsigned char *p;
	int depth;
};

static bool parse_value(struct cursor *c);

static void skip_ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' ||
	       *c->p == '\r') {
		c->p++;
	}
}

static bool parse_string(struct cursor *c)
{
	if (*c->p++ != '"') {
		return false;
	}
	while (*c->p != '"') {
		unsigned char ch = *c->p;

		if (ch < 0x20) {
			return false;
		}
		if (ch == '\\') {
			c->p++;
			if (*c->p == 'u') {
				for (int i = 1; i <= 4; i++) {
					if (!strchr("0123456789abcdefABCDEF",
						    c->p[i]) ||
					    c->p[i] == 0) {
						return false;
					}
				}
				c->p += 5;
			} else if (strchr("\"\\/bfnrt", *c->p) && *c->p) {
				c->p++;
			} else {
				return false;
			}
		} else if (ch < 0x80) {
			c->p++;
		} else {
			int n = (ch & 0xE0) == 0xC0   ? 2
				: (ch & 0xF0) == 0xE0 ? 3
				: (ch & 0xF8) == 0xF0 ? 4
						      : 0;

			if (n == 0 || ch == 0xC0 || ch == 0xC1 || ch > 0xF4) {
				return false;
			}
			for (int i = 1; i < n; i++) {
				if ((c->p[i] & 0xC0) != 0x80) {
					return false;
				}
			}
			c->p += n;
		}
	}
	c->p++;
	return true;
}

static bool parse_container(struct cursor *c, char open, char close)
{
	if (*c->p++ != open || ++c->depth > 64) {
		return false;
	}
	skip_ws(c);
	if (*c->p == close) {
		c->p++;
		c->depth--;
		return true;
	}
	for (;;) {
		skip_ws(c);
		if (open == '{') {
			if (!parse_string(c)) {
				return false;
			}
			skip_ws(c);
			if (*c->p++ != ':') {
				return false;
			}
		}
		if (!parse_value(c)) {
			return false;
		}
		skip_ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p++ != close) {
			return false;
		}
		c->depth--;
		return true;
	}
}

static bool parse_value(struct cursor *c)
{
	skip_ws(c);
	switch (*c->p) {
	case '{':
		return parse_container(c, '{', '}');
	case '[':
		return parse_container(c, '[', ']');
	case '"':
		return parse_string(c);
	}
	if (strncmp((const char *)c->p, "true", 4) == 0 ||
	    strncmp((const char *)c->p, "null", 4) == 0) {
		c->p += 4;
		return true;
	}
	if (strncmp((const char *)c->p, "false", 5) == 0) {
		c->p += 5;
		return true;
	}
	{
		char *end;

		if (*c->p != '-' && (*c->p < '0' || *c->p > '9')) {
			return false;
		}
		strtod((const char *)c->p, &end);
		c->p = (const unsigned char *)end;
		return true;
	}
}

bool support_json_valid(const char *text)
{
	struct cursor c = {(const unsigned char *)text, 0};

	if (!parse_value(&c)) {
		return false;
	}
	skip_ws(&c);
	return *c.p == '\0';
}

const char *const support_hostile[] = {
	"plain",
	"\x1b]0;pwned\x07\x1b[2J\x1b[31mred",
	"bell\a\a",
	"line\r\nbreak\ttab",
	"bad\xff\xfe utf8 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 cut\xe2\x82",
	"c1 \xc2\x9b"
	"31m and raw \x9b"
	"31m",
	"bidi \xe2\x80\xae"
	"evil \xe2\x81\xa6",
	"\xe5\x90\x8d\xe5\x89\x8d\xe5\x90\x8d\xe5\x89\x8d\xe5\x90\x8d\xe5\x89"
	"\x8d\xe5\x90\x8d\xe5\x89\x8d\xe5\x90\x8d\xe5\x89\x8d",
	/* 63 bytes, NAMEDATALEN - 1 */
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789x",
	"\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b"
	"\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b",
	"",
};

static void fill_group(struct report_group *g, const char *user,
		       const char *app, int connections)
{
	memset(g, 0, sizeof(*g));
	g->keys[GROUP_KEY_USER] = user;
	g->keys[GROUP_KEY_APP] = app;
	g->connections = connections;
	g->baseline = 2;
	g->peak = connections;
	g->minimum = 2;
	g->states[SESSION_STATE_IDLE] = connections;
	g->oldest_idle_tx_s = NAN;
	g->oldest_xact_s = NAN;
	g->first_flagged_s = NAN;
	g->forecast_s = INFINITY;
	g->forecast_name = "";
	g->role_limit = -1;
	g->role_usage_pct = NAN;
	g->db_limit = -1;
	g->db_usage_pct = NAN;
	g->trend.p_value = 1;
	g->verdict = "ok";
	g->opened_per_min = NAN;
	g->median_lifetime_s = NAN;
	g->sessions.unused_min_s = NAN;
	g->sessions.unused_max_s = NAN;
	g->sessions.every_s = NAN;
	g->sessions.threshold_s = NAN;
	g->sessions.opened_per_min = NAN;
	g->sessions.median_lifetime_s = NAN;
}

/*
 * A watch report over 10 minutes: a leaking group named name/name with a
 * forecast against role name's limit, a steady group, one idle-in-
 * transaction session, limits, a warning and a failed check, all
 * carrying name.  Arrays are heap copies so report_finish() frees them.
 */
void support_build_report(struct report *r, const char *name)
{
	struct report_group *g;
	struct report_session *s;
	struct report_limit *l;
	char where[128];

	report_init(r);
	r->mode = "watch";
	strcpy(r->server.version, "15.18");
	r->server.version_num = 150018;
	r->server.max_connections = 100;
	r->server.superuser_reserved = 3;
	r->server.idle_session_timeout_s = 300;
	r->server.can_read_all_stats = true;
	snprintf(r->server.current_user, sizeof(r->server.current_user), "%s",
		 name);
	r->usable_connections = 97;
	r->server_label = name;
	r->started_epoch_s = 1795348800;
	r->ended_epoch_s = 1795348800 + 600;
	r->samples = 600;
	r->interval_s = 1;
	r->window_s = 300;
	match_default_group_keys(&r->keys);
	r->total = 42;
	r->total_all = 42;
	r->usage_pct = 43.3;
	r->unknown_states = 0;
	r->sessions_opened_total = 120;
	r->sessions_opened_per_min = 12;
	r->sessions_opened_run = 120;
	r->sessions_opened_seen = 95;

	r->group_count = 2;
	r->groups = calloc(r->group_count, sizeof(*r->groups));
	g = &r->groups[0];
	fill_group(g, name, name, 30);
	g->states[SESSION_STATE_IDLE] = 27;
	g->states[SESSION_STATE_IDLE_TX] = 1;
	g->states[SESSION_STATE_ACTIVE] = 2;
	g->trend.flagged = true;
	g->flagged = true;
	g->verdict = "leaking";
	g->by_sessions = true;
	g->trend.slope_per_min = 60;
	g->trend.net_growth = 28;
	g->trend.p_value = 0.001;
	g->trend.confidence = 0.999;
	g->trend.span_s = 28;
	g->trend.points = 29;
	g->first_flagged_s = 7;
	g->forecast_s = 250;
	g->forecast_kind = LIMIT_KIND_ROLE;
	g->forecast_name = name;
	g->forecast_limit = 40;
	g->role_limit = 40;
	g->role_usage_pct = 75;
	g->holder.pid = 4244;
	g->holder.command = name;
	g->holder.relation = CLIENT_RELATION_DESCENDANT;
	g->holder_sessions = 24;
	g->holder_seen_s = 61.5;
	/* 24 of its 30 sessions left unused, one every ~12 s; two listed. */
	g->sessions.known = true;
	g->sessions.tracked = 30;
	g->sessions.abandoned = 24;
	g->sessions.busy = 6;
	g->sessions.unused_min_s = 40;
	g->sessions.unused_max_s = 310;
	g->sessions.every_s = 11.5;
	g->sessions.spread = true;
	g->sessions.recent = 24;
	g->sessions.threshold_s = 30;
	g->evidence_total = 24;
	g->evidence_count = 2;
	g->evidence = arena_alloc(&r->arena, 2 * sizeof(*g->evidence));
	for (int i = 0; i < 2; i++) {
		struct report_evidence *e = &g->evidence[i];

		memset(e, 0, sizeof(*e));
		e->pid = 5000 + i;
		e->database = name;
		e->opened_epoch_s = r->started_epoch_s + 60 + 12 * i;
		e->last_used_epoch_s = e->opened_epoch_s + 1;
		e->unused_s = 310 - 12 * i;
		e->closed_epoch_s = NAN;
		e->state = SESSION_STATE_IDLE;
		e->query = name;
		e->client.pid = 4244;
		e->client.command = name;
		e->client.relation = CLIENT_RELATION_DESCENDANT;
	}
	g->opened_per_min = 5.2;
	g->median_lifetime_s = 1.5;
	g->closed_seen = 3;
	g->idle_tx_over_age = 1;
	fill_group(&r->groups[1], "app", "api", 12);

	r->idle_tx_count = 1;
	r->idle_tx = calloc(1, sizeof(*r->idle_tx));
	s = &r->idle_tx[0];
	s->pid = 4242;
	s->user = name;
	s->app = name;
	s->db = name;
	s->client_addr = "10.0.0.7";
	s->client_port = 50432;
	s->state = SESSION_STATE_IDLE_TX;
	s->idle_s = 75.2;
	s->xact_age_s = 80;
	s->stuck_for_s = 75;
	s->over_age = true;
	s->query = name;
	s->client.pid = 4243;
	s->client.command = name;
	s->client.relation = CLIENT_RELATION_COMMAND;

	r->limit_count = 2;
	r->limits = calloc(r->limit_count, sizeof(*r->limits));
	l = &r->limits[0];
	l->kind = LIMIT_KIND_SERVER;
	l->name = "";
	l->limit = 97;
	l->used = 42;
	l->usage_pct = 43.3;
	l = &r->limits[1];
	l->kind = LIMIT_KIND_ROLE;
	l->name = name;
	l->limit = 40;
	l->used = 30;
	l->usage_pct = 75;

	report_add_warning(r, "role \"%s\" cannot see other roles' states",
			   name);
	snprintf(where, sizeof(where), "group %s/%s", name, name);
	check_list_add(&r->checks, "max-per-group", where, 10, 30, false);
	check_list_add(&r->checks, "max-total", "total", 100, 42, true);
	r->exit_code = 1;
	/* The flags and near-limits, as report_build() decides them. */
	report_judge(r);
}

const size_t support_hostile_count = sizeof(support_hostile) /
				     sizeof(support_hostile[0]);

void support_run_init(struct support_run *run)
{
	/* Zeroed: a field left out (wrap) is false, not stack bytes. */
	struct pipeline_config config = {0};

	memset(run, 0, sizeof(*run));
	sample_init(&run->sample);
	match_default_group_keys(&run->keys);
	match_filter_init(&run->filter);
	check_thresholds_init(&run->thresholds);
	config.keys = run->keys;
	config.filter = &run->filter;
	config.thresholds = &run->thresholds;
	config.window_s = 300;
	config.interval_s = 1;
	pipeline_init(&run->pipeline, &config);
	report_init(&run->report);
}

void support_run_absorb(struct support_run *run)
{
	pipeline_absorb(&run->pipeline, &run->sample);
}

void support_run_fail(struct support_run *run, double epoch_s)
{
	pipeline_absorb_failure(&run->pipeline, epoch_s, "connection refused");
}

void support_run_report(struct support_run *run, const struct run_facts *facts)
{
	report_finish(&run->report);
	report_init(&run->report);
	pipeline_report(&run->pipeline, facts, &run->report);
}

const struct history *support_run_history(const struct support_run *run)
{
	return pipeline_history(&run->pipeline);
}

void support_run_finish(struct support_run *run)
{
	report_finish(&run->report);
	pipeline_finish(&run->pipeline);
	match_filter_finish(&run->filter);
	sample_finish(&run->sample);
}

char *support_render_text(const struct report *r, int width, bool utf8,
			  bool color)
{
	struct text_style st = {utf8, color, width};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	report_text_write(f, r, &st);
	fclose(f);
	return out;
}

char *support_render_json(const struct report *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	report_json_write(f, r, "0.1.0");
	fclose(f);
	return out;
}
