/*
 * test_plot.c - the SVG picture: one series per group shown plus
 * "other", limits drawn or noted by the scale rule, leak marks with
 * their slope, failed samples shaded, wrap markers, hostile names kept
 * well-formed and escaped, and the same bytes for the same run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "plot.h"
#include "support.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One group of a synthetic run: its count at sample i is
 * base + slope * i. */
struct spec {
	const char *user;
	const char *app;
	int base;
	double slope;
};

struct run {
	const struct spec *specs;
	size_t spec_count;
	int samples;
	int fail_at;    /* this sample fails; -1 none */
	int role_limit; /* on the first spec's role; -1 none */
	bool wrapped;
};

struct fixture {
	struct support_run run; /* the samples, history and report */
	char *svg;
	size_t svg_len;
};

static void fill_sample(struct sample *s, const struct run *run, int i)
{
	int pid = 100;

	sample_reset(s);
	s->taken_at_epoch_s = 1700000000 + i;
	snprintf(s->server.version, sizeof(s->server.version), "15.18");
	s->server.version_num = 150018;
	s->server.max_connections = 100;
	s->server.superuser_reserved = 3;
	s->server.can_read_all_stats = true;
	for (size_t g = 0; g < run->spec_count; g++) {
		const struct spec *sp = &run->specs[g];
		int n = sp->base + (int)lround(sp->slope * i);

		for (int k = 0; k < n; k++) {
			struct session *ss = sample_add_session(s);

			ss->pid = pid++;
			ss->user = sample_strdup(s, sp->user);
			ss->app = sample_strdup(s, sp->app);
			ss->db = "shop";
			ss->state = SESSION_STATE_IDLE;
			ss->state_age_s = 1;
		}
	}
	if (run->role_limit >= 0 && run->spec_count > 0) {
		sample_add_role_limit(s, run->specs[0].user, run->role_limit);
	}
}

/* Runs the samples through the history, builds the report, draws. */
static void draw(struct fixture *f, const struct run *run)
{
	struct run_facts facts;
	struct errbuf err;
	FILE *out;

	pipeline_facts_init(&facts, run->wrapped ? "wrap" : "watch");
	facts.server_label = "127.0.0.1:5432/postgres";
	facts.ended_epoch_s = 1700000000 + run->samples - 1;
	facts.wrapped = run->wrapped;
	facts.command = run->wrapped ? "pytest -x tests/" : NULL;
	facts.command_status = run->wrapped ? 0 : -1;
	facts.command_started_s = run->wrapped ? 1 : NAN;
	facts.command_ended_s = run->wrapped ? run->samples - 2 : NAN;
	memset(f, 0, sizeof(*f));
	support_run_init(&f->run);
	for (int i = 0; i < run->samples; i++) {
		fill_sample(&f->run.sample, run, i);
		if (i == run->fail_at) {
			support_run_fail(&f->run,
					 f->run.sample.taken_at_epoch_s);
			continue;
		}
		support_run_absorb(&f->run);
	}
	support_run_report(&f->run, &facts);
	out = open_memstream(&f->svg, &f->svg_len);
	assert_non_null(out);
	assert_true(plot_write_svg(out, &f->run.report,
				   support_run_history(&f->run), &err));
	assert_int_equal(fclose(out), 0);
}

