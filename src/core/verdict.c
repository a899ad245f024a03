/*
 * verdict.c - a group's verdict from its sessions, the count's trend as
 * the second opinion (see verdict.h).  One pass over the open sessions
 * per sample; the abandoned ones are then sorted by group to judge how
 * their last uses are spread.
 */
#include "verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *verdict_name(enum group_verdict verdict)
{
	switch (verdict) {
	case VERDICT_LEAKING:
		return "leaking";
	case VERDICT_STUCK:
		return "stuck";
	case VERDICT_OK:
		break;
	}
	return "ok";
}

size_t verdict_group_of(const struct history *history,
			const struct tracked *session)
{
	const struct group_history *g = history_find(history, session->keys);

	return g == NULL ? (size_t)GROUP_NONE : (size_t)(g - history->groups);
}

/* A fine key's group, not yet looked up. */
#define UNKNOWN ((size_t)-2)

/* An abandoned (or long unused) session's last use, by group, for the
 * spread; or a never used again session's open. */
struct last_use {
	size_t group;
	double at;
	bool abandoned; /* false: unused long, not passed over */
	double turn_s;  /* the mean spacing of its uses since it opened */
};

static int compare_last_use(const void *pa, const void *pb)
{
	const struct last_use *a = pa;
	const struct last_use *b = pb;

	if (a->group != b->group) {
		return a->group < b->group ? -1 : 1;
	}
	return (a->at > b->at) - (a->at < b->at);
}

static void reset(struct group_sessions *gs)
{
	memset(gs, 0, sizeof(*gs));
	gs->unused_min_s = NAN;
	gs->unused_max_s = NAN;
	gs->every_s = NAN;
	gs->median_lifetime_s = NAN;
	gs->last_work = NAN;
}

static double nan_min(double a, double b)
{
	return isnan(a) || b < a ? b : a;
}

static double nan_max(double a, double b)
{
	return isnan(a) || b > a ? b : a;
}

/* Counts one open session into its group's evidence. */
/* Unused this long without being passed over (no later open showed
 * that its holder went on without it): weaker evidence, so a longer
 * wait; a pooled session of a pool that reaps idle ones is gone by
 * then. */
static double idle_long_s(double threshold_s)
{
	return fmax(1.5 * threshold_s, threshold_s + 10);
}

static void count_unused(struct group_sessions *gs, double unused)
{
	gs->unused_min_s = nan_min(gs->unused_min_s, unused);
	gs->unused_max_s = nan_max(gs->unused_max_s, unused);
}

/* What count() found of one session, beyond its group's counts. */
struct counted {
	bool abandoned;
	bool idle;   /* unused long, not passed over */
	bool unused; /* opened in the run, never used again since */
};

static void count(struct group_sessions *gs, const struct tracker *t,
		  const struct tracked *s, double threshold_s,
		  double interval_s, struct counted *found)
{
	double unused = tracker_unused_s(t, s);

	gs->tracked++;
	gs->exonerated += s->exonerated;
	gs->threshold_s = fmax(gs->threshold_s, threshold_s);
	gs->busy += s->in_use || unused < threshold_s;
	gs->last_work = nan_max(gs->last_work, s->last_use);
	*found = (struct counted){false, false, false};
	if (!s->reused && s->uses <= 1 && !s->in_use && !s->listener &&
	    s->first_seen > t->started && unused >= 2 * interval_s) {
		gs->unused_new++;
		found->unused = true;
	}
	if (s->weak || s->in_use || unused < threshold_s) {
		gs->passed_over += !s->weak && tracker_passed_over(t, s);
		return;
	}
	if (s->listener) {
		gs->listeners++;
	} else if (tracker_abandoned(t, s)) {
		found->abandoned = true;
		gs->abandoned++;
		count_unused(gs, unused);
		gs->recent += s->passed_over_at > t->started;
	} else if (tracker_sidelined(t, s) &&
		   unused >= idle_long_s(threshold_s) &&
		   tracker_replaced(t, s)) {
		/* A pool that reached its size before it leaked opens no
		 * more: its leaked members are passed over by none, yet
		 * they fall out of use one after another while the others
		 * serve. */
		gs->unused_long++;
		count_unused(gs, unused);
		found->idle = true;
	} else {
		/* Nothing went on without it (a pool at rest), its work
		 * fell with it (a pool whose load fell), or it was never
		 * taken (a pre-filled pool's spare member). */
		gs->resting++;
		gs->fell += tracker_sidelined(t, s) &&
			    unused >= idle_long_s(threshold_s);
	}
}

/* How the last uses of a group's abandoned sessions are spread: the most
 * of them inside one burst window, and their mean spacing. */
/* The most of l's moments (sorted) inside one window of window_s,
 * counting only the abandoned ones unless all is true. */
