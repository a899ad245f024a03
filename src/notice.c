/*
 * notice.c - messages to the user, held while the live view owns the
 * terminal (see notice.h).  A bounded queue: a flood (a server saying
 * the same thing every sample) keeps its first lines and a count.
 */
#include "notice.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NOTICE_KEPT = 64, NOTICE_LINE = 512 };

static struct {
	pthread_mutex_t lock;
	bool holding;
	char held[NOTICE_KEPT][NOTICE_LINE];
	size_t count; /* lines said while holding */
	char latest[NOTICE_LINE];
} notices = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One line: newlines and other control bytes never reach the terminal
 * raw (a server message is the server's text). */
static void clean(char *line)
{
	char *out = line;

	for (const char *p = line; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != 0x7F) {
			*out++ = (char)c;
		} else if (c == '\t' || c == '\n') {
			*out++ = ' ';
		}
	}
	*out = '\0';
}

void notice_say(const char *fmt, ...)
{
	char line[NOTICE_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	clean(line);
	pthread_mutex_lock(&notices.lock);
	if (!notices.holding) {
		fprintf(stderr, "pgdrip: %s\n", line);
	} else {
		if (notices.count < NOTICE_KEPT) {
			memcpy(notices.held[notices.count], line, sizeof(line));
		}
		notices.count++;
		memcpy(notices.latest, line, sizeof(line));
	}
	pthread_mutex_unlock(&notices.lock);
}

void notice_hold(bool hold)
{
	pthread_mutex_lock(&notices.lock);
	if (notices.holding && !hold) {
		size_t kept = notices.count < NOTICE_KEPT ? notices.count
							  : NOTICE_KEPT;

		for (size_t i = 0; i < kept; i++) {
			fprintf(stderr, "pgdrip: %s\n", notices.held[i]);
		}
		if (notices.count > kept) {
			fprintf(stderr, "pgdrip: ... and %zu more messages\n",
				notices.count - kept);
		}
		notices.count = 0;
		notices.latest[0] = '\0';
	}
	notices.holding = hold;
	pthread_mutex_unlock(&notices.lock);
}

size_t notice_latest(char *buf, size_t size)
{
	size_t n;

	pthread_mutex_lock(&notices.lock);
	snprintf(buf, size, "%s", notices.latest);
	n = notices.count;
	pthread_mutex_unlock(&notices.lock);
	return n;
}
