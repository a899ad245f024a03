/*
 * exitcode.c - the run's exit-code policy (see exitcode.h).
 */
#include "exitcode.h"

#include "check.h"

int exitcode_unreached(bool out_of_slots)
{
	return out_of_slots ? PGD_EXIT_CHECK_FAILED : PGD_EXIT_UNAVAILABLE;
}

int exitcode_fleet(const int *codes, size_t count)
{
	int status = PGD_EXIT_OK;

	for (size_t i = 0; i < count; i++) {
		if (codes[i] == PGD_EXIT_CHECK_FAILED) {
			return PGD_EXIT_CHECK_FAILED;
		}
		if (codes[i] != PGD_EXIT_OK) {
			status = codes[i];
		}
	}
	return status;
}

int exitcode_after_write_error(int status)
{
	return status != PGD_EXIT_OK ? status : PGD_EXIT_UNAVAILABLE;
}
