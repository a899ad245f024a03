/*
 * columns.h - the one rule the tables fit a width by: the text report's
 * groups table (report_text_table.c) and the live view's panes
 * (view_layout.c) list their optional columns, most wanted first, and
 * columns_fit() shows each while it fits in the room left; and the
 * width a name takes, the same in both.
 */
#ifndef PGDRIP_COLUMNS_H
#define PGDRIP_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>

enum columns_fit {
	COLUMNS_FIT_PREFIX, /* stop at the first that does not fit */
	COLUMNS_FIT_EACH,   /* skip it and go on with the next */
};

/*
 * Shows the n columns in order (widths[i] with its separator) while they
 * fit in *room, taking their widths from it; shown[i] says which.  A
 * column whose width is 0 or less was left out beforehand: skipped,
 * never shown, never a stop.
 */
void columns_fit(const int *widths, bool *shown, size_t n, int *room,
		 enum columns_fit how);

/* Columns s takes once sanitized (text.c), as a terminal in UTF-8 or
 * not shows it; NULL takes none. */
int columns_text_width(const char *s, bool utf8);

#endif
