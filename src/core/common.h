/*
 * common.h - what every pgdrip module shares: error buffers, the
 * out-of-memory policy and a few attributes.
 *
 * Lower layers report failure by returning false and filling a struct
 * errbuf; they never print or exit.  Allocation failure is the one
 * exception: xmalloc() and friends call the handler installed with
 * xalloc_set_oom_handler() (main prints "pgdrip: out of memory" and exits
 * 3), so callers need not thread OOM through every return value.
 */
#ifndef PGDRIP_COMMON_H
#define PGDRIP_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#define PGD_NODISCARD __attribute__((warn_unused_result))
#define PGD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define PGD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One lower-case message line, no "pgdrip: " prefix, no period. */
struct errbuf {
	char msg[512];
};

/* Formats into err->msg (truncating); err may be NULL. */
void errbuf_set(struct errbuf *err, const char *fmt, ...) PGD_PRINTF(2, 3);

/* The value of a hexadecimal digit, or -1 when c is not one. */
int common_hex_digit(char c);

/* Called when an allocation fails; must not return. */
typedef void (*xalloc_oom_handler)(void);
void xalloc_set_oom_handler(xalloc_oom_handler handler);

/* Never return NULL: on failure they call the OOM handler (default abort). */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows *ptr to hold at least need elements of elem_size; doubles. */
void xgrow(void **ptr, size_t *cap, size_t need, size_t elem_size);
char *xstrdup(const char *s);

#endif
