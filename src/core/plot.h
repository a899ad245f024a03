/*
 * plot.h - the run as a picture: a self-contained SVG of connections per
 * group over time, with baselines, limits, leak marks, failed samples and
 * (wrap mode) the command's start and end, for --plot FILE.
 *
 * Pure: it reads the report and the history and writes to a FILE*; the
 * edge opens the file.  The same report and history give the same bytes,
 * so a replay of a recording draws the same picture as the run did.
 */
#ifndef PGDRIP_PLOT_H
#define PGDRIP_PLOT_H

#include "common.h"
#include "history.h"
#include "report.h"

#include <stdio.h>

/* At most this many lines: the groups that leak or peak highest, the
 * rest summed into one "other" line. */
enum { PLOT_MAX_LINES = 8 };

/*
 * Writes one SVG document (UTF-8, fixed 960x540 viewBox, no scripts, no
 * external resources) to out.  Elements tests and tools can count:
 * class="series" (one per line, data-group, data-kind group|other),
 * class="baseline", class="limit" (data-kind, data-limit), class="leak"
 * (one per flagged group shown), class="gap", class="command".  Every
 * name is sanitised (valid UTF-8, no control characters) and
 * XML-escaped.  history is the one the report was built from (its
 * groups' run series give the points).  Returns false with err when out
 * reports a write error.
 */
PGD_NODISCARD bool plot_write_svg(FILE *out, const struct report *report,
				  const struct history *history,
				  struct errbuf *err);

#endif
