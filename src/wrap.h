/*
 * wrap.h - the wrapped command (-- COMMAND): spawn it with the terminal
 * and stdin it was given, forward stop signals, collect its status.
 */
#ifndef PGDRIP_WRAP_H
#define PGDRIP_WRAP_H

#include "core/common.h"

#include <stdbool.h>
#include <sys/types.h>

struct wrapped {
	pid_t pid;  /* 0 when not running */
	int status; /* exit status, 128+N if killed by signal N; -1 running */
};

/* Starts argv[0] (PATH lookup) with argv.  False with err on failure
 * (the command not found is reported after fork as status 127, like a
 * shell, so the message still reaches the terminal). */
PGD_NODISCARD bool wrap_start(struct wrapped *w, char *const argv[],
			      struct errbuf *err);

/* Reaps the child if it exited; true once it has. */
bool wrap_poll(struct wrapped *w);

/* Sends signo to the command if it is still running. */
void wrap_forward(const struct wrapped *w, int signo);

/* The argv joined with spaces, passwords masked as in every client's
 * command line (mask_command_line()); owned by the caller (free). */
char *wrap_command_line(char *const argv[]);

#endif
