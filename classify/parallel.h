/*
 * parallel.h — independent inference batches on one thread per core.
 *
 * The CPU backend's matrix products are small at inference (a few thousand
 * tokens x a few hundred channels), where OpenBLAS's own threads spend much of
 * their time waiting. Running whole batches side by side, each on its own
 * model_share() view (own activations, shared read-only weights) with
 * single-threaded BLAS, uses the cores better. A backend without set_threads
 * (CUDA: one stream) runs the batches one after another on the calling thread.
 *
 *   static int one(struct model *view, size_t batch, void *arg, struct fs_error *err);
 *   struct model *views[PARALLEL_MAX_WORKERS - 1] = {0};
 *   rc = parallel_batches(m, views, n_batches, one, arg, &err);
 *   for (...) model_free(views[i]);     // or keep them for the next call
 */
#ifndef FINSENT_PARALLEL_H
#define FINSENT_PARALLEL_H

#include "classify/model.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum {
    PARALLEL_MAX_WORKERS = 4,
    PARALLEL_BATCH_TOKENS = 4096 /* the default token budget of a length batch */
};

/* Batches of similar length: rows sorted by token length (ties by index), cut
 * into batches of at most `budget` tokens (rows x the batch's longest) and at
 * most 512 rows; a row longer than the budget is a batch alone. Batch i is
 * order[starts[i] .. starts[i + 1]). */
struct by_len {
    int32_t len;
    size_t idx;
};
struct len_batches {
    struct by_len *order; /* [n] */
    size_t *starts;       /* [n_batches + 1] */
    size_t n_batches;
};
void len_batches_make(const int32_t *len, size_t n, int budget, struct len_batches *p);
void len_batches_free(struct len_batches *p);

/* A batch's work: runs batch number `batch` on view (m itself or one of its
 * views); returns 0 or -1 with err set. Called concurrently for different
 * batches: what it writes must be the batch's own. */
typedef int (*parallel_batch_fn)(struct model *view, size_t batch, void *arg,
                                 struct fs_error *err);

/* One worker per core (at most PARALLEL_MAX_WORKERS) when the backend can run
 * passes side by side (has set_threads), else one; never more than n_batches. */
int parallel_workers(const struct backend *be, size_t n_batches);

/* Runs fn for batches 0..n_batches-1, worker w taking batches w, w + workers,
 * ... (workers: one per core, at most PARALLEL_MAX_WORKERS, at most n_batches).
 * views[0..PARALLEL_MAX_WORKERS-2] are the views of workers 1.. (made with
 * model_share() when NULL, then left for the caller to reuse and free).
 * Returns 0, or -1 with the first error in err. */
int parallel_batches(struct model *m, struct model **views, size_t n_batches,
                     parallel_batch_fn fn, void *arg, struct fs_error *err);

#endif
