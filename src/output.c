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
#include "core/report_prom.h"
#include "core/report_text.h"

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

	return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 ||
				   strcmp(codeset, "utf8") == 0);
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

/* Writes to an existing non-regular file (/dev/stdout, a FIFO) in
 * place: there is nothing to rename over. */
static bool write_in_place(const struct options *opts,
			   const struct reports *report, struct errbuf *err)
{
	const char *path = opts->output_file;
	FILE *out = fopen(path, "w");

	if (out == NULL) {
		errbuf_set(err, "cannot write \"%s\": %s", path,
			   strerror(errno));
		return false;
	}
	write_report(out, opts, report);
	if (ferror(out) | (fclose(out) != 0)) {
		errbuf_set(err, "cannot write \"%s\": %s", path,
			   strerror(errno));
		return false;
	}
	return true;
}

/* A temporary file beside the target (rename(2) only replaces within one
 * file system), hidden and not ending in .prom so the textfile collector
 * never reads it, flushed to disk, then renamed over the target.  A
 * symbolic link to an existing file is followed: that file is replaced,
 * not the link. */
static bool write_atomically(const struct options *opts,
			     const struct reports *report, struct errbuf *err)
{
	char *real = realpath(opts->output_file, NULL);
	const char *path = real != NULL ? real : opts->output_file;
	char *copy = xstrdup(path);
	char *base = xstrdup(path);
	size_t len = strlen(path) + 32;
	char *tmp = xmalloc(len);
	mode_t mask = umask(0);
	FILE *out = NULL;
	bool ok = false;
	int saved = 0;
	int fd;

	umask(mask);
	snprintf(tmp, len, "%s/.%s.XXXXXX", dirname(copy), basename(base));
	fd = mkstemp(tmp);
	saved = errno;
	if (fd >= 0 && (fchmod(fd, 0666 & ~mask) != 0 ||
			(out = fdopen(fd, "w")) == NULL)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		fd = -1;
	}
	if (fd >= 0) {
		write_report(out, opts, report);
		ok = fflush(out) == 0 && !ferror(out) && fsync(fd) == 0;
		ok &= fclose(out) == 0;
		ok = ok && rename(tmp, path) == 0;
		saved = errno;
		if (!ok) {
			unlink(tmp);
		}
	}
	if (!ok) {
		errbuf_set(err, "cannot write \"%s\": %s", opts->output_file,
			   strerror(saved));
	}
	free(real);
	free(copy);
	free(base);
	free(tmp);
	return ok;
}

static bool output(const struct options *opts, const struct reports *set,
		   FILE *fallback, struct errbuf *err)
{
	bool ok = true;
	struct stat st;

	if (opts->output_file != NULL) {
		if (stat(opts->output_file, &st) == 0 && !S_ISREG(st.st_mode)) {
			ok = write_in_place(opts, set, err);
		} else {
			ok = write_atomically(opts, set, err);
		}
	} else {
		write_report(fallback, opts, set);
		fflush(fallback);
	}
	for (size_t i = 0; i < set->count; i++) {
		report_text_write_breaches(stderr, set->each[i],
					   output_locale_is_utf8());
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
	int fd;

	memset(plot, 0, sizeof(*plot));
	if (opts->plot_file == NULL) {
		return true;
	}
	plot->path = opts->plot_file;
	/* Not truncated yet: a run that takes no sample leaves an older
	 * picture as it was.  O_CLOEXEC: a wrapped command must not
	 * inherit it. */
	fd = open(plot->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	plot->created = fd >= 0;
	if (fd < 0 && errno == EEXIST) {
		fd = open(plot->path, O_WRONLY | O_CLOEXEC);
	}
	if (fd >= 0) {
		plot->out = fdopen(fd, "w");
		if (plot->out == NULL) {
			close(fd);
		}
	}
	if (plot->out == NULL) {
		errbuf_set(err, "cannot write \"%s\": %s", plot->path,
			   strerror(errno));
		if (plot->created) {
			unlink(plot->path);
		}
		return false;
	}
	return true;
}

bool output_plot_write(struct plot_file *plot, const struct report *report,
		       const struct history *history, struct errbuf *err)
{
	struct errbuf inner;
	struct stat st;
	bool ok;

	if (plot->out == NULL) {
		return true;
	}
	/* Only a regular file holds an older picture to replace; a pipe
	 * or /dev/stdout takes the SVG as it comes. */
	if (fstat(fileno(plot->out), &st) == 0 && S_ISREG(st.st_mode)) {
		if (ftruncate(fileno(plot->out), 0) != 0) {
			errbuf_set(err, "cannot write \"%s\": %s", plot->path,
				   strerror(errno));
			return false;
		}
		rewind(plot->out);
	}
	ok = plot_write_svg(plot->out, report, history, &inner);
	plot->written = true;
	if (!ok || fflush(plot->out) != 0) {
		errbuf_set(err, "cannot write \"%s\": %s", plot->path,
			   ok ? strerror(errno) : inner.msg);
		return false;
	}
	return true;
}

void output_plot_close(struct plot_file *plot)
{
	if (plot == NULL || plot->out == NULL) {
		return;
	}
	fclose(plot->out);
	if (plot->created && !plot->written) {
		unlink(plot->path);
	}
	plot->out = NULL;
}
