/*
 * bouncer_time.c - the console's times read as the server's clock (see
 * bouncer_parse_time() in bouncer.h): civil time, with or without a
 * zone, computed without the C library's time functions.
 */
#include "bouncer.h"

#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, long long m, long long d)
{
	long long era;
	long long yoe;
	long long doy;
	long long doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "+01", "-0530", "+05:30"; false when not an offset. */
static bool numeric_zone(const char *z, long *offset_s)
{
	int h = 0;
	int m = 0;
	int n = 0;

	if ((z[0] != '+' && z[0] != '-') ||
	    (sscanf(z + 1, "%2d:%2d%n", &h, &m, &n) != 2 &&
	     sscanf(z + 1, "%2d%2d%n", &h, &m, &n) != 2 &&
	     sscanf(z + 1, "%2d%n", &h, &n) != 1) ||
	    z[1 + n] != '\0' || h > 15 || m > 59) {
		return false;
	}
	*offset_s = (z[0] == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	return true;
}

bool bouncer_parse_time(const char *text, double *naive_s, long *offset_s,
			bool *zone_known)
{
	int y, mo, d, h, mi, n = 0;
	double sec;
	const char *zone;

	if (text == NULL ||
	    sscanf(text, "%4d-%2d-%2d %2d:%2d:%lf%n", &y, &mo, &d, &h, &mi,
		   &sec, &n) != 6 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    !(sec >= 0 && sec < 61)) {
		return false;
	}
	*naive_s = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 +
		   mi * 60.0 + sec;
	zone = text + n;
	while (*zone == ' ') {
		zone++;
	}
	*offset_s = 0;
	*zone_known = *zone == '\0' || strcmp(zone, "UTC") == 0 ||
		      strcmp(zone, "GMT") == 0 || strcmp(zone, "Z") == 0 ||
		      numeric_zone(zone, offset_s);
	return true;
}
