/*
 * fuzz_text.c - whatever bytes a name holds, the sanitizer lets no
 * control byte through, its text reads back as those bytes, and cells
 * keep their width.
 */
#include "text.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 with no C1 control and no bidi override/isolate. */
static void check_utf8(const unsigned char *p)
{
	while (*p != '\0') {
		unsigned cp;
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = (*p & 0xE0) == 0xC0   ? 2
		    : (*p & 0xF0) == 0xE0 ? 3
		    : (*p & 0xF8) == 0xF0 ? 4
					  : 0;
		assert(n > 0);
		cp = *p & (0x7F >> n);
		for (size_t k = 1; k < n; k++) {
			assert((p[k] & 0xC0) == 0x80);
			cp = (cp << 6) | (p[k] & 0x3F);
		}
		assert(cp >= 0xA0 && cp <= 0x10FFFF);
		assert(!(cp >= 0xD800 && cp <= 0xDFFF));
		assert(!(cp >= 0x202A && cp <= 0x202E));
		assert(!(cp >= 0x2066 && cp <= 0x2069));
		assert(n == 2 || cp >= (n == 3 ? 0x800u : 0x10000u));
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[4096];
	char *cell = NULL;
	size_t cell_len = 0;
	FILE *f;
	char *copy = malloc(size + 1);

	for (int utf8 = 0; utf8 <= 1; utf8++) {
		size_t len;

		text_sanitize(out, sizeof(out), (const char *)data, size, utf8);
		for (const unsigned char *p = (const unsigned char *)out; *p;
		     p++) {
			assert(*p >= 0x20 && *p != 0x7f);
			assert(utf8 || *p < 0x80);
		}
		check_utf8((const unsigned char *)out);
		/* Uncut, the text reads back as the very bytes: two names
		 * that differ never print alike. */
		len = strlen(out);
		if (len + 8 < sizeof(out)) {
			assert(text_unescape(out, len) == size);
			assert(memcmp(out, data, size) == 0);
		}
	}
	memcpy(copy, data, size);
	copy[size] = '\0';
	f = open_memstream(&cell, &cell_len);
	text_write_cell(f, copy, 12, false, true);
	fclose(f);
	assert(text_width(cell, true) == 12);
	check_utf8((const unsigned char *)cell);
	free(cell);
	/* Right-aligned, ASCII-only and cut without padding. */
	f = open_memstream(&cell, &cell_len);
	text_write_cell(f, copy, 7, true, false);
	fclose(f);
	assert(text_width(cell, false) == 7);
	free(cell);
	f = open_memstream(&cell, &cell_len);
	text_write_cut(f, copy, 9, true);
	fclose(f);
	assert(text_width(cell, true) <= 9);
	check_utf8((const unsigned char *)cell);
	free(cell);
	free(copy);
	return 0;
}
