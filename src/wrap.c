/*
 * wrap.c - spawning and reaping the wrapped command (see wrap.h).
 */
#include "wrap.h"

#include "core/mask.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool wrap_start(struct wrapped *w, char *const argv[], struct errbuf *err)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		errbuf_set(err, "cannot start \"%s\": %s", argv[0],
			   strerror(errno));
		return false;
	}
	if (pid == 0) {
		/* The child gets default dispositions back (SIGPIPE and
		 * SIGXFSZ were ignored by us; execvp keeps ignored signals
		 * ignored). */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGXFSZ, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "pgdrip: cannot run \"%s\": %s\n", argv[0],
			strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	w->pid = pid;
	w->status = -1;
	return true;
}

bool wrap_poll(struct wrapped *w)
{
	int status;
	pid_t r;

	if (w->pid <= 0) {
		return true;
	}
	r = waitpid(w->pid, &status, WNOHANG);
	if (r != w->pid) {
		return false;
	}
	if (WIFEXITED(status)) {
		w->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		w->status = 128 + WTERMSIG(status);
	} else {
		return false;
	}
	w->pid = 0;
	return true;
}

void wrap_forward(const struct wrapped *w, int signo)
{
	if (w->pid > 0) {
		kill(w->pid, signo);
	}
}

char *wrap_command_line(char *const argv[])
{
	size_t len = 0;
	size_t used;
	char *raw;
	char *line;

	for (size_t i = 0; argv[i] != NULL; i++) {
		len += strlen(argv[i]) + 1;
	}
	/* As /proc/PID/cmdline holds it, so the command's passwords are
	 * masked as every client's are. */
	raw = xmalloc(len + 1);
	len = 0;
	for (size_t i = 0; argv[i] != NULL; i++) {
		memcpy(raw + len, argv[i], strlen(argv[i]) + 1);
		len += strlen(argv[i]) + 1;
	}
	line = xmalloc(3 * len + 16);
	used = mask_command_line(line, 3 * len + 16, raw, len);
	free(raw);
	/* The arguments joined by spaces: every NUL but the last. */
	for (size_t i = 0; i + 1 < used; i++) {
		if (line[i] == '\0') {
			line[i] = ' ';
		}
	}
	return line;
}
