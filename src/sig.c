/*
 * sig.c - self-pipe signal handling (see sig.h).  Handlers do only
 * async-signal-safe things: set a sig_atomic_t and write(2) one byte.
 */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int pipe_fds[2] = {-1, -1};
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t child_flag;
static volatile sig_atomic_t winch_flag;
static volatile sig_atomic_t cont_flag;
static volatile sig_atomic_t stop_from_process;
static volatile sig_atomic_t stop_count;

static void on_signal(int signo, siginfo_t *info, void *context)
{
	int saved = errno;
	char byte = 0;

	(void)context;

	if (signo == SIGCHLD) {
		child_flag = 1;
	} else if (signo == SIGWINCH) {
		winch_flag = 1;
	} else if (signo == SIGCONT) {
		cont_flag = 1;
	} else if (signo == SIGUSR1 || signo == SIGUSR2) {
		/* Not ours to act on; their default would end pgdrip
		 * without a report.  (A handler, not SIG_IGN: a wrapped
		 * command gets the default back at exec.) */
	} else {
		if (stop_signal == 0) {
			stop_signal = signo;
			stop_from_process = info != NULL && info->si_code <= 0;
		}
		stop_count++;
	}
	/* A full pipe already holds a wake-up: losing this byte is fine. */
	if (write(pipe_fds[1], &byte, 1) < 0) {
		(void)0;
	}
	errno = saved;
}

static bool set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

bool sig_install(void)
{
	static const int signals[] = {SIGINT,   SIGTERM, SIGHUP,  SIGCHLD,
				      SIGWINCH, SIGCONT, SIGUSR1, SIGUSR2};
	struct sigaction sa;

	if (pipe_fds[0] < 0) {
		if (pipe(pipe_fds) != 0 || !set_nonblocking(pipe_fds[0]) ||
		    !set_nonblocking(pipe_fds[1])) {
			return false;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sigemptyset(&sa.sa_mask);
	/* Restart slow syscalls; poll() still wakes through the pipe. */
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		struct sigaction old;

		/* A hangup ignored by whoever started us (nohup) stays
		 * ignored.  (Not SIGINT: a shell ignores it for every
		 * background job, and kill -INT must still stop one.) */
		if (signals[i] == SIGHUP &&
		    sigaction(signals[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN) {
			continue;
		}
		if (sigaction(signals[i], &sa, NULL) != 0) {
			return false;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* A file past its size limit is a write error (EFBIG) reported
	 * like a full disk, not a core dump. */
	signal(SIGXFSZ, SIG_IGN);
	return true;
}

int sig_fd(void)
{
	return pipe_fds[0];
}

void sig_drain(void)
{
	char buf[64];

	while (read(pipe_fds[0], buf, sizeof(buf)) > 0) {
	}
}

int sig_stop_requested(void)
{
	return stop_signal;
}

unsigned sig_stop_count(void)
{
	return (unsigned)stop_count;
}

bool sig_stop_from_process(void)
{
	return stop_from_process != 0;
}

bool sig_take_child(void)
{
	bool was = child_flag != 0;

	child_flag = 0;
	return was;
}

bool sig_take_continued(void)
{
	bool was = cont_flag != 0;

	cont_flag = 0;
	return was;
}

bool sig_take_winch(void)
{
	bool was = winch_flag != 0;

	winch_flag = 0;
	return was;
}
