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
 * else the plugin is looked for in $FINSENT_CUDA_LIB, beside the executable, one
 * level up (tests), in the build directory it was built in, and in
 * <prefix>/lib/finsent/ (make install).
 */
#include "classify/backend.h"
#include "cuda/backend_cuda.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FINSENT_CUDA_BUILD_LIB
#define FINSENT_CUDA_BUILD_LIB "libfinsent-cuda.so"
#endif
#define PLUGIN_NAME "libfinsent-cuda.so"

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

static void *open_plugin(struct strbuf *tried)
{
    char dir[PATH_MAX];
    exe_dir(dir, sizeof dir);
    const char *env = getenv("FINSENT_CUDA_LIB");
    struct strbuf cand = STRBUF_INIT;
    const char *const rel[] = {"", "../", "build/", "../lib/finsent/"};
    void *h = NULL;
    for (int i = -1; i <= (int)FS_ARRAY_LEN(rel) && !h; i++) {
        sb_reset(&cand);
        if (i < 0) {
            if (!env || !*env)
                continue;
            sb_append(&cand, env);
        } else if (i == (int)FS_ARRAY_LEN(rel)) {
            sb_append(&cand, FINSENT_CUDA_BUILD_LIB);
        } else {
            sb_appendf(&cand, "%s%s%s", dir, rel[i], PLUGIN_NAME);
        }
        if (access(cand.buf, R_OK) != 0)
            continue;
        h = dlopen(cand.buf, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            sb_appendf(tried, "%s%s", tried->len ? "; " : "", dlerror());
    }
    sb_free(&cand);
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
