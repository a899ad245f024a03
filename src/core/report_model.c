/*
 * report_model.c - the view model's own services (see report.h): its
 * start and end, the strings it keeps, warnings, labels, limits and
 * their names.  The builder (report.c) and its parts (report_pooler.c,
 * report_sessions.c, report_checks.c) all call down here, none back up.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *report_limit_kind_name(enum limit_kind kind)
{
	switch (kind) {
	case LIMIT_KIND_SERVER:
		return "server";
	case LIMIT_KIND_ROLE:
		return "role";
	case LIMIT_KIND_DATABASE:
		return "database";
	case LIMIT_KIND_CLIENTS:
		return "clients";
	case LIMIT_KIND_POOL:
		return "pool";
	case LIMIT_KIND_POOL_DATABASE:
		return "pool_database";
	case LIMIT_KIND_POOL_USER:
		return "pool_user";
	case LIMIT_KIND_CLIENT_DATABASE:
		return "client_database";
	case LIMIT_KIND_CLIENT_USER:
		return "client_user";
	}
	return "server";
}

void report_init(struct report *report)
{
	memset(report, 0, sizeof(*report));
	check_list_init(&report->checks);
	arena_init(&report->arena);
	report->server.idle_session_timeout_s = NAN;
	report->server_label = "";
	report->mode = "once";
	report->sessions_opened_total = NAN;
	report->sessions_opened_per_min = NAN;
	report->sessions_opened_run = NAN;
	report->sessions_opened_seen = NAN;
	report->command_status = -1;
	report->self_cpu_s = NAN;
	report->listen_refused_total = NAN;
	report->last_sample_s = NAN;
	report->last_sample_epoch_s = NAN;
	report->client_idle_timeout_s = NAN;
}

void report_finish(struct report *report)
{
	if (report == NULL) {
		return;
	}
	free(report->groups);
	free(report->breakdown);
	free(report->idle_tx);
	free(report->detail);
	free(report->limits);
	free(report->pools);
	free(report->warnings);
	check_list_finish(&report->checks);
	arena_finish(&report->arena);
	report_init(report);
}

static const char *keep(struct report *report, const char *s)
{
	return arena_strdup(&report->arena, s);
}

void report_add_warning(struct report *report, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report->warnings = xrealloc(report->warnings,
				    (report->warning_count + 1) *
					    sizeof(*report->warnings));
	report->warnings[report->warning_count++] = arena_strdup(&report->arena,
								 buf);
}

char *report_group_label(const struct report *report,
			 const struct report_group *group, char *buf,
			 size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < report->keys.count; i++) {
		const char *key = group->keys[report->keys.keys[i]];
		int n = snprintf(buf + used, len - used, "%s%s",
				 i > 0 ? "/" : "", key != NULL ? key : "");

		if (n < 0 || (size_t)n >= len - used) {
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

double report_usage_pct(int used, int limit)
{
	if (limit <= 0) {
		return used > 0 ? 100.0 : 0.0;
	}
	return 100.0 * used / limit;
}

void report_add_limit(struct report *report, enum limit_kind kind,
		      const char *name, int limit, int used)
{
	struct report_limit *l;

	report->limits = xrealloc(report->limits,
				  (report->limit_count + 1) *
					  sizeof(*report->limits));
	l = &report->limits[report->limit_count++];
	l->kind = kind;
	l->name = keep(report, name);
	l->limit = limit;
	l->used = used;
	l->usage_pct = report_usage_pct(used, limit);
}

const struct report_limit *report_find_limit(const struct report *report,
					     enum limit_kind kind,
					     const char *name)
{
	if (name == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < report->limit_count; i++) {
		if (report->limits[i].kind == kind &&
		    strcmp(report->limits[i].name, name) == 0) {
			return &report->limits[i];
		}
	}
	return NULL;
}

/* The role pgdrip runs as, as SQL writes it: quoted unless it is a
 * plain lower-case identifier ("GRANT pg_monitor TO \"CI Bot\""). */
void report_role_identifier(const struct report *report, char *buf, size_t len)
{
	const char *role = report->server.current_user;
	bool plain = (role[0] >= 'a' && role[0] <= 'z') || role[0] == '_';
	size_t used = 0;

	if (role[0] == '\0') {
		snprintf(buf, len, "<role>");
		return;
	}
	for (const char *p = role; *p != '\0'; p++) {
		plain &= (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			 *p == '_';
	}
	if (plain) {
		snprintf(buf, len, "%s", role);
		return;
	}
	buf[used++] = '"';
	for (const char *p = role; *p != '\0' && used + 3 < len; p++) {
		if (*p == '"') {
			buf[used++] = '"';
		}
		buf[used++] = *p;
	}
	buf[used++] = '"';
	buf[used] = '\0';
}
