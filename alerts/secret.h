/*
 * secret.h — a credential named by the configuration (the SMTP password, a
 * webhook's bearer token), never written in it: either an environment variable
 * (KEY_env = NAME) or the first line of a file only its owner can read
 * (KEY_file = PATH; a file readable by group or others, or owned by someone else,
 * is refused with the chmod that fixes it).
 *
 * The secret is returned in a buffer the caller wipes with secret_free(); it never
 * appears in an error message.
 */
#ifndef FINSENT_ALERTS_SECRET_H
#define FINSENT_ALERTS_SECRET_H

#include "common/common.h"
#include "common/config.h"

/* Reads [section] env_key / file_key (at most one may be given). *out is the
 * secret, or NULL when neither key is set. Errors are "FILE:LINE: [section] key:
 * reason". Returns 0 or -1. */
int secret_load(const struct config *cfg, const char *section, const char *env_key,
                const char *file_key, char **out, struct fs_error *err);

/* Wipes and frees s (NULL is fine). */
void secret_free(char *s);

#endif
