/* test_model.c — the encoder on the CPU backend: finite-difference gradient
 * checks of every layer's op and of the whole loss, training on a separable toy
 * task, determinism for a seed, and PyTorch parity (tests/torch_parity.py). */
#include "classify/backend.h"
#include "classify/dataset.h"
#include "classify/infer.h"
#include "classify/model.h"
#include "classify/ops_math.h"
#include "classify/safetensors.h"
#include "classify/tokenizer.h"
#include "classify/train.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"
#include "tests/cpu_backend.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rng_state = 12345;
static float frand(void) /* uniform in [-1, 1) */
{
    rng_state = fs_hash64(rng_state);
    return (float)((rng_state >> 40) / 8388608.0 - 1.0);
}

static float *rand_vec(size_t n)
{
    float *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = frand();
    return v;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* ---- per-op gradient checks ------------------------------------------------
 * For an op y = f(x), the scalar L = r . y with random r has dL/dx = the op's
 * backward applied to r. Each check compares it with central differences. */

typedef void (*fwd_fn)(const float *x, float *y, void *ctx);

static int grad_check(fwd_fn f, void *ctx, float *x, size_t nx, size_t ny, const float *analytic,
                      const float *r, double eps, double tol, char *why, size_t why_size)
{
    float *y = xmalloc(ny * sizeof *y);
    int ok = 1;
    for (size_t i = 0; i < nx && ok; i++) {
        float keep = x[i];
        x[i] = keep + (float)eps;
        f(x, y, ctx);
        double lp = dot(r, y, ny);
        x[i] = keep - (float)eps;
        f(x, y, ctx);
        double lm = dot(r, y, ny);
        x[i] = keep;
        double num = (lp - lm) / (2 * eps);
        double err = fabs(num - analytic[i]);
        if (err > tol * (1.0 + fabs(num))) {
            snprintf(why, why_size, "element %zu: numeric %g analytic %g", i, num, analytic[i]);
            ok = 0;
        }
    }
    free(y);
    return ok;
}

enum { LN_N = 3, LN_C = 8 };
struct ln_ctx {
    const float *w, *b;
    float mean[LN_N], rstd[LN_N];
};
static void ln_fwd(const float *x, float *y, void *c)
{
    struct ln_ctx *l = c;
    cpu()->layernorm_forward(cpu(), y, l->mean, l->rstd, x, l->w, l->b, LN_N, LN_C, 1e-5f);
}

static void test_grad_layernorm(void)
{
    struct backend *be = cpu();
    float *x = rand_vec(LN_N * LN_C), *r = rand_vec(LN_N * LN_C);
    float *w = rand_vec(LN_C), *b = rand_vec(LN_C), y[LN_N * LN_C];
    float dx[LN_N * LN_C] = {0}, dw[LN_C] = {0}, db[LN_C] = {0};
    struct ln_ctx c = {w, b, {0}, {0}};
    ln_fwd(x, y, &c);
    be->layernorm_backward(be, dx, dw, db, r, x, w, c.mean, c.rstd, LN_N, LN_C);
    char why[200];
    CHECK_MSG(
        grad_check(ln_fwd, &c, x, LN_N * LN_C, LN_N * LN_C, dx, r, 1e-2, 2e-2, why, sizeof why),
        "dx %s", why);
    /* dweight, dbias: y is linear in them, so check against the closed form */
    ln_fwd(x, y, &c);
    for (int i = 0; i < LN_C; i++) {
        double sw = 0, sb = 0;
        for (int n = 0; n < LN_N; n++) {
            sw += r[n * LN_C + i] * (x[n * LN_C + i] - c.mean[n]) * c.rstd[n];
            sb += r[n * LN_C + i];
        }
        CHECK_NEAR(dw[i], sw, 1e-4);
        CHECK_NEAR(db[i], sb, 1e-4);
    }
    free(x), free(r), free(w), free(b);
}

static void gelu_fwd(const float *x, float *y, void *c)
{
    (void)c;
    cpu()->gelu_forward(cpu(), y, x, 16);
}

static void test_grad_gelu(void)
{
    float *x = rand_vec(16), *r = rand_vec(16), dx[16] = {0};
    for (int i = 0; i < 16; i++)
        x[i] *= 3.0f;
    cpu()->gelu_backward(cpu(), dx, x, r, 16);
    char why[200];
    CHECK_MSG(grad_check(gelu_fwd, NULL, x, 16, 16, dx, r, 1e-2, 1e-2, why, sizeof why), "%s", why);
    CHECK_NEAR(fs_gelu(1.0f), 0.8413447f, 1e-6);
    free(x), free(r);
}

enum { SM_B = 2, SM_H = 2, SM_T = 4 };
static const int32_t sm_len[SM_B] = {4, 2};
static void sm_fwd(const float *x, float *y, void *c)
{
    (void)c;
    cpu()->softmax_forward(cpu(), y, x, sm_len, SM_B, SM_H, SM_T, 0.7f);
}

static void test_grad_masked_softmax(void)
{
    size_t n = SM_B * SM_H * SM_T * SM_T;
    float *x = rand_vec(n), *r = rand_vec(n), *y = xcalloc(n, 4), *dx = xcalloc(n, 4);
    sm_fwd(x, y, NULL);
    /* padding: rows and columns beyond length 2 of sequence 1 are zero */
    float *s1 = y + SM_H * SM_T * SM_T;
    CHECK(s1[0 * SM_T + 2] == 0.0f && s1[0 * SM_T + 3] == 0.0f);
    CHECK(s1[3 * SM_T + 0] == 0.0f);
    CHECK_NEAR(s1[0] + s1[1], 1.0, 1e-6);
    cpu()->softmax_backward(cpu(), dx, r, y, sm_len, SM_B, SM_H, SM_T, 0.7f);
    char why[200];
    CHECK_MSG(grad_check(sm_fwd, NULL, x, n, n, dx, r, 1e-2, 1e-2, why, sizeof why), "%s", why);
    free(x), free(r), free(y), free(dx);
}

enum { AP_B = 2, AP_T = 3, AP_C = 4 };
static const int32_t ap_len[AP_B] = {3, 1};
struct ap_ctx {
    const float *x, *q;
    float w[AP_B * AP_T];
    int wrt_q;
};
static void ap_fwd(const float *v, float *y, void *c)
{
    struct ap_ctx *a = c;
    cpu()->attnpool_forward(cpu(), y, a->w, a->wrt_q ? a->x : v, a->wrt_q ? v : a->q, ap_len, AP_B,
                            AP_T, AP_C);
}

static void test_grad_attention_pooling(void)
{
    float *x = rand_vec(AP_B * AP_T * AP_C), *q = rand_vec(AP_C), *r = rand_vec(AP_B * AP_C);
    float y[AP_B * AP_C], dx[AP_B * AP_T * AP_C] = {0}, dq[AP_C] = {0};
    struct ap_ctx c = {x, q, {0}, 0};
    ap_fwd(x, y, &c);
    CHECK(c.w[AP_T + 1] == 0.0f && c.w[AP_T] == 1.0f); /* one token: all weight on it */
    cpu()->attnpool_backward(cpu(), dx, dq, r, x, q, c.w, ap_len, AP_B, AP_T, AP_C);
    char why[200];
    CHECK_MSG(grad_check(ap_fwd, &c, x, AP_B * AP_T * AP_C, AP_B * AP_C, dx, r, 1e-2, 1e-2, why,
                         sizeof why),
              "dx %s", why);
    c.wrt_q = 1;
    CHECK_MSG(grad_check(ap_fwd, &c, q, AP_C, AP_B * AP_C, dq, r, 1e-2, 1e-2, why, sizeof why),
              "dq %s", why);
    free(x), free(q), free(r);
}

static const int ce_sizes[2] = {4, 3};
static const int32_t ce_task[3] = {0, 1, -1}, ce_label[3] = {2, 0, 0};
static void ce_fwd(const float *x, float *y, void *c)
{
    float probs[3 * 7];
    cpu()->crossentropy_forward(cpu(), y, probs, x, ce_task, ce_label, 3, 2, ce_sizes, *(float *)c);
}

static void test_grad_crossentropy(void)
{
    float *x = rand_vec(3 * 7), losses[3], probs[3 * 7], dx[3 * 7] = {0};
    float r[3] = {1.0f, 1.0f, 1.0f}, eps = 0.1f;
    cpu()->crossentropy_forward(cpu(), losses, probs, x, ce_task, ce_label, 3, 2, ce_sizes, eps);
    CHECK(losses[2] == 0.0f); /* unlabelled row adds nothing */
    CHECK_NEAR(probs[14] + probs[15] + probs[16] + probs[17], 1.0, 1e-6);
    cpu()->crossentropy_backward(cpu(), dx, probs, ce_task, ce_label, 3, 2, ce_sizes, eps, 1.0f);
    for (int j = 4; j < 7; j++)
        CHECK(dx[j] == 0.0f); /* row 0 is a topic row: no sentiment gradient */
    char why[200];
    CHECK_MSG(grad_check(ce_fwd, &eps, x, 3 * 7, 3, dx, r, 1e-2, 1e-2, why, sizeof why), "%s", why);
    free(x);
}

static void test_dropout_mask(void)
{
    struct backend *be = cpu();
    enum { N = 10000 };
    float *x = xmalloc(N * 4), *y = xmalloc(N * 4), *dx = xcalloc(N, 4);
    for (int i = 0; i < N; i++)
        x[i] = 1.0f;
    be->dropout_forward(be, y, x, N, 0.25f, 7);
    int kept = 0;
    for (int i = 0; i < N; i++)
        kept += y[i] != 0.0f;
    CHECK(kept > 7200 && kept < 7800);
    be->dropout_backward(be, dx, x, N, 0.25f, 7);
    for (int i = 0; i < N; i++)
        CHECK(dx[i] == y[i]);
    free(x), free(y), free(dx);
}

/* The clipping norm's sum of squares against a plain serial double sum, for
 * lengths around the lane width (a tail of every size) and a long one. */
static void test_sum_squares(void)
{
    struct backend *be = cpu();
    enum { N = 100003 };
    float *x = xmalloc(N * sizeof *x);
    for (int i = 0; i < N; i++)
        x[i] = frand();
    const size_t lens[] = {0, 1, 7, 8, 9, 15, 16, 17, 23, N};
    for (size_t j = 0; j < FS_ARRAY_LEN(lens); j++) {
        double want = 0.0;
        for (size_t i = 0; i < lens[j]; i++)
            want += (double)x[i] * x[i];
        double got = be->sum_squares(be, x, lens[j]);
        CHECK_MSG(got == want || (want > 0 && fabs(got - want) <= 1e-12 * want),
                  "n=%zu: %.17g, expected %.17g", lens[j], got, want);
    }
    free(x);
}

/* ---- the whole model ------------------------------------------------------------ */

static void tiny_config(struct model_config *c, int pool)
{
    model_config_default(c);
    c->vocab = 24;
    c->max_len = 8;
    c->width = 8;
    c->layers = 2;
    c->heads = 2;
    c->ffn = 16;
    c->pool = pool;
    c->dropout = 0.0f;
    c->n_out = 2;
    c->out_sizes[0] = 4;
    c->out_sizes[1] = 3;
}

/* A fixed batch of 3 texts of lengths 6, 3, 1 (padded to 6). */
static const int32_t tb_ids[3 * 6] = {2, 9, 10, 11, 12, 13, 2, 14, 15, 0, 0, 0, 2, 0, 0, 0, 0, 0};
static const int32_t tb_len[3] = {6, 3, 1}, tb_task[3] = {0, 1, 1}, tb_label[3] = {3, 2, 0};
static const struct model_batch tiny_batch = {3, 6, tb_ids, tb_len, tb_task, tb_label};

static float loss_at(struct model *m)
{
    float loss;
    struct fs_error err;
    if (model_forward(m, &tiny_batch, 1, 1, &loss, &err) < 0)
        abort();
    return loss;
}

static void whole_model_grad_check(int pool, int arch)
{
    struct model_config c;
    tiny_config(&c, pool);
    if (arch == ARCH_POST_LN) { /* BERT's arrangement, token types and epsilon */
        c.arch = ARCH_POST_LN;
        c.type_vocab = 2;
        c.ln_eps = 1e-12f;
    }
    struct model *m;
    struct fs_error err;
    CHECK(model_create(&c, cpu(), 3, &m, &err) == 0);
    CHECK(model_train_alloc(m, &err) == 0);
    /* larger weights than the init so that every path matters */
    float *p = xmalloc(m->n_params * 4), *g = xmalloc(m->n_params * 4);
    for (size_t i = 0; i < m->n_params; i++)
        p[i] = 0.3f * frand();
    model_set_params(m, p);
    loss_at(m);
    model_backward(m);
    cpu()->download(cpu(), g, m->grads, m->n_params * 4);
    /* every tensor: its 2 largest gradient entries against central differences */
    for (int t = 0; t < m->n_tensors; t++) {
        const struct model_tensor *mt = &m->tensors[t];
        size_t top[2] = {mt->offset, mt->offset};
        for (size_t i = mt->offset; i < mt->offset + mt->size; i++)
            if (fabsf(g[i]) > fabsf(g[top[0]]))
                top[0] = i;
        for (size_t i = mt->offset; i < mt->offset + mt->size; i++)
            if (i != top[0] && (top[1] == top[0] || fabsf(g[i]) > fabsf(g[top[1]])))
                top[1] = i;
        for (int k = 0; k < (mt->size > 1 ? 2 : 1); k++) {
            size_t i = top[k];
            float keep = p[i], eps = 2e-3f;
            p[i] = keep + eps;
            model_set_params(m, p);
            double lp = loss_at(m);
            p[i] = keep - eps;
            model_set_params(m, p);
            double lm = loss_at(m);
            p[i] = keep;
            model_set_params(m, p);
            double num = (lp - lm) / (2 * eps);
            CHECK_MSG(fabs(num - g[i]) <= 2e-3 + 2e-2 * fabs(num),
                      "%s[%zu]: numeric %g analytic %g", mt->name, i - mt->offset, num, g[i]);
        }
    }
    /* the whole loss: directional derivative along the gradient equals |g|^2 */
    double gn = sqrt(dot(g, g, m->n_params)), eps = 1e-3;
    float *q = xmalloc(m->n_params * 4);
    for (size_t i = 0; i < m->n_params; i++)
        q[i] = p[i] + (float)(eps * g[i] / gn);
    model_set_params(m, q);
    double lp = loss_at(m);
    for (size_t i = 0; i < m->n_params; i++)
        q[i] = p[i] - (float)(eps * g[i] / gn);
    model_set_params(m, q);
    double lm = loss_at(m);
    CHECK_NEAR((lp - lm) / (2 * eps), gn, 1e-2 * gn);
    free(p), free(g), free(q);
    model_free(m);
}

static void test_grad_model_cls(void)
{
    whole_model_grad_check(POOL_CLS, ARCH_PRE_LN);
}

static void test_grad_model_post_ln_cls(void)
{
    whole_model_grad_check(POOL_CLS, ARCH_POST_LN);
}

static void test_grad_model_post_ln_attention_pool(void)
{
    whole_model_grad_check(POOL_ATTENTION, ARCH_POST_LN);
}

static void test_grad_model_post_ln_mean_pool(void)
{
    whole_model_grad_check(POOL_MEAN, ARCH_POST_LN);
}

static void test_grad_model_attention_pool(void)
{
    whole_model_grad_check(POOL_ATTENTION, ARCH_PRE_LN);
}

static void test_padding_does_not_leak(void)
{
    /* the logits of a short text do not depend on what fills its padding */
    struct model_config c;
    tiny_config(&c, POOL_ATTENTION);
    struct model *m;
    struct fs_error err;
    CHECK(model_create(&c, cpu(), 5, &m, &err) == 0);
    int32_t ids[2 * 6] = {2, 9, 10, 11, 12, 13, 2, 14, 15, 0, 0, 0}, len[2] = {6, 3};
    struct model_batch b = {2, 6, ids, len, NULL, NULL};
    float p1[2 * 7], p2[2 * 7], p3[7];
    CHECK(model_forward(m, &b, 0, 0, NULL, &err) == 0);
    model_get_probs(m, p1);
    ids[9] = 20, ids[10] = 21, ids[11] = 22;
    CHECK(model_forward(m, &b, 0, 0, NULL, &err) == 0);
    model_get_probs(m, p2);
    struct model_batch one = {1, 3, ids + 6, len + 1, NULL, NULL};
    CHECK(model_forward(m, &one, 0, 0, NULL, &err) == 0);
    model_get_probs(m, p3);
    for (int i = 0; i < 7; i++) {
        CHECK_NEAR(p1[7 + i], p2[7 + i], 1e-6);
        CHECK_NEAR(p1[7 + i], p3[i], 1e-5);
    }
    model_free(m);
}

/* ---- training ------------------------------------------------------------------------------ */

/* Toy task: a sentiment row is labelled by which of the ids 8, 9, 10 it holds
 * somewhere among random filler ids; a topic row by its first id (mod 4). */
static void toy_set(struct encoded_set *s, size_t n, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->max_len = 8;
    s->ids = xcalloc(n * 8, sizeof(int32_t));
    s->length = xcalloc(n, sizeof(int32_t));
    s->task = xcalloc(n, sizeof(int32_t));
    s->label = xcalloc(n, sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        seed = fs_hash64(seed);
        int len = 3 + (int)(seed % 6);
        int32_t *r = s->ids + i * 8;
        r[0] = 2;
        for (int t = 1; t < len; t++)
            r[t] = 11 + (int32_t)(fs_hash64(seed + t) % 12);
        s->length[i] = len;
        s->task[i] = i % 2;
        if (i % 2) {
            s->label[i] = (int)(fs_hash64(seed ^ 7) % 3);
            r[1 + (int)(fs_hash64(seed ^ 9) % (len - 1))] = 8 + s->label[i];
        } else {
            s->label[i] = r[1] % 4;
        }
    }
}

static float toy_accuracy(struct model *m, const struct encoded_set *s)
{
    struct classifier c = {.be = cpu(), .model = m};
    int *pred = xcalloc(s->n, sizeof *pred);
    struct fs_error err;
    if (classifier_predict_encoded(&c, s, pred, &err) < 0)
        return -1;
    size_t ok = 0;
    for (size_t i = 0; i < s->n; i++)
        ok += pred[i] == s->label[i];
    free(pred);
    return (float)ok / s->n;
}

static struct model *train_toy_budget(const struct encoded_set *s, uint64_t seed, int epochs,
                                      int batch_tokens, int workers)
{
    struct model_config c;
    tiny_config(&c, POOL_ATTENTION);
    c.width = 16;
    c.ffn = 32;
    c.dropout = 0.1f;
    struct model *m;
    struct fs_error err;
    if (model_create(&c, cpu(), seed, &m, &err) < 0)
        return NULL;
    struct train_options o;
    train_options_default(&o);
    o.epochs = epochs;
    o.lr = 5e-3f;
    o.batch_size = 16;
    o.batch_tokens = batch_tokens;
    o.workers = workers;
    o.seed = seed;
    struct train_stats st;
    if (train_model(m, s, &o, &st, &err) < 0) {
        model_free(m);
        return NULL;
    }
    return m;
}

static struct model *train_toy(const struct encoded_set *s, uint64_t seed, int epochs)
{
    return train_toy_budget(s, seed, epochs, 0, 0);
}

/* A token budget caps every batch: the activations never grow past what was
 * reserved for it, which is less than for full batches of the longest rows
 * (batches run whole: one worker). */
static void test_train_token_budget(void)
{
    struct encoded_set s;
    toy_set(&s, 120, 4);
    int longest = 1;
    for (size_t i = 0; i < s.n; i++)
        longest = s.length[i] > longest ? s.length[i] : longest;
    int budget = 3 * longest;
    struct model *full = train_toy_budget(&s, 7, 1, 0, 1);
    struct model *capped = train_toy_budget(&s, 7, 1, budget, 1);
    CHECK(full && capped);
    struct model_config c = capped->cfg;
    struct model *fresh;
    struct fs_error err;
    CHECK(model_create(&c, cpu(), 1, &fresh, &err) == 0);
    CHECK(model_reserve_tokens(fresh, 16, (size_t)budget, longest, 1, &err) == 0);
    CHECK_INT_EQ(model_activation_floats(capped), model_activation_floats(fresh));
    CHECK_MSG(model_activation_floats(capped) < model_activation_floats(full), "%zu vs %zu",
              model_activation_floats(capped), model_activation_floats(full));
    model_free(full), model_free(capped), model_free(fresh);
    encoded_set_free(&s);
}

static void test_train_learns_toy_task(void)
{
    struct encoded_set train, held;
    toy_set(&train, 400, 1);
    toy_set(&held, 200, 2);
    struct model *m = train_toy(&train, 3, 25);
    CHECK(m != NULL);
    float acc = toy_accuracy(m, &held);
    CHECK_MSG(acc >= 0.9f, "held-out accuracy %.3f", acc);
    model_free(m);
    encoded_set_free(&train);
    encoded_set_free(&held);
}

static void test_train_deterministic(void)
{
    struct encoded_set s;
    toy_set(&s, 100, 5);
    struct model *a = train_toy(&s, 7, 2), *b = train_toy(&s, 7, 2), *c = train_toy(&s, 8, 2);
    CHECK(a && b && c);
    float *pa = xmalloc(a->n_params * 4), *pb = xmalloc(a->n_params * 4);
    float *pc = xmalloc(a->n_params * 4);
    model_get_params(a, pa);
    model_get_params(b, pb);
    model_get_params(c, pc);
    CHECK(memcmp(pa, pb, a->n_params * 4) == 0);
    CHECK(memcmp(pa, pc, a->n_params * 4) != 0);
    free(pa), free(pb), free(pc);
    model_free(a), model_free(b), model_free(c);
    encoded_set_free(&s);
}

/* A batch cut into parts run side by side (what training does on several
 * cores) has the whole batch's gradient and loss: each part's gradient is
 * scaled by the whole batch's labelled rows and the parts are summed. Uneven
 * parts and an unlabelled row included. */
static void test_train_parts_gradient(void)
{
    struct encoded_set s;
    toy_set(&s, 7, 11);
    s.label[2] = -1;
    struct model_config c;
    tiny_config(&c, POOL_MEAN);
    struct model *m;
    struct fs_error err;
    CHECK(model_create(&c, cpu(), 5, &m, &err) == 0);
    m->label_smoothing = 0.1f; /* the parts' views must smooth as m does */
    size_t rows[7] = {6, 0, 3, 2, 5, 1, 4};
    float *whole = xmalloc(m->n_params * sizeof(float)),
          *part = xmalloc(m->n_params * sizeof(float));
    float lw = 0, lp = 0;
    CHECK(train_batch_gradient(m, &s, rows, 7, 1, 9, &lw, &err) == 0);
    m->be->download(m->be, whole, m->grads, m->n_params * sizeof(float));
    double top = 0;
    for (size_t i = 0; i < m->n_params; i++)
        top = fabs(whole[i]) > top ? fabs(whole[i]) : top;
    CHECK(top > 1e-3 && lw > 0.5f);
    for (int workers = 2; workers <= 3; workers++) {
        CHECK(train_batch_gradient(m, &s, rows, 7, workers, 9, &lp, &err) == 0);
        m->be->download(m->be, part, m->grads, m->n_params * sizeof(float));
        double worst = 0;
        for (size_t i = 0; i < m->n_params; i++)
            worst = fabs(part[i] - whole[i]) > worst ? fabs(part[i] - whole[i]) : worst;
        CHECK_MSG(worst <= 1e-5 * top, "%d parts: gradient off by %g (largest %g)", workers, worst,
                  top);
        CHECK_MSG(fabsf(lp - lw) <= 1e-5f, "%d parts: loss %f, whole batch %f", workers, lp, lw);
    }
    free(whole), free(part);
    model_free(m);
    encoded_set_free(&s);
}

/* ---- parity with PyTorch (tests/torch_parity.py) ------------------------------------------- */

static void save_f32(const char *dir, const char *file, struct st_writer *w)
{
    struct strbuf sb = STRBUF_INIT;
    struct fs_error err;
    sb_appendf(&sb, "%s/%s", dir, file);
    if (st_writer_save(w, sb.buf, &err) < 0)
        printf("  %s\n", err.msg);
    sb_free(&sb);
    st_writer_free(w);
}

static float *as_f32(const int32_t *v, size_t n)
{
    float *f = xmalloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

static void torch_parity(int pool)
{
    struct fs_error err;
    struct dataset topic, sent;
    if (dataset_load_csv("data/twitter_financial_news_topic/validation.csv", TASK_TOPIC, &topic,
                         &err) < 0 ||
        dataset_load_csv("data/twitter_financial_news_sentiment/validation.csv", TASK_SENTIMENT,
                         &sent, &err) < 0)
        SKIP("bundled data not found (%.200s)", err.msg);
    /* a tokenizer from 400 real texts; 8 texts of mixed lengths, both tasks */
    const char *texts[400];
    for (int i = 0; i < 400; i++)
        texts[i] = i % 2 ? topic.ex[i].text : sent.ex[i].text;
    struct tokenizer *tok;
    CHECK_MSG(tokenizer_train(texts, 400, 600, &tok, &err) == 0, "%s", err.msg);
    enum { B = 8, MAXT = 40 };
    int32_t ids[B * MAXT] = {0}, len[B], task[B], label[B], T = 1;
    for (int b = 0; b < B; b++) {
        const struct example *ex = b % 2 ? &topic.ex[b * 37] : &sent.ex[b * 53];
        len[b] = tokenizer_encode(tok, ex->text, strlen(ex->text), ids + b * MAXT, NULL,
                                  b == 2 ? 3 : MAXT);
        task[b] = ex->task;
        label[b] = ex->label;
        T = len[b] > T ? len[b] : T;
    }
    int32_t *bids = xcalloc((size_t)B * T, sizeof *bids);
    for (int b = 0; b < B; b++)
        memcpy(bids + b * T, ids + b * MAXT, (size_t)len[b] * sizeof(int32_t));
    struct model_config c;
    model_config_default(&c);
    c.vocab = tokenizer_vocab_size(tok);
    c.max_len = MAXT;
    c.width = 32;
    c.layers = 2;
    c.heads = 4;
    c.ffn = 64;
    c.dropout = 0.0f;
    c.pool = pool;
    struct model *m;
    CHECK(model_create(&c, cpu(), 11, &m, &err) == 0);
    CHECK(model_train_alloc(m, &err) == 0);
    m->label_smoothing = 0.1f;
    /* weights a little larger than the init, so that every path carries signal */
    float *p = xmalloc(m->n_params * 4), *g = xmalloc(m->n_params * 4);
    model_get_params(m, p);
    for (size_t i = 0; i < m->n_params; i++)
        p[i] += 0.05f * frand();
    model_set_params(m, p);
    struct model_batch mb = {B, T, bids, len, task, label};
    float loss, *logits = xmalloc((size_t)B * 23 * sizeof(float));
    CHECK(model_forward(m, &mb, 1, 1, &loss, &err) == 0);
    model_get_logits(m, logits);
    model_backward(m);
    model_get_params(m, p);
    cpu()->download(cpu(), g, m->grads, m->n_params * 4);

    char dir[] = "/tmp/finsent-parity-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct st_writer *w = st_writer_new();
    struct st_writer *wo = st_writer_new();
    char gname[64][64];
    for (int i = 0; i < m->n_tensors && i < 64; i++) {
        const struct model_tensor *t = &m->tensors[i];
        int64_t shape[2] = {t->shape[0], t->shape[1]};
        st_writer_add(w, t->name, t->ndim, shape, p + t->offset);
        snprintf(gname[i], sizeof gname[i], "grad.%s", t->name);
        st_writer_add(wo, gname[i], t->ndim, shape, g + t->offset);
    }
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"vocab\":%d,\"max_len\":%d,\"width\":%d,\"layers\":%d,\"heads\":%d,"
             "\"ffn\":%d,\"pool\":\"%s\"}",
             c.vocab, c.max_len, c.width, c.layers, c.heads, c.ffn,
             pool == POOL_CLS ? "cls" : "attention");
    st_writer_meta(w, "config", cfg);
    st_writer_meta(w, "out_sizes", "[20, 3]");
    st_writer_meta(w, "label_smoothing", "0.1");
    save_f32(dir, "model.safetensors", w);
    float *f_ids = as_f32(bids, (size_t)B * T), *f_len = as_f32(len, B);
    float *f_task = as_f32(task, B), *f_label = as_f32(label, B);
    struct st_writer *wb = st_writer_new();
    st_writer_add(wb, "ids", 2, (int64_t[]){B, T}, f_ids);
    st_writer_add(wb, "lengths", 1, (int64_t[]){B}, f_len);
    st_writer_add(wb, "task", 1, (int64_t[]){B}, f_task);
    st_writer_add(wb, "label", 1, (int64_t[]){B}, f_label);
    save_f32(dir, "batch.safetensors", wb);
    st_writer_add(wo, "logits", 2, (int64_t[]){B, 23}, logits);
    st_writer_add(wo, "loss", 1, (int64_t[]){1}, &loss);
    save_f32(dir, "c_out.safetensors", wo);

    struct strbuf cmd = STRBUF_INIT;
    /* Debian's python3 has python3-torch; another python3 may come first in PATH */
    const char *py = getenv("FINSENT_PYTHON");
    if (!py)
        py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    sb_appendf(&cmd, "%s tests/torch_parity.py %s 2>&1", py, dir);
    FILE *pp = popen(cmd.buf, "r");
    char line[512];
    int failed_line = 0;
    while (pp && fgets(line, sizeof line, pp)) {
        printf("  | %s", line);
        failed_line |= !strncmp(line, "FAIL", 4);
    }
    int status = pp ? pclose(pp) : -1;
    int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sb_free(&cmd);
    free(f_ids), free(f_len), free(f_task), free(f_label), free(bids), free(logits);
    free(p), free(g);
    model_free(m);
    tokenizer_free(tok);
    dataset_free(&topic), dataset_free(&sent);
    if (code == 77)
        SKIP_MISSING("python3-torch");
    CHECK_MSG(code == 0 && !failed_line, "torch_parity.py exited with %d", code);
}

static void test_torch_parity_attention_pool(void)
{
    torch_parity(POOL_ATTENTION);
}

static void test_torch_parity_cls_pool(void)
{
    torch_parity(POOL_CLS);
}

int main(void)
{
    RUN(test_grad_layernorm);
    RUN(test_grad_gelu);
    RUN(test_grad_masked_softmax);
    RUN(test_grad_attention_pooling);
    RUN(test_grad_crossentropy);
    RUN(test_dropout_mask);
    RUN(test_sum_squares);
    RUN(test_grad_model_cls);
    RUN(test_grad_model_attention_pool);
    RUN(test_grad_model_post_ln_cls);
    RUN(test_grad_model_post_ln_attention_pool);
    RUN(test_grad_model_post_ln_mean_pool);
    RUN(test_padding_does_not_leak);
    RUN(test_train_token_budget);
    RUN(test_train_learns_toy_task);
    RUN(test_train_deterministic);
    RUN(test_train_parts_gradient);
    RUN(test_torch_parity_attention_pool);
    RUN(test_torch_parity_cls_pool);
    return check_summary();
}
