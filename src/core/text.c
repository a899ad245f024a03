/*
 * text.c - sanitizing server bytes for terminals and text reports (see
 * text.h).  Widths come from a small built-in table rather than the
 * locale's wcwidth(), so reports are the same on every machine.
 */
#include "text.h"

#include "common.h"
#include "utf8.h"

#include <string.h>

struct range {
	unsigned lo;
	unsigned hi;
};

/* Zero-width: combining marks and joiners (the common blocks). */
static const struct range zero_width[] = {
	{0x0300, 0x036F},   {0x0483, 0x0489}, {0x0591, 0x05BD},
	{0x0610, 0x061A},   {0x064B, 0x065F}, {0x0E31, 0x0E31},
	{0x0E34, 0x0E3A},   {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
	{0x200B, 0x200D},   {0x2060, 0x2064}, {0x20D0, 0x20FF},
	{0xFE00, 0xFE0F},   {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF},
	{0xE0100, 0xE01EF},
};

/* Double-width: East Asian wide and fullwidth, and emoji. */
static const struct range double_width[] = {
	{0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
	{0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
	{0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},
	{0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
	{0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(const struct range *r, size_t n, unsigned cp)
{
	for (size_t i = 0; i < n; i++) {
		if (cp >= r[i].lo && cp <= r[i].hi) {
			return true;
		}
	}
	return false;
}

static int char_width(unsigned cp)
{
	if (in_ranges(zero_width, sizeof(zero_width) / sizeof(zero_width[0]),
		      cp)) {
		return 0;
	}
	if (in_ranges(double_width,
		      sizeof(double_width) / sizeof(double_width[0]), cp)) {
		return 2;
	}
	return 1;
}

/* The escape for a byte that must not pass: "\e", "\n", or "\xNN". */
static size_t escape_byte(unsigned char c, char out[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case 0x1B:
		memcpy(out, "\\e", 2);
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	default:
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xF];
		return 4;
	}
}

/* One output unit of src: either a passed character or an escape. */
struct piece {
	size_t in_len; /* bytes consumed from src */
	char out[8];
	size_t out_len;
	int width;
};

static void next_piece(const unsigned char *s, size_t len, bool utf8,
		       struct piece *p)
{
	unsigned cp = 0;
	size_t n;

	if (s[0] == '\\') {
		/* The escape character itself: doubled, so that the four
		 * characters \xff (shown \\xff) and the byte 0xFF (shown
		 * \xff) read differently. */
		p->in_len = 1;
		p->out_len = 2;
		memcpy(p->out, "\\\\", 2);
		p->width = 2;
		return;
	}
	if (s[0] >= 0x20 && s[0] < 0x7F) {
		p->in_len = p->out_len = 1;
		p->out[0] = (char)s[0];
		p->width = 1;
		return;
	}
	n = utf8 && s[0] >= 0x80 ? utf8_decode(s, len, &cp) : 0;
	/* C1 controls are as dangerous as C0 on many terminals; each byte
	 * of a refused sequence is escaped on its own (the rest are then
	 * lone continuation bytes). */
	/* Valid but invisible or line-moving (utf8_is_hidden): a bidi
	 * control could make a line read differently from its bytes, a
	 * zero-width space hide a difference between two names. */
	if (n > 0 && cp >= 0xA0 && !utf8_is_hidden(cp)) {
		p->in_len = p->out_len = n;
		memcpy(p->out, s, n);
		p->width = char_width(cp);
		return;
	}
	p->in_len = 1;
	p->out_len = escape_byte(s[0], p->out);
	p->width = (int)p->out_len;
}

int text_sanitize(char *dst, size_t dst_size, const char *src, size_t len,
		  bool utf8)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t used = 0;
	size_t i = 0;
	int width = 0;

	if (dst_size == 0) {
		return 0;
	}
	while (i < len) {
		struct piece p;

		next_piece(s + i, len - i, utf8, &p);
		if (used + p.out_len >= dst_size) {
			break;
		}
		memcpy(dst + used, p.out, p.out_len);
		used += p.out_len;
		width += p.width;
		i += p.in_len;
	}
	dst[used] = '\0';
	return width;
}

/* The byte a one-letter escape stands for, or -1. */
static int named_escape(char c)
{
	switch (c) {
	case '\\':
		return '\\';
	case 'e':
		return 0x1B;
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return -1;
	}
}

size_t text_unescape(char *s, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		int hi;
		int lo;
		int named;

		if (s[i] != '\\' || i + 1 >= len) {
			s[out++] = s[i];
		} else if (s[i + 1] == 'x' && i + 3 < len &&
			   (hi = common_hex_digit(s[i + 2])) >= 0 &&
			   (lo = common_hex_digit(s[i + 3])) >= 0) {
			s[out++] = (char)(hi * 16 + lo);
			i += 3;
		} else if ((named = named_escape(s[i + 1])) >= 0) {
			s[out++] = (char)named;
			i++;
		} else {
			s[out++] = s[i];
		}
	}
	s[out] = '\0';
	return out;
}

int text_width(const char *sanitized, bool utf8)
{
	const unsigned char *s = (const unsigned char *)sanitized;
	size_t len = strlen(sanitized);
	size_t i = 0;
	int width = 0;

	while (i < len) {
		struct piece p;

		if (s[i] == '\\') {
			/* Part of an escape, or one of a doubled pair: one
			 * column, not a backslash to escape again. */
			width++;
			i++;
			continue;
		}
		next_piece(s + i, len - i, utf8, &p);
		width += p.width;
		i += p.in_len;
	}
	return width;
}

/*
 * How much of s (len bytes) fits in width columns: returns the bytes to
 * write and sets *used to their columns and *cut when a marker follows.
 * Escapes and characters are never split, so a cut cell may come out a
 * column or more short of width (the caller pads).
 */
static size_t fit(const unsigned char *s, size_t len, int width, bool utf8,
		  int *used, bool *cut)
{
	int total = 0;
	size_t i = 0;
	size_t end = 0;

	*used = 0;
	while (i < len) {
		struct piece p;

		next_piece(s + i, len - i, utf8, &p);
		total += p.width;
		i += p.in_len;
	}
	*cut = width >= 0 && total > width;
	if (!*cut) {
		*used = total;
		return len;
	}
	/* Keep a column for the marker. */
	while (end < len) {
		struct piece p;

		next_piece(s + end, len - end, utf8, &p);
		if (*used + p.width > width - 1) {
			break;
		}
		*used += p.width;
		end += p.in_len;
	}
	return end;
}

/* text_write_cell() and text_write_cut(): pad says whether to fill up. */
static void write_cell(FILE *out, const char *src, int width, bool align_right,
		       bool utf8, bool pad)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t len = strlen((const char *)s);
	const char *marker = utf8 ? "\xe2\x80\xa6" : "~";
	int used;
	bool cut;
	size_t end = fit(s, len, width, utf8, &used, &cut);

	if (cut && width > 0) {
		used++;
	}
	if (pad && align_right && used < width) {
		fprintf(out, "%*s", width - used, "");
	}
	for (size_t i = 0; i < end;) {
		struct piece p;

		next_piece(s + i, end - i, utf8, &p);
		fwrite(p.out, 1, p.out_len, out);
		i += p.in_len;
	}
	if (cut && width > 0) {
		fputs(marker, out);
	}
	if (pad && !align_right && used < width) {
		fprintf(out, "%*s", width - used, "");
	}
}

void text_write_cell(FILE *out, const char *src, int width, bool align_right,
		     bool utf8)
{
	write_cell(out, src, width, align_right, utf8, true);
}

void text_write_cut(FILE *out, const char *src, int max_width, bool utf8)
{
	write_cell(out, src, max_width, false, utf8, false);
}
