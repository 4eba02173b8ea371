/* test_ngram.c — the n-gram path (classify/ngram.h): hashing, features, the
 * agreement with scikit-learn (tests/sklearn_ngram.py), training on a toy task,
 * the mixing of probabilities, and the model file with the path inside. */
#include "tests/check.h"
#include "tests/cpu_backend.h"
#include "classify/backend.h"
#include "classify/infer.h"
#include "classify/ngram.h"
#include "classify/safetensors.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct model_config heads(void)
{
    struct model_config c;
    model_config_default(&c);
    return c; /* topic 20 | sentiment 3 */
}

static struct ngram_model *fitted(int bits, const char *const *texts, size_t n)
{
    struct model_config c = heads();
    struct ngram_model *m = ngram_create(bits, &c);
    ngram_fit_idf(m, texts, n);
    return m;
}

static void test_murmur3_matches_reference(void)
{
    /* values of scikit-learn's murmurhash3_32(s, 0) / MurmurHash3_x86_32 */
    CHECK(ngram_murmur3("", 0, 0) == 0);
    CHECK(ngram_murmur3("", 0, 1) == 1364076727);
    CHECK(ngram_murmur3("hello", 5, 0) == 613153351);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK(ngram_murmur3(fox, strlen(fox), 0) == 776992547);
    CHECK(ngram_murmur3("it s", 4, 0) == -647143023);
}

static const char *const corpus[] = {
    "Stocks fall as the Fed raises rates https://t.co/abc123",
    "Apple beats earnings estimates, shares rise",
    "stocks FALL again",
    "Oil prices jump after OPEC cut",
    "Fed raises rates by 25 basis points",
    "$AAPL shares rise after earnings",
};

static double block_norm(const struct ngram_vec *v, int bits, int block)
{
    double ss = 0.0;
    for (int i = 0; i < v->n; i++)
        if ((int)(v->index[i] >> bits) == block)
            ss += (double)v->value[i] * v->value[i];
    return ss;
}

static void test_features_normalised_and_sorted(void)
{
    struct ngram_model *m = fitted(12, corpus, FS_ARRAY_LEN(corpus));
    struct ngram_vec v = {0};
    ngram_featurize(m, corpus[0], strlen(corpus[0]), &v);
    CHECK(v.n > 10);
    for (int i = 1; i < v.n; i++)
        CHECK(v.index[i - 1] < v.index[i]);
    CHECK(fabs(block_norm(&v, 12, 0) - 1.0) < 1e-5);
    CHECK(fabs(block_norm(&v, 12, 1) - 1.0) < 1e-5);
    ngram_vec_free(&v);
    ngram_free(m);
}

/* Same vector: URLs are dropped and ASCII case does not matter. */
static void test_features_ignore_urls_and_case(void)
{
    struct ngram_model *m = fitted(12, corpus, FS_ARRAY_LEN(corpus));
    struct ngram_vec a = {0}, b = {0};
    const char *x = "Stocks fall as the Fed raises rates https://t.co/abc123";
    const char *y = "STOCKS fall as the Fed raises RATES  www.example.com/x?y=1";
    ngram_featurize(m, x, strlen(x), &a);
    ngram_featurize(m, y, strlen(y), &b);
    CHECK(a.n == b.n && a.n > 0);
    for (int i = 0; i < a.n && i < b.n; i++)
        CHECK(a.index[i] == b.index[i] && fabsf(a.value[i] - b.value[i]) < 1e-6f);
    ngram_vec_free(&a);
    ngram_vec_free(&b);
    ngram_free(m);
}

/* Unseen n-grams are dropped; odd bytes featurize without error. */
static void test_features_unseen_and_odd_bytes(void)
{
    struct ngram_model *m = fitted(20, corpus, FS_ARRAY_LEN(corpus)); /* no collisions */
    struct ngram_vec v = {0};
    ngram_featurize(m, "", 0, &v);
    CHECK(v.n == 0);
    ngram_featurize(m, "zzqx", 4, &v);
    CHECK(v.n == 0);
    const char odd[] = "\xff\xfe stocks \xc3 fall \xe2\x80\x99s \x00 rates";
    ngram_featurize(m, odd, sizeof odd - 1, &v);
    CHECK(v.n > 0);
    for (int i = 0; i < v.n; i++)
        CHECK(isfinite(v.value[i]) && v.value[i] > 0.0f && v.index[i] < ngram_rows(m));
    ngram_vec_free(&v);
    ngram_free(m);
}

