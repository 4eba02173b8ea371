/*
 * base.c — where base models live and how a name resolves to one
 * (fetching: base_fetch.c).
 */
#include "classify/base.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *base_root(void)
{
    return path_xdg_data("base");
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int name_is_safe(const char *s)
{
    if (!*s || *s == '/' || strstr(s, ".."))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._/-", *s)))
            return 0;
    return 1;
}

char *base_resolve(const char *arg, struct fs_error *err)
{
    if (!arg || !*arg) {
        fs_error_set(err, "no base model given");
        return NULL;
    }
    if ((arg[0] == '.' || arg[0] == '/' || strchr(arg, '/')) && is_dir(arg))
        return xstrdup(arg);
    if (!name_is_safe(arg)) {
        fs_error_set(err, "base '%.200s' is neither a directory nor a valid model name", arg);
        return NULL;
    }
    char *root = base_root();
    size_t n = strlen(root) + strlen(arg) + 2;
    char *dir = xmalloc(n);
    snprintf(dir, n, "%s/%s", root, arg);
    free(root);
    if (is_dir(dir))
        return dir;
    free(dir);
    fs_error_set(err, "base '%.200s' is not installed (run 'finsent base fetch %.200s' or 'make base-model')",
                 arg, arg);
    return NULL;
}
