/* test_hf_bert.c — reading BERT checkpoints: config.json checks, the name table
 * both ways, broken checkpoints rejected with one line, and parity with
 * Hugging Face transformers (tests/hf_parity.py) on small random checkpoints:
 * hidden states, loss and every gradient. */
#include "classify/hf_bert.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"
#include "tests/cpu_backend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char good_cfg[] =
    "{\"model_type\": \"bert\", \"vocab_size\": 30, \"hidden_size\": 8, \"num_hidden_layers\": 2,"
    " \"num_attention_heads\": 2, \"intermediate_size\": 12, \"max_position_embeddings\": 10,"
    " \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\"}";

static int parse(const char *json, struct model_config *c, struct fs_error *err)
{
    return hf_bert_parse_config(json, strlen(json), NULL, c, err);
}

static void test_config(void)
{
    struct model_config c;
    struct fs_error err;
    CHECK_MSG(parse(good_cfg, &c, &err) == 0, "%s", err.msg);
    CHECK(c.arch == ARCH_POST_LN && c.vocab == 30 && c.width == 8 && c.layers == 2);
    CHECK(c.heads == 2 && c.ffn == 12 && c.max_len == 10 && c.type_vocab == 2 && c.n_out == 0);
    CHECK(c.ln_eps == 1e-12f);
    static const struct {
        const char *from, *to, *needle;
    } bad[] = {
        {"\"bert\"", "\"roberta\"", "model_type is 'roberta'"},
        {"\"gelu\"", "\"relu\"", "hidden_act is 'relu'"},
        {"\"hidden_size\": 8", "\"hidden_size\": 9", "not a multiple of heads"},
        {"\"num_hidden_layers\": 2", "\"num_hidden_layers\": 99", "num_hidden_layers = 99"},
        {"\"vocab_size\": 30,", "", "vocab_size missing"},
        {"\"intermediate_size\": 12", "\"intermediate_size\": \"12\"", "intermediate_size missing"},
        {"\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": 5", "epsilon"},
        {"{", "[", "not a JSON object"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        struct strbuf sb = STRBUF_INIT;
        const char *at = strstr(good_cfg, bad[i].from);
        sb_append_n(&sb, good_cfg, (size_t)(at - good_cfg));
        sb_append(&sb, bad[i].to);
        sb_append(&sb, at + strlen(bad[i].from));
        int rc = parse(sb.buf, &c, &err);
        CHECK_MSG(rc < 0, "accepted: %s", sb.buf);
        CHECK_MSG(strstr(err.msg, bad[i].needle), "'%s' lacks '%s'", err.msg, bad[i].needle);
        sb_free(&sb);
    }
}

/* A random tiny post-LN model and its tensors under checkpoint names, as a file image. */
static struct model *tiny_model(uint64_t seed)
{
    struct model_config c;
    struct fs_error err;
    if (parse(good_cfg, &c, &err) < 0)
        abort();
    struct model *m;
    if (model_create(&c, cpu(), seed, &m, &err) < 0)
        abort();
    return m;
}

/* The checkpoint of m, leaving out tensor skip (or none), with tensor bad_shape
 * given one row less. */
static unsigned char *checkpoint_image(struct model *m, const char *prefix, const char *skip,
                                       const char *bad_shape, size_t *len, float **host)
{
    *host = xmalloc(m->n_params * sizeof(float));
    model_get_params(m, *host);
    struct st_writer *full = st_writer_new(), *w = st_writer_new();
    hf_bert_add_tensors(full, m, *host, prefix);
    unsigned char *buf;
    struct fs_error err;
    if (st_writer_build(full, &buf, len, &err) < 0)
        abort();
    struct st_file f;
    if (st_parse(buf, *len, &f, &err) < 0)
        abort();
    float **copies = xcalloc((size_t)f.n_tensors, sizeof *copies); /* aligned, kept until built */
    for (int i = 0; i < f.n_tensors; i++) {
        const struct st_tensor *t = &f.tensors[i];
        if (skip && !strcmp(t->name, skip))
            continue;
        int64_t shape[2] = {t->shape[0], t->ndim > 1 ? t->shape[1] : 0};
        if (bad_shape && !strcmp(t->name, bad_shape))
            shape[0]--;
        copies[i] = xmalloc((t->numel ? t->numel : 1) * sizeof(float));
        st_read_f32(&f, t, copies[i]);
        st_writer_add(w, t->name, t->ndim, shape, copies[i]);
    }
    unsigned char *out;
    if (st_writer_build(w, &out, len, &err) < 0)
        abort();
    for (int i = 0; i < f.n_tensors; i++)
        free(copies[i]);
    free(copies);
    st_free(&f);
    st_writer_free(full);
    st_writer_free(w);
    return out;
}

static int load_image(unsigned char *img, size_t len, struct model *into, struct fs_error *err)
{
    struct st_file f;
    int rc = st_parse(img, len, &f, err);
    if (rc == 0)
        rc = hf_bert_load_tensors(&f, into, err);
    st_free(&f);
    return rc;
}

static void test_name_table_round_trip(void)
{
    struct model *a = tiny_model(1), *b = tiny_model(2);
    const char *prefixes[] = {"", "bert."};
    for (int k = 0; k < 2; k++) {
        size_t len;
        float *ha, *hb = xmalloc(b->n_params * sizeof(float));
        unsigned char *img = checkpoint_image(a, prefixes[k], NULL, NULL, &len, &ha);
        struct fs_error err;
        CHECK_MSG(load_image(img, len, b, &err) == 0, "%s", err.msg);
        model_get_params(b, hb);
        CHECK(memcmp(ha, hb, a->n_params * sizeof(float)) == 0);
        free(ha), free(hb);
    }
    model_free(a), model_free(b);
}

static void test_broken_checkpoints(void)
{
    struct model *a = tiny_model(1), *b = tiny_model(2);
    static const struct {
        const char *skip, *shape, *needle;
    } cases[] = {
        {"encoder.layer.1.attention.self.key.weight", NULL,
         "tensor encoder.layer.1.attention.self.key.weight missing"},
        {"embeddings.LayerNorm.bias", NULL, "embeddings.LayerNorm.bias missing"},
        {NULL, "encoder.layer.0.intermediate.dense.weight", "shape should be [12, 8]"},
        {NULL, "embeddings.position_embeddings.weight", "shape should be [10, 8]"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(cases); i++) {
        size_t len;
        float *h;
        unsigned char *img = checkpoint_image(a, "", cases[i].skip, cases[i].shape, &len, &h);
        struct fs_error err;
        CHECK_MSG(load_image(img, len, b, &err) < 0, "case %zu accepted", i);
        CHECK_MSG(strstr(err.msg, cases[i].needle), "'%s' lacks '%s'", err.msg, cases[i].needle);
        free(h);
    }
    /* a truncated file */
    size_t len;
    float *h;
    unsigned char *img = checkpoint_image(a, "", NULL, NULL, &len, &h);
    struct fs_error err;
    CHECK(load_image(img, len - 100, b, &err) < 0 && strstr(err.msg, "truncated"));
    free(h);
    model_free(a), model_free(b);
}

static void test_directory_errors(void)
{
    char dir[] = "/tmp/finsent-hfbert-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct model *m = NULL;
    struct fs_error err;
    struct model_config heads;
    model_config_default(&heads);
    CHECK(hf_bert_load(dir, cpu(), &heads, 1, &m, &err) < 0 && strstr(err.msg, "config.json"));
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/config.json", dir);
    CHECK(file_write_atomic(p.buf, good_cfg, strlen(good_cfg), &err) == 0);
    CHECK(hf_bert_load(dir, cpu(), &heads, 1, &m, &err) < 0 &&
          strstr(err.msg, "model.safetensors"));
    sb_reset(&p);
    sb_appendf(&p, "%s/model.safetensors", dir);
    CHECK(file_write_atomic(p.buf, "\x10\0\0\0\0\0\0\0{", 9, &err) == 0);
    CHECK(hf_bert_load(dir, cpu(), &heads, 1, &m, &err) < 0 && strstr(err.msg, "header length"));
    CHECK(m == NULL);
    sb_free(&p);
}

/* ---- parity with transformers ----------------------------------------------------------- */

static const char *ref_python(void)
{
    const char *py = getenv("FINSENT_REF_PYTHON");
    return py ? py : ".venv/bin/python";
}

/* Runs a command, echoing its output; returns its exit status and whether a FAIL line came. */
static int run_echo(const char *cmd, int *failed)
{
    FILE *pp = popen(cmd, "r");
    char line[512];
    *failed = 0;
    while (pp && fgets(line, sizeof line, pp)) {
        printf("  | %s", line);
        *failed |= !strncmp(line, "FAIL", 4);
    }
    int status = pp ? pclose(pp) : -1;
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) / 16777216.0 * 2.0 - 1.0);
}

static void save(struct st_writer *w, const char *dir, const char *file)
{
    struct strbuf p = STRBUF_INIT;
    struct fs_error err;
    sb_appendf(&p, "%s/%s", dir, file);
    if (st_writer_save(w, p.buf, &err) < 0)
        printf("  %s\n", err.msg);
    st_writer_free(w);
    sb_free(&p);
}

/* finsent's forward and backward on a batch of case_dir's checkpoint, written
 * for hf_parity.py compare. */
static int write_case(const char *case_dir, struct fs_error *err)
{
    enum { B = 5, T = 9 };
    struct model_config heads;
    model_config_default(&heads);
    heads.pool = POOL_CLS;
    heads.dropout = 0.0f;
    heads.out_sizes[0] = 4; /* two small heads */
    heads.out_sizes[1] = 3;
    struct model *m;
    if (hf_bert_load(case_dir, cpu(), &heads, 5, &m, err) < 0)
        return -1;
    if (model_train_alloc(m, err) < 0)
        return -1;
    m->label_smoothing = 0.1f;
    uint64_t s = 42;
    int32_t ids[B * T] = {0}, len[B] = {9, 4, 1, 7, 2}, task[B] = {0, 1, -1, 1, 0},
            label[B] = {3, 2, 0, 0, 1};
    float fids[B * T], flen[B], ftask[B], flabel[B], sizes[2] = {4, 3};
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < len[b]; t++)
            ids[b * T + t] = t == 0 ? 2 : 3 + (int)((frand(&s) + 1.0f) * 0.5f * (m->cfg.vocab - 4));
        flen[b] = (float)len[b], ftask[b] = (float)task[b], flabel[b] = (float)label[b];
    }
    for (int i = 0; i < B * T; i++)
        fids[i] = (float)ids[i];
    struct model_batch mb = {B, T, ids, len, task, label};
    float loss;
    if (model_forward(m, &mb, 1, 1, &loss, err) < 0)
        return -1;
    float *hidden = xmalloc((size_t)B * T * m->cfg.width * sizeof(float));
    model_get_hidden(m, hidden);
    model_backward(m);
    float *p = xmalloc(m->n_params * 4), *g = xmalloc(m->n_params * 4);
    model_get_params(m, p);
    cpu()->download(cpu(), g, m->grads, m->n_params * 4);
    struct st_writer *wb = st_writer_new(), *wo = st_writer_new();
    st_writer_add(wb, "ids", 2, (int64_t[]){B, T}, fids);
    st_writer_add(wb, "lengths", 1, (int64_t[]){B}, flen);
    st_writer_add(wb, "task", 1, (int64_t[]){B}, ftask);
    st_writer_add(wb, "label", 1, (int64_t[]){B}, flabel);
    save(wb, case_dir, "batch.safetensors");
    hf_bert_add_tensors(wo, m, g, "grad.");
    int K = model_config_logits(&m->cfg), C = m->cfg.width;
    st_writer_add(wo, "head.weight", 2, (int64_t[]){K, C}, p + m->tensors[m->ix.head_w].offset);
    st_writer_add(wo, "head.bias", 1, (int64_t[]){K}, p + m->tensors[m->ix.head_b].offset);
    st_writer_add(wo, "sizes", 1, (int64_t[]){2}, sizes);
    st_writer_add(wo, "hidden", 2, (int64_t[]){B * T, C}, hidden);
    st_writer_add(wo, "loss", 1, (int64_t[]){1}, &loss);
    save(wo, case_dir, "c_out.safetensors");
    free(hidden), free(p), free(g);
    model_free(m);
    return 0;
}

