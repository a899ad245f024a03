/*
 * conninfo.h - display-safe forms of what the user passed with -d: a
 * conninfo string or URI with its password removed, for error messages
 * and reports.
 */
#ifndef PGDRIP_CONNINFO_H
#define PGDRIP_CONNINFO_H

#include <stddef.h>

/*
 * Copies text into dst with any password masked: "password=secret" in a
 * conninfo string becomes "password=***", and "postgresql://u:secret@h"
 * becomes "postgresql://u:***@h" (also ?password=...).  Always
 * NUL-terminates.
 */
void conninfo_mask_password(char *dst, size_t dst_size, const char *text);

/* Replaces every occurrence of secret (if non-empty) in buf by "***",
 * in place: a belt for libpq messages that might echo it. */
void conninfo_scrub(char *buf, size_t buf_size, const char *secret);

#endif
