/*
 * parallel.c — independent inference batches on one thread per core, each on
 * its own model view with single-threaded BLAS.
 */
#include "classify/parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int cmp_len(const void *a, const void *b)
{
    const struct by_len *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Number of rows from order[start] that fit a batch of `budget` tokens. */
static size_t batch_rows(const struct by_len *order, size_t start, size_t n, int budget)
{
    size_t k = 0;
    while (start + k < n && k < 512) {
        size_t T = (size_t)order[start + k].len;
        if ((k + 1) * T > (size_t)budget && k > 0)
            break;
        k++;
    }
    return k;
}

void len_batches_make(const int32_t *len, size_t n, int budget, struct len_batches *p)
{
    p->order = xmalloc((n + 1) * sizeof *p->order);
    for (size_t i = 0; i < n; i++)
        p->order[i] = (struct by_len){len[i], i};
    qsort(p->order, n, sizeof *p->order, cmp_len);
    p->starts = xmalloc((n + 1) * sizeof *p->starts);
    p->n_batches = 0;
    for (size_t at = 0; at < n; at += batch_rows(p->order, at, n, budget))
        p->starts[p->n_batches++] = at;
    p->starts[p->n_batches] = n;
}

void len_batches_free(struct len_batches *p)
{
    free(p->order);
    free(p->starts);
    p->order = NULL;
    p->starts = NULL;
    p->n_batches = 0;
}

struct parallel_worker {
    struct model *view;
    size_t first, step, n_batches;
    parallel_batch_fn fn;
    void *arg;
    int rc;
    struct fs_error err;
};

static void *parallel_worker_run(void *p)
{
    struct parallel_worker *w = p;
    for (size_t b = w->first; b < w->n_batches && w->rc == 0; b += w->step)
        w->rc = w->fn(w->view, b, w->arg, &w->err);
    return NULL;
}

int parallel_workers(const struct backend *be, size_t n_batches)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = be->set_threads ? (cores < PARALLEL_MAX_WORKERS ? cores : PARALLEL_MAX_WORKERS) : 1;
    if (n > (long)n_batches)
        n = (long)n_batches;
    return n < 1 ? 1 : (int)n;
}

int parallel_batches(struct model *m, struct model **views, size_t n_batches,
                     parallel_batch_fn fn, void *arg, struct fs_error *err)
{
    struct backend *be = m->be;
    int n = parallel_workers(be, n_batches);
    struct parallel_worker w[PARALLEL_MAX_WORKERS] = {{0}};
    pthread_t tid[PARALLEL_MAX_WORKERS];
    int started[PARALLEL_MAX_WORKERS] = {0};
    int blas_threads = n > 1 ? be->set_threads(be, 1) : 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && !views[i - 1])
            views[i - 1] = model_share(m);
        w[i] = (struct parallel_worker){i ? views[i - 1] : m, (size_t)i, (size_t)n, n_batches, fn,
                                        arg, 0, {""}};
        if (i > 0)
            started[i] = pthread_create(&tid[i], NULL, parallel_worker_run, &w[i]) == 0;
    }
    parallel_worker_run(&w[0]);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            parallel_worker_run(&w[i]); /* no thread: its share runs here */
    }
    if (n > 1)
        be->set_threads(be, blas_threads);
    for (int i = 0; i < n; i++)
        if (w[i].rc < 0) {
            *err = w[i].err;
            return -1;
        }
    return 0;
}
