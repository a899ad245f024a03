/*
 * utf8.c - strict UTF-8 decoding (see utf8.h).
 */
#include "utf8.h"

size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n > len) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		return 0;
	}
	*cp = c;
	return n;
}

bool utf8_is_hidden(unsigned cp)
{
	static const unsigned ranges[][2] = {
		{0x00AD, 0x00AD},   {0x061C, 0x061C}, {0x180E, 0x180E},
		{0x200B, 0x200F},   {0x2028, 0x202E}, {0x2060, 0x2064},
		{0x2066, 0x206F},   {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
		{0xE0000, 0xE007F},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (cp >= ranges[i][0] && cp <= ranges[i][1]) {
			return true;
		}
	}
	return false;
}