static size_t most_in_window(const struct last_use *l, size_t n,
			     double window_s, bool all, size_t *counted)
{
	size_t most = 0;
	size_t in = 0;

	*counted = 0;
	for (size_t i = 0, j = 0; i < n; i++) {
		if (!all && !l[i].abandoned) {
			continue;
		}
		(*counted)++;
		in++;
		while (l[i].at - l[j].at > window_s) {
			in -= all || l[j].abandoned;
			j++;
		}
		most = in > most ? in : most;
	}
	return most;
}

static void judge_spread(struct group_sessions *gs, const struct last_use *l,
			 size_t n, double window_s)
{
	size_t counted;
	size_t most = most_in_window(l, n, window_s, false, &counted);
	/* Members falling out of use are judged against the group's own
	 * wait: a pool whose load fell goes quiet within it, a leak keeps
	 * losing one member after another. */
	double idle_window_s = fmax(window_s, gs->threshold_s / 2);
	double first = NAN;
	double last = NAN;

	gs->spread = counted >= VERDICT_MIN_SESSIONS &&
		     (double)most <= VERDICT_BURST_SHARE * (double)counted;
	most = most_in_window(l, n, idle_window_s, true, &counted);
	gs->spread_idle = counted >= VERDICT_MIN_SESSIONS &&
			  (double)most <= VERDICT_BURST_SHARE * (double)counted;
	most = most_in_window(l, n, window_s, true, &counted);
	gs->spread_quiet = counted >= VERDICT_MIN_SESSIONS &&
			   (double)most <=
				   VERDICT_BURST_SHARE * (double)counted;
	/* Skipped: the group worked on for two of its turns after its last
	 * use.  A pool handing members out in turn at a trickle, whose
	 * traffic then stops, leaves each member within one turn of the
	 * group's last work. */
	gs->skipped = 0;
	for (size_t i = 0; i < n; i++) {
		gs->skipped += !l[i].abandoned &&
			       gs->last_work - l[i].at >= 2 * l[i].turn_s;
	}
	for (size_t i = 0; i < n; i++) {
		first = isnan(first) ? l[i].at : first;
		last = l[i].at;
	}
	gs->every_s = n >= 2 ? (last - first) / (double)(n - 1) : NAN;
}

/* The opens of a group's never used again sessions (sorted): a leak
 * opens them one after another; a pool that stalled (its process
 * starved, a long pause) opens a burst of members for its backlog at
 * once, then rests most of them until its idle timeout closes them. */
static void judge_opens(struct group_sessions *gs, const struct last_use *l,
			size_t n, double window_s)
{
	size_t counted;
	size_t most = most_in_window(l, n, window_s, true, &counted);

	gs->spread_new = counted >= VERDICT_MIN_SESSIONS &&
			 (double)most <= VERDICT_BURST_SHARE * (double)counted;
}

/* Sorts the moments by group and hands each group's run to judge. */
static void judge_by_group(struct history *history, struct last_use *l,
			   size_t n, double window_s,
			   void (*judge)(struct group_sessions *,
					 const struct last_use *, size_t,
					 double))
{
	qsort(l, n, sizeof(*l), compare_last_use);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && l[j].group == l[i].group; j++) {
		}
		judge(&history->groups[l[i].group].sessions, l + i, j - i,
		      window_s);
	}
}

/* The group's verdict from its evidence and the trend. */
static void decide(struct group_history *g, double t_s)
{
	struct group_sessions *gs = &g->sessions;
	bool was = g->flagged;
	int unused;

	if (was) {
		/* A leaking pool nearly drained serves less: its members
		 * going quiet then take their work with them, and are the
		 * leak's all the same. */
		gs->unused_long += gs->fell;
		gs->resting -= gs->fell;
		gs->fell = 0;
	}
	if (was && gs->busy == 0 &&
	    gs->abandoned + gs->unused_long >= VERDICT_MIN_SESSIONS) {
		/* A leaking pool drained down to none: its last members
		 * went quiet with nothing left to go on without them, and
		 * are the leak's too. */
		gs->unused_long += gs->resting;
		gs->resting = 0;
	}
	unused = gs->abandoned + gs->unused_long;
	bool by_sessions = gs->abandoned >= VERDICT_MIN_SESSIONS && gs->spread;
	/* Falling out of use one after another while the group still
	 * serves: a pool leaking at its full size. */
	bool by_idle = unused >= VERDICT_MIN_SESSIONS && gs->spread_idle &&
		       gs->busy > 0;
	/* ... or until none served: a small pool drained by a leak faster
	 * than its group's wait (psycopg_pool's 4 members, one leaked
	 * every few seconds), whose requests then fail on the client and
	 * reach the server no more.  Its members count only if the work
	 * went on without each one (tracker_replaced) for two of its turns
	 * (skipped): a pool whose load fell or stopped shows no such
	 * member. */
	bool drained = gs->busy == 0 && gs->skipped >= VERDICT_MIN_SESSIONS &&
		       gs->spread_quiet;
	bool by_counts = g->trend.flagged &&
			 gs->unused_new >= VERDICT_MIN_SESSIONS &&
			 gs->spread_new &&
			 2.0 * gs->unused_new >= g->trend.net_growth;

	if (!gs->known) {
		g->flagged = g->trend.flagged;
	} else {
		/* Once flagged, it stays so while its abandoned sessions
		 * are there: a leak that filled its pool is still a leak. */
		g->flagged = by_sessions || by_idle || drained || by_counts ||
			     (was && unused >= VERDICT_MIN_SESSIONS);
	}
	g->verdict = !g->flagged ? VERDICT_OK
		     : unused >= VERDICT_MIN_SESSIONS &&
				     5 * unused >=
					     4 * (gs->tracked - gs->listeners)
			     ? VERDICT_STUCK
			     : VERDICT_LEAKING;
	if (g->flagged && isnan(g->first_flagged_s)) {
		g->first_flagged_s = t_s;
	}
}

