/*
 * fuzz_prom.c - whatever bytes a name holds, it becomes a label value
 * Prometheus' parsers accept: valid UTF-8, no control character, no raw
 * quote, after a backslash only \\, \" or \n; and it reads back as the
 * name.
 */
#include "report_prom.h"
#include "text.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The label value as Prometheus parses it, its escapes then undone, is
 * the name: two names never make one series. */
static void check_reads_back(const char *p, size_t len, const char *name)
{
	char *value = malloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\') {
			i++;
			value[n++] = p[i] == 'n' ? '\n' : p[i];
		} else {
			value[n++] = p[i];
		}
	}
	assert(text_unescape(value, n) == strlen(name));
	assert(memcmp(value, name, strlen(name)) == 0);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks UTF-8 validity and the absence of C0, DEL and C1 controls. */
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
		assert(c >= 0x20 && c != 0x7F);
		/* U+0080..U+009F are encoded C2 80..C2 9F. */
		assert(!(c == 0xC2 && p[i + 1] < 0xA0));
		for (size_t k = 1; k < n; k++) {
			assert((p[i + k] & 0xC0) == 0x80);
		}
		i += n;
	}
}

static void check_escapes(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		assert(p[i] != '"');
		if (p[i] == '\\') {
			i++;
			assert(i < len &&
			       (p[i] == '\\' || p[i] == '"' || p[i] == 'n'));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	/* Names from the server never hold NUL; cut there like C does. */
	memcpy(name, data, size);
	name[size] = '\0';
	report_prom_escape(f, name);
	fclose(f);
	check_utf8((const unsigned char *)out, len);
	check_escapes(out, len);
	check_reads_back(out, len, name);
	free(out);
	free(name);
	return 0;
}
