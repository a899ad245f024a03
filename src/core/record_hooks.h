/*
 * record_hooks.h - the "hooks" member of a --record line: the client
 * hooks' lines a sample carried (wrap mode, clientfacts.h), each as a
 * JSON string holding the line as it came, so a replay folds in the very
 * lines the live run did, at the same sample.
 */
#ifndef PGDRIP_RECORD_HOOKS_H
#define PGDRIP_RECORD_HOOKS_H

#include "common.h"
#include "json.h"
#include "sample.h"

/* Writes "hooks": ["...", ...] at the writer's position in a line's
 * object; nothing when the sample carries no line. */
void record_hooks_write(struct json_writer *w, const struct sample *sample);

/* Reads that member (its parse tree, record_parse.h, unescaped) back
 * into out; nothing when h is NULL.  False with why when it is not an
 * array of strings.  The lines themselves are judged when folded in. */
struct node;
bool record_hooks_read(const struct node *h, struct sample *out,
		       struct errbuf *why);

#endif