static void teardown(struct fixture *f)
{
	free(f->svg);
	support_run_finish(&f->run);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* True when every point of the first path after at sits at one height
 * (a flat line), and there are at least min_points of them. */
static bool path_flat(const char *at, int min_points)
{
	const char *p = strstr(at, "<path d=\"");
	const char *end;
	double first_y = NAN;
	int n = 0;

	if (p == NULL) {
		return false;
	}
	p += strlen("<path d=\"");
	end = strchr(p, '"');
	while (p < end) {
		double x;
		double y;
		int used;

		if (sscanf(p, "%*c%lf %lf%n", &x, &y, &used) != 2) {
			return false;
		}
		if (n++ == 0) {
			first_y = y;
		} else if (y != first_y) {
			return false;
		}
		p += used;
		p += *p == ' ';
	}
	return n >= min_points;
}

static bool entity_ok(const char *p)
{
	static const char *const entities[] = {"&amp;", "&lt;", "&gt;",
					       "&quot;", "&#39;"};

	for (size_t i = 0; i < COUNT(entities); i++) {
		if (strncmp(p, entities[i], strlen(entities[i])) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * A small well-formedness check of what the writer emits: valid UTF-8
 * without control characters (but newlines) or U+FFFE/U+FFFF, only the
 * five entities, no raw '<' in text or attributes, no raw '>' in text,
 * and every element closed by its own end tag.
 */
static bool svg_well_formed(const char *svg)
{
	enum { TEXT, TAG, ATTR } st = TEXT;
	char stack[64][32];
	int depth = 0;
	const unsigned char *p = (const unsigned char *)svg;

	while (*p != '\0') {
		unsigned cp = 0;
		size_t n = utf8_decode(p, strlen((const char *)p), &cp);
		bool bad_amp = cp == '&' && !entity_ok((const char *)p);

		if (n == 0 || (cp < 0x20 && cp != '\n') || cp == 0x7F ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			return false;
		}
		if (st == TEXT && cp == '<') {
			const char *name = (const char *)p + 1;
			size_t len = strcspn(name, " />\n");

			if (name[0] == '?') {
				p = (const unsigned char *)strstr(name, "?>");
				if (p == NULL) {
					return false;
				}
				p += 2;
				continue;
			}
			if (name[0] == '/') {
				len = strcspn(name + 1, ">");
				if (depth == 0 ||
				    strlen(stack[depth - 1]) != len ||
				    strncmp(stack[depth - 1], name + 1, len) !=
					    0) {
					return false;
				}
				depth--;
			} else if (len == 0 || len >= 32 || depth == 64) {
				return false;
			} else {
				memcpy(stack[depth], name, len);
				stack[depth++][len] = '\0';
			}
			st = TAG;
		} else if (st == TEXT && (cp == '>' || bad_amp)) {
			return false;
		} else if (st == TAG && cp == '"') {
			st = ATTR;
		} else if (st == TAG && cp == '>') {
			if (p[-1] == '/') {
				depth--;
			}
			st = TEXT;
		} else if (st == ATTR && cp == '"') {
			st = TAG;
		} else if (st == ATTR && (cp == '<' || bad_amp)) {
			return false;
		}
		p += n;
	}
	return st == TEXT && depth == 0;
}

static const struct spec ten_groups[] = {
	{"r_leak", "leaky", 1, 1}, /* +60/min */
	{"r_big", "a", 20, 0},     {"r_big", "b", 19, 0}, {"r_big", "c", 18, 0},
	{"r_big", "d", 17, 0},     {"r_big", "e", 16, 0}, {"r_big", "f", 15, 0},
	{"r_big", "g", 14, 0},     {"r_big", "h", 13, 0}, {"r_big", "i", 12, 0},
};

/* Ten groups: seven lines of their own, the leak among them although
 * its peak is the lowest but for one, and the rest summed. */
static void test_lines_and_other(void **state)
{
	struct run run = {ten_groups, COUNT(ten_groups), 40, -1, -1, false};
	struct fixture f;
	const char *other;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"series\""), PLOT_MAX_LINES);
	assert_int_equal(count(f.svg, "data-kind=\"other\""), 1);
	assert_int_equal(count(f.svg, "data-kind=\"group\""),
			 PLOT_MAX_LINES - 1);
	assert_non_null(strstr(f.svg, "data-group=\"r_leak/leaky\""));
	assert_non_null(strstr(f.svg, "data-group=\"r_big/a\""));
	/* The smallest steady groups are the ones summed. */
	assert_null(strstr(f.svg, "data-group=\"r_big/g\""));
	assert_null(strstr(f.svg, "data-group=\"r_big/h\""));
	assert_null(strstr(f.svg, "data-group=\"r_big/i\""));
	other = strstr(f.svg, "data-group=\"other\"");
	assert_non_null(other);
	/* 14 + 13 + 12 at every sample: the summed line is flat at 39. */
	assert_non_null(strstr(f.svg, "base 39<"));
	assert_non_null(strstr(other, "M58.0 "));
	assert_true(path_flat(other, 40));
	assert_false(
		path_flat(strstr(f.svg, "data-group=\"r_leak/leaky\""), 2));
	assert_non_null(strstr(f.svg, "3 more groups, summed"));
	/* One baseline per line. */
	assert_int_equal(count(f.svg, "class=\"baseline\""), PLOT_MAX_LINES);
	teardown(&f);
}

/* The plan itself, in data units: who gets a line, the summed values,
 * the limits' scale verdicts, the gap and the axes. */
static void test_plan(void **state)
{
	static const char *const own[] = {"r_leak/leaky", "r_big/a", "r_big/b",
					  "r_big/c",      "r_big/d", "r_big/e",
					  "r_big/f"};
	struct run run = {ten_groups, COUNT(ten_groups), 40, 20, 16, false};
	struct fixture f;
	struct plot p;
	const struct plot_line *other;

	(void)state;
	draw(&f, &run);
	plot_plan(&p, &f.run.report, support_run_history(&f.run));
	assert_int_equal(p.line_count, PLOT_MAX_LINES);
	for (size_t i = 0; i < COUNT(own); i++) {
		assert_string_equal(p.lines[i].label, own[i]);
		assert_non_null(p.lines[i].group);
	}
	other = &p.lines[PLOT_MAX_LINES - 1];
	assert_null(other->group);
	assert_int_equal(other->members, 3);
	assert_float_equal(other->baseline, 39, 1e-9);
	assert_int_equal(other->count, 39); /* 40 samples, one failed */
	for (size_t i = 0; i < other->count; i++) {
		assert_float_equal(other->points[i].value, 39, 1e-6);
		assert_int_equal(other->points[i].gap,
				 other->points[i].t_s == 21);
	}
	assert_int_equal(p.gap_count, 1);
	assert_float_equal(p.gaps[0].from_s, 19, 1e-9);
	assert_float_equal(p.gaps[0].to_s, 21, 1e-9);
	/* The leak reaches 40: the role's 16 is drawn, the server's 97 is
	 * not. */
	assert_int_equal(p.limit_count, 2);
	assert_int_equal(p.limits[0].kind, LIMIT_KIND_SERVER);
	assert_int_equal(p.limits[0].limit, 97);
	assert_false(p.limits[0].on_scale);
	assert_int_equal(p.limits[1].kind, LIMIT_KIND_ROLE);
	assert_string_equal(p.limits[1].name, "r_leak");
	assert_true(p.limits[1].on_scale);
	assert_float_equal(p.t_max, 39, 1e-9);
	assert_true(p.y_max > 40 && p.y_max <= 60);
	assert_true(fmod(p.y_max, p.y_step) == 0);
	plot_finish(&p);
	teardown(&f);
}

static void test_leak_mark(void **state)
{
	struct run run = {ten_groups, COUNT(ten_groups), 40, -1, -1, false};
	struct fixture f;
	const char *leak;

	(void)state;
	draw(&f, &run);
	assert_true(f.run.report.groups[0].trend.flagged ||
		    f.run.report.groups[f.run.report.group_count - 1]
			    .trend.flagged);
	assert_int_equal(count(f.svg, "class=\"leak\""), 1);
	leak = strstr(f.svg, "class=\"leak\"");
	assert_non_null(leak);
	assert_int_equal(strncmp(leak,
				 "class=\"leak\" data-group=\"r_leak/"
				 "leaky\"",
				 38),
			 0);
	assert_non_null(strstr(leak, "LEAK +60/min"));
	/* The forecast names the limit it runs into: the server's 97. */
	assert_non_null(strstr(leak, "hits server limit 97 in "));
	assert_non_null(strstr(f.svg, "data-flagged=\"true\""));
	assert_int_equal(count(f.svg, "data-flagged=\"true\""), 1);
	teardown(&f);
}

/* A live leak: a diamond where the verdict first held, at the report's
 * moment, and a projection to the limit its forecast names. */
static void test_leak_live(void **state)
{
	static const struct spec leak[] = {{"r_leak", "leaky", 1, 1},
					   {"r_big", "a", 5, 0}};
	struct run run = {leak, COUNT(leak), 40, -1, 60, false};
	struct fixture f;
	const struct report_group *g;
	const char *mark;
	char want[64];

	(void)state;
	draw(&f, &run);
	g = &f.run.report.groups[0];
	for (size_t i = 0; !g->flagged && i < f.run.report.group_count; i++) {
		g = &f.run.report.groups[i];
	}
	assert_true(g->flagged && isfinite(g->first_flagged_s));
	assert_int_equal(count(f.svg, "class=\"first-flagged\""), 1);
	mark = strstr(f.svg, "class=\"first-flagged\"");
	snprintf(want, sizeof(want), "data-t=\"%.1f\"", g->first_flagged_s);
	assert_non_null(strstr(mark, want));
	assert_int_equal(count(f.svg, "class=\"projection\""), 1);
	assert_non_null(strstr(f.svg, "class=\"projection\" "
				      "data-group=\"r_leak/leaky\" "
				      "data-limit=\"60\""));
	assert_non_null(strstr(f.svg, "role r_leak limit 60 full in "));
	assert_int_equal(count(f.svg, "class=\"projected-region\""), 1);
	teardown(&f);
}

/* A wrapped command that has ended: its leak is marked, first flagged
 * too, but nothing is projected past its end and no forecast said. */
static void test_leak_ended(void **state)
{
	static const struct spec leak[] = {{"r_leak", "leaky", 1, 1},
					   {"r_big", "a", 20, 0}};
	struct run run = {leak, COUNT(leak), 40, -1, -1, true};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_int_equal(count(f.svg, "class=\"leak\""), 1);
	assert_int_equal(count(f.svg, "class=\"first-flagged\""), 1);
	assert_int_equal(count(f.svg, "class=\"projection\""), 0);
	assert_int_equal(count(f.svg, "class=\"projected-region\""), 0);
	assert_null(strstr(f.svg, "hits "));
	teardown(&f);
}

/* A steady run has no leak mark at all. */
static void test_no_leak(void **state)
{
	static const struct spec steady[] = {{"app", "api", 5, 0},
					     {"app", "worker", 2, 0}};
	struct run run = {steady, COUNT(steady), 30, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"series\""), 2);
	assert_int_equal(count(f.svg, "class=\"leak\""), 0);
	assert_int_equal(count(f.svg, "LEAK"), 0);
	assert_int_equal(count(f.svg, "class=\"command\""), 0);
	assert_int_equal(count(f.svg, "class=\"gap\""), 0);
	teardown(&f);
}

/* The role limit close to the counts is drawn; the server's 97, far
 * above 5 connections, is a note instead of a line. */
static void test_limits_scale(void **state)
{
	static const struct spec one[] = {{"app", "api", 5, 0}};
	struct run run = {one, 1, 20, -1, 8, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"limit\""), 1);
	assert_non_null(strstr(f.svg, "class=\"limit\" data-kind=\"role\" "
				      "data-limit=\"8\""));
	assert_non_null(strstr(f.svg, ">role app limit 8<"));
	assert_null(strstr(f.svg, "data-kind=\"server\""));
	assert_non_null(strstr(f.svg, "server limit 97 (off scale"));
	teardown(&f);
}

