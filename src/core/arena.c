/*
 * arena.c - bump allocation in chunks, so that a sample's thousands of
 * small strings cost a handful of mallocs and one free.
 */
#include "arena.h"

#include "common.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { ARENA_CHUNK_DEFAULT = 16384 };

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	/* max_align_t keeps data[] aligned for any object. */
	_Alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *arena)
{
	arena->head = NULL;
}

void arena_finish(struct arena *arena)
{
	struct arena_chunk *chunk;
	struct arena_chunk *next;

	if (arena == NULL) {
		return;
	}
	for (chunk = arena->head; chunk != NULL; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	arena->head = NULL;
}

void arena_reset(struct arena *arena)
{
	struct arena_chunk *last = arena->head;

	if (last == NULL) {
		return;
	}
	/* Keep the oldest chunk (the tail): steady state then allocates
	 * nothing. */
	while (last->next != NULL) {
		struct arena_chunk *next = last->next;

		arena->head = next;
		free(last);
		last = next;
	}
	last->used = 0;
}

void *arena_alloc(struct arena *arena, size_t size)
{
	struct arena_chunk *chunk = arena->head;
	size_t align = _Alignof(max_align_t);
	size_t need = (size + align - 1) & ~(align - 1);
	void *p;

	if (chunk == NULL || chunk->size - chunk->used < need) {
		size_t chunk_size = need > ARENA_CHUNK_DEFAULT
					    ? need
					    : ARENA_CHUNK_DEFAULT;

		chunk = xmalloc(sizeof(*chunk) + chunk_size);
		chunk->size = chunk_size;
		chunk->used = 0;
		chunk->next = arena->head;
		arena->head = chunk;
	}
	p = chunk->data + chunk->used;
	chunk->used += need;
	return p;
}

char *arena_strndup(struct arena *arena, const char *s, size_t len)
{
	char *copy;

	if (s == NULL) {
		len = 0;
	}
	copy = arena_alloc(arena, len + 1);
	if (len > 0) {
		memcpy(copy, s, len);
	}
	copy[len] = '\0';
	return copy;
}

char *arena_strdup(struct arena *arena, const char *s)
{
	return arena_strndup(arena, s, s == NULL ? 0 : strlen(s));
}
