/*
 * fleet.h - several servers watched side by side: one thread and one
 * connection each, one report with a section per server, one
 * exposition for --listen.
 */
#ifndef PGDRIP_FLEET_H
#define PGDRIP_FLEET_H

#include "cli.h"

/* --once or watch mode over opts->targets; returns the exit status. */
int fleet_run(const struct options *opts);

#endif
