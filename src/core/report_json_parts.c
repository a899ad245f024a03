/*
 * report_json_parts.c - pieces the JSON report's writers share (see
 * report_json_parts.h): a moment as ISO 8601, a client process's
 * members.
 */
#include "report_json_parts.h"

#include <math.h>
#include <stdio.h>

/* An ISO 8601 UTC timestamp, computed without the C library's time
 * functions so the core stays free of the clock and the locale. */
void report_json_time(struct json_writer *w, double epoch_s)
{
	long long t, days, secs;
	long long z, era, doe, yoe, y, doy, mp, d, m;
	char buf[128];

	/* Unknown (no sample) or absurd: converting it would be undefined. */
	if (!isfinite(epoch_s) || epoch_s < 0 || epoch_s > 253402300799.0) {
		json_null(w);
		return;
	}
	t = (long long)floor(epoch_s);
	days = t / 86400;
	secs = t % 86400;
	/* Howard Hinnant's days-to-civil algorithm. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
		 y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
	json_string(w, buf);
}

/* "pid", "command", and "relation" unless there is nothing to relate
 * to. */
void report_json_process_fields(struct json_writer *w, int pid,
				const char *command,
				enum client_relation relation,
				bool with_relation)
{
	json_key(w, "pid");
	json_int(w, pid);
	json_key(w, "command");
	json_string(w, command);
	if (with_relation) {
		json_key(w, "relation");
		json_string(w, sample_relation_name(relation));
	}
}

void report_json_process_members(struct json_writer *w, int pid,
				 const char *command,
				 enum client_relation relation)
{
	report_json_process_fields(w, pid, command, relation, true);
}
