/*
 * support.h - helpers shared by the unit tests: a strict JSON validator
 * and a report built by hand around a name, for the renderers' tests.
 */
#ifndef PGDRIP_TEST_SUPPORT_H
#define PGDRIP_TEST_SUPPORT_H

#include "report.h"

#include <stdbool.h>
#include <stddef.h>

/* Elements in a table. */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* True when text is one valid JSON value: structure, escapes, numbers,
 * and UTF-8 of the raw bytes. */
bool support_json_valid(const char *text);

/* Names a client can send; every renderer must make them harmless. */
extern const char *const support_hostile[];
extern const size_t support_hostile_count;

/* Fills r (report_init()ed) with groups, sessions, limits, checks and
 * warnings named after name. */
void support_build_report(struct report *r, const char *name);

#endif
