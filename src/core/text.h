/*
 * text.h - the only way a name or query from the server reaches a
 * terminal or a text report: every control byte and every byte that is
 * not valid UTF-8 (or not ASCII, on a non-UTF-8 terminal) becomes a
 * visible escape, and display widths are computed on the result.
 */
#ifndef PGDRIP_TEXT_H
#define PGDRIP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct text_style {
	bool utf8;  /* terminal/locale takes UTF-8: pass valid sequences */
	bool color; /* ANSI colours allowed (renderers decide where) */
	int width;  /* columns available; 0 means 80 */
};

/*
 * Writes a sanitized copy of src (len bytes) into dst (NUL-terminated,
 * cut at a character boundary if dst is too small).  Escapes: \e for
 * ESC, \n \r \t, \xNN for other C0/DEL/C1 bytes and invalid UTF-8,
 * and \xNN for each byte of an invisible or bidi character
 * (utf8_is_hidden: zero-width and format characters, bidi controls,
 * U+2028/U+2029; they hide a difference, reorder or break a line); a backslash
 * is doubled (\\), so every escape stands for one byte and two names that
 * differ never print alike: the byte 0xFF is \xff, the four characters \xff are
 * \\xff. Returns the display width (columns) of what was written.
 */
int text_sanitize(char *dst, size_t dst_size, const char *src, size_t len,
		  bool utf8);

/*
 * Reverses pgdrip's escapes in s (len bytes), in place: \\ to one
 * backslash, \xNN to the byte NN, \e \n \r \t to ESC, LF, CR, TAB;
 * a backslash before anything else is kept.  Returns the new length
 * (s is NUL-terminated there; it may hold NUL bytes).  What
 * text_sanitize() writes, and a JSON or exposition value once its own
 * quoting is undone, reads back as the bytes it came from.
 */
size_t text_unescape(char *s, size_t len);

/* Display width of an already sanitized string. */
int text_width(const char *sanitized, bool utf8);

/*
 * Writes src sanitized to out, padded with spaces or cut (ending in "…"
 * or "~") to exactly width columns; width < 0 means no padding/cutting.
 * align_right pads on the left.
 */
void text_write_cell(FILE *out, const char *src, int width, bool align_right,
		     bool utf8);

/*
 * Writes src sanitized to out, cut (ending in "…" or "~") to at most
 * max_width columns but never padded; max_width < 0 means no cutting.
 */
void text_write_cut(FILE *out, const char *src, int max_width, bool utf8);

#endif
