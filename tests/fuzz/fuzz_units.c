/*
 * fuzz_units.c - the option value parsers never crash, and what they
 * accept is in range.
 */
#include "match.h"
#include "units.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct errbuf err;
	struct group_keys keys;
	int64_t ms;
	int count;
	double v;
	char buf[32];

	memcpy(text, data, size);
	text[size] = '\0';
	/* Any double at all, as a forged record could hold. */
	if (size >= sizeof(v)) {
		memcpy(&v, data, sizeof(v));
		units_format_duration(buf, sizeof(buf), v);
		assert(strlen(buf) < sizeof(buf));
	}
	if (units_parse_duration_ms(text, &ms, &err)) {
		assert(ms >= 0 && ms <= 30LL * 86400 * 1000);
		units_format_duration(buf, sizeof(buf), ms / 1000.0);
	}
	if (units_parse_count(text, &count, &err)) {
		assert(count >= 0);
	}
	if (units_parse_percent(text, &v, &err)) {
		assert(v >= 0 && v <= 100);
	}
	if (units_parse_rate_per_min(text, &v, &err)) {
		assert(v > 0 && isfinite(v));
	}
	if (match_parse_group_keys(text, &keys, &err)) {
		assert(keys.count >= 1 && keys.count <= GROUP_KEY_COUNT);
	}
	/* match_glob must be safe on unchecked patterns too. */
	err.msg[0] = '\0';
	if (!match_glob_check(text, &err)) {
		assert(err.msg[0] != '\0');
	}
	(void)match_glob(text, "app_tests/pytest\xff");
	(void)match_glob("*a*[!b-]?\\*", text);
	free(text);
	return 0;
}
