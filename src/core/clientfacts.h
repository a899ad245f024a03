/*
 * clientfacts.h - what the wrapped command's client processes say about
 * their own connections (wrap mode's client hooks, on the socket named
 * in PGDRIP_HOOKS; pgdrip(1) CLIENT HOOKS has the protocol): each
 * connection's backend pid, its open and close, each checkout from a
 * pool taken and given back, with the stack of the user's code that
 * took it and the test that was running.
 *
 * The lines are parsed here (pure, fuzzed) and folded into one table of
 * client connections, keyed by the client's pid and its connection id.
 * A connection is matched to a server session by backend pid: the
 * session with that pid whose backend_start is at or before the line's
 * time, the newest such (clientfacts_match).  Memory is bounded: at
 * most CLIENTFACTS_MAX_CONNS connections (CLIENTFACTS_MAX_CONNS_PER_PROCESS
 * of one process; a connection taken again and again from the same
 * line adds nothing) and CLIENTFACTS_MAX_LIBS
 * unhooked libraries are kept; what comes after is counted, not kept.
 */
#ifndef PGDRIP_CLIENTFACTS_H
#define PGDRIP_CLIENTFACTS_H

#include "arena.h"
#include "common.h"
#include "group.h"
#include "pidmap.h"
#include "sample.h"

#include <stdbool.h>
#include <stddef.h>

enum {
	/* A line longer than this (its '\n' included) is dropped. */
	CLIENTFACTS_LINE_MAX = 16384,
	CLIENTFACTS_STACK_MAX = 20,
	CLIENTFACTS_MAX_CONNS = 65536,
	/* One process may not take the whole table. */
	CLIENTFACTS_MAX_CONNS_PER_PROCESS = 16384,
	CLIENTFACTS_MAX_LIBS = 32,
};

enum clientfacts_event {
	CLIENTFACTS_HELLO,
	CLIENTFACTS_OPEN,
	CLIENTFACTS_CLOSE,
	CLIENTFACTS_TAKE,
	CLIENTFACTS_GIVE,
	CLIENTFACTS_LOST,
	CLIENTFACTS_UNHOOKED,
};

/* One frame of the user's code; strings borrowed (see the owner). */
struct clientfacts_frame {
	const char *file;
	int line;
	const char *func;
};

struct clientfacts_stack {
	struct clientfacts_frame frames[CLIENTFACTS_STACK_MAX];
	size_t count;
};

/* One parsed line; strings in the arena given to the parser, NULL when
 * the line has no such key. */
struct clientfacts_line {
	enum clientfacts_event ev;
	int pid;  /* the client's OS pid */
	double t; /* the client's clock, epoch seconds */
	const char *test;
	const char *lib;
	const char *conn;
	const char *pool;
	const char *how; /* close: close, gc, exit, server; lost: gc, close,
			  * server */
	const char *why; /* unhooked */
	const char *lang;
	int backend;       /* 0 unknown */
	long long dropped; /* lines the client could not send before */
	struct clientfacts_stack stack;
};

/*
 * Parses one line (without its '\n') into out, its strings in arena.
 * False with err for anything but a JSON object with "v":1, a known
 * "ev", a whole positive "pid" and a finite "t", or with a key of the
 * wrong type; unknown keys are ignored (an addition is optional).
 */
PGD_NODISCARD bool clientfacts_parse_line(const char *line, size_t len,
					  struct arena *arena,
					  struct clientfacts_line *out,
					  struct errbuf *err);

/* "hello", "open", ... */
const char *clientfacts_event_name(enum clientfacts_event ev);

/* What the client said of one of its connections.  Strings owned by the
 * table (its arena), stacks copied. */