static void test_mix_probs(void)
{
    int sizes[2] = {2, 3};
    float enc[5] = {1.0f, 0.0f, 0.5f, 0.5f, 2.0f}, ng[5] = {0.0f, 3.0f, -1.0f, 0.0f, 1.0f};
    float p0[5], p1[5], ph[5];
    ngram_mix_probs(sizes, 2, 0.0f, enc, NULL, p0);
    ngram_mix_probs(sizes, 2, 1.0f, enc, ng, p1);
    ngram_mix_probs(sizes, 2, 0.5f, enc, ng, ph);
    CHECK(fabsf(p0[0] - 1.0f / (1.0f + expf(-1.0f))) < 1e-6f); /* the encoder alone */
    CHECK(fabsf(p1[1] - 1.0f / (1.0f + expf(-3.0f))) < 1e-6f); /* the n-grams alone */
    /* half and half: the normalised geometric mean */
    float g0 = sqrtf(p0[0] * p1[0]), g1 = sqrtf(p0[1] * p1[1]);
    CHECK(fabsf(ph[0] - g0 / (g0 + g1)) < 1e-5f);
    CHECK(fabsf(ph[2] + ph[3] + ph[4] - 1.0f) < 1e-6f);
}

/* ---- training ---------------------------------------------------------------------- */

static const char *const pos_words[] = {"surge", "beats", "record", "upgrade", "soars", "gains"};
static const char *const neg_words[] = {"plunge", "misses", "loss", "downgrade", "slumps", "cuts"};
static const char *const fillers[] = {"acme", "shares", "today", "after", "report", "corp", "the"};

static uint64_t toy_rng = 7;
static size_t pick(size_t n)
{
    toy_rng = toy_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (size_t)(toy_rng >> 33) % n;
}

/* Sentiment rows: fillers around one word of the label's list. */
static void toy_dataset(struct dataset *ds, size_t n)
{
    ds->n = n;
    ds->ex = xcalloc(n, sizeof *ds->ex);
    for (size_t i = 0; i < n; i++) {
        int positive = (int)(i % 2);
        const char *w = positive ? pos_words[pick(6)] : neg_words[pick(6)];
        struct strbuf sb = STRBUF_INIT;
        sb_appendf(&sb, "%s %s %s %s", fillers[pick(7)], fillers[pick(7)], w, fillers[pick(7)]);
        ds->ex[i].text = sb_detach(&sb);
        ds->ex[i].task = TASK_SENTIMENT;
        ds->ex[i].label = positive ? SENT_POSITIVE : SENT_NEGATIVE;
    }
}

static int predict_sentiment(const struct ngram_model *m, const char *text)
{
    struct ngram_vec v = {0};
    float z[N_TOPICS + N_SENTIMENTS];
    ngram_predict_logits(m, text, strlen(text), &v, z);
    ngram_vec_free(&v);
    int best = 0;
    for (int j = 1; j < N_SENTIMENTS; j++)
        best = z[N_TOPICS + j] > z[N_TOPICS + best] ? j : best;
    return best;
}

static struct ngram_model *train_toy(struct dataset *ds, uint64_t seed)
{
    struct model_config c = heads();
    struct ngram_model *m = ngram_create(12, &c);
    struct ngram_train_options o;
    ngram_train_options_default(&o);
    o.epochs = 5;
    o.seed = seed;
    struct fs_error err;
    if (ngram_train(m, ds, &o, &err) < 0) {
        ngram_free(m);
        return NULL;
    }
    return m;
}

