/*
 * fuzz_clientfacts.c - whatever bytes a client sends on the hooks'
 * socket, a line parses or is refused, a stack stays within its bound,
 * and what parses folds into the table without breaking it (the table
 * is fed each input twice, so a repeated id takes the lookup path).
 */
#include "clientfacts.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clientfacts facts;
	struct arena arena;
	struct clientfacts_line l;
	struct errbuf err;

	clientfacts_init(&facts);
	arena_init(&arena);
	for (int round = 0; round < 2; round++) {
		if (!clientfacts_parse_line((const char *)data, size, &arena,
					    &l, &err)) {
			assert(err.msg[0] != '\0');
			break;
		}
		assert(l.pid > 0 && l.stack.count <= CLIENTFACTS_STACK_MAX);
		assert(l.conn != NULL || l.ev == CLIENTFACTS_HELLO ||
		       l.ev == CLIENTFACTS_UNHOOKED);
		clientfacts_add(&facts, &l);
	}
	for (size_t i = 0; i < facts.count; i++) {
		assert(facts.conns[i].conn != NULL &&
		       facts.conns[i].lib != NULL);
	}
	arena_finish(&arena);
	clientfacts_finish(&facts);
	return 0;
}
