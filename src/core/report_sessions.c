/*
 * report_sessions.c - the session verdict in a report (see
 * report_sessions.h).  One pass over the tracker's sessions, open and
 * recently closed, sorts them into the report's groups.
 */
#include "report_sessions.h"

#include "verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A session of the tracker, by report group, for the evidence lists. */
struct placed {
	size_t group;
	const struct tracked *session;
};

static int compare_placed(const void *pa, const void *pb)
{
	const struct placed *a = pa;
	const struct placed *b = pb;
	double x = a->session->last_use;
	double y = b->session->last_use;

	if (a->group != b->group) {
		return a->group < b->group ? -1 : 1;
	}
	if (x != y) {
		return x < y ? -1 : 1;
	}
	return (a->session->pid > b->session->pid) -
	       (a->session->pid < b->session->pid);
}

static int compare_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa;
	double b = *(const double *)pb;

	return (a > b) - (a < b);
}

bool report_sessions_left_by_command(const struct tracker *t,
				     const struct tracked *s, double cmd_start,
				     double cmd_end)
{
	double until = isfinite(s->closed_at) ? s->last_seen : t->now;
	bool ended = isfinite(cmd_end);

	if (!tracker_of_command(s) || s->backend_start < cmd_start - 0.5 ||
	    s->in_use) {
		return false;
	}
	/* Still open when the run ended (past --settle): left behind. */
	if (!isfinite(s->closed_at) && ended) {
		return true;
	}
	/* Used again and again, then not, for less time than it had been
	 * in service: a pool's member the last tests did not need (a warm
	 * pool, closed at the end), given the benefit of the doubt. */
	if (s->reused && until - s->last_use < s->last_use - s->backend_start) {
		return false;
	}
	/* Held until the command ended: used again and again, and unused
	 * for less than twice its time in service, a handle shared by
	 * many tests (closed at the end, idle while the last ones ran),
	 * given the benefit of the doubt; used once at most and passed
	 * over, a handle per test never closed, however short its life (a
	 * compiled test binary's sessions live about a second). */
	if (ended && until >= cmd_end - REPORT_SESSIONS_END_SLACK_S) {
		if (s->reused && until - s->last_use <
					 2 * (s->last_use - s->backend_start)) {
			return false;
		}
		if (s->uses <= 1 && isfinite(s->passed_over_at)) {
			return true;
		}
	}
	return isfinite(s->passed_over_at) &&
	       until - s->last_use >= t->params.floor_s;
}

/* Everything judging needs, for one report. */
struct judge {
	const struct report_input *in;
	const struct tracker *t;
	bool wrapped;
	double cmd_start; /* server epoch */
	double cmd_end;   /* server epoch; NAN while it runs */
	double idle_tx_age_s;
	double max_unused_s; /* < 0: --max-unused unset */
	int untraced;        /* wrap: the command's sessions judged by filter */
	size_t counts;       /* groups whose verdict rests on counts */
	struct placed *evidence;
	size_t evidence_count;
	double **lifetimes; /* per group */
	size_t *lifetime_count;
	size_t *opened;      /* per group: opened in the run, lately */
	double *oldest_open; /* per group: the earliest of those */
};

static size_t group_of(const struct judge *j, const struct tracked *s)
{
	if (!match_filter_accepts(j->in->filter, s->keys[GROUP_KEY_USER],
				  s->keys[GROUP_KEY_APP],
				  s->keys[GROUP_KEY_DB])) {
		return (size_t)GROUP_NONE;
	}
	return verdict_group_of(j->in->history, s);
}

static void add_lifetime(struct judge *j, size_t g, double lifetime)
{
	size_t n = j->lifetime_count[g];

	j->lifetimes[g] = xrealloc(j->lifetimes[g],
				   (n + 1) * sizeof(*j->lifetimes[g]));
	j->lifetimes[g][n] = lifetime;
	j->lifetime_count[g] = n + 1;
}

/* --max-unused: an open session unused that long, or one whose last use
 * the server hid (its times are not shown to pgdrip's role). */