static void test_train_learns_toy_task(void)
{
    struct dataset ds;
    toy_dataset(&ds, 400);
    struct ngram_model *m = train_toy(&ds, 1);
    CHECK(m != NULL);
    /* new sentences of the same words */
    CHECK(predict_sentiment(m, "corp record today") == SENT_POSITIVE);
    CHECK(predict_sentiment(m, "the acme soars") == SENT_POSITIVE);
    CHECK(predict_sentiment(m, "report downgrade shares") == SENT_NEGATIVE);
    CHECK(predict_sentiment(m, "after slumps") == SENT_NEGATIVE);
    /* the topic head saw no examples: its weights stay zero */
    for (size_t r = 0; r < ngram_rows(m); r++)
        CHECK(m->weight[r * m->K] == 0.0f);
    ngram_free(m);
    dataset_free(&ds);
}

static void test_train_deterministic(void)
{
    struct dataset ds;
    toy_dataset(&ds, 200);
    struct ngram_model *a = train_toy(&ds, 3), *b = train_toy(&ds, 3);
    size_t n = ngram_rows(a) * (size_t)a->K;
    CHECK(memcmp(a->weight, b->weight, n * sizeof(float)) == 0);
    ngram_free(a);
    ngram_free(b);
    dataset_free(&ds);
}

/* ---- agreement with scikit-learn ------------------------------------------------------ */

static void write_jsonl(const char *path, const struct dataset *ds, const struct ngram_model *m)
{
    FILE *f = fopen(path, "w");
    struct ngram_vec v = {0};
    for (size_t i = 0; f && i < ds->n; i++) {
        json_t *o = json_pack("{s:s}", "text", ds->ex[i].text);
        if (m) {
            ngram_featurize(m, ds->ex[i].text, strlen(ds->ex[i].text), &v);
            json_t *ix = json_array(), *vx = json_array();
            for (int j = 0; j < v.n; j++) {
                json_array_append_new(ix, json_integer(v.index[j]));
                json_array_append_new(vx, json_real(v.value[j]));
            }
            json_object_set_new(o, "index", ix);
            json_object_set_new(o, "value", vx);
        }
        char *s = json_dumps(o, JSON_COMPACT);
        fprintf(f, "%s\n", s);
        free(s);
        json_decref(o);
    }
    ngram_vec_free(&v);
    if (f)
        fclose(f);
}

/* The features of the 2,388 validation texts of the sentiment set, with the idf
 * of its 9,543 training texts, against scikit-learn's. */
static void test_sklearn_agreement(void)
{
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) != 0)
        SKIP_MISSING("/usr/bin/python3");
    struct dataset train, val;
    struct fs_error err;
    CHECK_MSG(dataset_load_csv("data/twitter_financial_news_sentiment/train.csv", TASK_SENTIMENT,
                               &train, &err) == 0,
              "%s", err.msg);
    CHECK(dataset_load_csv("data/twitter_financial_news_sentiment/validation.csv", TASK_SENTIMENT,
                           &val, &err) == 0);
    const char **texts = xmalloc(train.n * sizeof *texts);
    for (size_t i = 0; i < train.n; i++)
        texts[i] = train.ex[i].text;
    struct ngram_model *m = fitted(16, texts, train.n);
    free(texts);
    char dir[] = "/tmp/finsent-ngram-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/config.json", dir);
    FILE *f = fopen(sb.buf, "w");
    CHECK(f != NULL);
    fprintf(f, "{\"bits\": 16}\n");
    fclose(f);
    sb_reset(&sb), sb_appendf(&sb, "%s/train.jsonl", dir);
    write_jsonl(sb.buf, &train, NULL);
    sb_reset(&sb), sb_appendf(&sb, "%s/check.jsonl", dir);
    write_jsonl(sb.buf, &val, m);
    sb_reset(&sb), sb_appendf(&sb, "%s tests/sklearn_ngram.py %s 2>&1; rm -rf %s", py, dir, dir);
    FILE *p = popen(sb.buf, "r");
    char line[512];
    int passed = 0, skipped = 0;
    while (p && fgets(line, sizeof line, p)) {
        printf("  %s", line);
        passed |= !strncmp(line, "PASS", 4);
        skipped |= !strncmp(line, "SKIP", 4);
    }
    int status = p ? pclose(p) : -1;
    sb_free(&sb);
    ngram_free(m);
    dataset_free(&train);
    dataset_free(&val);
    if (skipped)
        SKIP_MISSING("scikit-learn (Debian python3-sklearn)");
    CHECK_MSG(passed && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "sklearn_ngram.py did not pass");
}

