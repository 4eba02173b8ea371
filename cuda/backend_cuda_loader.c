/*
 * backend_cuda_loader.c — backend_cuda_create() for binaries built with CUDA.
 *
 * The CUDA backend (the .cu files of cuda/, cuBLAS, the CUDA runtime) is a plugin,
 * libfinsent-cuda.so, and loaded here only when a CUDA driver is installed. Linking
 * cuBLAS into finsent itself would map and relocate several hundred MB of library
 * at every start (measured: 232 MB peak RSS for `finsent --version` against 16 MB
 * without), for every crawl and export, on machines that have no GPU at all.
 *
 * Order: no driver library (libcuda.so.1) -> one clear line, nothing loaded
 * (unless $FINSENT_CUDA_LIB names the plugin: tests load it without a driver);
 * else the plugin is $FINSENT_CUDA_LIB when set, or looked for beside the
 * executable, one level up (tests), in the build directory it was built in, and
 * in <prefix>/lib/finsent/ (make install).
 *
 * The plugin finds cuBLAS and the CUDA runtime through its rpath (the toolkit it
 * was built with, /usr/local/cuda, Debian's and NVIDIA's library directories),
 * LD_LIBRARY_PATH and the ld.so cache. A toolkit installed elsewhere, or moved
 * since the build, is found here: when dlopen reports a library it cannot find,
 * that library is loaded by path from $CUDA_HOME, $CUDA_PATH, $CONDA_PREFIX and
 * the usual CUDA directories (its own missing libraries likewise), and the plugin
 * is opened again; the dynamic linker then matches the plugin's dependency by its
 * soname. The error, one line, names the library and the directories tried.
 */
#include "classify/backend.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "cuda/backend_cuda.h"

#include <dlfcn.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FINSENT_CUDA_BUILD_LIB
#define FINSENT_CUDA_BUILD_LIB "libfinsent-cuda.so"
#endif
#define PLUGIN_NAME "libfinsent-cuda.so"

#if defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#define CUDA_TARGET "sbsa-linux"
#else
#define MULTIARCH "x86_64-linux-gnu"
#define CUDA_TARGET "x86_64-linux"
#endif

/* Depth of missing libraries followed (plugin -> cuBLAS -> cuBLASLt -> ...) */
#define MAX_DEPTH 4

typedef int (*plugin_create_fn)(struct backend **out, struct fs_error *err);
typedef const char *(*plugin_describe_fn)(const struct backend *be);

/* The loaded plugin's describe function (registry state: set once, when the
 * first CUDA backend is created, and never unloaded). */
static plugin_describe_fn plugin_describe;

/* Directory of the running executable (with a trailing '/'), or "" */
static void exe_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        slash[1] = '\0';
    else
        buf[0] = '\0';
}

/* The library that dlopen could not find, from its message
 * "libcublas.so.13: cannot open shared object file: ...": copied to name and
 * 1, or 0 when msg reports something else (a missing symbol, a bad file). */
static int missing_library(const char *msg, char *name, size_t size)
{
    const char *end = msg ? strstr(msg, ": cannot open shared object file") : NULL;
    size_t n = end ? (size_t)(end - msg) : 0;
    if (n == 0 || n >= size || memchr(msg, '/', n) || strncmp(msg, "lib", 3) != 0)
        return 0;
    memcpy(name, msg, n);
    name[n] = '\0';
    return 1;
}

/* The directories where CUDA libraries live outside the linker's own search
 * path, existing ones only, each once, into dirs (a '\0'-separated list). */
static void cuda_lib_dirs(struct strbuf *dirs, size_t *count)
{
    static const char *const envs[] = {"CUDA_HOME", "CUDA_PATH", "CONDA_PREFIX"};
    static const char *const subs[] = {"lib64", "lib", "targets/" CUDA_TARGET "/lib"};
    static const char *const fixed[] = {"/usr/local/cuda/lib64",
                                        "/usr/local/cuda/targets/" CUDA_TARGET "/lib",
                                        "/usr/local/cuda-*/targets/" CUDA_TARGET "/lib",
                                        "/usr/local/cuda-*/lib64",
                                        "/opt/cuda/lib64",
                                        "/usr/lib/" MULTIARCH,
                                        "/usr/lib64",
                                        "/usr/local/lib"};
    struct strbuf pat = STRBUF_INIT;
    sb_reset(dirs);
    *count = 0;
    size_t n_env = FS_ARRAY_LEN(envs) * FS_ARRAY_LEN(subs);
    for (size_t i = 0; i < n_env + FS_ARRAY_LEN(fixed); i++) {
        sb_reset(&pat);
        if (i < n_env) {
            const char *root = getenv(envs[i / FS_ARRAY_LEN(subs)]);
            if (!root || !*root)
                continue;
            sb_appendf(&pat, "%s/%s", root, subs[i % FS_ARRAY_LEN(subs)]);
        } else {
            sb_append(&pat, fixed[i - n_env]);
        }
        glob_t g;
        if (glob(pat.buf, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) != 0)
            continue;
        for (size_t k = 0; k < g.gl_pathc; k++) {
            char real[PATH_MAX];
            if (!realpath(g.gl_pathv[k], real))
                continue;
            int seen = 0; /* lib64 is often a link to lib */
            for (size_t off = 0, j = 0; j < *count && !seen;
                 j++, off += strlen(dirs->buf + off) + 1)
                seen = strcmp(dirs->buf + off, real) == 0;
            if (!seen) {
                sb_append_n(dirs, real, strlen(real) + 1);
                (*count)++;
            }
        }
        globfree(&g);
    }
    sb_free(&pat);
}

