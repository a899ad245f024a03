/*
 * units.c - strict parsers and formatters for durations, counts,
 * percentages and rates (see units.h).  A hand-written decimal scanner:
 * strtod would accept " 5", "1e3", "inf" and hex, which a user who typed
 * them almost certainly did not mean.
 */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Scans an unsigned decimal ("12", "1.5"; not ".5", "1.", "1e3").
 * Returns the number of bytes used, 0 when there is no number. */
static size_t scan_decimal(const char *text, double *out)
{
	const char *p = text;
	double value = 0;
	double scale = 1;

	if (*p < '0' || *p > '9') {
		return 0;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (*p - '0');
		if (value > 1e15) {
			return 0;
		}
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9') {
			return 0;
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			value += (*p - '0') * scale;
		}
	}
	*out = value;
	return (size_t)(p - text);
}

static const struct {
	const char *suffix;
	double ms;
} duration_units[] = {
	{"ms", 1},      {"s", 1000},    {"sec", 1000}, {"m", 60000},
	{"min", 60000}, {"h", 3600000}, {"", 1000},
};

bool units_parse_duration_ms(const char *text, int64_t *out_ms,
			     struct errbuf *err)
{
	double value;
	size_t used = scan_decimal(text, &value);

	if (used > 0) {
		for (size_t i = 0; i < PGD_ARRAY_LEN(duration_units); i++) {
			double ms;

			if (strcmp(text + used, duration_units[i].suffix) !=
			    0) {
				continue;
			}
			ms = value * duration_units[i].ms;
			if (ms > 30.0 * 86400 * 1000) {
				errbuf_set(err,
					   "duration \"%s\" is too long: "
					   "at most 30 days",
					   text);
				return false;
			}
			*out_ms = (int64_t)llround(ms);
			return true;
		}
	}
	errbuf_set(err,
		   "invalid duration \"%s\": use a number with ms, s, m "
		   "or h (e.g. 250ms, 2s, 1.5m)",
		   text);
	return false;
}

bool units_parse_count(const char *text, int *out, struct errbuf *err)
{
	long long value = 0;
	const char *p = text;

	if (*p == '\0') {
		goto bad;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			goto bad;
		}
		value = value * 10 + (*p - '0');
		if (value > 2147483647LL) {
			errbuf_set(err, "number \"%s\" is too large", text);
			return false;
		}
	}
	*out = (int)value;
	return true;
bad:
	errbuf_set(err, "invalid number \"%s\": expected a whole number >= 0",
		   text);
	return false;
}

bool units_parse_percent(const char *text, double *out_pct, struct errbuf *err)
{
	double value;
	size_t used = scan_decimal(text, &value);

	if (used > 0 && (text[used] == '\0' || strcmp(text + used, "%") == 0) &&
	    value <= 100) {
		*out_pct = value;
		return true;
	}
	errbuf_set(err,
		   "invalid percentage \"%s\": expected 0 to 100, e.g. 80 "
		   "or 80%%",
		   text);
	return false;
}

static const struct {
	const char *suffix;
	double per_min; /* factor to connections per minute */
} rate_units[] = {
	{"", 1},      {"/min", 1},      {"/m", 1},           {"/s", 60},
	{"/sec", 60}, {"/h", 1.0 / 60}, {"/hour", 1.0 / 60},
};

bool units_parse_rate_per_min(const char *text, double *out_per_min,
			      struct errbuf *err)
{
	double value;
	size_t used = scan_decimal(text, &value);

	if (used > 0 && value > 0) {
		for (size_t i = 0; i < PGD_ARRAY_LEN(rate_units); i++) {
			if (strcmp(text + used, rate_units[i].suffix) == 0) {
				*out_per_min = value * rate_units[i].per_min;
				return true;
			}
		}
	}
	errbuf_set(err,
		   "invalid rate \"%s\": expected connections per minute "
		   "above 0, e.g. 5/min, 0.5/s or 120/h",
		   text);
	return false;
}

char *units_format_duration(char *buf, size_t len, double seconds)
{
	long long total;

	if (len == 0) {
		return buf;
	}
	if (isnan(seconds) || seconds < 0) {
		snprintf(buf, len, "-");
	} else if (isinf(seconds)) {
		snprintf(buf, len, "inf");
	} else if (seconds < 0.9995) {
		snprintf(buf, len, "%ldms", lround(seconds * 1000));
	} else if (seconds < 60) {
		/* Truncate, not round: "59.99s" must not read "60.0s". */
		snprintf(buf, len, "%.1fs",
			 fmax(1.0, floor(seconds * 10) / 10));
	} else if (seconds >= 8.64e13) {
		/* A billion days and more: converting to an integer could
		 * overflow (undefined), and no session is that old.  Days,
		 * in three digits. */
		snprintf(buf, len, "%.3gd", seconds / 86400);
	} else if ((total = (long long)seconds) < 3600) {
		snprintf(buf, len, "%lldm%02llds", total / 60, total % 60);
	} else if (total < 86400) {
		snprintf(buf, len, "%lldh%02lldm", total / 3600,
			 total % 3600 / 60);
	} else {
		snprintf(buf, len, "%lldd%02lldh", total / 86400,
			 total % 86400 / 3600);
	}
	return buf;
}

char *units_format_utc(char *buf, size_t len, double epoch_s,
		       enum utc_style style)
{
	time_t t;
	struct tm tm;
	size_t n = 0;

	if (!isfinite(epoch_s) || epoch_s < 0 || epoch_s > 253402300799.0) {
		snprintf(buf, len, "-");
		return buf;
	}
	t = (time_t)epoch_s;
	if (gmtime_r(&t, &tm) != NULL) {
		/* Literal formats, so the compiler checks them. */
		switch (style) {
		case UTC_DATE_TIME:
			n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
			break;
		case UTC_DATE_TIME_ZONE:
			n = strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
			break;
		case UTC_TIME_ZONE:
			n = strftime(buf, len, "%H:%M:%S UTC", &tm);
			break;
		}
	}
	if (n == 0) {
		snprintf(buf, len, "-");
	}
	return buf;
}

static double parse_number_slowly(const char *text)
{
	char *end;
	double v;

	if (*text == ' ' || (*text >= '\t' && *text <= '\r')) {
		return NAN; /* strtod() would skip it */
	}
	errno = 0;
	v = strtod(text, &end);
	return *end == '\0' && errno == 0 ? v : NAN;
}

/*
 * Clinger's fast path: a mantissa M of at most 2^53 and a power of ten
 * up to 10^22 are both exact doubles, and one IEEE division of exact
 * operands is correctly rounded, so M / 10^k is what strtod() returns.
 */
double units_parse_number(const char *text)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
				       1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
				       1e18, 1e19, 1e20, 1e21, 1e22};
	const char *p = text;
	bool negative = false;
	uint64_t mantissa = 0;
	int digits = 0;
	int decimals = 0;
	bool point = false;
	double v;

	if (text == NULL || *text == '\0') {
		return NAN;
	}
	if (*p == '-') {
		negative = true;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 19) {
				return parse_number_slowly(text);
			}
			mantissa = mantissa * 10 + (uint64_t)(*p - '0');
			decimals += point;
		} else if (*p == '.' && !point) {
			point = true;
		} else {
			return parse_number_slowly(text);
		}
	}
	if (digits == 0 || mantissa > (UINT64_C(1) << 53) || decimals > 22) {
		return parse_number_slowly(text);
	}
	v = (double)mantissa / pow10[decimals];
	return negative ? -v : v;
}
