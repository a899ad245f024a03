/*
 * replay.c - runs a fuzzer's corpus as ordinary test cases, one TAP line
 * per file, so every build (gcc or clang, sanitized or not) replays what
 * the fuzzers found.  Linked with one fuzz_<name>.c; CORPUS_DIR names
 * its corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *dir = opendir(CORPUS_DIR);
	struct dirent *e;
	char *names[4096];
	size_t n = 0;

	if (dir == NULL) {
		printf("1..1\nnot ok 1 - cannot open %s\n", CORPUS_DIR);
		return 1;
	}
	while ((e = readdir(dir)) != NULL && n < 4096) {
		if (e->d_name[0] != '.') {
			names[n++] = strdup(e->d_name);
		}
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), compare_names);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		FILE *f;
		uint8_t *buf;
		long size;

		snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]);
		f = fopen(path, "rb");
		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (size = ftell(f)) < 0) {
			printf("not ok %zu - %s: unreadable\n", i + 1,
			       names[i]);
			continue;
		}
		rewind(f);
		buf = malloc((size_t)size + 1);
		if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
			size = 0;
		}
		fclose(f);
		/* A crash aborts the binary: the harness counts that. */
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		printf("ok %zu - %s\n", i + 1, names[i]);
		free(buf);
		free(names[i]);
	}
	return 0;
}
