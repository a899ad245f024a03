/*
 * tracker_prune.h - bounding the tracker's memory by the names still in
 * use: the pipeline runs it after each sample the tracker took in, so
 * the tracker itself never calls down into its pruning.
 */
#ifndef PGDRIP_TRACKER_PRUNE_H
#define PGDRIP_TRACKER_PRUNE_H

#include "tracker.h"

/* Forgets the names no live or remembered session holds any more (their
 * scopes, reuse-gap records and interned strings), once the interned
 * strings doubled since the last time; cheap otherwise.  Call after
 * tracker_add(). */
void tracker_prune_when_grown(struct tracker *t);

#endif
