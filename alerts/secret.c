/* secret.c — credentials from an environment variable or an owner-only file. */
#include "alerts/secret.h"

#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* The first line of a regular file that only its owner may read. */
static int read_private_file(const struct config *cfg, const char *section, const char *key,
                             const char *path, char **out, struct fs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return config_error(cfg, section, key, err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return config_error(cfg, section, key, err, "%s: not a regular file", path);
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
        close(fd);
        return config_error(cfg, section, key, err,
                            "%s is readable by group or others or not owned by you (mode %04o); "
                            "refusing to use it: run 'chmod 600 %s'",
                            path, (unsigned)(st.st_mode & 07777), path);
    }
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return config_error(cfg, section, key, err, "%s: %s", path, strerror(errno));
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    *out = xstrdup(buf);
    explicit_bzero(buf, sizeof buf);
    return 0;
}

int secret_load(const struct config *cfg, const char *section, const char *env_key,
                const char *file_key, char **out, struct fs_error *err)
{
    *out = NULL;
    const char *env = config_get(cfg, section, env_key);
    const char *file = config_get(cfg, section, file_key);
    if (env && file)
        return config_error(cfg, section, file_key, err, "give %s or %s, not both", env_key,
                            file_key);
    if (env) {
        const char *v = getenv(env);
        if (!v)
            return config_error(cfg, section, env_key, err, "environment variable %s is not set",
                                env);
        *out = xstrdup(v);
        return 0;
    }
    return file ? read_private_file(cfg, section, file_key, file, out, err) : 0;
}
