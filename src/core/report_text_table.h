/*
 * report_text_table.h - the groups table of the text report, and the
 * width rules the rest of the report shares with it.
 */
#ifndef PGDRIP_REPORT_TEXT_TABLE_H
#define PGDRIP_REPORT_TEXT_TABLE_H

#include "report.h"
#include "text.h"

#include <stdio.h>

/*
 * The groups table: a blank line, then "No client sessions match." or
 * the header row and a row per group, fitted to st's width (columns
 * over time dropped first when narrow, the connection count never).
 */
void report_text_table_write(FILE *out, const struct report *r,
			     const struct text_style *st);

/* How far text after `used` columns may run before it is cut: -1 (the
 * text_write_cut() "never") off a terminal, else what is left of the
 * width but never less than min. */
int report_text_room_after(const struct text_style *st, int used, int min);

#endif
