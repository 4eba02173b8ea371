/* bench_cuda.c — the CUDA backend beside the CPU backend (figures printed, never
 * asserted). Without a usable CUDA device it prints one "skipped" line.
 *
 *   bench_cuda             sgemm, one training step and one inference pass of
 *                          the default architecture on synthetic batches; and,
 *                          when a trained model exists (FINSENT_MODEL or the
 *                          default path), documents/s of the whole classifier
 *                          (tokenizing included) on the bundled validation texts.
 *
 * Device work is asynchronous: every timed region ends with check(), which
 * waits for the device. BENCH_CUDA_REPS=N sets the repetitions of both.
 */
#include "classify/dataset.h"
#include "classify/infer.h"
#include "classify/model.h"
#include "common/util.h"
#ifdef FINSENT_HAVE_CUDA
#include "cuda/backend_cuda.h"
#else
#define backend_cuda_describe(be) ((void)(be), "")
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct figures {
    double gflops, train_eps, infer_dps, docs_ps;
};

static int fail(const char *what, const struct fs_error *err)
{
    fprintf(stderr, "bench_cuda: %s: %s\n", what, err->msg);
    return -1;
}

/* C = A B for n x n matrices, best of reps. */
static int bench_sgemm(struct backend *be, int n, int reps, double *gflops)
{
    struct fs_error err;
    size_t bytes = (size_t)n * n * sizeof(float);
    float *h = xmalloc(bytes), *a = be->alloc(be, bytes), *b = be->alloc(be, bytes),
          *c = be->alloc(be, bytes);
    for (size_t i = 0; i < (size_t)n * n; i++)
        h[i] = (float)(i % 17) / 17.0f - 0.5f;
    if (a && b && c) {
        be->upload(be, a, h, bytes);
        be->upload(be, b, h, bytes);
    }
    double best = 1e30;
    for (int r = 0; r <= reps && a && b && c; r++) { /* r == 0 warms up */
        double t0 = time_monotonic();
        be->matmul(be, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        if (be->check(be, &err) < 0)
            break;
        double dt = time_monotonic() - t0;
        if (r > 0 && dt < best)
            best = dt;
    }
    int rc = be->check(be, &err) < 0 || !a || !b || !c ? fail("sgemm", &err) : 0;
    be->free(be, a);
    be->free(be, b);
    be->free(be, c);
    free(h);
    *gflops = rc == 0 ? 2.0 * n * n * n / best / 1e9 : 0.0;
    return rc;
}

/* A synthetic batch of B texts of up to T ids (lengths vary as real ones do). */
struct synth {
    int32_t *ids, *len, *task, *label;
    struct model_batch mb;
};

static void synth_make(struct synth *s, int B, int T, int vocab)
{
    s->ids = xmalloc((size_t)B * T * sizeof(int32_t));
    s->len = xmalloc(B * sizeof(int32_t));
    s->task = xmalloc(B * sizeof(int32_t));
    s->label = xmalloc(B * sizeof(int32_t));
    for (int i = 0; i < B * T; i++)
        s->ids[i] = 8 + (int32_t)(hash64(&i, sizeof i, 7) % (uint64_t)(vocab - 8));
    for (int b = 0; b < B; b++) {
        s->len[b] = T - (b % 8);
        s->task[b] = b % 2;
        s->label[b] = b % 3;
    }
    s->mb = (struct model_batch){B, T, s->ids, s->len, s->task, s->label};
}

static void synth_free(struct synth *s)
{
    free(s->ids);
    free(s->len);
    free(s->task);
    free(s->label);
}

/* One optimiser step as classify/train.c takes it: norm, then AdamW per tensor. */
static void optimiser_step(struct model *m, int t)
{
    struct backend *be = m->be;
    double norm = be->sum_squares(be, m->grads, m->n_params);
    float scale = norm > 1.0 ? (float)(1.0 / norm) : 1.0f;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *mt = &m->tensors[i];
        be->adamw(be, m->params + mt->offset, m->grads + mt->offset, m->adam_m + mt->offset,
                  m->adam_v + mt->offset, mt->size, 1e-4f, 0.9f, 0.98f, 1e-8f,
                  mt->decay ? 0.01f : 0.0f, scale, t);
    }
}

/* Training examples/s and inference texts/s of the default architecture. */
static int bench_model(struct backend *be, int reps, double *train_eps, double *infer_dps)
{
    struct fs_error err;
    struct model_config cfg;
    model_config_default(&cfg);
    struct model *m;
    if (model_create(&cfg, be, 1, &m, &err) < 0 || model_train_alloc(m, &err) < 0)
        return fail("model", &err);
    enum { TB = 64, IB = 128, T = 32 }; /* training batch, inference batch, tokens */
    struct synth tr, in;
    synth_make(&tr, TB, T, cfg.vocab);
    synth_make(&in, IB, T, cfg.vocab);
    float loss, *probs = xmalloc((size_t)IB * model_config_logits(&cfg) * sizeof(float));
    int rc = 0;
    double t0 = 0;
    for (int r = 0; r <= reps && rc == 0; r++) { /* r == 0 warms up (allocations) */
        if (r == 1)
            t0 = time_monotonic();
        rc = model_forward(m, &tr.mb, 1, (uint64_t)r + 1, &loss, &err);
        model_backward(m);
        optimiser_step(m, r + 1);
    }
    if (rc == 0)
        rc = be->check(be, &err);
    *train_eps = rc == 0 ? (double)TB * reps / (time_monotonic() - t0) : 0;
    for (int r = 0; r <= reps && rc == 0; r++) {
        if (r == 1)
            t0 = time_monotonic();
        rc = model_forward(m, &in.mb, 0, 0, NULL, &err);
        model_get_probs(m, probs);
    }
    if (rc == 0)
        rc = be->check(be, &err);
    *infer_dps = rc == 0 ? (double)IB * reps / (time_monotonic() - t0) : 0;
    if (rc < 0)
        fail("model", &err);
    free(probs);
    synth_free(&tr);
    synth_free(&in);
    model_free(m);
    return rc;
}