/* ---- the model file ---------------------------------------------------------------------- */

/* A small encoder with finsent's heads and a toy-trained n-gram path. */
static struct classifier *small_classifier(void)
{
    struct classifier *c = xcalloc(1, sizeof *c);
    c->be = cpu();
    struct fs_error err;
    struct tokenizer *tok;
    if (tokenizer_train(corpus, FS_ARRAY_LEN(corpus), 300, &tok, &err) < 0)
        abort();
    c->tok = text_tok_from_learned(tok);
    struct model_config cfg = heads();
    cfg.vocab = tokenizer_vocab_size(tok);
    cfg.max_len = 16, cfg.width = 8, cfg.layers = 1, cfg.heads = 2, cfg.ffn = 16;
    if (model_create(&cfg, c->be, 5, &c->model, &err) < 0)
        abort();
    struct dataset ds;
    toy_dataset(&ds, 100);
    c->ngram = train_toy(&ds, 2);
    dataset_free(&ds);
    return c;
}

static void predict_one(struct classifier *c, const char *text, struct prediction *p)
{
    size_t len = strlen(text);
    struct fs_error err;
    if (classifier_predict(c, &text, &len, 1, NULL, p, &err) < 0)
        memset(p, 0, sizeof *p);
}

static void test_model_file_round_trip(void)
{
    char path[] = "/tmp/finsent-ngram-model-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    struct classifier *c = small_classifier(), *d = NULL;
    struct fs_error err;
    CHECK(classifier_save(c, path, &err) == 0);
    CHECK_MSG(classifier_load(path, cpu(), &d, &err) == 0, "%s", err.msg);
    CHECK(d->ngram && d->ngram->bits == 12 && d->ngram->mix == c->ngram->mix);
    CHECK(strcmp(c->model_id, d->model_id) == 0);
    struct prediction a, b;
    predict_one(c, "acme record gains", &a);
    predict_one(d, "acme record gains", &b);
    CHECK(memcmp(a.sentiment_probs, b.sentiment_probs, sizeof a.sentiment_probs) == 0);
    CHECK(a.sentiment == SENT_POSITIVE); /* the n-gram path speaks, the encoder is random */
    /* the encoder alone says something else than the mix */
    d->parts = PARTS_ENCODER;
    predict_one(d, "acme record gains", &b);
    CHECK(memcmp(a.sentiment_probs, b.sentiment_probs, sizeof a.sentiment_probs) != 0);
    classifier_free(d);
    unlink(path);
    classifier_free(c);
}

/* A saved model rewritten with one change must be rejected with a reason. */
static void rejects(struct classifier *c, const char *meta_key, const char *meta_value,
                    int drop_bias, const char *want)
{
    struct st_writer *w = st_writer_new();
    float *host = xmalloc(c->model->n_params * sizeof(float));
    model_get_params(c->model, host);
    for (int i = 0; i < c->model->n_tensors; i++) {
        const struct model_tensor *t = &c->model->tensors[i];
        st_writer_add(w, t->name, t->ndim, (int64_t[]){t->shape[0], t->shape[1]}, host + t->offset);
    }
    int64_t rows = (int64_t)ngram_rows(c->ngram);
    st_writer_add(w, "ngram.idf", 1, (int64_t[]){rows}, c->ngram->idf);
    st_writer_add(w, "ngram.weight", 2, (int64_t[]){rows, c->ngram->K}, c->ngram->weight);
    if (!drop_bias)
        st_writer_add(w, "ngram.bias", 1, (int64_t[]){c->ngram->K}, c->ngram->bias);
    /* copy the metadata of a real save */
    char path[] = "/tmp/finsent-ngram-bad-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fs_error err;
    classifier_save(c, path, &err);
    struct st_file f;
    st_load(path, &f, &err);
    for (int i = 0; i < f.n_meta; i++)
        st_writer_meta(w, f.meta_keys[i],
                       meta_key && !strcmp(f.meta_keys[i], meta_key) ? meta_value
                                                                     : f.meta_values[i]);
    st_free(&f);
    st_writer_save(w, path, &err);
    st_writer_free(w);
    free(host);
    struct classifier *d = NULL;
    int rc = classifier_load(path, cpu(), &d, &err);
    unlink(path);
    classifier_free(d);
    CHECK_MSG(rc < 0 && strstr(err.msg, want), "load gave %d: '%s', wanted '%s'", rc,
              rc ? err.msg : "", want);
}