/* With 60 connections the server's 97 is within reach: drawn. */
static void test_limit_near(void **state)
{
	static const struct spec big[] = {{"app", "api", 60, 0}};
	struct run run = {big, 1, 10, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_int_equal(count(f.svg, "class=\"limit\""), 1);
	assert_non_null(strstr(f.svg, "data-kind=\"server\" "
				      "data-limit=\"97\""));
	assert_null(strstr(f.svg, "off scale"));
	teardown(&f);
}

static void test_gap(void **state)
{
	static const struct spec two[] = {{"app", "api", 3, 0},
					  {"app", "worker", 1, 0.2}};
	struct run run = {two, COUNT(two), 20, 10, -1, false};
	struct fixture f;
	const char *series;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"gap\""), 1);
	assert_non_null(strstr(f.svg, "1 failed samples"));
	/* Each line is broken at the gap: a second move-to in its path. */
	series = strstr(f.svg, "class=\"series\"");
	assert_non_null(series);
	assert_non_null(strstr(strstr(series, "<path d=\"M"), " M"));
	teardown(&f);
}

static void test_wrap_markers(void **state)
{
	static const struct spec two[] = {{"app", "api", 3, 0},
					  {"app", "tests", 0, 0.5}};
	struct run run = {two, COUNT(two), 20, -1, -1, true};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"command\""), 2);
	assert_non_null(strstr(f.svg, "data-at=\"start\""));
	assert_non_null(strstr(f.svg, "data-at=\"end\""));
	assert_non_null(strstr(f.svg, "command: pytest -x tests/"));
	assert_non_null(strstr(f.svg, "pgdrip wrap"));
	teardown(&f);
}