/* The bundled validation texts of both tasks. */
static int load_texts(struct dataset *all, struct fs_error *err)
{
    const char *files[2] = {"data/twitter_financial_news_topic/validation.csv",
                            "data/twitter_financial_news_sentiment/validation.csv"};
    memset(all, 0, sizeof *all);
    for (int i = 0; i < 2; i++) {
        struct dataset ds;
        if (dataset_load_csv(files[i], i ? TASK_SENTIMENT : TASK_TOPIC, &ds, err) < 0)
            return -1;
        dataset_append(all, &ds);
        dataset_free(&ds);
    }
    return 0;
}

/* Documents/s of classifier_predict (tokenizing, batching, attended words). */
static int bench_docs(struct backend *be, const char *path, const struct dataset *all,
                      double *docs_ps)
{
    struct fs_error err;
    struct classifier *c;
    if (classifier_load(path, be, &c, &err) < 0)
        return fail(path, &err);
    const char **texts = xmalloc(all->n * sizeof *texts);
    size_t *lens = xmalloc(all->n * sizeof *lens);
    for (size_t i = 0; i < all->n; i++) {
        texts[i] = all->ex[i].text;
        lens[i] = strlen(texts[i]);
    }
    struct prediction *p = xcalloc(all->n, sizeof *p);
    struct infer_options opt = {0, 3};
    double best = 1e30;
    int rc = 0;
    for (int rep = 0; rep < 3 && rc == 0; rep++) {
        double t0 = time_monotonic();
        rc = classifier_predict(c, texts, lens, all->n, &opt, p, &err);
        double dt = time_monotonic() - t0;
        best = dt < best ? dt : best;
        for (size_t i = 0; rc == 0 && i < all->n; i++)
            prediction_free(&p[i]);
    }
    if (rc < 0)
        fail("predict", &err);
    *docs_ps = rc == 0 ? all->n / best : 0;
    free(p);
    free(texts);
    free(lens);
    classifier_free(c);
    return rc;
}

static const char *model_path(char *buf, size_t n)
{
    const char *env = getenv("FINSENT_MODEL"), *xdg = getenv("XDG_DATA_HOME"),
               *home = getenv("HOME");
    if (env && *env)
        snprintf(buf, n, "%s", env);
    else if (xdg && *xdg)
        snprintf(buf, n, "%s/finsent/model.safetensors", xdg);
    else
        snprintf(buf, n, "%s/.local/share/finsent/model.safetensors", home ? home : ".");
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static void row(const char *what, double cpu, double gpu, const char *unit)
{
    printf("  %-34s %10.1f %10.1f  %6.1fx  %s\n", what, cpu, gpu, cpu > 0 ? gpu / cpu : 0.0, unit);
}

int main(void)
{
    struct fs_error err;
    struct backend *be[2];
    if (backend_cuda_create(&be[1], &err) < 0) {
        printf("skipped: no CUDA device (%s)\n", err.msg);
        return 0;
    }
    if (backend_cpu_create(&be[0], &err) < 0)
        return fail("cpu", &err) ? 1 : 0;
    char path_buf[4096];
    const char *path = model_path(path_buf, sizeof path_buf);
    struct dataset texts = {0};
    if (path && load_texts(&texts, &err) < 0) {
        fail("data", &err);
        path = NULL;
    }
    struct figures f[2] = {{0}};
    for (int i = 0; i < 2; i++) {
        int reps = i ? 20 : 3; /* the CPU is slower: fewer repetitions */
        if (getenv("BENCH_CUDA_REPS"))
            reps = atoi(getenv("BENCH_CUDA_REPS")) > 0 ? atoi(getenv("BENCH_CUDA_REPS")) : 1;
        bench_sgemm(be[i], 1024, reps, &f[i].gflops);
        bench_model(be[i], reps, &f[i].train_eps, &f[i].infer_dps);
        if (path)
            bench_docs(be[i], path, &texts, &f[i].docs_ps);
    }
    double load = 0;
    getloadavg(&load, 1);
    printf("load average %.2f; cpu: OpenBLAS on %ld cores; cuda: %s\n", load,
           sysconf(_SC_NPROCESSORS_ONLN), backend_cuda_describe(be[1]));
    printf("  %-34s %10s %10s  %7s\n", "", "cpu", "cuda", "speed-up");
    row("sgemm 1024^3", f[0].gflops, f[1].gflops, "GFLOP/s");
    row("training step (64 x 32 tokens)", f[0].train_eps, f[1].train_eps, "examples/s");
    row("inference pass (128 x 32 tokens)", f[0].infer_dps, f[1].infer_dps, "texts/s");
    if (path)
        row("classify validation texts", f[0].docs_ps, f[1].docs_ps, "documents/s");
    else
        printf("  (no trained model at FINSENT_MODEL or the default path: documents/s not "
               "measured)\n");
    dataset_free(&texts);
    be[0]->destroy(be[0]);
    be[1]->destroy(be[1]);
    return 0;
}
