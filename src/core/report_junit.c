/*
 * report_junit.c - the report as JUnit XML (--junit FILE), the format CI
 * systems read (GitLab, Jenkins, GitHub through actions): a testcase per
 * check, and in wrap mode one per test the runner reported, a failure
 * for each leaking test.  Only renders: every judgement is the report's.
 * Names and queries are raw bytes; they pass text.c's door first, so a
 * control byte or invalid UTF-8 becomes a visible escape and the XML
 * stays well-formed.
 */
#include "report_junit.h"

#include "report_hooks.h"
#include "report_text.h"
#include "text.h"
#include "units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* s through text.c's door: every control byte and invalid UTF-8 as a
 * visible escape.  Allocated. */
static char *sanitized(const char *s)
{
	size_t len = strlen(s);
	size_t size = 4 * len + 1;
	char *clean = xmalloc(size);

	text_sanitize(clean, size, s, len, true);
	return clean;
}

/* s sanitized, then with XML's five specials as entities. */
static void xml_text(FILE *out, const char *s)
{
	char *clean = sanitized(s);

	for (const char *p = clean; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			fputc(*p, out);
		}
	}
	free(clean);
}

/* name="value", the value escaped. */
static void xml_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_text(out, value);
	fputc('"', out);
}

static bool check_failed(const struct check_result *c)
{
	return !c->ok && c->evaluated;
}

static void write_check(FILE *out, const struct check_result *c)
{
	char name[600];
	char value[256];

	snprintf(name, sizeof(name), "%s: %s", c->name, c->where);
	fputs("    <testcase classname=\"pgdrip.checks\"", out);
	xml_attr(out, "name", name);
	fputs(" time=\"0\"", out);
	if (c->ok) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	if (check_failed(c)) {
		report_text_format_check(value, sizeof(value), c);
		fputs("      <failure", out);
		xml_attr(out, "type", c->name);
		xml_attr(out, "message", value);
		fputs(">", out);
		xml_text(out, c->where);
		fputs(": ", out);
		xml_text(out, value);
		fputs("</failure>\n", out);
	} else {
		/* Not evaluated: neither passed nor failed, as JUnit's
		 * error is (the run could not tell). */
		fputs("      <error type=\"not-evaluated\"", out);
		xml_attr(out, "message", c->reason);
		fputs(">", out);
		xml_text(out, c->reason);
		if (c->hint[0] != '\0') {
			fputs("; hint: ", out);
			xml_text(out, c->hint);
		}
		fputs("</error>\n", out);
	}
	fputs("    </testcase>\n", out);
}

/* <testsuite name="pgdrip WHAT[ SERVER]" (the server when several are
 * watched) tests=... failures=... errors=... skipped="0">. */
static void suite_begin(FILE *out, const char *what, const struct report *r,
			bool fleet, size_t tests, size_t failures,
			size_t errors)
{
	char name[600];

	snprintf(name, sizeof(name), "pgdrip %s%s%s", what, fleet ? " " : "",
		 fleet ? r->server_label : "");
	fputs("  <testsuite", out);
	xml_attr(out, "name", name);
	fprintf(out,
		" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"skipped=\"0\">\n",
		tests, failures, errors);
}

static void write_checks(FILE *out, const struct report *r, bool fleet)
{
	suite_begin(out, "checks", r, fleet, r->checks.count,
		    check_list_failures(&r->checks),
		    check_list_unevaluated(&r->checks));
	for (size_t i = 0; i < r->checks.count; i++) {
		write_check(out, &r->checks.items[i]);
	}
	fputs("  </testsuite>\n", out);
}

/* One leaked session of a test, as a line of its failure's text. */
static void write_leaked_session(FILE *out, const struct report_test_session *s)
{
	char opened[32];

	fprintf(out, "pid %d ", s->pid);
	xml_text(out, s->user);
	fputc('/', out);
	xml_text(out, s->app);
	fputc('/', out);
	xml_text(out, s->db);
	fprintf(out, ", opened at %s, never used again",
		units_format_duration(opened, sizeof(opened), s->opened_s));
	if (s->client.pid > 0) {
		fprintf(out, ", held by pid %d (", s->client.pid);
		xml_text(out, s->client.command);
		fputc(')', out);
	}
	fputs(": ", out);
	xml_text(out, s->query);
	fputc('\n', out);
}