static void count_unused(const struct judge *j, struct report_group *rg,
			 const struct tracked *s)
{
	if (s->weak) {
		rg->unused_hidden++;
	} else if (!s->in_use && tracker_unused_s(j->t, s) >= j->max_unused_s) {
		rg->unused_over_age++;
	}
}

/* One session, open or closed, into its group's figures. */
static void place(struct judge *j, struct report *report,
		  const struct tracked *s, bool closed)
{
	size_t g = group_of(j, s);
	struct report_group *rg;
	bool judged = !j->wrapped || tracker_of_command(s);
	bool evidence;

	if (g == (size_t)GROUP_NONE) {
		return;
	}
	rg = &report->groups[g];
	if (judged && s->max_idle_tx_s >= j->idle_tx_age_s &&
	    (!j->wrapped || s->backend_start >= j->cmd_start - 0.5)) {
		rg->idle_tx_over_age++;
	}
	if (judged && !closed && j->max_unused_s >= 0) {
		count_unused(j, rg, s);
	}
	if (s->first_seen > j->t->started) {
		j->opened[g]++;
		j->oldest_open[g] = fmin(j->oldest_open[g], s->backend_start);
	}
	if (closed) {
		add_lifetime(j, g, s->last_seen - s->backend_start);
	}
	evidence = j->wrapped ? report_sessions_left_by_command(j->t, s,
								j->cmd_start,
								j->cmd_end)
			      : !closed && tracker_abandoned(j->t, s);
	if (evidence) {
		j->evidence = xrealloc(j->evidence, (j->evidence_count +
						     1) * sizeof(*j->evidence));
		j->evidence[j->evidence_count++] = (struct placed){g, s};
		j->untraced += j->wrapped && s->client_pid <= 0;
	}
}

static void keep_evidence(struct report *report, struct report_group *g,
			  const struct placed *p, size_t n,
			  const struct tracker *t)
{
	size_t keep = n < REPORT_EVIDENCE_MAX ? n : REPORT_EVIDENCE_MAX;

	g->evidence_total = (int)n;
	g->evidence_count = keep;
	g->evidence = arena_alloc(&report->arena,
				  (keep ? keep : 1) * sizeof(*g->evidence));
	for (size_t i = 0; i < keep; i++) {
		const struct tracked *s = p[i].session;
		struct report_evidence *e = &g->evidence[i];
		double until = isfinite(s->closed_at) ? s->last_seen : t->now;

		e->pid = s->pid;
		e->database = arena_strdup(&report->arena,
					   s->keys[GROUP_KEY_DB]);
		e->opened_epoch_s = s->backend_start;
		e->last_used_epoch_s = s->last_use;
		e->unused_s = fmax(0, until - s->last_use);
		e->closed_epoch_s = s->closed_at;
		e->state = s->state;
		e->query = arena_strdup(&report->arena, s->query);
		e->client.pid = s->client_pid;
		e->client.command = arena_strdup(&report->arena,
						 s->client_command);
		e->client.relation = s->client_relation;
	}
}

/* Wrap mode: the command's run, judged with hindsight; flagged from
 * the moment its first session left was sure to be (passed over and
 * unused for the floor), run-relative. */
static void judge_wrapped(struct report_group *g, const struct placed *p,
			  size_t evidence, const struct tracker *t)
{
	double first = INFINITY;

	g->leaked = (int)evidence;
	if (!g->by_sessions) {
		g->flagged = g->trend.flagged;
		g->verdict = g->flagged ? "leaking" : "ok";
		return;
	}
	g->flagged = evidence > 0;
	g->verdict = evidence > 0 ? "leaking" : "ok";
	for (size_t i = 0; i < evidence; i++) {
		first = fmin(first, p[i].session->passed_over_at +
					    t->params.floor_s - t->started);
	}
	g->first_flagged_s = evidence > 0 ? fmax(0, first) : NAN;
}

static void churn(struct report_group *g, struct judge *j, size_t i)
{
	double span_min = (j->t->now - j->oldest_open[i]) / 60;

	g->closed_seen = (int)j->lifetime_count[i];
	if (j->lifetime_count[i] > 0) {
		qsort(j->lifetimes[i], j->lifetime_count[i], sizeof(double),
		      compare_double);
		g->median_lifetime_s =
			j->lifetimes[i][j->lifetime_count[i] / 2];
	}
	/* Over the time the opens seen span, at least a minute: a few
	 * sessions opened in a second are not hundreds a minute. */
	if (j->opened[i] > 0) {
		g->opened_per_min = (double)j->opened[i] / fmax(1, span_min);
	}
}

