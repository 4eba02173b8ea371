/* cpu_backend.h — the CPU backend shared by the test programs that run the model:
 * created on first use, kept for the whole program. */
#ifndef FINSENT_TESTS_CPU_BACKEND_H
#define FINSENT_TESTS_CPU_BACKEND_H

#include "classify/backend.h"

#include <stdlib.h>

static struct backend *cpu(void)
{
    static struct backend *be;
    struct fs_error err;
    if (!be && backend_cpu_create(&be, &err) < 0)
        abort();
    return be;
}

#endif
