/*
 * output.c - writes reports where the user asked, in the style the
 * destination can take.  --output FILE is replaced atomically: readers
 * (a scraper, node_exporter's textfile collector) see the old file or
 * the new one, never half of one.
 */
#include "output.h"

#include "config.h"
#include "core/plot.h"
#include "core/report_json.h"
#include "core/report_junit.h"
#include "core/report_prom.h"
#include "core/report_text.h"
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

bool output_locale_is_utf8(void)
{
	const char *codeset = nl_langinfo(CODESET);

	return codeset != NULL &&
	       (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/*
 * The terminal's width when out is one (else COLUMNS, else 80).  Off a
 * terminal nothing is cut, so a CI log or a file can be grepped for a
 * whole name or query; COLUMNS, when set, is an explicit ask and wins.
 */
static int output_width(FILE *out)
{
	struct winsize ws;
	const char *columns = getenv("COLUMNS");
	int fd = fileno(out);
	bool tty = fd >= 0 && isatty(fd);

	if (tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		return ws.ws_col;
	}
	if (columns != NULL && atoi(columns) >= 40) {
		return atoi(columns);
	}
	return tty ? 80 : REPORT_TEXT_UNLIMITED;
}

/* What is written: one report, or one per server watched. */
struct reports {
	const struct report *const *each;
	size_t count;
	int exit_code; /* of them all */
};

static void write_report(FILE *out, const struct options *opts,
			 const struct reports *set)
{
	struct text_style style;
	int fd = fileno(out);

	if (opts->format == OUTPUT_FORMAT_JSON) {
		if (set->count == 1) {
			report_json_write(out, set->each[0], PGDRIP_VERSION);
		} else {
			report_json_write_fleet(out, set->each, set->count,
						set->exit_code, PGDRIP_VERSION);
		}
		return;
	}
	if (opts->format == OUTPUT_FORMAT_PROMETHEUS) {
		report_prom_write_many(out, set->each, set->count,
				       PGDRIP_VERSION);
		return;
	}
	style.utf8 = output_locale_is_utf8();
	style.color = !opts->no_color && fd >= 0 && isatty(fd);
	style.width = output_width(out);
	for (size_t i = 0; i < set->count; i++) {
		if (i > 0) {
			/* The next server's report begins with its name. */
			fputs("\n", out);
		}
		report_text_write(out, set->each[i], &style);
	}
}

/* "cannot write \"PATH\": ERROR", errno as it was or, when the stream
 * lost it, a plain I/O error. */
static bool write_failed(const char *path, int error, struct errbuf *err)
{
	errbuf_set(err, "cannot write \"%s\": %s", path,
		   strerror(error != 0 ? error : EIO));
	return false;
}

/* Ends a stream written in place: everything flushed, no error on the
 * way (a full disk shows at the latest in fflush or fclose). */
static bool finish_stream(FILE *out, bool close_it, int *error)
{
	bool ok;

	errno = 0;
	ok = fflush(out) == 0;
	ok = !ferror(out) && ok;
	*error = errno;
	if (close_it && fclose(out) != 0 && ok) {
		*error = errno;
		ok = false;
	}
	return ok;
}

/* What goes into a file: the report (--output) or its JUnit XML. */
typedef void (*output_writer)(FILE *out, const struct options *opts,
			      const struct reports *set);

static void write_junit(FILE *out, const struct options *opts,
			const struct reports *set)
{
	(void)opts;
	report_junit_write(out, set->each, set->count);
}

/* Writes to an existing non-regular file (/dev/stdout, a FIFO) in
 * place: there is nothing to rename over. */
static bool write_in_place(const char *path, output_writer writer,
			   const struct options *opts,
			   const struct safepath *sp,
			   const struct reports *report, struct errbuf *err)
{
	int fd = safepath_open(sp, path, O_WRONLY | O_TRUNC, 0666, err);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	int error;

	if (fd < 0) {
		return false;
	}
	if (out == NULL) {
		error = errno;
		close(fd);
		return write_failed(path, error, err);
	}
	writer(out, opts, report);
	return finish_stream(out, true, &error) ||
	       write_failed(path, error, err);
}

/*
 * A file that replaces sp->path when committed: a temporary file beside
 * it (rename(2) only replaces within one file system), hidden and not
 * ending in .prom so the textfile collector never reads it.  A symbolic
 * link to an existing file is followed where safepath_resolve() allows
 * it (the user's own link, or one outside a sticky shared directory):
 * that file is replaced, not the link.  shown names it in err.
 */
static bool replacement_open(struct output_replacement *r,
			     const struct safepath *sp, const char *shown,
			     struct errbuf *err)
{
	const char *target = sp->path;
	char *dir = xstrdup(target);
	char *base = xstrdup(target);
	size_t len = strlen(target) + 32;
	mode_t mask = umask(0);
	int fd;
	int error;

	umask(mask);
	memset(r, 0, sizeof(*r));
	r->target = xstrdup(target);
	r->tmp = xmalloc(len);
	snprintf(r->tmp, len, "%s/.%s.XXXXXX", dirname(dir), basename(base));
	free(dir);
	free(base);
	fd = mkstemp(r->tmp);
	error = errno;
	/* Close-on-exec: a wrapped command must not inherit it. */
	if (fd >= 0 && (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
			fchmod(fd, 0666 & ~mask) != 0 ||
			(r->out = fdopen(fd, "w")) == NULL)) {
		error = errno;
		close(fd);
		unlink(r->tmp);
		fd = -1;
	}
	if (fd < 0) {
		free(r->tmp);
		free(r->target);
		memset(r, 0, sizeof(*r));
		return write_failed(shown, error, err);
	}
	return true;
}

/* replacement_open() for path, resolved first. */
static bool replacement_open_path(struct output_replacement *r,
				  const char *path, struct errbuf *err)
{
	struct safepath sp;
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!safepath_resolve(path, &sp, err)) {
		return false;
	}
	ok = replacement_open(r, &sp, path, err);
	safepath_finish(&sp);
	return ok;
}

/* Drops the temporary file; accepts one already committed or dropped. */
static void replacement_abandon(struct output_replacement *r)
{
	if (r->out != NULL) {
		fclose(r->out);
		unlink(r->tmp);
	}
	free(r->tmp);
	free(r->target);
	memset(r, 0, sizeof(*r));
}

/* Flushed to disk, then renamed over the target: a reader sees the old
 * file or the new one, never half of one.  path is for the message. */
static bool replacement_commit(struct output_replacement *r, const char *path,
			       struct errbuf *err)
{
	int error = 0;
	bool ok = finish_stream(r->out, false, &error);

	if (ok && fsync(fileno(r->out)) != 0) {
		error = errno;
		ok = false;
	}
	if (fclose(r->out) != 0 && ok) {
		error = errno;
		ok = false;
	}
	r->out = NULL;
	if (ok && !safepath_still_no_link(r->target, path, err)) {
		/* rename(2) would replace the link, not follow it, but a
		 * link planted meanwhile is a sign to stop. */
		unlink(r->tmp);
		replacement_abandon(r);
		return false;
	}
	if (ok && rename(r->tmp, r->target) != 0) {
		error = errno;
		ok = false;
	}
	if (!ok) {
		unlink(r->tmp);
		write_failed(path, error, err);
	}
	replacement_abandon(r);
	return ok;
}

static bool write_atomically(const char *path, output_writer writer,
			     const struct options *opts,
			     const struct safepath *sp,
			     const struct reports *report, struct errbuf *err)
{
	struct output_replacement r;

	if (!replacement_open(&r, sp, path, err)) {
		return false;
	}
	writer(r.out, opts, report);
	return replacement_commit(&r, path, err);
}

/* A file the user named (--output, --junit), through safepath: a
 * regular one (or a new one) replaced atomically, a FIFO or a device
 * written in place. */
static bool write_file(const char *path, output_writer writer,
		       const struct options *opts, const struct reports *set,
		       struct errbuf *err)
{
	struct safepath sp;
	bool ok = safepath_resolve(path, &sp, err);

	if (ok && sp.exists && !S_ISREG(sp.mode)) {
		ok = write_in_place(path, writer, opts, &sp, set, err);
	} else if (ok) {
		ok = write_atomically(path, writer, opts, &sp, set, err);
	}
	safepath_finish(&sp);
	return ok;
}

/* Standard output (standard error in wrap mode), named as such. */
static bool write_stream(FILE *out, const struct options *opts,
			 const struct reports *set, struct errbuf *err)
{
	int error;

	write_report(out, opts, set);
	if (finish_stream(out, false, &error)) {
		return true;
	}
	/* Said once: later writes to it would fail the same way. */
	clearerr(out);
	if (error == EPIPE) {
		/* The reader is gone (pgdrip --once | head -1): it had what
		 * it wanted.  Quiet, as git and psql are; the checks still
		 * decide the exit code. */
		return true;
	}
	errbuf_set(err, "cannot write to standard %s: %s",
		   out == stderr ? "error" : "output",
		   strerror(error != 0 ? error : EIO));
	return false;
}

static bool output(const struct options *opts, const struct reports *set,
		   FILE *fallback, struct errbuf *err)
{
	const char *github = getenv("GITHUB_ACTIONS");
	struct errbuf junit_err;
	bool ok = true;

	if (opts->output_file != NULL) {
		ok = write_file(opts->output_file, write_report, opts, set,
				err);
	} else {
		ok = write_stream(fallback, opts, set, err);
	}
	/* The report's own failure is said first; a --junit failure
	 * alone is said too. */
	if (opts->junit_file != NULL &&
	    !write_file(opts->junit_file, write_junit, opts, set,
			ok ? err : &junit_err)) {
		ok = false;
	}
	for (size_t i = 0; i < set->count; i++) {
		report_text_write_breaches(stderr, set->each[i],
					   output_locale_is_utf8());
		/* GitHub Actions reads workflow commands from the step's
		 * output, stderr included: stdout stays the report's. */
		if (github != NULL && strcmp(github, "true") == 0) {
			report_junit_write_github(stderr, set->each[i]);
		}
	}
	return ok;
}

bool output_report(const struct options *opts, const struct report *report,
		   FILE *fallback, struct errbuf *err)
{
	const struct reports one = {&report, 1, report->exit_code};

	return output(opts, &one, fallback, err);
}

bool output_reports(const struct options *opts,
		    const struct report *const *reports, size_t count,
		    int exit_code, FILE *fallback, struct errbuf *err)
{
	const struct reports set = {reports, count, exit_code};

	return output(opts, &set, fallback, err);
}

bool output_plot_open(const struct options *opts, struct plot_file *plot,
		      struct errbuf *err)
{
	struct safepath sp;
	int fd;

	memset(plot, 0, sizeof(*plot));
	if (opts->plot_file == NULL) {
		return true;
	}
	plot->path = opts->plot_file;
	if (!safepath_resolve(plot->path, &sp, err)) {
		return false;
	}
	if (!sp.exists || S_ISREG(sp.mode)) {
		/* The temporary file now: it proves the directory can take
		 * the picture before anything is sampled. */
		if (replacement_open(&plot->repl, &sp, plot->path, err)) {
			plot->out = plot->repl.out;
		}
	} else if (S_ISDIR(sp.mode)) {
		write_failed(plot->path, EISDIR, err);
	} else {
		/* A pipe or /dev/stdout takes the SVG as it comes. */
		fd = safepath_open(&sp, plot->path, O_WRONLY, 0666, err);
		if (fd >= 0 && (plot->out = fdopen(fd, "w")) == NULL) {
			write_failed(plot->path, errno, err);
			close(fd);
		}
		plot->in_place = true;
	}
	safepath_finish(&sp);
	return plot->out != NULL;
}

bool output_check_path(const struct options *opts, struct errbuf *err)
{
	struct safepath sp;

	if (opts->output_file == NULL) {
		return true;
	}
	if (!safepath_resolve(opts->output_file, &sp, err)) {
		return false;
	}
	safepath_finish(&sp);
	return true;
}

bool output_plot_write(struct plot_file *plot, const struct report *report,
		       const struct history *history, struct errbuf *err)
{
	struct errbuf inner;
	int error;
	bool ok;

	if (plot->out == NULL) {
		return true;
	}
	ok = plot_write_svg(plot->out, report, history, &inner);
	if (plot->in_place) {
		if (!ok) {
			errbuf_set(err, "cannot write \"%s\": %s", plot->path,
				   inner.msg);
			return false;
		}
		return finish_stream(plot->out, false, &error) ||
		       write_failed(plot->path, error, err);
	}
	if (!ok) {
		errbuf_set(err, "cannot write \"%s\": %s", plot->path,
			   inner.msg);
		replacement_abandon(&plot->repl);
	} else {
		ok = replacement_commit(&plot->repl, plot->path, err);
	}
	/* Ready for another picture, should one be drawn. */
	plot->out = replacement_open_path(&plot->repl, plot->path, &inner)
			    ? plot->repl.out
			    : NULL;
	return ok;
}

void output_plot_close(struct plot_file *plot)
{
	if (plot == NULL || plot->out == NULL) {
		return;
	}
	if (plot->in_place) {
		fclose(plot->out);
	} else {
		replacement_abandon(&plot->repl);
	}
	plot->out = NULL;
}
