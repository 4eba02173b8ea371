/*
 * outfile.h — writing a file the user named (export -o, report --html,
 * init --force) without surprising them.
 *
 *   - a new file, or an existing regular file with one link, is written to a
 *     temporary file in the same directory, synced and renamed over the path
 *     (readers see the old or the new content, never half); an existing file
 *     keeps its permission bits (a 0600 file stays 0600) and, where the process
 *     may, its owner; a new one gets create_mode less the umask;
 *   - a symbolic link stays a link: its target is written by these rules;
 *   - a regular file with several hard links is rewritten in place, so that
 *     every name still shows the same file (not atomic: the price of the links);
 *   - anything else (a FIFO, /dev/stdout, a terminal, a device) is opened and
 *     written in place, never replaced.
 * Every write, flush, sync and close is checked: a full disk (ENOSPC, as on
 * /dev/full) or a refused write fails with "PATH: reason" and no partial file
 * is left where a temporary one was used. Callers exit with FS_EXIT_IO.
 *
 *   struct outfile of;
 *   if (outfile_open(&of, path, 0666, &err) < 0) ...
 *   fputs("...", of.fp);             // stream through of.fp
 *   if (outfile_commit(&of, &err) < 0) ...   // or outfile_abort(&of)
 */
#ifndef FINSENT_OUTFILE_H
#define FINSENT_OUTFILE_H

#include "common/common.h"

#include <stdio.h>
#include <sys/types.h>

struct outfile {
    FILE *fp;   /* where to write */
    char *path; /* the file finally written (a link's target when path was a link) */
    char *tmp;  /* the temporary file renamed over path at commit; NULL in place */
    int regular; /* path is (or will be) a regular file: synced at commit */
};

/* Opens path for writing by the rules above. Returns 0, or -1 with err. */
int outfile_open(struct outfile *of, const char *path, mode_t create_mode, struct fs_error *err);

/* Flushes, syncs (regular files), closes and renames the temporary file into
 * place. Returns 0, or -1 with err ("PATH: reason"); of is released either way. */
int outfile_commit(struct outfile *of, struct fs_error *err);

/* Closes without committing: a temporary file is removed, a file written in
 * place keeps what was written. */
void outfile_abort(struct outfile *of);

/* outfile_open + one write of data + outfile_commit. */
int outfile_write(const char *path, const void *data, size_t len, mode_t create_mode,
                  struct fs_error *err);

#endif
