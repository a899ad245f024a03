/*
 * common.c - error buffers and allocation with a single out-of-memory
 * policy (see common.h).
 */
#include "common.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xalloc_oom_handler oom_handler;

void errbuf_set(struct errbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int common_hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

void xalloc_set_oom_handler(xalloc_oom_handler handler)
{
	oom_handler = handler;
}

static void out_of_memory(void)
{
	if (oom_handler != NULL) {
		oom_handler();
	}
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL) {
		out_of_memory();
	}
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL) {
		out_of_memory();
	}
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL) {
		out_of_memory();
	}
	return p;
}

void xgrow(void **ptr, size_t *cap, size_t need, size_t elem_size)
{
	size_t new_cap;

	if (need <= *cap) {
		return;
	}
	new_cap = *cap ? *cap : 8;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2) {
			out_of_memory();
		}
		new_cap *= 2;
	}
	if (new_cap > SIZE_MAX / elem_size) {
		out_of_memory();
	}
	*ptr = xrealloc(*ptr, new_cap * elem_size);
	*cap = new_cap;
}

char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = xmalloc(len);

	memcpy(copy, s, len);
	return copy;
}