/* One sample (--once): a dot per group, and a note saying so. */
static void test_one_sample(void **state)
{
	static const struct spec two[] = {{"app", "api", 3, 0},
					  {"app", "worker", 1, 0}};
	struct run run = {two, COUNT(two), 1, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"series\""), 2);
	assert_int_equal(count(f.svg, "r=\"4\""), 2);
	assert_int_equal(count(f.svg, "stroke-linejoin"), 0);
	assert_non_null(strstr(f.svg, "one sample"));
	teardown(&f);
}

/* 110 small steady groups summed far above the leak: "other" is named
 * but not drawn, so the leak keeps the scale. */
static void test_other_off_scale(void **state)
{
	struct spec specs[110];
	char names[110][16];
	struct run run = {specs, COUNT(specs), 30, -1, -1, false};
	struct fixture f;
	const char *other;

	(void)state;
	for (size_t i = 0; i < COUNT(specs); i++) {
		snprintf(names[i], sizeof(names[i]), "app%zu", i);
		specs[i] = (struct spec){"app", names[i], i == 0 ? 1 : 2,
					 i == 0 ? 0.5 : 0};
	}
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"series\""), PLOT_MAX_LINES);
	other = strstr(f.svg, "data-kind=\"other\"");
	assert_non_null(other);
	assert_int_equal(strncmp(other,
				 "data-kind=\"other\" data-flagged=\"false\" "
				 "data-peak=\"206\" data-off-scale=\"true\">\n"
				 "</g>",
				 80),
			 0);
	assert_non_null(strstr(f.svg, "other (103 groups summed) peaks at 206: "
				      "off scale"));
	assert_int_equal(count(f.svg, "class=\"leak\""), 1);
	/* The y axis is the leak's: 1 + 0.5 * 29 = 16 at most. */
	assert_non_null(strstr(f.svg, ">20</text>"));
	assert_null(strstr(f.svg, ">200</text>"));
	teardown(&f);
}

