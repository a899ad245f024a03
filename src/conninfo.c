/*
 * conninfo.c - passwords out of anything pgdrip prints (see conninfo.h).
 *
 * The masking follows libpq's own parsers (conninfo_parse() and
 * conninfo_uri_parse_options()), and where the input is malformed it
 * errs towards hiding too much: a display string must never carry the
 * password, even when libpq would reject the string.
 */
#include "conninfo.h"

#include "core/common.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char mask[] = "***";

/* libpq separates conninfo words with isspace(); not locale dependent
 * here because it only ever matters for ASCII. */
static const char spaces[] = " \t\n\r\f\v";

/* Appends len bytes of s to dst (size dst_size, *used so far). */
static void put(char *dst, size_t dst_size, size_t *used, const char *s,
		size_t len)
{
	if (*used + len >= dst_size) {
		len = dst_size - 1 - *used;
	}
	memcpy(dst + *used, s, len);
	*used += len;
	dst[*used] = '\0';
}

static bool is_uri(const char *text)
{
	return strncmp(text, "postgresql://", 13) == 0 ||
	       strncmp(text, "postgres://", 11) == 0;
}

/* Whether the URI parameter name key[0..len) percent-decodes to
 * "password", as libpq decodes it ("pass%77ord" counts). */
static bool is_password_key(const char *key, size_t len)
{
	static const char want[] = "password";
	size_t got = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)key[i];

		if (c == '%') {
			int hi = i + 2 < len ? common_hex_digit(key[i + 1]) : -1;
			int lo = i + 2 < len ? common_hex_digit(key[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				return false;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (got >= sizeof(want) - 1 || c != want[got]) {
			return false;
		}
		got++;
	}
	return got == sizeof(want) - 1;
}

/*
 * postgresql://user:secret@host/db?password=secret&x=y
 *
 * libpq ends the user info at the first '@' or '/'; a password with a
 * raw '/' or '@' in it is then misparsed, and libpq's error may echo the
 * pieces.  So everything from the first ':' to the LAST '@' before the
 * query string is masked: at worst a host or path is hidden too.
 */
static void mask_uri(char *dst, size_t dst_size, const char *text)
{
	const char *scheme_end = strstr(text, "://") + 3;
	size_t region = strcspn(scheme_end, "?");
	const char *at = NULL;
	size_t used = 0;
	const char *p;

	for (size_t i = 0; i < region; i++) {
		if (scheme_end[i] == '@') {
			at = scheme_end + i;
		}
	}
	put(dst, dst_size, &used, text, (size_t)(scheme_end - text));
	p = scheme_end;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon != NULL) {
			put(dst, dst_size, &used, p, (size_t)(colon + 1 - p));
			put(dst, dst_size, &used, mask, strlen(mask));
			p = at;
		}
	}
	/* Then the path, and parameters split on '?' and '&'. */
	while (*p != '\0') {
		size_t len = strcspn(p, "?&");
		size_t key_len;

		put(dst, dst_size, &used, p, len);
		p += len;
		if (*p == '\0') {
			break;
		}
		put(dst, dst_size, &used, p, 1);
		p++;
		key_len = strcspn(p, "=&?");
		if (p[key_len] == '=' && is_password_key(p, key_len)) {
			put(dst, dst_size, &used, p, key_len + 1);
			put(dst, dst_size, &used, mask, strlen(mask));
			p += key_len + 1;
			p += strcspn(p, "&");
		}
	}
}

/* Skips a conninfo value (quoted with \ escapes, or bare, also with \
 * escapes); returns the position after it. */
static const char *skip_value(const char *p)
{
	if (*p == '\'') {
		for (p++; *p != '\0' && *p != '\''; p++) {
			if (*p == '\\' && p[1] != '\0') {
				p++;
			}
		}
		return *p == '\'' ? p + 1 : p;
	}
	while (*p != '\0' && strchr(spaces, *p) == NULL) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
		}
		p++;
	}
	return p;
}

/*
 * key = value pairs: every password value becomes ***.  A word without
 * "=" (libpq rejects the string) is copied and the scan goes on, so a
 * password later in a malformed string is still masked.
 */
static void mask_conninfo(char *dst, size_t dst_size, const char *text)
{
	const char *p = text;
	size_t used = 0;

	while (*p != '\0') {
		const char *key = p + strspn(p, spaces);
		size_t key_len = strcspn(key, "= \t\n\r\f\v");
		const char *q = key + key_len;
		const char *value;
		const char *end;

		q += strspn(q, spaces);
		if (*q != '=') {
			/* Not "key =": copy the word alone and go on. */
			put(dst, dst_size, &used, p,
			    (size_t)(key + key_len - p));
			p = key + key_len;
			continue;
		}
		q++;
		value = q + strspn(q, spaces);
		end = skip_value(value);
		put(dst, dst_size, &used, p, (size_t)(value - p));
		if (key_len == 8 && strncmp(key, "password", 8) == 0) {
			put(dst, dst_size, &used, mask, strlen(mask));
		} else {
			put(dst, dst_size, &used, value, (size_t)(end - value));
		}
		p = end;
	}
}

void conninfo_mask_password(char *dst, size_t dst_size, const char *text)
{
	if (dst_size == 0) {
		return;
	}
	dst[0] = '\0';
	if (text == NULL) {
		return;
	}
	if (is_uri(text)) {
		mask_uri(dst, dst_size, text);
	} else if (strchr(text, '=') != NULL) {
		mask_conninfo(dst, dst_size, text);
	} else {
		snprintf(dst, dst_size, "%s", text);
	}
}

void conninfo_scrub(char *buf, size_t buf_size, const char *secret)
{
	size_t secret_len = secret ? strlen(secret) : 0;
	size_t mask_len = strlen(mask);
	char *from = buf;
	char *hit;

	if (secret_len == 0) {
		return;
	}
	/* Search on after each replacement: the mask may hold the secret. */
	while ((hit = strstr(from, secret)) != NULL) {
		size_t tail = strlen(hit + secret_len);

		if (mask_len > secret_len &&
		    strlen(buf) + mask_len - secret_len >= buf_size) {
			/* No room to grow: blank it in place instead. */
			memset(hit, '*', secret_len);
			from = hit + secret_len;
			continue;
		}
		memmove(hit + mask_len, hit + secret_len, tail + 1);
		memcpy(hit, mask, mask_len);
		from = hit + mask_len;
	}
}
