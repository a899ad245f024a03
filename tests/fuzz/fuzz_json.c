/*
 * fuzz_json.c - whatever bytes a string holds, the JSON writer emits a
 * valid, control-free UTF-8 string literal.
 */
#include "json.h"

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
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
			 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;

		assert(n > 0 && i + n <= len);
		assert(c >= 0x20);
		for (size_t k = 1; k < n; k++) {
			assert((p[i + k] & 0xC0) == 0x80);
		}
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	json_write_escaped(f, (const char *)data, size);
	fclose(f);
	assert(len >= 2 && out[0] == '"' && out[len - 1] == '"');
	check_utf8((const unsigned char *)out, len);
	free(out);
	return 0;
}
