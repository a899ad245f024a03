/*
 * clock.c - monotonic and wall clocks (see clock.h).
 */
#include "clock.h"

#include <time.h>

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The wall and monotonic clocks read together once: the run's anchor.
 * (Set by the main thread's first call, before any other thread.) */
static double anchor_wall_s;
static double anchor_mono_s;

static void anchor(void)
{
	if (anchor_wall_s == 0) {
		anchor_mono_s = clock_mono_s();
		anchor_wall_s = realtime_s();
	}
}

double clock_wall_s(void)
{
	anchor();
	return anchor_wall_s + (clock_mono_s() - anchor_mono_s);
}

double clock_wall_step_s(void)
{
	double kept = clock_wall_s();

	return realtime_s() - kept;
}
