/*
 * notice.h - pgdrip's messages to its user: one line each on stderr,
 * "pgdrip: " first.  While the live view owns the terminal nothing may
 * write to it but the view: lines are held (the newest shown on the
 * view's status line) and printed when the view gives the terminal back.
 */
#ifndef PGDRIP_NOTICE_H
#define PGDRIP_NOTICE_H

#include "core/common.h"

#include <stdbool.h>
#include <stddef.h>

/* One line: "pgdrip: " then fmt; control bytes in it are dropped.  Safe
 * from any thread. */
void notice_say(const char *fmt, ...) PGD_PRINTF(1, 2);

/* Holds lines from now on (true) or prints the held ones and writes
 * straight to stderr again (false). */
void notice_hold(bool hold);

/* The newest line said while held (without the prefix) into buf, and
 * how many lines are held; 0 and "" when none. */
size_t notice_latest(char *buf, size_t size);

#endif
