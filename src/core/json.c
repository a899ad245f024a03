/*
 * json.c - a streaming JSON writer whose strings are always valid UTF-8
 * (see json.h).  Invalid bytes become the visible text "\xNN": escaped,
 * never dropped, and never passed through as invalid UTF-8; a backslash
 * that could start such a text is doubled, so a name's own \xNN never
 * passes for a byte.
 */
#include "json.h"

#include "common.h"

#include "utf8.h"

#include <math.h>
#include <string.h>

void json_init(struct json_writer *w, FILE *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void newline_indent(struct json_writer *w)
{
	if (!w->pretty) {
		return;
	}
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++) {
		fputs("  ", w->out);
	}
}

/* Before any value or key at the current depth: a comma if needed. */
static void before_item(struct json_writer *w)
{
	if (w->depth > 0 && w->need_comma[w->depth]) {
		fputc(',', w->out);
	}
	if (w->depth > 0) {
		w->need_comma[w->depth] = true;
		newline_indent(w);
	}
}

/* Values right after a key take no comma and no newline. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	before_item(w);
}

static void open_container(struct json_writer *w, char c)
{
	before_value(w);
	fputc(c, w->out);
	if (w->depth < (int)(sizeof(w->need_comma) - 1)) {
		w->depth++;
	}
	w->need_comma[w->depth] = false;
}

static void close_container(struct json_writer *w, char c)
{
	bool had_items = w->need_comma[w->depth];

	if (w->depth > 0) {
		w->depth--;
	}
	if (had_items) {
		newline_indent(w);
	}
	fputc(c, w->out);
	if (w->depth == 0 && w->pretty) {
		fputc('\n', w->out);
	}
}

void json_begin_object(struct json_writer *w)
{
	open_container(w, '{');
}

void json_end_object(struct json_writer *w)
{
	close_container(w, '}');
}

void json_begin_array(struct json_writer *w)
{
	open_container(w, '[');
}

void json_end_array(struct json_writer *w)
{
	close_container(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	before_item(w);
	json_write_escaped(w->out, key, strlen(key));
	fputs(w->pretty ? ": " : ":", w->out);
	w->after_key = true;
}

/*
 * A run of backslashes at p[i]: doubled in the value when what follows
 * could read as one of our escapes (a literal 'x', or a byte that is
 * not UTF-8, which becomes \xNN), else as it is.  So a name with a
 * backslash (C:\dir, DOMAIN\user) reads as itself, and the four
 * characters \xff never pass for the byte.  Returns the run's length.
 */
static size_t write_backslashes(FILE *out, const unsigned char *p, size_t i,
				size_t len)
{
	size_t k = 0;
	unsigned cp;
	bool doubled;

	while (i + k < len && p[i + k] == '\\') {
		k++;
	}
	doubled = i + k < len &&
		  (p[i + k] == 'x' ||
		   (p[i + k] >= 0x80 &&
		    utf8_decode(p + i + k, len - i - k, &cp) == 0));
	for (size_t j = 0; j < (doubled ? 2 * k : k); j++) {
		fputs("\\\\", out);
	}
	return k;
}

size_t json_unescape_value(char *s, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len;) {
		size_t k = 0;
		int hi;
		int lo;

		while (i + k < len && s[i + k] == '\\') {
			k++;
		}
		if (k == 0) {
			s[out++] = s[i++];
			continue;
		}
		if (i + k < len && s[i + k] == 'x') {
			/* Doubled before an 'x': an odd run ends in the
			 * escape of a byte. */
			for (size_t j = 0; j < k / 2; j++) {
				s[out++] = '\\';
			}
			i += k;
			if (k % 2 == 1 && i + 2 < len &&
			    (hi = common_hex_digit(s[i + 1])) >= 0 &&
			    (lo = common_hex_digit(s[i + 2])) >= 0) {
				s[out++] = (char)(hi * 16 + lo);
				i += 3;
			} else if (k % 2 == 1) {
				/* Not ours (an odd run before no hex): the
				 * backslash as it is. */
				s[out++] = '\\';
			}
			continue;
		}
		memmove(s + out, s + i, k);
		out += k;
		i += k;
	}
	s[out] = '\0';
	return out;
}

/* \uXXXX, a surrogate pair beyond the BMP (tags, U+E0000 on). */
static void write_u_escape(FILE *out, unsigned cp)
{
	if (cp > 0xFFFF) {
		cp -= 0x10000;
		fprintf(out, "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
			0xDC00 + (cp & 0x3FF));
		return;
	}
	fprintf(out, "\\u%04x", cp);
}

void json_write_escaped(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', out);
	while (i < len) {
		unsigned char c = p[i];
		unsigned cp;
		size_t n;

		if (c == '"') {
			fputs("\\\"", out);
		} else if (c == '\\') {
			i += write_backslashes(out, p, i, len);
			continue;
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c < 0x20 || c == 0x7F) {
			fprintf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, out);
		} else if ((n = utf8_decode(p + i, len - i, &cp)) > 0) {
			/* U+2028/9 break JavaScript string literals; the
			 * invisible ones are escaped as in every output. */
			if (cp == 0x2028 || cp == 0x2029 ||
			    (cp >= 0x80 && cp < 0xA0) || utf8_is_hidden(cp)) {
				write_u_escape(out, cp);
			} else {
				fwrite(p + i, 1, n, out);
			}
			i += n;
			continue;
		} else {
			fprintf(out, "\\\\x%02x", c);
		}
		i++;
	}
	fputc('"', out);
}

void json_string(struct json_writer *w, const char *s)
{
	if (s == NULL) {
		json_null(w);
		return;
	}
	json_string_len(w, s, strlen(s));
}

void json_string_len(struct json_writer *w, const char *s, size_t len)
{
	before_value(w);
	json_write_escaped(w->out, s, len);
}

void json_int(struct json_writer *w, long long v)
{
	before_value(w);
	fprintf(w->out, "%lld", v);
}

void json_double(struct json_writer *w, double v, int decimals)
{
	char buf[64];
	char *p;

	if (!isfinite(v)) {
		json_null(w);
		return;
	}
	if (decimals < 0 || decimals > 9) {
		decimals = 3;
	}
	if (fabs(v) >= 1e15) {
		/* "%f" would print hundreds of digits into a small buffer;
		 * "1e+300" is a valid JSON number too. */
		snprintf(buf, sizeof(buf), "%.15g", v);
	} else {
		snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	}
	/* Some locales write ','; JSON needs '.'. */
	for (p = buf; *p != '\0'; p++) {
		if (*p == ',') {
			*p = '.';
		}
	}
	if (strchr(buf, '.') != NULL && strchr(buf, 'e') == NULL) {
		size_t len = strlen(buf);

		while (buf[len - 1] == '0') {
			buf[--len] = '\0';
		}
		if (buf[len - 1] == '.') {
			buf[len - 1] = '\0';
		}
	}
	if (strcmp(buf, "-0") == 0) {
		strcpy(buf, "0");
	}
	before_value(w);
	fputs(buf, w->out);
}

void json_bool(struct json_writer *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
	before_value(w);
	fputs("null", w->out);
}
