/*
 * fuzz_mask.c - whatever command line a process has (its bytes are
 * anyone's to choose), masking stays inside its buffer, keeps one
 * argument per argument, and masks a password put after "password=".
 */
#include "mask.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_nuls(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		n += s[i] == '\0';
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "psql\0password=";
	const char *raw = (const char *)data;
	size_t cap = 3 * (size + sizeof(head)) + 16;
	char *out = malloc(cap);
	char *text = malloc(size + sizeof(head));
	size_t n = mask_command_line(out, cap, raw, size);

	/* Enough room: nothing cut, every argument still there. */
	assert(n < cap && out[n] == '\0');
	assert(count_nuls(out, n) == count_nuls(raw, size));
	/* Any small buffer: cut, never overrun. */
	n = mask_command_line(out, 5, raw, size);
	assert(n <= 4 && out[n] == '\0');
	memcpy(text, data, size);
	text[size] = '\0';
	mask_conninfo(out, cap, text);
	assert(strlen(out) < cap);
	/* A password without spaces, quotes or backslashes never shows:
	 * all of it is masked. */
	if (strcspn(text, " \t\n\r\f\v'\"\\") == size) {
		memcpy(text, head, sizeof(head) - 1);
		memcpy(text + sizeof(head) - 1, data, size);
		n = mask_command_line(out, cap, text, sizeof(head) - 1 + size);
		assert(n == sizeof(head) - 1 + 3 &&
		       memcmp(out, "psql\0password=***", n) == 0);
	}
	free(text);
	free(out);
	return 0;
}
