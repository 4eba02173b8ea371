/*
 * train.c — the training loop: length-bucketed multi-task batches, AdamW,
 * warm-up + cosine decay, gradient clipping, a progress bar on a terminal.
 */
#include "classify/train.h"
#include "classify/ops_math.h"
#include "classify/parallel.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void train_options_default(struct train_options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 12;
    o->batch_size = 64;
    o->batch_tokens = 2048;
    o->lr = 2e-3f;
    o->warmup = 0.05f;
    o->weight_decay = 0.01f;
    o->clip = 1.0f;
    o->label_smoothing = 0.1f;
    o->seed = 1;
}

/* ---- batches ------------------------------------------------------------------ */

struct batch_plan {
    size_t *rows;   /* row order for the epoch */
    size_t *starts; /* batch i is rows[starts[i] .. starts[i] + size[i]) */
    int *size;
    size_t n_batches;
};

struct row_len {
    int32_t len;
    size_t row;
};

static int cmp_row_len(const void *a, const void *b)
{
    const struct row_len *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts rows[0..n) by their length (ties by row number). */
static void sort_rows_by_length(size_t *rows, size_t n, const int32_t *length)
{
    struct row_len *t = xmalloc((n + 1) * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = (struct row_len){length[rows[i]], rows[i]};
    qsort(t, n, sizeof *t, cmp_row_len);
    for (size_t i = 0; i < n; i++)
        rows[i] = t[i].row;
    free(t);
}

/* Cuts the length-sorted rows[0..n) into batches of at most bs rows and, when
 * tokens > 0, at most tokens padded tokens (a row longer than that is a batch
 * of its own); appends them to p. */
static void plan_cut(struct batch_plan *p, size_t first, size_t n, const int32_t *length, int bs,
                     int tokens)
{
    size_t at = first, end = first + n;
    while (at < end) {
        int k = 1;
        while (at + k < end && k < bs &&
               (tokens <= 0 || (long)(k + 1) * length[p->rows[at + k]] <= tokens))
            k++;
        p->starts[p->n_batches] = at;
        p->size[p->n_batches++] = k;
        at += k;
    }
}

/* Shuffled rows, sorted by length inside windows of 50 batches, cut into
 * batches (plan_cut) whose order is shuffled again. */
static void plan_epoch(struct batch_plan *p, const struct encoded_set *s, int bs, int tokens,
                       uint64_t *rng)
{
    size_t n = s->n;
    for (size_t i = 0; i < n; i++)
        p->rows[i] = i;
    fs_shuffle(p->rows, n, rng);
    size_t window = (size_t)bs * 50;
    p->n_batches = 0;
    for (size_t at = 0; at < n; at += window) {
        size_t w = n - at < window ? n - at : window;
        sort_rows_by_length(p->rows + at, w, s->length);
        plan_cut(p, at, w, s->length, bs, tokens);
    }
    size_t *order = xmalloc(p->n_batches * sizeof *order);
    for (size_t i = 0; i < p->n_batches; i++)
        order[i] = i;
    fs_shuffle(order, p->n_batches, rng);
    size_t *starts = xmalloc(p->n_batches * sizeof *starts);
    int *size = xmalloc(p->n_batches * sizeof *size);
    for (size_t i = 0; i < p->n_batches; i++) {
        starts[i] = p->starts[order[i]];
        size[i] = p->size[order[i]];
    }
    memcpy(p->starts, starts, p->n_batches * sizeof *starts);
    memcpy(p->size, size, p->n_batches * sizeof *size);
    free(starts), free(size), free(order);
}

struct host_batch {
    int32_t *ids, *len, *task, *label;
};

static struct model_batch gather(struct host_batch *h, const struct encoded_set *s,
                                 const size_t *rows, int k)
{
    int T = 1;
    for (int i = 0; i < k; i++)
        if (s->length[rows[i]] > T)
            T = s->length[rows[i]];
    memset(h->ids, 0, (size_t)k * T * sizeof(int32_t));
    for (int i = 0; i < k; i++) {
        size_t r = rows[i];
        memcpy(h->ids + (size_t)i * T, s->ids + r * s->max_len,
               (size_t)s->length[r] * sizeof(int32_t));
        h->len[i] = s->length[r];
        h->task[i] = s->task[r];
        h->label[i] = s->label[r];
    }
    return (struct model_batch){k, T, h->ids, h->len, h->task, h->label};
}

/* ---- data-parallel steps ------------------------------------------------------------ */

/* A step's batch cut into parts, one per worker (classify/parallel.h): part p
 * runs forward and backward on its own view (m itself for part 0) with
 * single-threaded BLAS, into gradients of its own scaled to the whole batch's
 * mean loss (model_backward_rows), and the parts' gradients are then summed
 * into m's. The sum is the whole batch's gradient, up to rounding and the
 * dropout masks (drawn per part). Fewer synchronisations than one BLAS call
 * split across the cores, and every op, not only the matrix products, runs on
 * all of them. */
struct step_parts {
    int workers; /* parts of a full batch (1: the batch runs whole on m) */
    struct model *m;
    struct model *views[PARALLEL_MAX_WORKERS - 1];
    struct host_batch h[PARALLEL_MAX_WORKERS];
    /* the step */
    const struct encoded_set *s;
    const size_t *rows;
    int k, parts, labeled;
    uint64_t seed;
    float loss[PARALLEL_MAX_WORKERS];
    int part_labeled[PARALLEL_MAX_WORKERS];
};

static void host_batch_alloc(struct host_batch *h, int rows, int max_len)
{
    *h = (struct host_batch){xmalloc((size_t)rows * max_len * sizeof(int32_t)),
                             xmalloc(rows * sizeof(int32_t)), xmalloc(rows * sizeof(int32_t)),
                             xmalloc(rows * sizeof(int32_t))};
}

static void host_batch_free(struct host_batch *h)
{
    free(h->ids), free(h->len), free(h->task), free(h->label);
}

static struct model *step_view(struct step_parts *sp, size_t part)
{
    return part ? sp->views[part - 1] : sp->m;
}

static int part_first(int k, int parts, size_t part)
{
    return (int)((long)k * (long)part / parts);
}

static void step_parts_free(struct step_parts *sp)
{
    for (int i = 0; i < sp->workers; i++) {
        if (i)
            model_free(sp->views[i - 1]);
        host_batch_free(&sp->h[i]);
    }
}

/* Workers for the run (o->workers, or one per core when 0; one on a backend
 * that cannot run passes side by side), each with a view, gradients and
 * activations for its share of a batch of bs rows and `tokens` padded tokens,
 * none longer than `longest`. */
static int step_parts_init(struct step_parts *sp, struct model *m, const struct encoded_set *s,
                           const struct train_options *o, int bs, size_t tokens, int longest,
                           struct fs_error *err)
{
    memset(sp, 0, sizeof *sp);
    sp->m = m;
    sp->s = s;
    int w = o->workers > 0 ? o->workers : parallel_workers(m->be, PARALLEL_MAX_WORKERS);
    w = w < PARALLEL_MAX_WORKERS ? w : PARALLEL_MAX_WORKERS;
    sp->workers = m->be->set_threads && w > 1 && bs > 1 ? w : 1;
    int rows = (bs + sp->workers - 1) / sp->workers;
    size_t share = sp->workers > 1 ? tokens / sp->workers + (size_t)longest : tokens;
    share = share < tokens ? share : tokens;
    int rc = 0;
    for (int i = 0; i < sp->workers; i++) {
        host_batch_alloc(&sp->h[i], rows, s->max_len);
        if (i)
            sp->views[i - 1] = model_share(m);
        struct model *v = step_view(sp, (size_t)i);
        if (rc == 0 && (model_train_alloc(v, err) < 0 ||
                        model_reserve_tokens(v, rows, share, longest, 1, err) < 0))
            rc = -1;
    }
    if (rc < 0)
        step_parts_free(sp);
    return rc;
}

/* Part `part` of the step, on its own view whichever worker runs it. */
static int step_part_run(struct model *worker_view, size_t part, void *arg, struct fs_error *err)
{
    (void)worker_view;
    struct step_parts *sp = arg;
    struct model *view = step_view(sp, part);
    int first = part_first(sp->k, sp->parts, part),
        n = part_first(sp->k, sp->parts, part + 1) - first;
    struct model_batch mb = gather(&sp->h[part], sp->s, sp->rows + first, n);
    uint64_t seed = part ? fs_hash64(sp->seed + part) : sp->seed;
    if (model_forward(view, &mb, 1, seed, &sp->loss[part], err) < 0)
        return -1;
    sp->part_labeled[part] = 0;
    for (int i = 0; i < n; i++)
        sp->part_labeled[part] += model_row_labeled(&view->cfg, mb.task[i], mb.label[i]);
    model_backward_rows(view, sp->labeled);
    return 0;
}

/* Adds the other parts' gradients into m's, a slice of the parameters per worker. */
static int step_sum_slice(struct model *view, size_t slice, void *arg, struct fs_error *err)
{
    (void)view, (void)err;
    struct step_parts *sp = arg;
    struct model *m = sp->m;
    size_t n = m->n_params, lo = n * slice / (size_t)sp->parts,
           hi = n * (slice + 1) / (size_t)sp->parts;
    for (int p = 1; p < sp->parts; p++)
        m->be->residual_forward(m->be, m->grads + lo, m->grads + lo, sp->views[p - 1]->grads + lo,
                                hi - lo);
    return 0;
}

/* Forward and backward of the k rows of one batch: m->grads holds the
 * gradient of their mean loss, *loss the mean loss. */
static int step_parts_run(struct step_parts *sp, const size_t *rows, int k, uint64_t seed,
                          float *loss, struct fs_error *err)
{
    sp->rows = rows;
    sp->k = k;
    sp->parts = k < sp->workers ? k : sp->workers;
    sp->seed = seed;
    sp->labeled = 0;
    for (int i = 0; i < k; i++)
        sp->labeled += model_row_labeled(&sp->m->cfg, sp->s->task[rows[i]], sp->s->label[rows[i]]);
    if (sp->parts == 1) {
        if (step_part_run(sp->m, 0, sp, err) < 0)
            return -1;
    } else if (parallel_batches(sp->m, sp->views, (size_t)sp->parts, step_part_run, sp, err) < 0 ||
               parallel_batches(sp->m, sp->views, (size_t)sp->parts, step_sum_slice, sp, err) < 0) {
        return -1;
    }
    double sum = 0.0;
    for (int p = 0; p < sp->parts; p++)
        sum += (double)sp->loss[p] * sp->part_labeled[p];
    *loss = sp->labeled ? (float)(sum / sp->labeled) : 0.0f;
    return 0;
}

int train_batch_gradient(struct model *m, const struct encoded_set *s, const size_t *rows, int k,
                         int workers, uint64_t seed, float *loss, struct fs_error *err)
{
    struct train_options o;
    train_options_default(&o);
    o.workers = workers;
    int longest = 1;
    for (int i = 0; i < k; i++)
        longest = s->length[rows[i]] > longest ? s->length[rows[i]] : longest;
    struct step_parts sp;
    if (step_parts_init(&sp, m, s, &o, k, (size_t)k * longest, longest, err) < 0)
        return -1;
    int rc = step_parts_run(&sp, rows, k, seed, loss, err);
    step_parts_free(&sp);
    return rc;
}

/* ---- optimiser ------------------------------------------------------------------ */

static float lr_at(const struct train_options *o, long step, long total)
{
    long warm = (long)(o->warmup * total);
    if (step < warm)
        return o->lr * (step + 1) / (float)warm;
    double t = (double)(step - warm) / (double)(total > warm ? total - warm : 1);
    t = t < 1.0 ? t : 1.0;
    return (float)(o->lr * 0.5 * (1.0 + cos(3.141592653589793 * t)));
}

static void optimizer_step(struct model *m, const struct train_options *o, float lr, int t)
{
    struct backend *be = m->be;
    float scale = 1.0f;
    if (o->clip > 0.0f) {
        double norm = sqrt(be->sum_squares(be, m->grads, m->n_params));
        if (norm > o->clip)
            scale = (float)(o->clip / norm);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *mt = &m->tensors[i];
        be->adamw(be, m->params + mt->offset, m->grads + mt->offset, m->adam_m + mt->offset,
                  m->adam_v + mt->offset, mt->size, lr, 0.9f, 0.98f, 1e-8f,
                  mt->decay ? o->weight_decay : 0.0f, scale, t);
    }
}

/* ---- progress ---------------------------------------------------------------------- */

static void progress(FILE *f, int epoch, int epochs, size_t done, size_t total, float loss,
                     double rate, double left)
{
    if (!f)
        return;
    int width = 24, fill = total ? (int)(width * done / total) : width;
    char bar[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(f, "\rtrain: epoch %d/%d [%s] loss %.4f  %.0f ex/s  %dm%02ds left ", epoch, epochs, bar,
            loss, rate, (int)left / 60, (int)left % 60);
    fflush(f);
}

/* One line for logs (stdout not a terminal): at each epoch's end and every
 * minute in between, with the time left at the rate so far. */
static void log_line(FILE *f, int epoch, int epochs, size_t done, size_t total, float loss,
                     double rate, double elapsed, double left)
{
    fprintf(f, "train: epoch %d/%d, %zu/%zu examples, loss %.4f, %.0f ex/s, %dm%02ds elapsed, "
               "about %dm%02ds left\n",
            epoch, epochs, done, total, loss, rate, (int)elapsed / 60, (int)elapsed % 60,
            (int)left / 60, (int)left % 60);
    fflush(f);
}

/* Per-task accuracy of m on s, as "topic 0.8123 sentiment 0.8012". */
static void log_validation(FILE *f, struct model *m, const struct encoded_set *s)
{
    struct classifier c = {.be = m->be, .model = m};
    int *pred = xcalloc(s->n + 1, sizeof *pred);
    struct fs_error err;
    if (classifier_predict_encoded(&c, s, pred, &err) < 0) {
        free(pred);
        return;
    }
    size_t ok[MODEL_MAX_HEADS_OUT] = {0}, n[MODEL_MAX_HEADS_OUT] = {0};
    for (size_t i = 0; i < s->n; i++)
        if (s->task[i] >= 0 && s->task[i] < MODEL_MAX_HEADS_OUT) {
            n[s->task[i]]++;
            ok[s->task[i]] += pred[i] == s->label[i];
        }
    fprintf(f, "  validation accuracy:");
    for (int t = 0; t < m->cfg.n_out; t++)
        if (n[t])
            fprintf(f, " head %d %.4f", t, (double)ok[t] / n[t]);
    fprintf(f, "\n");
    free(pred);
}

/* ---- the loop ------------------------------------------------------------------------ */

int train_model(struct model *m, const struct encoded_set *s, const struct train_options *o,
                struct train_stats *st, struct fs_error *err)
{
    memset(st, 0, sizeof *st);
    if (s->n == 0)
        return fs_error_set(err, "no training examples");
    m->label_smoothing = o->label_smoothing; /* before step_parts_init() shares m */
    int bs = o->batch_size > 0 ? o->batch_size : 32;
    int longest = 1;
    for (size_t i = 0; i < s->n; i++)
        longest = s->length[i] > longest ? s->length[i] : longest;
    size_t tokens = (size_t)bs * longest;
    if (o->batch_tokens > 0 && (size_t)o->batch_tokens < tokens)
        tokens = (size_t)(o->batch_tokens > longest ? o->batch_tokens : longest);
    struct step_parts sp;
    if (step_parts_init(&sp, m, s, o, bs, tokens, longest, err) < 0)
        return -1;
    struct batch_plan plan = {xmalloc(s->n * sizeof(size_t)), xmalloc(s->n * sizeof(size_t)),
                              xmalloc(s->n * sizeof(int)), 0};
    /* the epochs' plans are drawn once ahead, with a copy of the generator, to
     * know the number of steps the schedule spans */
    uint64_t rng = o->seed;
    uint64_t ahead = rng;
    long total = 0, step = 0;
    for (int ep = 0; ep < o->epochs; ep++) {
        plan_epoch(&plan, s, bs, o->batch_tokens, &ahead);
        total += (long)plan.n_batches;
    }
    double t0 = time_monotonic(), last_log = t0;
    int rc = 0;
    for (int ep = 0; ep < o->epochs && rc == 0; ep++) {
        plan_epoch(&plan, s, bs, o->batch_tokens, &rng);
        double loss_sum = 0.0;
        size_t seen = 0;
        for (size_t b = 0; b < plan.n_batches && rc == 0; b++, step++) {
            int k = plan.size[b];
            float loss;
            uint64_t drop_seed = fs_hash64(o->seed ^ (uint64_t)(step + 1) * 0x9e3779b1ULL);
            rc = step_parts_run(&sp, plan.rows + plan.starts[b], k, drop_seed, &loss, err);
            if (rc < 0)
                break;
            optimizer_step(m, o, lr_at(o, step, total), (int)step + 1);
            loss_sum += loss * k;
            seen += k;
            double now = time_monotonic(), el = now - t0;
            double rate = (ep * s->n + seen) / (el > 0 ? el : 1e-9);
            double left = ((double)o->epochs * s->n - (ep * s->n + seen)) / rate;
            if (o->progress && (b % 10 == 0 || b + 1 == plan.n_batches))
                progress(o->progress, ep + 1, o->epochs, seen, s->n, (float)(loss_sum / seen), rate,
                         left);
            if (o->log && now - last_log >= 60.0 && b + 1 < plan.n_batches) {
                log_line(o->log, ep + 1, o->epochs, seen, s->n, (float)(loss_sum / seen), rate,
                         el, left);
                last_log = now;
            }
        }
        st->last_loss = seen ? (float)(loss_sum / seen) : 0.0f;
        if (o->log) {
            double el = time_monotonic() - t0, rate = (ep + 1) * (double)s->n / el;
            log_line(o->log, ep + 1, o->epochs, seen, s->n, st->last_loss, rate, el,
                     (o->epochs - ep - 1) * (double)s->n / rate);
            last_log = time_monotonic();
        }
        if (o->log && o->validation && rc == 0)
            log_validation(o->log, m, o->validation);
        if (rc == 0)
            rc = m->be->check(m->be, err);
    }
    if (o->progress)
        fprintf(o->progress, "\n");
    st->steps = (int)step;
    st->seconds = time_monotonic() - t0;
    st->examples_per_second = st->seconds > 0 ? o->epochs * (double)s->n / st->seconds : 0;
    free(plan.rows), free(plan.starts), free(plan.size);
    step_parts_free(&sp);
    return rc;
}
