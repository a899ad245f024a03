/*
 * genrecord.c - writes a synthetic --record stream for benchmarks and
 * long replay tests: SAMPLES samples of GROUPS groups, most steady, every
 * 50th leaking one connection a minute (wrapping at 40).
 *
 *   pgdrip-genrecord SAMPLES GROUPS [INTERVAL_S] | pgdrip --replay -
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long samples;
	long groups;
	double interval;

	if (argc < 3) {
		fprintf(stderr, "usage: pgdrip-genrecord SAMPLES GROUPS "
				"[INTERVAL_S]\n");
		return 2;
	}
	samples = atol(argv[1]);
	groups = atol(argv[2]);
	interval = argc > 3 ? atof(argv[3]) : 1.0;
	for (long i = 0; i < samples; i++) {
		double t = 1700000000.0 + i * interval;

		printf("{\"v\":1,\"t\":%.3f,\"status\":\"ok\",\"elapsed_ms\":1,"
		       "\"server\":{\"version\":\"15.18\",\"version_num\":"
		       "150018,"
		       "\"max_connections\":3000,\"superuser_reserved\":3,"
		       "\"reserved\":0,\"idle_session_timeout_s\":0,"
		       "\"can_read_all_stats\":true,\"current_user\":\"bench\"}"
		       ","
		       "\"rows\":[",
		       t);
		for (long g = 0; g < groups; g++) {
			long n = 2 + g % 5;

			if (g % 50 == 0) {
				n += (long)(i * interval / 60) % 40;
			}
			printf("%s{\"user\":\"role%ld\",\"application\":\"app%"
			       "ld\","
			       "\"database\":\"db\",\"client\":\"local\","
			       "\"state\":\"idle\",\"count\":%ld}",
			       g ? "," : "", g % 100, g, n);
		}
		printf("],\"idle_in_transaction\":[],\"role_limits\":[],"
		       "\"db_limits\":[]}\n");
	}
	return ferror(stdout) ? 1 : 0;
}
