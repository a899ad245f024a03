/*
 * fuzz_json.c - whatever bytes a string holds, the JSON writer emits a
 * valid, control-free UTF-8 string literal whose value reads back as
 * those bytes.
 */
#include "common.h"
#include "json.h"
#include "text.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks UTF-8 validity and the absence of raw control bytes. */
static void check_utf8(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n = c < 0x80             ? 1
			   : (c & 0xE0) == 0xC0 ? 2
			   : (c & 0xF0) == 0xE0 ? 3
			   : (c & 0xF8) == 0xF0 ? 4
						: 0;

		assert(n > 0 && i + n <= len);
		assert(c >= 0x20);
		for (size_t k = 1; k < n; k++) {
			assert((p[i + k] & 0xC0) == 0x80);
		}
		i += n;
	}
}

/* The value of the JSON string literal s (len bytes, quotes included)
 * into dst, as a JSON parser reads it; returns its length.  Only the
 * escapes json.c writes (\uXXXX below U+10000). */
static size_t json_value(const char *s, size_t len, char *dst)
{
	size_t n = 0;

	for (size_t i = 1; i + 1 < len; i++) {
		unsigned cp = 0;

		if (s[i] != '\\') {
			dst[n++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'n':
			dst[n++] = '\n';
			break;
		case 'r':
			dst[n++] = '\r';
			break;
		case 't':
			dst[n++] = '\t';
			break;
		case 'u':
			assert(i + 4 < len);
			for (int k = 1; k <= 4; k++) {
				int h = common_hex_digit(s[i + k]);

				assert(h >= 0);
				cp = cp * 16 + (unsigned)h;
			}
			i += 4;
			assert(cp < 0xD800 || cp > 0xDFFF);
			if (cp < 0x80) {
				dst[n++] = (char)cp;
			} else if (cp < 0x800) {
				dst[n++] = (char)(0xC0 | cp >> 6);
				dst[n++] = (char)(0x80 | (cp & 0x3F));
			} else {
				dst[n++] = (char)(0xE0 | cp >> 12);
				dst[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
				dst[n++] = (char)(0x80 | (cp & 0x3F));
			}
			break;
		default:
			assert(s[i] == '"' || s[i] == '\\' || s[i] == '/');
			dst[n++] = s[i];
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char *value;

	json_write_escaped(f, (const char *)data, size);
	fclose(f);
	assert(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	check_utf8((const unsigned char *)out, len);
	/* The value, its escapes undone, is the very bytes: two names that
	 * differ never make the same string. */
	value = malloc(len + 1);
	assert(json_unescape_value(value, json_value(out, len, value)) == size);
	assert(memcmp(value, data, size) == 0);
	free(value);
	free(out);
	return 0;
}
