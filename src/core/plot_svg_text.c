/*
 * plot_svg_text.c - text in the SVG (see plot_svg.h): server bytes made
 * safe XML, a limit's name, a slope.
 */
#include "plot_svg.h"

#include "text.h"
#include "utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Writes raw server bytes as XML text or attribute value: text.c makes
 * them valid UTF-8 with every control character a visible escape, then
 * the markup characters are escaped and the two code points XML forbids
 * (U+FFFE, U+FFFF) replaced.  At most max_chars characters; a cut ends
 * in "…".
 */
void plot_svg_put_text(FILE *out, const char *raw, size_t max_chars)
{
	size_t len = raw != NULL ? strlen(raw) : 0;
	size_t cap = 4 * len + 1; /* "\xNN" per byte at worst */
	char *clean = xmalloc(cap);
	const unsigned char *s;
	size_t chars = 0;
	size_t keep;

	text_sanitize(clean, cap, raw != NULL ? raw : "", len, true);
	for (s = (const unsigned char *)clean; *s != '\0'; s++) {
		chars += (*s & 0xC0) != 0x80;
	}
	keep = chars > max_chars ? max_chars - 1 : chars;
	s = (const unsigned char *)clean;
	for (size_t i = 0; i < keep && *s != '\0'; i++) {
		unsigned cp = 0xFFFD;
		size_t n = utf8_decode(s, strlen((const char *)s), &cp);

		n = n == 0 ? 1 : n;
		if (cp == '&') {
			fputs("&amp;", out);
		} else if (cp == '<') {
			fputs("&lt;", out);
		} else if (cp == '>') {
			fputs("&gt;", out);
		} else if (cp == '"') {
			fputs("&quot;", out);
		} else if (cp == '\'') {
			fputs("&#39;", out);
		} else if (cp == 0xFFFE || cp == 0xFFFF || cp == 0xFFFD) {
			fputs("\xef\xbf\xbd", out);
		} else {
			fwrite(s, 1, n, out);
		}
		s += n;
	}
	if (chars > max_chars) {
		fputs("\xe2\x80\xa6", out);
	}
	free(clean);
}

/* "server limit 97", "role app limit 20": opened here, the name (raw)
 * is written by the caller through plot_svg_put_text(). */
void plot_svg_put_limit_name(FILE *out, enum limit_kind kind, const char *name,
			     int limit)
{
	if (kind == LIMIT_KIND_SERVER) {
		fprintf(out, "server limit %d", limit);
		return;
	}
	fprintf(out, "%s ", report_limit_kind_name(kind));
	plot_svg_put_text(out, name, 24);
	fprintf(out, " limit %d", limit);
}

/* "+143/min", "+2.5/min": tenths only where they matter. */
void plot_svg_put_slope(FILE *out, double slope_per_min)
{
	fprintf(out, fabs(slope_per_min) >= 10 ? "%+.0f/min" : "%+.1f/min",
		slope_per_min);
}
