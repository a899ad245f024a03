/*
 * bouncer_link.c - a server's sessions that PgBouncer holds (see
 * bouncer.h): marked as pooled, and linked to the pooler's client that
 * pins each one, from the console's last sample.
 */
#include "bouncer.h"

#include <stdio.h>
#include <string.h>

bool bouncer_command_is_pooler(const char *command)
{
	size_t len;
	const char *base = command;

	if (command == NULL) {
		return false;
	}
	len = strcspn(command, " ");
	for (size_t i = 0; i < len; i++) {
		if (command[i] == '/') {
			base = command + i + 1;
		}
	}
	len -= (size_t)(base - command);
	return len == 9 && strncmp(base, "pgbouncer", 9) == 0;
}

void bouncer_mark_pooled(struct sample *sample)
{
	for (size_t i = 0; i < sample->session_count; i++) {
		struct session *s = &sample->sessions[i];

		if (s->client_pid > 0 &&
		    bouncer_command_is_pooler(s->client_command)) {
			s->pooler_pid = s->client_pid;
		}
	}
}

static const struct pooler_server *server_of(const struct sample *console,
					     const struct session *s)
{
	for (size_t i = 0; i < console->pooler.server_count; i++) {
		const struct pooler_server *v = &console->pooler.servers[i];

		/* The user too: a pooler in front of several servers may
		 * hold a backend of another one with the same pid. */
		if (((v->remote_pid > 0 && v->remote_pid == s->pid) ||
		     (v->remote_pid <= 0 && v->local_port > 0 &&
		      v->local_port == s->client_port)) &&
		    strcmp(v->user, s->user) == 0) {
			return v;
		}
	}
	return NULL;
}

static const struct session *client_of(const struct sample *console,
				       const char *ptr)
{
	for (size_t i = 0; i < console->session_count; i++) {
		if (strcmp(console->sessions[i].pooler_ptr, ptr) == 0) {
			return &console->sessions[i];
		}
	}
	return NULL;
}

/* The client as the pooler sees it, and its own process if traced. */
static void take_client(struct sample *server, struct session *s,
			const struct session *client)
{
	char who[300];

	if (client->client_port == -1) {
		snprintf(who, sizeof(who), "local");
	} else {
		snprintf(who, sizeof(who), "%s:%d", client->client_addr,
			 client->client_port);
	}
	s->pooler_client = sample_strdup(server, who);
	if (client->client_pid > 0 && client->client_command[0] != '\0') {
		s->client_pid = client->client_pid;
		s->client_command = sample_strdup(server,
						  client->client_command);
		s->client_relation = client->client_relation;
	}
}

size_t bouncer_link(struct sample *server, const struct sample *console)
{
	size_t linked = 0;

	if (console == NULL ||
	    console->server.source != SAMPLE_SOURCE_PGBOUNCER ||
	    server->server.source != SAMPLE_SOURCE_SERVER) {
		return 0;
	}
	for (size_t i = 0; i < server->session_count; i++) {
		struct session *s = &server->sessions[i];
		const struct pooler_server *v = server_of(console, s);
		const struct session *client;

		if (v == NULL) {
			continue;
		}
		if (s->pooler_pid == 0) {
			s->pooler_pid = -1;
		}
		client = v->link[0] != '\0' ? client_of(console, v->link)
					    : NULL;
		if (client != NULL) {
			take_client(server, s, client);
			linked++;
		}
	}
	return linked;
}