static void test_no_sessions(void **state)
{
	struct run run = {NULL, 0, 5, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_int_equal(count(f.svg, "class=\"series\""), 0);
	assert_non_null(strstr(f.svg, "no selected sessions"));
	teardown(&f);
}

/* Every hostile name, as role and application: well-formed, no raw
 * control byte, and the markup characters escaped. */
static void test_hostile_names(void **state)
{
	static const char *const markup[] = {
		"<script>alert(1)</script>",
		"a&b \"q\" 'x'",
		"]]><!--",
		"\xef\xbf\xbe\xef\xbf\xbf nonchar",
	};

	(void)state;
	for (size_t i = 0; i < support_hostile_count + COUNT(markup); i++) {
		const char *name = i < support_hostile_count
					   ? support_hostile[i]
					   : markup[i - support_hostile_count];
		struct spec specs[] = {{name, name, 1, 1}, {"app", name, 2, 0}};
		struct run run = {specs, COUNT(specs), 30, 12, 5, true};
		struct fixture f;

		draw(&f, &run);
		assert_true(svg_well_formed(f.svg));
		assert_null(strchr(f.svg, '\x1b'));
		assert_null(strstr(f.svg, "<script"));
		assert_null(strstr(f.svg, "]]>"));
		assert_null(strstr(f.svg, "<!--"));
		assert_int_equal(count(f.svg, "class=\"series\""), 2);
		teardown(&f);
	}
}

static void test_escaped_label(void **state)
{
	static const struct spec specs[] = {{"r<&\"", "<script>", 2, 0}};
	struct run run = {specs, 1, 5, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_non_null(strstr(f.svg, "data-group=\"r&lt;&amp;&quot;/"
				      "&lt;script&gt;\""));
	assert_non_null(strstr(f.svg, ">r&lt;&amp;&quot;/&lt;script&gt;<"));
	teardown(&f);
}

static void test_deterministic(void **state)
{
	struct run run = {ten_groups, COUNT(ten_groups), 40, 20, 30, true};
	struct fixture a;
	struct fixture b;

	(void)state;
	draw(&a, &run);
	draw(&b, &run);
	assert_int_equal(a.svg_len, b.svg_len);
	assert_memory_equal(a.svg, b.svg, a.svg_len);
	assert_true(svg_well_formed(a.svg));
	/* A fixed canvas: renders the same everywhere. */
	assert_non_null(strstr(a.svg, "width=\"960\" height=\"540\" "
				      "viewBox=\"0 0 960 540\""));
	assert_null(strstr(a.svg, "<script"));
	assert_null(strstr(a.svg, "href"));
	assert_null(strstr(a.svg, "@import"));
	teardown(&a);
	teardown(&b);
}

/* A long run: run series compact; the picture stays bounded. */
static void test_long_run(void **state)
{
	static const struct spec specs[] = {{"app", "api", 3, 0.01},
					    {"app", "worker", 1, 0}};
	struct run run = {specs, COUNT(specs), 3000, -1, -1, false};
	struct fixture f;

	(void)state;
	draw(&f, &run);
	assert_true(svg_well_formed(f.svg));
	assert_true(f.svg_len < 200000);
	assert_non_null(strstr(f.svg, ">40m<"));
	assert_null(strstr(f.svg, ">0m<"));
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_other),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_leak_mark),
		cmocka_unit_test(test_leak_live),
		cmocka_unit_test(test_leak_ended),
		cmocka_unit_test(test_no_leak),
		cmocka_unit_test(test_limits_scale),
		cmocka_unit_test(test_limit_near),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_wrap_markers),
		cmocka_unit_test(test_one_sample),
		cmocka_unit_test(test_other_off_scale),
		cmocka_unit_test(test_no_sessions),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_escaped_label),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
