/*
 * backend_cuda.h — what the CUDA backend offers beyond classify/backend.h.
 * Only in builds with CUDA (FINSENT_HAVE_CUDA); create the backend with
 * backend_cuda_create() or backend_create("cuda" | "auto", ...).
 */
#ifndef FINSENT_BACKEND_CUDA_H
#define FINSENT_BACKEND_CUDA_H

#include "classify/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One line describing the device a CUDA backend runs on, e.g. "NVIDIA L4
 * (sm_89, 22 GiB, driver 13.0, runtime 13.0)"; "" for a backend that is not
 * the CUDA one. The string belongs to be. */
const char *backend_cuda_describe(const struct backend *be);

#ifdef __cplusplus
}
#endif

#endif