/* Where test i leaked, when known: the line of the user's code that
 * took its first leak a client hook reported (a frame, *line > 0), else
 * the file a pytest node id names (*line 0).  False when neither. */
static bool test_where(const struct report *r, size_t i, char *file, size_t len,
		       int *line)
{
	for (size_t k = 0; k < r->hooks.leak_count; k++) {
		const struct report_client_leak *l = &r->hooks.leaks[k];

		if (l->test_index == i && l->stack_count > 0 &&
		    l->stack[0].file != NULL && l->stack[0].file[0] != '\0') {
			snprintf(file, len, "%s", l->stack[0].file);
			*line = l->stack[0].line > 0 ? l->stack[0].line : 0;
			return true;
		}
	}
	*line = 0;
	return report_junit_test_file(r->tests.items[i].name, file, len);
}

/* The client hooks' leaks blamed on test i, a line each. */
static void write_hook_leaks(FILE *out, const struct report *r, size_t i)
{
	char buf[1024];

	for (size_t k = 0; k < r->hooks.leak_count; k++) {
		if (r->hooks.leaks[k].test_index == i) {
			report_hooks_describe(&r->hooks.leaks[k], buf,
					      sizeof(buf));
			xml_text(out, buf);
			fputc('\n', out);
		}
	}
}

static void write_test(FILE *out, const struct report *r, size_t i)
{
	const struct report_test *t = &r->tests.items[i];
	char file[512];
	char message[128];
	int line;

	fputs("    <testcase classname=\"pgdrip.tests\"", out);
	xml_attr(out, "name", t->name);
	if (test_where(r, i, file, sizeof(file), &line)) {
		xml_attr(out, "file", file);
		if (line > 0) {
			fprintf(out, " line=\"%d\"", line);
		}
	}
	fprintf(out, " time=\"%.3f\"",
		isfinite(t->ended_s - t->started_s) && t->ended
			? fmax(0, t->ended_s - t->started_s)
			: 0.0);
	if (t->leaked == 0) {
		fputs("/>\n", out);
		return;
	}
	snprintf(message, sizeof(message),
		 "left %d session%s open and never used again", t->leaked,
		 t->leaked == 1 ? "" : "s");
	fputs(">\n      <failure type=\"leak\"", out);
	xml_attr(out, "message", message);
	fputs(">", out);
	for (size_t k = 0; k < t->session_count; k++) {
		if (strcmp(t->sessions[k].fate, "unused") == 0) {
			write_leaked_session(out, &t->sessions[k]);
		}
	}
	write_hook_leaks(out, r, i);
	fputs("</failure>\n    </testcase>\n", out);
}

static void write_tests(FILE *out, const struct report *r, bool fleet)
{
	const struct report_tests *rt = &r->tests;

	suite_begin(out, "tests", r, fleet, rt->tests, rt->leaking, 0);
	for (size_t i = 0; i < rt->count; i++) {
		if (!rt->items[i].setup) {
			write_test(out, r, i);
		}
	}
	fputs("  </testsuite>\n", out);
}

bool report_junit_test_file(const char *name, char *buf, size_t len)
{
	const char *sep = strstr(name, "::");
	size_t n = sep != NULL ? (size_t)(sep - name) : 0;

	/* pytest's node ids: "tests/test_db.py::test_leak[param]". */
	if (n < 4 || n >= len || strncmp(sep - 3, ".py", 3) != 0) {
		return false;
	}
	memcpy(buf, name, n);
	buf[n] = '\0';
	return true;
}

static bool has_tests(const struct report *r)
{
	return r->wrapped && r->tests.reported;
}

