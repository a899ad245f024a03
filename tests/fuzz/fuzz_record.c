/*
 * fuzz_record.c - a --replay file of any content gives samples or a
 * clear error, never a crash, a hang or a leak; and every sample read
 * is written and read back with the same status and session count.
 */
#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes sample as a record line and reads it back: it must match. */
static void check_roundtrip(const struct sample *sample)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	FILE *in;
	struct record_reader reader;
	struct sample back;
	struct errbuf err;

	if (out == NULL) {
		return;
	}
	record_write_sample(out, sample);
	fclose(out);
	in = fmemopen(buf, len, "r");
	if (in == NULL) {
		free(buf);
		return;
	}
	record_reader_init(&reader, in);
	sample_init(&back);
	if (record_reader_next(&reader, &back, &err) != 1 ||
	    back.status != sample->status ||
	    (sample->status != SAMPLE_STATUS_FAILED &&
	     (sample_session_total(&back) != sample_session_total(sample) ||
	      back.role_limit_count != sample->role_limit_count ||
	      back.db_limit_count != sample->db_limit_count))) {
		abort();
	}
	sample_finish(&back);
	record_reader_finish(&reader);
	fclose(in);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fmemopen((void *)(uintptr_t)data, size ? size : 1, "r");
	struct record_reader reader;
	struct sample sample;
	struct errbuf err;
	int n = 0;

	if (in == NULL) {
		return 0;
	}
	if (size == 0) {
		fgetc(in);
	}
	record_reader_init(&reader, in);
	sample_init(&sample);
	while (n++ < 10000 && record_reader_next(&reader, &sample, &err) > 0) {
		check_roundtrip(&sample);
	}
	sample_finish(&sample);
	record_reader_finish(&reader);
	fclose(in);
	return 0;
}