struct clientfacts_conn {
	int pid;          /* the client process */
	const char *conn; /* its id within the process */
	const char *lib;  /* "" until an open says */
	int backend;      /* 0 unknown */
	double first_t;   /* the first line about it (the client's clock) */
	/* Opened (open line): when, in which test, where. */
	bool opened;
	double opened_t;
	const char *open_test; /* NULL outside a test */
	const char *open_pool; /* the pool that opened it (an idle member);
				* NULL: the user's code did */
	struct clientfacts_stack open_stack;
	/* Closed: how ("close", "gc", "exit"); NULL while open. */
	const char *close_how;
	double closed_t;
	/* Pool checkouts: the last one's pool, whether it is out now. */
	size_t takes;
	const char *pool;
	bool out;       /* taken and not given back (yet) */
	double taken_t; /* the last take */
	const char *take_test;
	size_t pool_index; /* the last take's pool, into pools; SIZE_MAX
			    * none (no take, or past the bound) */
	struct clientfacts_stack take_stack;
	bool lost;            /* ended while out ("lost") */
	const char *lost_how; /* how: "gc" (collected), "close" or "server"
			       * (asyncpg: ended, its pool took it back) */
	double lost_t;
};

/* A pool a client process took connections from (by its pool id). */
struct clientfacts_pool {
	int pid;
	const char *pool;
	const char *first_test; /* the first take's test; NULL outside any */
	/* Taken from in more than one test, or in one and outside any. */
	bool shared;
};

struct clientfacts_lib {
	const char *lib;
	const char *why;
};

struct clientfacts {
	struct clientfacts_conn *conns; /* owned, in the order first seen */
	size_t count;
	size_t cap;
	struct clientfacts_pool *pools; /* owned, at most MAX_CONNS */
	size_t pool_count;
	size_t pool_cap;
	struct group_index by_pool; /* (pid, pool) -> its entry */
	struct clientfacts_lib libs[CLIENTFACTS_MAX_LIBS]; /* unhooked */
	size_t lib_count;
	size_t processes;           /* hello lines */
	long long dropped;          /* the clients' own drops, summed */
	size_t refused;             /* lines that did not parse (the edge's) */
	size_t overflow;            /* facts past the bounds */
	size_t lines;               /* lines taken */
	size_t carried;             /* entries carrying on a connection after
				     * a lost checkout (not new connections) */
	struct pidmap by_backend;   /* backend pid -> its newest conn */
	struct pidmap per_process;  /* client pid -> its connections */
	struct group_index by_conn; /* (pid, conn) -> its entries */
	struct arena arena;
};

void clientfacts_init(struct clientfacts *f);
void clientfacts_finish(struct clientfacts *f);

/* Folds one parsed line in (its strings are copied). */
void clientfacts_add(struct clientfacts *f, const struct clientfacts_line *l);

/*
 * Folds in the hook lines sample carries (a line that does not parse is
 * counted in refused), then makes each session of sample that a client
 * reported (clientfacts_match) that client's: client_pid the client's,
 * related to the wrapped command, whatever socket matching said (a TCP
 * proxy between them hides the client).  Before the tracker sees it.
 */
void clientfacts_absorb(struct clientfacts *f, struct sample *sample);

/* True once any line came. */
bool clientfacts_any(const struct clientfacts *f);

/* A connection's checkout was never given back: taken last and not
 * returned (whether or not it was collected or closed since). */
bool clientfacts_checkout_leaked(const struct clientfacts_conn *c);

/* The pool c was last taken from is shared: taken from in more than one
 * test, or in one and outside any (what rests there is no test's leak);
 * false for a connection never taken. */
bool clientfacts_pool_shared(const struct clientfacts *f,
			     const struct clientfacts_conn *c);

/* A connection never taken from a pool, opened by the user's code (its
 * open line has a stack and names no pool), that the code never closed
 * (still open at exit, or collected). */
bool clientfacts_unclosed(const struct clientfacts_conn *c);

/* A session as matching sees it: its pid and backend_start (epoch
 * seconds, the server's clock). */
struct clientfacts_session {
	int pid;
	double backend_start;
};

/*
 * The index into sessions[0..n) of the session the client's connection
 * c is: the one with its backend pid whose backend_start is at or
 * before t (the client's clock), the newest such; SIZE_MAX for none (or
 * a connection with no backend pid).
 */
size_t clientfacts_match(const struct clientfacts_conn *c, double t,
			 const struct clientfacts_session *sessions, size_t n);

#endif