static void test_model_file_rejects_bad_ngram(void)
{
    struct classifier *c = small_classifier();
    rejects(c, "ngram", "{\"bits\": 40, \"mix\": 0.5}", 0, "metadata ngram");
    rejects(c, "ngram", "{\"bits\": 12, \"mix\": 2}", 0, "metadata ngram");
    rejects(c, "ngram", "{\"bits\": 11, \"mix\": 0.5}", 0, "ngram.idf has the wrong shape");
    /* 2 << 22 rows of 24: 800 MB for a file that holds the 8192 rows of bits 12 */
    rejects(c, "ngram", "{\"bits\": 22, \"mix\": 0.5}", 0, "the n-gram path needs");
    rejects(c, "ngram", "[]", 0, "metadata ngram");
    rejects(c, NULL, NULL, 1, "tensors where the configuration implies");
    rejects(c, "ngram", "{\"bits\": 12, \"mix\": 0.25}", 0, "model_id");
    classifier_free(c);
}

/* Many small batches run on several threads (CPU backend): every text gets
 * what it gets when classified alone. */
static void test_parallel_batches_match_one_by_one(void)
{
    struct classifier *c = small_classifier();
    struct dataset ds;
    toy_dataset(&ds, 300);
    const char **texts = xmalloc(ds.n * sizeof *texts);
    size_t *lens = xmalloc(ds.n * sizeof *lens);
    for (size_t i = 0; i < ds.n; i++)
        texts[i] = ds.ex[i].text, lens[i] = strlen(texts[i]);
    struct prediction *all = xcalloc(ds.n, sizeof *all), one;
    struct infer_options opt = {24, 2}; /* a few texts per batch: many batches */
    struct fs_error err;
    CHECK(classifier_predict(c, texts, lens, ds.n, &opt, all, &err) == 0);
    size_t differ = 0;
    for (size_t i = 0; i < ds.n; i++) {
        CHECK(classifier_predict(c, &texts[i], &lens[i], 1, &opt, &one, &err) == 0);
        for (int j = 0; j < N_TOPICS; j++)
            differ += fabsf(all[i].topic_probs[j] - one.topic_probs[j]) > 1e-5f;
        differ += all[i].sentiment != one.sentiment || all[i].n_attended != one.n_attended;
        prediction_free(&one);
        prediction_free(&all[i]);
    }
    CHECK_MSG(differ == 0, "%zu values differ", differ);
    CHECK(c->views[0] != NULL || sysconf(_SC_NPROCESSORS_ONLN) < 2); /* threads were used */
    free(all), free(texts), free(lens);
    dataset_free(&ds);
    classifier_free(c);
}

int main(void)
{
    RUN(test_murmur3_matches_reference);
    RUN(test_features_normalised_and_sorted);
    RUN(test_features_ignore_urls_and_case);
    RUN(test_features_unseen_and_odd_bytes);
    RUN(test_mix_probs);
    RUN(test_train_learns_toy_task);
    RUN(test_train_deterministic);
    RUN(test_sklearn_agreement);
    RUN(test_model_file_round_trip);
    RUN(test_model_file_rejects_bad_ngram);
    RUN(test_parallel_batches_match_one_by_one);
    return check_summary();
}
