/*
 * arena.h - a bump allocator for strings that live exactly as long as
 * their owner (a sample, a group set).  Freed all at once.
 */
#ifndef PGDRIP_ARENA_H
#define PGDRIP_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* owned; newest first */
};

void arena_init(struct arena *arena);
/* Frees every chunk; the arena can be used again.  NULL is fine. */
void arena_finish(struct arena *arena);
/* Forgets all allocations but keeps the first chunk for reuse. */
void arena_reset(struct arena *arena);
void *arena_alloc(struct arena *arena, size_t size);
/* Copies len bytes of s and a terminating NUL. s may be NULL (gives ""). */
char *arena_strndup(struct arena *arena, const char *s, size_t len);
char *arena_strdup(struct arena *arena, const char *s);

#endif
