/*
 * prompt.c - a password typed on the terminal (see prompt.h).  Echo is
 * turned off for the read and always restored, even when the read
 * fails.
 */
#include "prompt.h"

#include "core/text.h"
#include "output.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

bool prompt_password(const char *label, char *buf, size_t size)
{
	struct termios saved;
	struct termios quiet;
	char shown[256];
	bool echo_off;
	bool ok;
	FILE *tty;

	if (size == 0 || !isatty(STDIN_FILENO)) {
		return false;
	}
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		return false;
	}
	/* The label is the user's own -d, but may hold any byte. */
	text_sanitize(shown, sizeof(shown), label, strlen(label),
		      output_locale_is_utf8());
	fprintf(tty, "Password for %s: ", shown);
	fflush(tty);
	echo_off = tcgetattr(fileno(tty), &saved) == 0;
	if (echo_off) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
	}
	ok = fgets(buf, (int)size, tty) != NULL;
	if (echo_off) {
		tcsetattr(fileno(tty), TCSAFLUSH, &saved);
	}
	fputc('\n', tty);
	fclose(tty);
	if (!ok) {
		buf[0] = '\0';
		return false;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}
