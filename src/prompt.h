/*
 * prompt.h - asking the user for a password, as psql does: on the
 * terminal, without echo, and never when stdin is not a terminal (a
 * script or CI job must not hang on a prompt nobody sees).
 */
#ifndef PGDRIP_PROMPT_H
#define PGDRIP_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

/* Prompts "Password for LABEL: " on /dev/tty and reads one line into
 * buf (NUL-terminated, newline removed).  False when stdin is not a
 * terminal, the terminal cannot be opened, or input ends. */
bool prompt_password(const char *label, char *buf, size_t size);

#endif
