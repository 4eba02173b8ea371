/* bench_model.c — figures for the encoder (printed, never asserted).
 *
 *   bench_model                      synthetic: one training step and inference
 *                                    of the default architecture on random ids
 *   bench_model --infer MODEL OUT    inference throughput on the validation texts
 *                                    of data/ (length-bucketed, attended words on,
 *                                    as 'finsent classify' runs); writes the token
 *                                    ids to OUT (safetensors) for the PyTorch side
 */
#include "classify/dataset.h"
#include "classify/infer.h"
#include "classify/safetensors.h"
#include "classify/train.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int synthetic(void)
{
    struct backend *be;
    struct fs_error err;
    if (backend_create("cpu", &be, 0, &err) < 0)
        return 1;
    struct model_config cfg;
    model_config_default(&cfg);
    struct model *m;
    if (model_create(&cfg, be, 1, &m, &err) < 0 || model_train_alloc(m, &err) < 0) {
        fprintf(stderr, "bench_model: %s\n", err.msg);
        return 1;
    }
    enum { B = 64, T = 32, REPS = 5 };
    int32_t *ids = xmalloc(B * T * sizeof *ids), len[B], task[B], label[B];
    for (int i = 0; i < B * T; i++)
        ids[i] = 8 + (int32_t)(hash64(&i, sizeof i, 1) % (uint64_t)(cfg.vocab - 8));
    for (int b = 0; b < B; b++) {
        len[b] = T - (b % 8);
        task[b] = b % 2;
        label[b] = b % 3;
    }
    struct model_batch mb = {B, T, ids, len, task, label};
    float loss;
    model_forward(m, &mb, 1, 1, &loss, &err); /* warm-up: allocations */
    model_backward(m);
    double t0 = time_monotonic();
    for (int r = 0; r < REPS; r++) {
        model_forward(m, &mb, 1, 1, &loss, &err);
        model_backward(m);
        for (int i = 0; i < m->n_tensors; i++) {
            const struct model_tensor *t = &m->tensors[i];
            be->adamw(be, m->params + t->offset, m->grads + t->offset, m->adam_m + t->offset,
                      m->adam_v + t->offset, t->size, 1e-4f, 0.9f, 0.98f, 1e-8f, 0.01f, 1.0f,
                      r + 1);
        }
    }
    double train_s = (time_monotonic() - t0) / REPS;
    t0 = time_monotonic();
    for (int r = 0; r < REPS; r++)
        model_forward(m, &mb, 0, 0, NULL, &err);
    double infer_s = (time_monotonic() - t0) / REPS;
    printf("default architecture: width %d, %d layers, %d heads, ffn %d, vocab %d (%zu params)\n",
           cfg.width, cfg.layers, cfg.heads, cfg.ffn, cfg.vocab, m->n_params);
    printf("  training step  (batch %d x %d tokens): %7.1f ms  = %6.0f examples/s\n", B, T,
           1e3 * train_s, B / train_s);
    printf("  inference pass (batch %d x %d tokens): %7.1f ms  = %6.0f texts/s\n", B, T,
           1e3 * infer_s, B / infer_s);
    free(ids);
    model_free(m);
    be->destroy(be);
    return 0;
}

static int infer(const char *model_path, const char *out)
{
    struct fs_error err;
    struct backend *be;
    struct classifier *c;
    if (backend_create("cpu", &be, 0, &err) < 0 || classifier_load(model_path, be, &c, &err) < 0) {
        fprintf(stderr, "bench_model: %s\n", err.msg);
        return 1;
    }
    struct dataset all = {0}, ds;
    const char *files[2] = {"data/twitter_financial_news_topic/validation.csv",
                            "data/twitter_financial_news_sentiment/validation.csv"};
    for (int i = 0; i < 2; i++) {
        if (dataset_load_csv(files[i], i ? TASK_SENTIMENT : TASK_TOPIC, &ds, &err) < 0) {
            fprintf(stderr, "bench_model: %s\n", err.msg);
            return 1;
        }
        dataset_append(&all, &ds);
        dataset_free(&ds);
    }
    const char **texts = xmalloc(all.n * sizeof *texts);
    size_t *lens = xmalloc(all.n * sizeof *lens);
    for (size_t i = 0; i < all.n; i++) {
        texts[i] = all.ex[i].text;
        lens[i] = strlen(texts[i]);
    }
    struct prediction *p = xcalloc(all.n, sizeof *p);
    struct infer_options opt = {0, 3};
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = time_monotonic();
        if (classifier_predict(c, texts, lens, all.n, &opt, p, &err) < 0) {
            fprintf(stderr, "bench_model: %s\n", err.msg);
            return 1;
        }
        double dt = time_monotonic() - t0;
        best = dt < best ? dt : best;
        for (size_t i = 0; i < all.n; i++)
            prediction_free(&p[i]);
    }
    printf("finsent docs/s %.1f (%zu docs, %.2f s, best of 3, tokenizing and attended words "
           "included)\n",
           all.n / best, all.n, best);
    /* the same token ids for the PyTorch side */
    struct encoded_set s;
    encoded_set_build(c->tok, &all, c->model->cfg.max_len, &s);
    float *fid = xmalloc(s.n * s.max_len * sizeof(float)), *flen = xmalloc(s.n * sizeof(float));
    for (size_t i = 0; i < s.n * s.max_len; i++)
        fid[i] = (float)s.ids[i];
    for (size_t i = 0; i < s.n; i++)
        flen[i] = (float)s.length[i];
    struct st_writer *w = st_writer_new();
    st_writer_add(w, "ids", 2, (int64_t[]){(int64_t)s.n, s.max_len}, fid);
    st_writer_add(w, "lengths", 1, (int64_t[]){(int64_t)s.n}, flen);
    if (st_writer_save(w, out, &err) < 0)
        fprintf(stderr, "bench_model: %s\n", err.msg);
    st_writer_free(w);
    free(fid), free(flen), free(texts), free(lens), free(p);
    encoded_set_free(&s);
    dataset_free(&all);
    classifier_free(c);
    be->destroy(be);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--infer"))
        return infer(argv[2], argv[3]);
    return synthetic();
}
