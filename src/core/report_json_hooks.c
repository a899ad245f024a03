/*
 * report_json_hooks.c - the client hooks' word in the JSON report (the
 * model is report_hooks.c's): "client_hooks", with each leak's test,
 * client and backend pids, the stack that took it (at most 20 frames,
 * innermost first) and the server's evidence beside it.
 */
#include "report_hooks.h"

#include <math.h>
#include <string.h>

/* s is the string want (NULL is none). */
static bool is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

static void write_stack(struct json_writer *w,
			const struct report_client_leak *l)
{
	json_key(w, "stack");
	json_begin_array(w);
	for (size_t i = 0; i < l->stack_count; i++) {
		json_begin_object(w);
		json_key(w, "file");
		json_string(w, l->stack[i].file);
		json_key(w, "line");
		json_int(w, l->stack[i].line);
		json_key(w, "func");
		json_string(w, l->stack[i].func);
		json_end_object(w);
	}
	json_end_array(w);
}

/* "server": its session as the server saw it, null when none matched. */
static void write_server(struct json_writer *w,
			 const struct report_client_leak *l)
{
	json_key(w, "server");
	if (!l->matched) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_key(w, "state");
	json_string(w, sample_state_key(l->state));
	json_key(w, "idle_in_transaction_s");
	json_double(w, isfinite(l->idle_tx_s) ? l->idle_tx_s : NAN, 3);
	json_key(w, "unused_s");
	json_double(w, l->unused_s, 3);
	json_end_object(w);
}

static void write_leak(struct json_writer *w,
		       const struct report_client_leak *l)
{
	json_begin_object(w);
	json_key(w, "kind");
	json_string(w, l->checkout ? "checkout" : "connection");
	json_key(w, "test");
	json_string(w, l->test);
	json_key(w, "client_pid");
	json_int(w, l->pid);
	json_key(w, "backend_pid");
	if (l->backend_pid > 0) {
		json_int(w, l->backend_pid);
	} else {
		json_null(w);
	}
	json_key(w, "lib");
	json_string(w, l->lib);
	json_key(w, "pool");
	json_string(w, l->pool);
	json_key(w, "at_epoch_s");
	json_double(w, l->at_epoch_s, 3);
	json_key(w, "collected");
	json_bool(w, is(l->lost_how, "gc") || is(l->closed_by, "gc"));
	json_key(w, "closed_by");
	json_string(w, l->closed_by);
	json_key(w, "lost_by");
	json_string(w, l->lost_how);
	json_key(w, "knew");
	json_string(w, l->server_knew ? "both" : "client");
	write_stack(w, l);
	write_server(w, l);
	json_end_object(w);
}

void report_hooks_write_json(struct json_writer *w, const struct report *r)
{
	const struct report_hooks *h = &r->hooks;

	json_key(w, "client_hooks");
	json_begin_object(w);
	json_key(w, "reported");
	json_bool(w, h->reported);
	json_key(w, "processes");
	json_int(w, (long long)h->processes);
	json_key(w, "connections");
	json_int(w, (long long)h->connections);
	json_key(w, "checkouts_never_returned");
	json_int(w, (long long)h->checkouts_out);
	json_key(w, "connections_never_closed");
	json_int(w, (long long)h->unclosed);
	json_key(w, "resting_in_pool");
	json_int(w, (long long)h->cleared);
	json_key(w, "lines_dropped");
	json_int(w, h->dropped);
	json_key(w, "lines_refused");
	json_int(w, (long long)h->refused);
	json_key(w, "leaks");
	json_begin_array(w);
	for (size_t i = 0; i < h->leak_count; i++) {
		write_leak(w, &h->leaks[i]);
	}
	json_end_array(w);
	json_key(w, "leaks_not_listed");
	json_int(w, (long long)h->leaks_left_out);
	json_key(w, "unhooked");
	json_begin_array(w);
	for (size_t i = 0; i < h->unhooked_count; i++) {
		json_string(w, h->unhooked[i]);
	}
	json_end_array(w);
	json_end_object(w);
}