static void *open_with_deps(const char *path, int flags, struct strbuf *why, int depth);

/* Loads the library called name from the CUDA directories; NULL (why says so)
 * when it is in none of them or does not load there. */
static void *load_by_name(const char *name, struct strbuf *why, int depth)
{
    struct strbuf dirs = STRBUF_INIT, path = STRBUF_INIT;
    size_t count;
    cuda_lib_dirs(&dirs, &count);
    void *h = NULL;
    const char *dir = dirs.buf;
    for (size_t i = 0; i < count && !h; i++, dir += strlen(dir) + 1) {
        sb_reset(&path);
        sb_appendf(&path, "%s/%s", dir, name);
        if (access(path.buf, R_OK) == 0)
            h = open_with_deps(path.buf, RTLD_NOW | RTLD_LOCAL, why, depth + 1);
    }
    if (h)
        sb_reset(why); /* a copy that failed elsewhere does not matter now */
    else if (!why->len) {
        sb_appendf(why,
                   "%s not found (looked in the plugin's rpath, LD_LIBRARY_PATH, the "
                   "ld.so cache",
                   name);
        dir = dirs.buf;
        for (size_t i = 0; i < count; i++, dir += strlen(dir) + 1)
            sb_appendf(why, ", %s", dir);
        sb_append(why, count ? ")" : "; set CUDA_HOME to the CUDA toolkit)");
    }
    sb_free(&dirs);
    sb_free(&path);
    return h;
}

/* dlopen(path), first loading by path any library it needs that the dynamic
 * linker does not find. NULL on failure, why holding one line. */
static void *open_with_deps(const char *path, int flags, struct strbuf *why, int depth)
{
    char name[256], last[256] = "";
    void *h;
    while (!(h = dlopen(path, flags))) {
        const char *msg = dlerror();
        if (depth >= MAX_DEPTH || !missing_library(msg, name, sizeof name) ||
            strcmp(name, last) == 0) {
            if (!why->len)
                sb_append(why, msg ? msg : "dlopen failed");
            return NULL;
        }
        void *dep = load_by_name(name, why, depth);
        if (!dep)
            return NULL;
        /* the library stays loaded: the reopened plugin's dependency is it */
        snprintf(last, sizeof last, "%s", name);
    }
    return h;
}

static void *open_plugin(struct strbuf *tried)
{
    char dir[PATH_MAX];
    exe_dir(dir, sizeof dir);
    const char *env = getenv("FINSENT_CUDA_LIB");
    struct strbuf cand = STRBUF_INIT, why = STRBUF_INIT;
    const char *const rel[] = {"", "../", "build/", "../lib/finsent/"};
    void *h = NULL;
    int explicit_lib = env && *env;
    /* $FINSENT_CUDA_LIB alone when set: another plugin must not stand in for it */
    for (int i = explicit_lib ? -1 : 0; i <= (int)FS_ARRAY_LEN(rel) && !h; i++) {
        sb_reset(&cand);
        if (i < 0) {
            sb_append(&cand, env);
        } else if (explicit_lib) {
            break;
        } else if (i == (int)FS_ARRAY_LEN(rel)) {
            sb_append(&cand, FINSENT_CUDA_BUILD_LIB);
        } else {
            sb_appendf(&cand, "%s%s%s", dir, rel[i], PLUGIN_NAME);
        }
        if (access(cand.buf, R_OK) != 0) {
            if (i < 0)
                sb_appendf(tried, "FINSENT_CUDA_LIB=%s: no such file", cand.buf);
            continue;
        }
        sb_reset(&why);
        h = open_with_deps(cand.buf, RTLD_NOW | RTLD_LOCAL, &why, 0);
        if (!h)
            sb_appendf(tried, "%s%s", tried->len ? "; " : "", why.buf);
    }
    sb_free(&cand);
    sb_free(&why);
    return h;
}
int backend_cuda_create(struct backend **out, struct fs_error *err)
{
    *out = NULL;
    /* FINSENT_CUDA_LIB names the plugin explicitly and skips the driver check, so
     * that tests load the plugin into the real binary on machines without a GPU */
    const char *explicit_lib = getenv("FINSENT_CUDA_LIB");
    if (!explicit_lib || !*explicit_lib) {
        void *driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (!driver)
            return fs_error_set(err,
                                "cuda: no CUDA device (no NVIDIA driver: libcuda.so.1 not found)");
        dlclose(driver);
    }
    struct strbuf tried = STRBUF_INIT;
    void *plugin = open_plugin(&tried);
    if (!plugin) {
        fs_error_set(err, "cuda: CUDA backend %s not found or not loadable%s%s", PLUGIN_NAME,
                     tried.len ? ": " : "", tried.buf);
        sb_free(&tried);
        return -1;
    }
    sb_free(&tried);
    plugin_create_fn create = (plugin_create_fn)dlsym(plugin, "cuda_plugin_create");
    if (!create) {
        dlclose(plugin);
        return fs_error_set(err, "cuda: %s has no cuda_plugin_create", PLUGIN_NAME);
    }
    /* the plugin stays loaded: the backend's functions live in it */
    plugin_describe = (plugin_describe_fn)dlsym(plugin, "backend_cuda_describe");
    return create(out, err);
}

const char *backend_cuda_describe(const struct backend *be)
{
    return plugin_describe ? plugin_describe(be) : "";
}
