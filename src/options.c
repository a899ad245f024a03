/*
 * options.c - the words for a run's mode and the release of what the
 * options own (see options.h); the parsing is cli.c's alone.
 */
#include "options.h"

#include <stdint.h>
#include <stdlib.h>

const char *options_mode_name(enum run_mode mode)
{
	static const char *const names[] = {
		[RUN_MODE_WATCH] = "watch",      [RUN_MODE_LIVE] = "live",
		[RUN_MODE_ONCE] = "once",        [RUN_MODE_WRAP] = "wrap",
		[RUN_MODE_DRAIN] = "wait-drain", [RUN_MODE_REPLAY] = "replay",
	};

	return (unsigned)mode < PGD_ARRAY_LEN(names) ? names[mode] : "watch";
}

void options_finish(struct options *opts)
{
	if (opts == NULL) {
		return;
	}
	match_filter_finish(&opts->filter);
	for (size_t i = 0; i < opts->target_count; i++) {
		if (opts->targets[i].owned) {
			free((char *)(uintptr_t)opts->targets[i].conninfo);
		}
	}
	free(opts->targets);
	opts->targets = NULL;
	opts->target_count = 0;
}
