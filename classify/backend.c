/* backend.c — the backend registry: picks the CPU or CUDA backend by name. */
#include "classify/backend.h"
#include "common/log.h"

#include <string.h>

int backend_create(const char *device, struct backend **out, int verbose, struct fs_error *err)
{
    *out = NULL;
    if (!device || !strcmp(device, "auto")) {
        struct fs_error cuda_err;
        if (backend_cuda_create(out, &cuda_err) == 0) {
            if (verbose)
                log_info("device: cuda");
            return 0;
        }
        if (verbose)
            log_info("device: cpu (%s)", cuda_err.msg);
        return backend_cpu_create(out, err);
    }
    if (!strcmp(device, "cpu"))
        return backend_cpu_create(out, err);
    if (!strcmp(device, "cuda"))
        return backend_cuda_create(out, err);
    return fs_error_set(err, "unknown device '%s' (expected auto, cpu or cuda)", device);
}
