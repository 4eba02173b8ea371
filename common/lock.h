/*
 * lock.h — the single-instance lock of `finsent run`: an flock(2) on a file
 * beside the database ("<db>.lock"). The kernel drops the lock when the process
 * dies, so a run killed with SIGKILL never leaves a stale lock behind.
 */
#ifndef FINSENT_LOCK_H
#define FINSENT_LOCK_H

#include "common/common.h"

/* Takes the exclusive lock on path, waiting up to wait_seconds (0 = try once).
 * Returns 0 and sets *fd when taken; 1 when another process still holds it after
 * the wait; -1 on error (err says why, e.g. read-only directory). */
int lock_acquire(const char *path, int wait_seconds, int *fd, struct fs_error *err);

/* Releases the lock taken by lock_acquire. */
void lock_release(int fd);

#endif
