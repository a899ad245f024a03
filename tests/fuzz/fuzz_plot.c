/*
 * fuzz_plot.c - a --replay file of any content, drawn with --plot, gives
 * an SVG that is valid UTF-8 without control bytes, where every '<' opens
 * a tag and every '&' an entity: whatever the names, times and counts.
 */
#include "pipeline.h"
#include "plot.h"
#include "record.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless svg looks like what plot_svg.c may write. */
static void check_svg(const char *svg, size_t len)
{
	const unsigned char *p = (const unsigned char *)svg;
	const unsigned char *end = p + len;
	bool in_tag = false;

	if (len < 7 || strcmp(svg + len - 7, "</svg>\n") != 0) {
		abort();
	}
	while (p < end) {
		unsigned cp = 0;
		size_t n = utf8_decode(p, (size_t)(end - p), &cp);

		if (n == 0 || (cp < 0x20 && cp != '\n') || cp == 0x7F ||
		    cp == 0xFFFE || cp == 0xFFFF) {
			abort();
		}
		if (cp == '<') {
			if (in_tag || !(p[1] == '/' || p[1] == '?' ||
					(p[1] >= 'a' && p[1] <= 'z'))) {
				abort();
			}
			in_tag = true;
		} else if (cp == '>') {
			in_tag = false;
		} else if (cp == '&' && strncmp((const char *)p, "&amp;", 5) &&
			   strncmp((const char *)p, "&lt;", 4) &&
			   strncmp((const char *)p, "&gt;", 4) &&
			   strncmp((const char *)p, "&quot;", 6) &&
			   strncmp((const char *)p, "&#39;", 5)) {
			abort();
		}
		p += n;
	}
}

/* Folds the samples in as --replay does, then reports and draws. */
static void draw(struct record_reader *reader)
{
	/* Zeroed: a field left out (wrap) is false, not stack bytes. */
	struct pipeline_config config = {0};
	struct filter filter;
	struct thresholds thresholds;
	struct pipeline pipeline;
	struct sample sample;
	struct report report;
	struct run_facts facts;
	struct errbuf err;
	char *svg = NULL;
	size_t len = 0;
	FILE *out;
	int n = 0;

	match_default_group_keys(&config.keys);
	match_filter_init(&filter);
	check_thresholds_init(&thresholds);
	config.filter = &filter;
	config.thresholds = &thresholds;
	config.window_s = 300;
	config.interval_s = 1;
	pipeline_init(&pipeline, &config);
	sample_init(&sample);
	while (n++ < 2000 && record_reader_next(reader, &sample, &err) > 0) {
		if (sample.status == SAMPLE_STATUS_FAILED) {
			pipeline_absorb_failure(&pipeline,
						sample.taken_at_epoch_s, "");
			continue;
		}
		pipeline_absorb(&pipeline, &sample);
	}
	if (pipeline_last(&pipeline) != NULL &&
	    (out = open_memstream(&svg, &len)) != NULL) {
		pipeline_facts_init(&facts, "replay");
		facts.server_label = "replay of <fuzz> & \"more\"";
		report_init(&report);
		pipeline_report(&pipeline, &facts, &report);
		if (!plot_write_svg(out, &report, pipeline_history(&pipeline),
				    &err)) {
			abort();
		}
		fclose(out);
		check_svg(svg, len);
		free(svg);
		report_finish(&report);
	}
	sample_finish(&sample);
	pipeline_finish(&pipeline);
	match_filter_finish(&filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)(uintptr_t)data, size ? size : 1, "r");
	struct record_reader reader;

	if (in == NULL) {
		return 0;
	}
	if (size == 0) {
		fgetc(in);
	}
	record_reader_init(&reader, in);
	draw(&reader);
	record_reader_finish(&reader);
	fclose(in);
	return 0;
}
