/*
 * sig.h - signals as events: handlers only record the signal and write
 * a byte to a self-pipe, which the main loop poll()s beside the libpq
 * socket and stdin.
 */
#ifndef PGDRIP_SIG_H
#define PGDRIP_SIG_H

#include <signal.h>
#include <stdbool.h>

/* Installs handlers for SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGWINCH,
 * SIGCONT, SIGUSR1 and SIGUSR2,
 * ignores SIGPIPE and SIGXFSZ (a write then fails with EPIPE or EFBIG).
 * Returns false (errno set) if the pipe fails. */
bool sig_install(void);

/* The read end of the self-pipe, for poll(). */
int sig_fd(void);

/* Drains the pipe. */
void sig_drain(void);

/* The first terminating signal received (SIGINT, SIGTERM, SIGHUP), or 0. */
int sig_stop_requested(void);

/* How many terminating signals arrived (a second one means "now"). */
unsigned sig_stop_count(void);

/* True when the stop signal was sent by a process (kill), not by the
 * terminal: only then is it forwarded to a wrapped command, which got
 * the terminal's own signal already. */
bool sig_stop_from_process(void);

/* True once since the last call if SIGCHLD / SIGWINCH arrived. */
bool sig_take_child(void);
bool sig_take_winch(void);

/* True once since the last call if SIGCONT arrived: pgdrip was stopped
 * (SIGSTOP, ^Z) and goes on.  SIGUSR1 and SIGUSR2 are caught and do
 * nothing: their default would end pgdrip without its report. */
bool sig_take_continued(void);

#endif
