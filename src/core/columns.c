/*
 * columns.c - fitting optional columns into a width (see columns.h).
 */
#include "columns.h"

#include "common.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

void columns_fit(const int *widths, bool *shown, size_t n, int *room,
		 enum columns_fit how)
{
	bool stopped = false;

	for (size_t i = 0; i < n; i++) {
		shown[i] = false;
		if (widths[i] <= 0 || stopped) {
			continue;
		}
		if (widths[i] <= *room) {
			shown[i] = true;
			*room -= widths[i];
		} else {
			stopped = how == COLUMNS_FIT_PREFIX;
		}
	}
}

int columns_text_width(const char *s, bool utf8)
{
	size_t len = s != NULL ? strlen(s) : 0;
	/* An escape takes up to 4 columns per byte. */
	char *buf = xmalloc(4 * len + 1);
	int width = text_sanitize(buf, 4 * len + 1, s ? s : "", len, utf8);

	free(buf);
	return width;
}