void verdict_update(struct history *history, const struct tracker *tracker,
		    const struct filter *filter, double interval_s)
{
	size_t n = history->group_count;
	double *threshold = xcalloc(tracker->fine_count + 1,
				    sizeof(*threshold));
	struct last_use *lasts = xcalloc(tracker->live_count + 1,
					 sizeof(*lasts));
	struct last_use *opens = xcalloc(tracker->live_count + 1,
					 sizeof(*opens));
	size_t nlasts = 0;
	size_t nopens = 0;
	double window_s = fmax(2 * interval_s, 2.0);
	/* Grouped by user, application or database only, a session's group
	 * follows from its fine key: looked up once a key, not a session. */
	size_t *group_of_fine = xcalloc(tracker->fine_count + 1,
					sizeof(*group_of_fine));
	bool by_fine = true;

	for (size_t k = 0; k < history->keys.count; k++) {
		enum group_key key = history->keys.keys[k];

		by_fine &= key == GROUP_KEY_USER || key == GROUP_KEY_APP ||
			   key == GROUP_KEY_DB;
	}
	for (size_t i = 0; i < tracker->fine_count; i++) {
		threshold[i] = tracker_threshold_s(tracker,
						   tracker->fine[i].key);
		group_of_fine[i] = UNKNOWN;
	}
	for (size_t g = 0; g < n; g++) {
		/* Once a group's sessions were seen, its verdict rests on
		 * them, even when none is open any more. */
		bool known = history->groups[g].sessions.known;

		reset(&history->groups[g].sessions);
		history->groups[g].sessions.known = known;
	}
	for (size_t i = 0; i < tracker->live_count; i++) {
		const struct tracked *s = &tracker->live[i];
		size_t g;
		struct counted found;

		if (by_fine && group_of_fine[s->fine_index] != UNKNOWN) {
			g = group_of_fine[s->fine_index];
		} else {
			g = match_filter_accepts(filter,
						 s->keys[GROUP_KEY_USER],
						 s->keys[GROUP_KEY_APP],
						 s->keys[GROUP_KEY_DB])
				    ? verdict_group_of(history, s)
				    : (size_t)GROUP_NONE;
			if (by_fine) {
				group_of_fine[s->fine_index] = g;
			}
		}
		if (g == (size_t)GROUP_NONE) {
			continue;
		}
		history->groups[g].sessions.known = true;
		count(&history->groups[g].sessions, tracker, s,
		      threshold[s->fine_index], interval_s, &found);
		if (found.abandoned || found.idle) {
			lasts[nlasts++] = (struct last_use){
				g, s->last_use, found.abandoned,
				(s->last_use - s->backend_start) /
					(s->uses > 0 ? s->uses : 1)};
		}
		if (found.unused) {
			opens[nopens++] = (struct last_use){g, s->backend_start,
							    false, NAN};
		}
	}
	judge_by_group(history, lasts, nlasts, window_s, judge_spread);
	/* Opens together: within a sample and a half, at least 1.5 s (a
	 * burst's opens queue on the server's forks; a leak of one a
	 * second has two in that window, and is spread by its fourth). */
	judge_by_group(history, opens, nopens, fmax(1.5 * interval_s, 1.5),
		       judge_opens);
	for (size_t g = 0; g < n; g++) {
		struct group_history *h = &history->groups[g];

		decide(h, history->last_t_s);
		/* For the picture: the abandoned apart from the idle. */
		series_push_sparse(&h->run_abandoned, history->last_t_s,
				   h->sessions.abandoned);
	}
	free(threshold);
	free(lasts);
	free(opens);
	free(group_of_fine);
}

size_t verdict_command_open(const struct tracker *tracker,
			    const struct filter *filter, double cmd_start)
{
	size_t open = 0;

	for (size_t i = 0; i < tracker->live_count; i++) {
		const struct tracked *s = &tracker->live[i];

		/* The same half second of slack as the report's judgement:
		 * a session the command opened at once. */
		open += tracker_of_command(s) &&
			s->backend_start >= cmd_start - 0.5 &&
			match_filter_accepts(filter, s->keys[GROUP_KEY_USER],
					     s->keys[GROUP_KEY_APP],
					     s->keys[GROUP_KEY_DB]);
	}
	return open;
}
