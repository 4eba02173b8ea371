/* outfile.c — user-named output files: atomic for regular files, in place for
 * everything else, every error checked (outfile.h says why). */
#include "common/outfile.h"

#include "common/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail_errno(const char *path, int e, struct fs_error *err)
{
    return fs_error_set(err, "%s: %s", path, strerror(e));
}

static void release(struct outfile *of)
{
    free(of->path);
    free(of->tmp);
    memset(of, 0, sizeof *of);
}

static int attach(struct outfile *of, int fd, const char *path, struct fs_error *err)
{
    of->fp = fdopen(fd, "w");
    if (!of->fp) {
        int e = errno;
        close(fd);
        if (of->tmp)
            unlink(of->tmp);
        release(of);
        return fail_errno(path, e, err);
    }
    return 0;
}

/* Opens path itself: a FIFO, device, terminal, a multiply linked file, or the
 * missing target of a dangling link. */
static int open_in_place(struct outfile *of, const char *path, int flags, mode_t mode,
                         int regular, struct fs_error *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | flags, mode);
    if (fd < 0)
        return fail_errno(path, errno, err);
    of->path = xstrdup(path);
    of->regular = regular;
    return attach(of, fd, path, err);
}

/* A temporary file beside path, with the mode (and, where allowed, the owner)
 * of the file it will replace; create_mode less the umask for a new one. */
static int open_temp(struct outfile *of, const char *path, const struct stat *old,
                     mode_t create_mode, struct fs_error *err)
{
    struct strbuf tmp = STRBUF_INIT;
    sb_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, create_mode);
    if (fd < 0 && errno == EEXIST && unlink(tmp.buf) == 0) /* left by a dead process */
        fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, create_mode);
    if (fd < 0) {
        int e = errno;
        sb_free(&tmp);
        return fail_errno(path, e, err);
    }
    if (old) {
        if ((old->st_uid != geteuid() || old->st_gid != getegid()) &&
            fchown(fd, old->st_uid, old->st_gid) != 0) {
            /* not permitted for another owner's file: the new file is ours */
        }
        if (fchmod(fd, old->st_mode & 07777) != 0) {
            int e = errno;
            close(fd);
            unlink(tmp.buf);
            sb_free(&tmp);
            return fail_errno(path, e, err);
        }
    }
    of->path = xstrdup(path);
    of->tmp = sb_detach(&tmp);
    of->regular = 1;
    return attach(of, fd, path, err);
}

/* path is not a symbolic link (or does not exist: st NULL). */
static int open_resolved(struct outfile *of, const char *path, const struct stat *st,
                         mode_t create_mode, struct fs_error *err)
{
    if (!st)
        return open_temp(of, path, NULL, create_mode, err);
    if (S_ISDIR(st->st_mode))
        return fail_errno(path, EISDIR, err);
    if (S_ISREG(st->st_mode) && st->st_nlink <= 1)
        return open_temp(of, path, st, create_mode, err);
    if (S_ISREG(st->st_mode)) /* hard links: every name keeps the file */
        return open_in_place(of, path, O_TRUNC, create_mode, 1, err);
    return open_in_place(of, path, 0, create_mode, 0, err);
}

int outfile_open(struct outfile *of, const char *path, mode_t create_mode, struct fs_error *err)
{
    memset(of, 0, sizeof *of);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return fail_errno(path, errno, err);
        return open_resolved(of, path, NULL, create_mode, err);
    }
    if (!S_ISLNK(st.st_mode))
        return open_resolved(of, path, &st, create_mode, err);
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            return fail_errno(path, errno, err);
        /* a dangling link: create its target through it */
        return open_in_place(of, path, O_CREAT | O_TRUNC, create_mode, 1, err);
    }
    if (!S_ISREG(st.st_mode) || st.st_nlink > 1) /* /dev/stdout, a link to a FIFO... */
        return open_resolved(of, path, &st, create_mode, err);
    char *target = realpath(path, NULL);
    if (!target)
        return fail_errno(path, errno, err);
    int rc = open_resolved(of, target, &st, create_mode, err);
    free(target);
    return rc;
}

int outfile_commit(struct outfile *of, struct fs_error *err)
{
    int e = 0;
    errno = 0;
    if (fflush(of->fp) != 0 || ferror(of->fp))
        e = errno ? errno : EIO;
    if (!e && of->regular && fsync(fileno(of->fp)) != 0)
        e = errno;
    if (fclose(of->fp) != 0 && !e)
        e = errno;
    of->fp = NULL;
    if (!e && of->tmp && rename(of->tmp, of->path) != 0)
        e = errno;
    if (e) {
        fail_errno(of->path, e, err);
        if (of->tmp)
            unlink(of->tmp);
    }
    release(of);
    return e ? -1 : 0;
}

void outfile_abort(struct outfile *of)
{
    if (of->fp)
        fclose(of->fp);
    if (of->tmp)
        unlink(of->tmp);
    release(of);
}

int outfile_write(const char *path, const void *data, size_t len, mode_t create_mode,
                  struct fs_error *err)
{
    struct outfile of;
    if (outfile_open(&of, path, create_mode, err) < 0)
        return -1;
    errno = 0;
    if (len > 0 && fwrite(data, 1, len, of.fp) != len) {
        int e = errno ? errno : EIO;
        fail_errno(of.path, e, err);
        outfile_abort(&of);
        return -1;
    }
    return outfile_commit(&of, err);
}
