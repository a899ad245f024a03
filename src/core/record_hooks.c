/*
 * record_hooks.c - the client hooks' lines in a --record line (see
 * record_hooks.h).
 */
#include "record_hooks.h"

#include "record_parse.h"

void record_hooks_write(struct json_writer *w, const struct sample *sample)
{
	if (sample->hook_line_count == 0) {
		return;
	}
	json_key(w, "hooks");
	json_begin_array(w);
	for (size_t i = 0; i < sample->hook_line_count; i++) {
		json_string_len(w, sample->hook_lines[i].text,
				sample->hook_lines[i].len);
	}
	json_end_array(w);
}

bool record_hooks_read(const struct node *h, struct sample *out,
		       struct errbuf *why)
{
	if (h == NULL) {
		return true;
	}
	if (h->type != NODE_ARRAY) {
		errbuf_set(why, "\"hooks\" is not an array");
		return false;
	}
	for (const struct node *e = h->child; e != NULL; e = e->next) {
		if (e->type != NODE_STRING) {
			errbuf_set(why, "a hook line that is not a string");
			return false;
		}
		sample_add_hook_line(out, e->str, e->len);
	}
	return true;
}
