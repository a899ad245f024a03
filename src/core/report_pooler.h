/*
 * report_pooler.h - the pooler's part of the report: what PgBouncer's
 * admin console adds (its pools, its limits and their forecasts, the
 * waiting clients and client_idle_timeout), and how every renderer says
 * it, so report.c and the renderers each call in once.
 */
#ifndef PGDRIP_REPORT_POOLER_H
#define PGDRIP_REPORT_POOLER_H

#include "json.h"
#include "report.h"
#include "text.h"

#include <stdio.h>

/* The most pooler limits one group's forecast weighs. */
enum { REPORT_POOLER_CANDIDATES = 6 };

/* True for the pooler's limit kinds (LIMIT_KIND_CLIENTS and after; their
 * names are report_limit_kind_name()'s). */
bool report_pooler_is_limit_kind(enum limit_kind kind);

/* PgBouncer's setting behind a kind ("max_client_conn", "pool_size",
 * "max_db_connections", ...). */
const char *report_pooler_setting(enum limit_kind kind);

/*
 * From a console sample (nothing for a server's): the pools, the
 * pooler's limits with their usage, the waiting clients, and warnings
 * for waiting clients and client_idle_timeout.  Called by report_build
 * after the first limit (max_client_conn) is in.
 */
void report_pooler_build(struct report *report, const struct sample *last);

/*
 * The pooler limits group g runs into as its client connections grow,
 * into out (room for REPORT_POOLER_CANDIDATES); returns how many.  A
 * client limit counts its clients whatever the pool mode; a limit on
 * server connections only in session pooling, where each client holds
 * one.
 */
size_t report_pooler_candidates(const struct report *report,
				const struct report_group *g,
				const struct report_limit **out);

/* A group's holder that is a pooler: its pid (else 0). */
int report_pooler_holder_via(int pid, const char *command);

/* "PgBouncer 1.18.0 admin console" or "PostgreSQL 15.18". */
void report_pooler_source_name(char *buf, size_t len, const struct report *r);

/* The text report's "Pools" section (nothing for a server). */
void report_pooler_write_text(FILE *out, const struct report *r,
			      const struct text_style *st);

/* A pool as a JSON object, a count the version does not show as null:
 * the report's and the record's. */
void report_pooler_pool_json(struct json_writer *w,
			     const struct pooler_pool *p);

/* The JSON report's "pooler" member (left out for a server). */
void report_pooler_write_json(struct json_writer *w, const struct report *r);

/* True when p reaches the server through a pooler (via_pid set). */
bool report_pooler_is_via(const struct report_process *p);

/*
 * The process as the text outputs say it, raw bytes (sanitize before
 * showing): "pid 4242 (node app.js)" plus relation (", the wrapped
 * command"; "" none); through a pooler "via pgbouncer (pid 77), its
 * client 127.0.0.1:53448: pid 4242 (node app.js)", or, for the pooler
 * itself, "via pgbouncer (pid 77)".
 */
void report_pooler_process_text(char *buf, size_t len,
				const struct report_process *p,
				const char *relation);

/* "via_pooler": {"pid", "client"} beside a process's members (nothing
 * when p is not through a pooler). */
void report_pooler_via_json(struct json_writer *w,
			    const struct report_process *p);

#endif
