/*
 * units.h - strict parsing and formatting of the quantities users type
 * and read: durations, counts, percentages and growth rates.
 *
 * Parsers accept the whole string or nothing: "10x", "", " 5", "-1" and
 * overflow are errors, reported in err as one line that quotes the input.
 */
#ifndef PGDRIP_UNITS_H
#define PGDRIP_UNITS_H

#include "common.h"

#include <stdint.h>

/*
 * "250ms", "2s", "1.5m", "1h", "1h30m"?  No: one number and one unit
 * (ms, s, m, min, h); a bare number is seconds.  Result in milliseconds,
 * rounded to the nearest; at most 30 days.  Negative is an error.
 */
PGD_NODISCARD bool units_parse_duration_ms(const char *text, int64_t *out_ms,
					   struct errbuf *err);

/* A non-negative decimal integer that fits in an int. */
PGD_NODISCARD bool units_parse_count(const char *text, int *out,
				     struct errbuf *err);

/* "80", "80%", "12.5": 0 to 100 inclusive. */
PGD_NODISCARD bool units_parse_percent(const char *text, double *out_pct,
				       struct errbuf *err);

/*
 * A growth rate in connections per minute: "5/min", "5/m", "0.5/s",
 * "120/h"; a bare number is per minute.  Must be > 0.
 */
PGD_NODISCARD bool units_parse_rate_per_min(const char *text,
					    double *out_per_min,
					    struct errbuf *err);

/*
 * A number as the server writes one ("1796129474.242073", "-3", "1e-05"):
 * the whole string or NAN.  The plain decimals of epochs and counts take
 * a fast path that rounds exactly as strtod() does; anything else goes
 * to strtod().  Thousands of them a sample make the difference.
 */
double units_parse_number(const char *text);

/*
 * Human duration for reports: "850ms", "12.4s", "4m10s", "2h05m", "3d04h";
 * from a billion days on, days in three digits ("1.16e+303d").
 * Negative or NaN prints "-".  Always NUL-terminates when len > 0.
 * Returns buf.
 */
char *units_format_duration(char *buf, size_t len, double seconds);

enum utc_style {
	UTC_DATE_TIME,      /* "2026-11-23 10:23:38" */
	UTC_DATE_TIME_ZONE, /* "2026-11-23 10:23:38 UTC" */
	UTC_TIME_ZONE,      /* "10:23:38 UTC" */
};

/* epoch_s as UTC; "-" when unknown (NAN) or out of range, where
 * converting would be undefined.  Returns buf. */
char *units_format_utc(char *buf, size_t len, double epoch_s,
		       enum utc_style style);

#endif
