/*
 * train.c — the training loop: length-bucketed multi-task batches, AdamW,
 * warm-up + cosine decay, gradient clipping, a progress bar on a terminal.
 */
#include "classify/train.h"
#include "classify/ops_math.h"
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
    if (model_train_alloc(m, err) < 0)
        return -1;
    m->label_smoothing = o->label_smoothing;
    int bs = o->batch_size > 0 ? o->batch_size : 32;
    struct batch_plan plan = {xmalloc(s->n * sizeof(size_t)), xmalloc(s->n * sizeof(size_t)),
                              xmalloc(s->n * sizeof(int)), 0};
    struct host_batch h = {xmalloc((size_t)bs * s->max_len * sizeof(int32_t)),
                           xmalloc(bs * sizeof(int32_t)), xmalloc(bs * sizeof(int32_t)),
                           xmalloc(bs * sizeof(int32_t))};
    int longest = 1;
    for (size_t i = 0; i < s->n; i++)
        longest = s->length[i] > longest ? s->length[i] : longest;
    size_t tokens = (size_t)bs * longest;
    if (o->batch_tokens > 0 && (size_t)o->batch_tokens < tokens)
        tokens = (size_t)(o->batch_tokens > longest ? o->batch_tokens : longest);
    if (model_reserve_tokens(m, bs, tokens, longest, 1, err) < 0) {
        free(plan.rows), free(plan.starts), free(plan.size);
        free(h.ids), free(h.len), free(h.task), free(h.label);
        return -1;
    }
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
            struct model_batch mb = gather(&h, s, plan.rows + plan.starts[b], k);
            float loss;
            uint64_t drop_seed = fs_hash64(o->seed ^ (uint64_t)(step + 1) * 0x9e3779b1ULL);
            rc = model_forward(m, &mb, 1, drop_seed, &loss, err);
            if (rc < 0)
                break;
            model_backward(m);
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
    free(h.ids), free(h.len), free(h.task), free(h.label);
    return rc;
}
