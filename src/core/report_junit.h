/*
 * report_junit.h - the report as JUnit XML (--junit FILE) and as GitHub
 * Actions' ::error annotations (GITHUB_ACTIONS=true).
 */
#ifndef PGDRIP_REPORT_JUNIT_H
#define PGDRIP_REPORT_JUNIT_H

#include "report.h"

#include <stdio.h>

/*
 * Writes the reports (one a server watched) as one JUnit XML document:
 * for each, a <testsuite> "pgdrip checks" (the server's label after it
 * when there are several) with a <testcase> per check (a <failure> when
 * breached, an <error> when it could not be evaluated) and, when a wrapped
 * command's runner reported tests, a <testsuite> "pgdrip tests" with a
 * <testcase> per test, a <failure> listing the sessions of each leaking one.
 * The XML is well-formed and valid UTF-8 whatever bytes the names hold.
 */
void report_junit_write(FILE *out, const struct report *const *reports,
			size_t count);

/*
 * Writes one GitHub Actions workflow command per failed check and per
 * leaking test: "::error title=TITLE::MESSAGE", with "file=FILE," first
 * when the test's file is known.  Escaped as the runner reads them: %,
 * CR and LF in the message; those and ':' and ',' in properties.  The
 * per-test check lines (max-leaked-per-test) are left to the tests'
 * own annotations, which name the file.
 */
void report_junit_write_github(FILE *out, const struct report *report);

/*
 * The source file a test's name gives, when it does: a pytest node id
 * ("tests/test_db.py::test_leak") names its file.  Into buf (len
 * bytes); false when the name holds none (or it does not fit).
 */
bool report_junit_test_file(const char *name, char *buf, size_t len);

#endif
