/* lock.c — flock-based single-instance lock. */
#include "common/lock.h"

#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int lock_acquire(const char *path, int wait_seconds, int *fd, struct fs_error *err)
{
    if (path_mkdir_parent(path, err) < 0)
        return -1;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return fs_error_set(err, "lock %s: %s", path, strerror(errno));
    double deadline = time_monotonic() + wait_seconds;
    for (;;) {
        if (flock(f, LOCK_EX | LOCK_NB) == 0) {
            *fd = f;
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            fs_error_set(err, "lock %s: %s", path, strerror(errno));
            close(f);
            return -1;
        }
        if (time_monotonic() >= deadline) {
            close(f);
            return 1;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void lock_release(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}
