/*
 * report_text_sections.h - sections of the text report written apart
 * from report_text.c's header, groups and footer.
 */
#ifndef PGDRIP_REPORT_TEXT_SECTIONS_H
#define PGDRIP_REPORT_TEXT_SECTIONS_H

#include "report.h"
#include "text.h"

#include <stdio.h>

/* The tests a runner reported: how many leaked, a line per leaking test
 * (and the hooks' lines under it), tests that did not end; without
 * tests, after the command left sessions unused, how to have them
 * named. */
void report_text_sections_tests(FILE *out, const struct report *r,
				const struct text_style *st);

/* "Limits (closest to exhaustion first)": every limit when there are a
 * few, else the server's and those near exhaustion; nothing when only
 * the server's is known. */
void report_text_sections_limits(FILE *out, const struct report *r,
				 const struct text_style *st);

#endif
