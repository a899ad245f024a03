/*
 * output.c - writes reports where the user asked, in the style the
 * destination can take.
 */
#include "output.h"

#include "config.h"
#include "core/plot.h"
#include "core/report_json.h"
#include "core/report_text.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
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

/* The terminal's width when out is one, else COLUMNS, else 80.  A file
 * gets 100 columns: wide enough for names, still reads in a diff. */
static int output_width(FILE *out)
{
	struct winsize ws;
	const char *columns = getenv("COLUMNS");
	int fd = fileno(out);

	if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0) {
		return ws.ws_col;
	}
	if (columns != NULL && atoi(columns) >= 40) {
		return atoi(columns);
	}
	return fd >= 0 && isatty(fd) ? 80 : 100;
}

static void write_report(FILE *out, const struct options *opts,
			 const struct report *report)
{
	struct text_style style;
	int fd = fileno(out);

	if (opts->format == OUTPUT_FORMAT_JSON) {
		report_json_write(out, report, PGDRIP_VERSION);
		return;
	}
	style.utf8 = output_locale_is_utf8();
	style.color = !opts->no_color && fd >= 0 && isatty(fd);
	style.width = output_width(out);
	report_text_write(out, report, &style);
}

bool output_report(const struct options *opts, const struct report *report,
		   FILE *fallback, struct errbuf *err)
{
	bool ok = true;

	if (opts->output_file != NULL) {
		FILE *out = fopen(opts->output_file, "w");

		if (out == NULL) {
			errbuf_set(err, "cannot write \"%s\": %s",
				   opts->output_file, strerror(errno));
			return false;
		}
		write_report(out, opts, report);
		if (ferror(out) | (fclose(out) != 0)) {
			errbuf_set(err, "cannot write \"%s\": %s",
				   opts->output_file, strerror(errno));
			ok = false;
		}
	} else {
		write_report(fallback, opts, report);
		fflush(fallback);
	}
	report_text_write_breaches(stderr, report, output_locale_is_utf8());
	return ok;
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
