/*
 * conninfo.c - passwords out of anything pgdrip prints (see conninfo.h).
 * The masking itself is core/mask.c's, shared with the command lines of
 * client processes; scrubbing libpq's messages is done here.
 */
#include "conninfo.h"

#include "core/common.h"
#include "core/mask.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char mask[] = "***";

void conninfo_mask_password(char *dst, size_t dst_size, const char *text)
{
	mask_conninfo(dst, dst_size, text);
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
