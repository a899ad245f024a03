/*
 * utf8.h - strict UTF-8 decoding, shared by the two escapers (text.c for
 * terminals, json.c for JSON) so they agree on what is valid.
 */
#ifndef PGDRIP_UTF8_H
#define PGDRIP_UTF8_H

#include <stddef.h>

/*
 * Decodes one sequence at s (len bytes left, len > 0).  Returns its
 * length and the code point in *cp, or 0 when the bytes are not valid
 * UTF-8: overlong forms, surrogates, beyond U+10FFFF, cut short.
 */
size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp);

#endif
