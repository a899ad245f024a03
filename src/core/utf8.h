/*
 * utf8.h - strict UTF-8 decoding, shared by the two escapers (text.c for
 * terminals, json.c for JSON) so they agree on what is valid.
 */
#ifndef PGDRIP_UTF8_H
#define PGDRIP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes one sequence at s (len bytes left, len > 0).  Returns its
 * length and the code point in *cp, or 0 when the bytes are not valid
 * UTF-8: overlong forms, surrogates, beyond U+10FFFF, cut short.
 */
size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp);

/*
 * True for a valid character that must never reach a reader raw where a
 * name is shown, because it is invisible or moves what follows: zero
 * width and format characters (U+200B-U+200F, U+2060-U+2064, U+FEFF,
 * the soft hyphen, tags), bidi controls (U+202A-U+202E, U+2066-U+2069,
 * U+061C) and the line and paragraph separators.  A role "z\u200bw"
 * would print as "zw" and shift a table's columns.  Every door (text.c,
 * json.c, the exposition) escapes the same set.
 */
bool utf8_is_hidden(unsigned cp);

#endif