void report_junit_write(FILE *out, const struct report *const *reports,
			size_t count)
{
	size_t tests = 0;
	size_t failures = 0;
	size_t errors = 0;

	for (size_t i = 0; i < count; i++) {
		const struct report *r = reports[i];

		tests += r->checks.count + (has_tests(r) ? r->tests.tests : 0);
		failures += check_list_failures(&r->checks) +
			    (has_tests(r) ? r->tests.leaking : 0);
		errors += check_list_unevaluated(&r->checks);
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
		"<testsuites name=\"pgdrip\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\">\n",
		tests, failures, errors);
	for (size_t i = 0; i < count; i++) {
		write_checks(out, reports[i], count > 1);
		if (has_tests(reports[i])) {
			write_tests(out, reports[i], count > 1);
		}
	}
	fputs("</testsuites>\n", out);
}

/* ---- GitHub Actions' workflow commands ---- */

/*
 * s sanitized, then escaped as the runner unescapes a command: % CR LF
 * always, and in a property also ':' and ',' (its separators).
 */
static void gh_text(FILE *out, const char *s, bool property)
{
	char *clean = sanitized(s);

	for (const char *p = clean; *p != '\0'; p++) {
		if (*p == '%' || *p == '\r' || *p == '\n' ||
		    (property && (*p == ':' || *p == ','))) {
			fprintf(out, "%%%02X", (unsigned char)*p);
		} else {
			fputc(*p, out);
		}
	}
	free(clean);
}

static void gh_check(FILE *out, const struct check_result *c)
{
	char title[64];
	char value[256];

	snprintf(title, sizeof(title), "pgdrip %s", c->name);
	report_text_format_check(value, sizeof(value), c);
	fputs("::error title=", out);
	gh_text(out, title, true);
	fputs("::", out);
	gh_text(out, c->where, false);
	fputs(": ", out);
	gh_text(out, value, false);
	fputc('\n', out);
}

static void gh_test(FILE *out, const struct report *r, size_t i)
{
	const struct report_test *t = &r->tests.items[i];
	char file[512];
	char title[600];
	char line[1024];
	int at;

	fputs("::error ", out);
	if (test_where(r, i, file, sizeof(file), &at)) {
		fputs("file=", out);
		gh_text(out, file, true);
		if (at > 0) {
			fprintf(out, ",line=%d", at);
		}
		fputc(',', out);
	}
	snprintf(title, sizeof(title), "pgdrip leak in %s", t->name);
	fputs("title=", out);
	gh_text(out, title, true);
	fputs("::", out);
	gh_text(out, t->name, false);
	fprintf(out, " left %d session%s open and never used again", t->leaked,
		t->leaked == 1 ? "" : "s");
	for (size_t k = 0; k < t->session_count; k++) {
		const struct report_test_session *s = &t->sessions[k];

		if (strcmp(s->fate, "unused") != 0) {
			continue;
		}
		/* One line a session: %0A is the runner's newline (a
		 * newline in the names would be escaped as \n first). */
		snprintf(line, sizeof(line), "pid %d %s/%s/%s: %s", s->pid,
			 s->user, s->app, s->db, s->query);
		fputs("%0A", out);
		gh_text(out, line, false);
	}
	for (size_t k = 0; k < r->hooks.leak_count; k++) {
		if (r->hooks.leaks[k].test_index == i) {
			report_hooks_describe(&r->hooks.leaks[k], line,
					      sizeof(line));
			fputs("%0A", out);
			gh_text(out, line, false);
		}
	}
	fputc('\n', out);
}

void report_junit_write_github(FILE *out, const struct report *r)
{
	bool tests = has_tests(r);

	for (size_t i = 0; i < r->checks.count; i++) {
		const struct check_result *c = &r->checks.items[i];

		if (check_failed(c) &&
		    !(tests && strcmp(c->name, "max-leaked-per-test") == 0)) {
			gh_check(out, c);
		}
	}
	for (size_t i = 0; tests && i < r->tests.count; i++) {
		const struct report_test *t = &r->tests.items[i];

		if (!t->setup && t->leaked > 0) {
			gh_test(out, r, i);
		}
	}
}
