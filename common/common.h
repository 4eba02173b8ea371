/*
 * common.h — the few things every finsent module uses: error reports, checked
 * allocation, exit codes.
 *
 * Errors: library functions return 0 on success and -1 on failure, filling a
 * caller-provided struct fs_error with one human-readable line (no newline).
 * The command layer decides what the user sees; libraries never print errors.
 */
#ifndef FINSENT_COMMON_H
#define FINSENT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define FS_ERROR_MAX 512

struct fs_error {
    char msg[FS_ERROR_MAX];
};

/* Sets err->msg from a printf-style format. err may be NULL. Always returns -1,
 * so a caller can write `return fs_error_set(err, "...")`. */
int fs_error_set(struct fs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes err->msg with "prefix: ". Returns -1. */
int fs_error_prefix(struct fs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checked allocation: on out-of-memory these print one line and exit(70).
 * Callers own what they return and release it with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Room for element `count` of a growing array of elem_size-byte elements: when
 * count >= *cap, *cap doubles (from `initial`) until it exceeds count and the
 * array is reallocated.
 * Returns the array (moved or not). Usage: a = xgrow(a, n, &cap, sizeof *a, 16); */
void *xgrow(void *array, size_t count, size_t *cap, size_t elem_size, size_t initial);

/* Process exit codes, documented in README.md ("Exit codes"). */
enum fs_exit {
    FS_EXIT_OK = 0,
    FS_EXIT_FAILURE = 1,  /* the command failed */
    FS_EXIT_USAGE = 2,    /* bad command line */
    FS_EXIT_PARTIAL = 3,  /* completed, but some sources/deliveries failed */
    FS_EXIT_CONFIG = 4,   /* configuration file missing or invalid */
    FS_EXIT_LOCKED = 5,   /* another run holds the lock */
    FS_EXIT_DB = 6,       /* database cannot be opened, is corrupt or read-only */
    FS_EXIT_MODEL = 7,    /* model file missing or invalid */
    FS_EXIT_IO = 8,       /* file system error: disk full, permission denied */
};

#define FS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