static void test_transformers_parity(void)
{
    if (strchr(ref_python(), '/') && access(ref_python(), X_OK) != 0)
        SKIP_MISSING("%s with transformers", ref_python());
    char dir[] = "/tmp/finsent-hfparity-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct strbuf cmd = STRBUF_INIT;
    int failed;
    sb_appendf(&cmd, "%s tests/hf_parity.py make %s 2>&1", ref_python(), dir);
    CHECK_MSG(run_echo(cmd.buf, &failed) == 0, "could not make the checkpoints (is .venv set up? "
                                               "make deps)");
    const char *cases[] = {"prefixed", "bare", "bf16"};
    for (size_t i = 0; i < FS_ARRAY_LEN(cases); i++) {
        struct strbuf cd = STRBUF_INIT;
        struct fs_error err;
        sb_appendf(&cd, "%s/%s", dir, cases[i]);
        CHECK_MSG(write_case(cd.buf, &err) == 0, "%s: %s", cases[i], err.msg);
        sb_reset(&cmd);
        sb_appendf(&cmd, "%s tests/hf_parity.py compare %s 2>&1", ref_python(), cd.buf);
        int code = run_echo(cmd.buf, &failed);
        CHECK_MSG(code == 0 && !failed, "%s: hf_parity.py compare exited with %d", cases[i], code);
        sb_free(&cd);
    }
    sb_free(&cmd);
}

int main(void)
{
    RUN(test_config);
    RUN(test_name_table_round_trip);
    RUN(test_broken_checkpoints);
    RUN(test_directory_errors);
    RUN(test_transformers_parity);
    return check_summary();
}
