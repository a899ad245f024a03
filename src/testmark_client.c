/*
 * testmark_client.c - "pgdrip --test-mark VERB NAME..." (see
 * testmark.h): one boundary line sent to $PGDRIP_TESTS, and its answer
 * waited for.
 */
#include "testmark.h"

#include "notice.h"

#include "core/tests.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- pgdrip --test-mark VERB NAME... ---- */

/* "VERB@PPID NAME\n", the words of the name joined by spaces and any
 * newline in them made a space (a line is the protocol's unit). */
static char *client_line(char *const words[], struct errbuf *err)
{
	struct tests_line parsed;
	size_t len = 32;
	char *line;
	size_t used;

	for (size_t i = 0; words[i] != NULL; i++) {
		len += strlen(words[i]) + 1;
	}
	line = xmalloc(len);
	used = (size_t)snprintf(line, len, "%s@%d", words[0], (int)getppid());
	for (size_t i = 1; words[i] != NULL; i++) {
		used += (size_t)snprintf(line + used, len - used, " %s",
					 words[i]);
	}
	for (char *p = line; *p != '\0'; p++) {
		*p = *p == '\n' || *p == '\r' ? ' ' : *p;
	}
	if (used + 1 >= TESTS_LINE_MAX ||
	    !tests_parse_line(line, used, &parsed, err)) {
		if (used + 1 >= TESTS_LINE_MAX) {
			errbuf_set(err, "the test name is too long");
		}
		free(line);
		return NULL;
	}
	line[used] = '\n';
	line[used + 1] = '\0';
	return line;
}

static bool send_line(const char *path, const char *line, char *reply,
		      size_t size, struct errbuf *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		errbuf_set(err, "cannot reach the tests' socket \"%s\": %s",
			   path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	while (got + 1 < size && memchr(reply, '\n', got) == NULL &&
	       poll(&pfd, 1, 60000) > 0) {
		ssize_t n = read(fd, reply + got, size - 1 - got);

		if (n <= 0) {
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok", 2) != 0) {
		errbuf_set(err, "the tests' socket answered \"%s\"",
			   got > 0 ? reply : "nothing");
		return false;
	}
	return true;
}

int testmark_client(char *const words[])
{
	const char *path = getenv("PGDRIP_TESTS");
	struct errbuf err;
	char reply[512];
	char *line;
	bool ok;

	if (words[0] == NULL) {
		notice_say("--test-mark needs a verb (start, end, setup or "
			   "setup-end) and a test name");
		return PGD_EXIT_USAGE;
	}
	line = client_line(words, &err);
	if (line == NULL) {
		notice_say("--test-mark: %s", err.msg);
		return PGD_EXIT_USAGE;
	}
	if (path == NULL || path[0] == '\0') {
		/* Not under pgdrip: a suite runs as it would without it. */
		free(line);
		return PGD_EXIT_OK;
	}
	ok = send_line(path, line, reply, sizeof(reply), &err);
	free(line);
	if (!ok) {
		notice_say("--test-mark: %s", err.msg);
		return PGD_EXIT_UNAVAILABLE;
	}
	return PGD_EXIT_OK;
}
