/*
 * json.h - a small streaming JSON writer.  Strings are always valid
 * UTF-8 JSON, and what they hold can be told apart and read back:
 * control bytes become \u00XX (the byte itself once parsed); a byte that
 * is not valid UTF-8 becomes the text \xNN in the string's value (the
 * five characters "\\xNN" in the JSON); and a run of backslashes that
 * such a text could follow (before an 'x', or before a byte that is not
 * UTF-8) is doubled in the value, so that a name holding the four
 * characters \xff reads \\xff, never \xff, the byte, while any other
 * backslash (C:\dir, DOMAIN\user) stays one.  json_unescape_value()
 * reverses the value's escapes.  Doubles that are NaN or infinite are
 * written as null.
 */
#ifndef PGDRIP_JSON_H
#define PGDRIP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_writer {
	FILE *out;
	int depth;
	bool need_comma[32];
	bool pretty;    /* indent with two spaces; false gives one line */
	bool after_key; /* a key was written: the value takes no comma */
};

void json_init(struct json_writer *w, FILE *out, bool pretty);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
/* Inside an object: writes "key": and expects a value next. */
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s); /* NULL -> null */
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, long long v);
/* Shortest round-tripping-enough form with at most `decimals` places. */
void json_double(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* Writes s as a JSON string literal (with quotes) to out. */
void json_write_escaped(FILE *out, const char *s, size_t len);

/* The bytes a parsed string value stands for, in place: the \xNN of a
 * byte back to the byte, the doubled backslashes before an 'x' back to
 * one.  Returns the new length (s stays NUL-terminated). */
size_t json_unescape_value(char *s, size_t len);

#endif