static void finish_groups(struct report *report, struct judge *j)
{
	const struct history *h = j->in->history;

	if (j->evidence_count > 0) {
		qsort(j->evidence, j->evidence_count, sizeof(*j->evidence),
		      compare_placed);
	}
	for (size_t i = 0, k = 0; i < h->group_count; i++) {
		struct report_group *g = &report->groups[i];
		size_t from = k;

		while (k < j->evidence_count && j->evidence[k].group == i) {
			k++;
		}
		if (j->wrapped) {
			judge_wrapped(g, j->evidence + from, k - from, j->t);
		}
		/* Listed for a verdict only: a quiet pool's idle sessions
		 * are counted, not spelled out (5,000 of them would be
		 * megabytes of JSON). */
		keep_evidence(report, g, j->evidence + from,
			      g->flagged ? k - from : 0, j->t);
		g->evidence_total = (int)(k - from);
		churn(g, j, i);
		j->counts += !g->by_sessions && g->connections > 0;
	}
}

static void copy_verdicts(struct report *report, const struct history *h)
{
	for (size_t i = 0; i < h->group_count; i++) {
		struct report_group *g = &report->groups[i];
		const struct group_history *hg = &h->groups[i];

		g->flagged = hg->flagged;
		g->verdict = verdict_name(hg->verdict);
		g->by_sessions = hg->sessions.known;
		g->sessions = hg->sessions;
		g->opened_per_min = NAN;
		g->median_lifetime_s = NAN;
	}
}

static void warn(struct report *report, const struct judge *j)
{
	if (j->untraced > 0) {
		report_add_warning(
			report,
			"%d sessions the command may have left could "
			"not be traced to a process (another host, "
			"a container): they were judged by "
			"--app/--user/--db alone",
			j->untraced);
	}
	if (j->counts > 0 && j->t->identities) {
		report_add_warning(report,
				   "%zu groups have no session whose times the "
				   "server shows (no pg_read_all_stats): their "
				   "verdict rests on their counts",
				   j->counts);
	}
}

void report_sessions_build(struct report *report, const struct report_input *in)
{
	const struct history *h = in->history;
	size_t n = h->group_count;
	struct judge j = {
		.in = in,
		.t = in->tracker,
		.wrapped = in->wrapped,
		.idle_tx_age_s = in->thresholds->idle_tx_age_ms / 1000.0,
		.max_unused_s = in->thresholds->max_unused_ms / 1000.0,
	};

	copy_verdicts(report, h);
	if (j.t == NULL || n == 0) {
		return;
	}
	j.cmd_start = j.t->started + (isfinite(in->command_started_s)
					      ? in->command_started_s
					      : 0);
	j.cmd_end = j.t->started + in->command_ended_s;
	j.lifetimes = xcalloc(n, sizeof(*j.lifetimes));
	j.lifetime_count = xcalloc(n, sizeof(*j.lifetime_count));
	j.opened = xcalloc(n, sizeof(*j.opened));
	j.oldest_open = xcalloc(n, sizeof(*j.oldest_open));
	/* Never NULL: qsort() and pointer sums on it are undefined then. */
	j.evidence = xcalloc(1, sizeof(*j.evidence));
	for (size_t i = 0; i < n; i++) {
		j.oldest_open[i] = INFINITY;
	}
	for (size_t i = 0; i < j.t->live_count; i++) {
		place(&j, report, &j.t->live[i], false);
	}
	for (size_t i = 0; i < j.t->closed_count; i++) {
		place(&j, report, tracker_closed_at(j.t, i), true);
	}
	finish_groups(report, &j);
	warn(report, &j);
	for (size_t i = 0; i < n; i++) {
		free(j.lifetimes[i]);
	}
	free(j.lifetimes);
	free(j.lifetime_count);
	free(j.opened);
	free(j.oldest_open);
	free(j.evidence);
}
