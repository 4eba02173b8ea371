/*
 * model_file.c — saving and loading a classifier as a safetensors file (format
 * described in infer.h). The file is untrusted input: every tensor, shape and
 * metadata entry is checked against what the configuration implies, and the
 * model_id must match the hash of the parameters (catching corrupted data).
 */
#include "classify/hf_bert.h"
#include "classify/infer.h"
#include "classify/safetensors.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_FORMAT "finsent-model"
#define MODEL_FORMAT_VERSION "1"

static const enum task head_task[2] = {TASK_TOPIC, TASK_SENTIMENT};
static const char *const head_key[2] = {"labels.topic", "labels.sentiment"};

/* The model's identity: the hash of the encoder's parameters, or, with the
 * n-gram path, the hash of that hash and the n-gram tensors' hashes. */
static void params_hash(const float *p, size_t n, const struct ngram_model *ng, char out[33])
{
    hash128_hex(p, n * sizeof(float), out);
    if (!ng)
        return;
    char part[33];
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, out);
    hash128_hex(ng->idf, ngram_rows(ng) * sizeof(float), part);
    sb_append(&sb, part);
    hash128_hex(ng->weight, ngram_rows(ng) * (size_t)ng->K * sizeof(float), part);
    sb_append(&sb, part);
    hash128_hex(ng->bias, (size_t)ng->K * sizeof(float), part);
    sb_append(&sb, part);
    sb_appendf(&sb, "bits=%d mix=%.6g", ng->bits, (double)ng->mix);
    hash128_hex(sb.buf, sb.len, out);
    sb_free(&sb);
}

static char *ngram_json(const struct ngram_model *ng)
{
    json_t *o = json_pack("{s:i, s:f}", "bits", ng->bits, "mix", (double)ng->mix);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

static void ngram_add_tensors(struct st_writer *w, const struct ngram_model *ng)
{
    int64_t rows = (int64_t)ngram_rows(ng), k = ng->K;
    st_writer_add(w, "ngram.idf", 1, (int64_t[]){rows}, ng->idf);
    st_writer_add(w, "ngram.weight", 2, (int64_t[]){rows, k}, ng->weight);
    st_writer_add(w, "ngram.bias", 1, (int64_t[]){k}, ng->bias);
}

static char *config_json(const struct model_config *c)
{
    json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:f}", "vocab", c->vocab, "max_len",
                          c->max_len, "width", c->width, "layers", c->layers, "heads", c->heads,
                          "ffn", c->ffn, "pool", model_pool_name(c->pool),
                          "dropout", (double)c->dropout);
    if (c->arch == ARCH_POST_LN) { /* absent: finsent's own pre-LN encoder */
        json_object_set_new(o, "arch", json_string("post_ln"));
        json_object_set_new(o, "type_vocab", json_integer(c->type_vocab));
        json_object_set_new(o, "ln_eps", json_real(c->ln_eps));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

static char *labels_json(enum task t)
{
    json_t *a = json_array();
    for (int i = 0; i < task_n_labels(t); i++)
        json_array_append_new(a, json_string(task_label_name(t, i)));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* A BERT config.json for the encoder of a post-LN model (what transformers'
 * BertConfig takes), so that the file alone rebuilds the encoder in Python. */
static char *hf_config_json(const struct model_config *c)
{
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:s}", "model_type", "bert",
                          "vocab_size", c->vocab, "hidden_size", c->width, "num_hidden_layers",
                          c->layers, "num_attention_heads", c->heads, "intermediate_size", c->ffn,
                          "max_position_embeddings", c->max_len, "type_vocab_size", c->type_vocab,
                          "layer_norm_eps", (double)c->ln_eps, "hidden_act", "gelu");
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* The tensors of m: a post-LN encoder under the checkpoint's names
 * ("bert." prefix, as BertForSequenceClassification keeps them), everything
 * else (and a pre-LN encoder) under finsent's names. */
static void add_model_tensors(struct st_writer *w, const struct model *m, const float *host)
{
    int post = m->cfg.arch == ARCH_POST_LN;
    if (post)
        hf_bert_add_tensors(w, m, host, "bert.");
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        int64_t shape[2] = {t->shape[0], t->shape[1]};
        if (!post || !hf_bert_is_encoder_tensor(m, i))
            st_writer_add(w, t->name, t->ndim, shape, host + t->offset);
    }
}

static void add_base_meta(struct st_writer *w, const struct classifier *c)
{
    if (!c->base_name[0])
        return;
    json_t *o = json_pack("{s:s, s:s}", "name", c->base_name, "sha256", c->base_sha256);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    st_writer_meta(w, "base", s);
    free(s);
    json_decref(o);
    s = hf_config_json(&c->model->cfg);
    st_writer_meta(w, "hf_config", s);
    free(s);
}

int classifier_save(struct classifier *c, const char *path, struct fs_error *err)
{
    struct model *m = c->model;
    float *host = xmalloc(m->n_params * sizeof(float));
    model_get_params(m, host);
    params_hash(host, m->n_params, c->ngram, c->model_id);
    struct st_writer *w = st_writer_new();
    add_model_tensors(w, m, host);
    add_base_meta(w, c);
    char *cfg = config_json(&m->cfg), *lt = labels_json(TASK_TOPIC),
         *ls = labels_json(TASK_SENTIMENT);
    char *tok = text_tok_serialize(c->tok);
    if (c->ngram) {
        ngram_add_tensors(w, c->ngram);
        char *ng = ngram_json(c->ngram);
        st_writer_meta(w, "ngram", ng);
        free(ng);
    }
    st_writer_meta(w, "format", MODEL_FORMAT);
    st_writer_meta(w, "format_version", MODEL_FORMAT_VERSION);
    st_writer_meta(w, "model_id", c->model_id);
    st_writer_meta(w, "config", cfg);
    st_writer_meta(w, "labels.topic", lt);
    st_writer_meta(w, "labels.sentiment", ls);
    st_writer_meta(w, text_tok_meta_key(text_tok_kind(c->tok)), tok);
    if (text_tok_url_fold(c->tok))
        st_writer_meta(w, TEXT_TOK_URL_FOLD_KEY, TEXT_TOK_URL_FOLD_MARK);
    free(cfg), free(lt), free(ls), free(tok);
    int rc = st_writer_save(w, path, err);
    st_writer_free(w);
    free(host);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

static int get_int(json_t *o, const char *key, int *out, struct fs_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < -1000000000 ||
        json_integer_value(v) > 1000000000)
        return fs_error_set(err, "config.%s missing or not an integer", key);
    *out = (int)json_integer_value(v);
    return 0;
}

static int parse_config(const char *s, struct model_config *c, struct fs_error *err)
{
    json_error_t je;
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return fs_error_set(err, "metadata config is not a JSON object");
    }
    model_config_default(c);
    int rc = 0;
    rc |= get_int(o, "vocab", &c->vocab, err);
    rc |= get_int(o, "max_len", &c->max_len, err);
    rc |= get_int(o, "width", &c->width, err);
    rc |= get_int(o, "layers", &c->layers, err);
    rc |= get_int(o, "heads", &c->heads, err);
    rc |= get_int(o, "ffn", &c->ffn, err);
    json_t *pool = json_object_get(o, "pool"), *drop = json_object_get(o, "dropout");
    if (!rc && !json_is_string(pool))
        rc = fs_error_set(err, "config.pool missing");
    if (!rc && model_pool_from_name(json_string_value(pool)) < 0)
        rc = fs_error_set(err, "config.pool '%.20s' unknown", json_string_value(pool));
    if (!rc) {
        c->pool = model_pool_from_name(json_string_value(pool));
        c->dropout = json_is_number(drop) ? (float)json_number_value(drop) : 0.0f;
    }
    json_t *arch = json_object_get(o, "arch");
    if (!rc && arch) {
        if (!json_is_string(arch) || strcmp(json_string_value(arch), "post_ln"))
            rc = fs_error_set(err, "config.arch is not \"post_ln\"");
        else if (!json_is_number(json_object_get(o, "ln_eps")))
            rc = fs_error_set(err, "config.ln_eps missing");
        else
            rc = get_int(o, "type_vocab", &c->type_vocab, err);
        c->arch = ARCH_POST_LN;
        c->ln_eps = (float)json_number_value(json_object_get(o, "ln_eps"));
    }
    json_decref(o);
    return rc ? -1 : model_config_check(c, err);
}

static int check_labels(const struct st_file *f, struct model_config *c, struct fs_error *err)
{
    c->n_out = 2;
    for (int h = 0; h < 2; h++) {
        const char *s = st_meta(f, head_key[h]);
        json_error_t je;
        json_t *a = s ? json_loads(s, 0, &je) : NULL;
        int ok = json_is_array(a) && (int)json_array_size(a) == task_n_labels(head_task[h]);
        for (size_t i = 0; ok && i < json_array_size(a); i++) {
            json_t *v = json_array_get(a, i);
            ok = json_is_string(v) &&
                 !strcmp(json_string_value(v), task_label_name(head_task[h], (int)i));
        }
        json_decref(a);
        if (!ok)
            return fs_error_set(err, "metadata %s missing or not finsent's labels", head_key[h]);
        c->out_sizes[h] = task_n_labels(head_task[h]);
    }
    return 0;
}

/* Floats the file's tensors hold (those of a float dtype). */
static size_t file_floats(const struct st_file *f)
{
    size_t n = 0;
    for (int i = 0; i < f->n_tensors; i++)
        if (st_is_float(&f->tensors[i]))
            n += f->tensors[i].numel;
    return n;
}

/* Parameters are allocated only when need fits room, twice what the file's
 * tensors hold: a config of a few bytes could otherwise ask for 16 GiB (vocab
 * 1000000 x width 4096). The margin leaves a file that lacks a tensor or two to
 * the checks that name it. */
static int check_room(size_t need, size_t room, const char *what, struct fs_error *err)
{
    if (need <= room)
        return 0;
    return fs_error_set(err, "%s needs %zu parameters, more than the file's tensors hold", what,
                        need);
}

/* The "ngram" metadata: a JSON object with bits (in range) and mix (in [0, 1]),
 * for at most room parameters (check_room). */
static int parse_ngram(const char *s, const struct model_config *cfg, size_t room,
                       struct ngram_model **out, struct fs_error *err)
{
    json_error_t je;
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    json_t *bits = json_object_get(o, "bits"), *mix = json_object_get(o, "mix");
    int ok = json_is_integer(bits) && json_integer_value(bits) >= NGRAM_MIN_BITS &&
             json_integer_value(bits) <= NGRAM_MAX_BITS && json_is_number(mix) &&
             json_number_value(mix) >= 0.0 && json_number_value(mix) <= 1.0;
    size_t rows = ok ? (size_t)2 << json_integer_value(bits) : 0;
    size_t K = (size_t)model_config_logits(cfg);
    if (ok && check_room(rows * (K + 1) + K, room, "the n-gram path", err) < 0) {
        json_decref(o);
        return -1;
    }
    if (ok) {
        *out = ngram_create((int)json_integer_value(bits), cfg);
        (*out)->mix = (float)json_number_value(mix);
    }
    json_decref(o);
    return ok ? 0
              : fs_error_set(err, "metadata ngram is not {\"bits\": %d..%d, \"mix\": 0..1}",
                             NGRAM_MIN_BITS, NGRAM_MAX_BITS);
}

/* One tensor called name with exactly the given shape, read into dst. */
static int load_tensor(const struct st_file *f, const char *name, int ndim, const int *shape,
                       float *dst, struct fs_error *err)
{
    const struct st_tensor *s = st_find(f, name);
    if (!s)
        return fs_error_set(err, "tensor %s missing", name);
    int same = s->ndim == ndim && s->shape[0] == shape[0] && (ndim == 1 || s->shape[1] == shape[1]);
    if (!same)
        return fs_error_set(err, "tensor %s has the wrong shape for the configuration", name);
    if (!st_is_float(s))
        return fs_error_set(err, "tensor %s has dtype %s, not a float type", name,
                            st_dtype_name(s->dtype));
    st_read_f32(f, s, dst);
    return 0;
}

static int load_ngram_tensors(const struct st_file *f, struct ngram_model *ng, struct fs_error *err)
{
    int rows = (int)ngram_rows(ng);
    if (load_tensor(f, "ngram.idf", 1, (int[]){rows}, ng->idf, err) < 0 ||
        load_tensor(f, "ngram.weight", 2, (int[]){rows, ng->K}, ng->weight, err) < 0 ||
        load_tensor(f, "ngram.bias", 1, (int[]){ng->K}, ng->bias, err) < 0)
        return -1;
    for (int r = 0; r < rows; r++)
        if (!(ng->idf[r] >= 0.0f && ng->idf[r] < 1e6f))
            return fs_error_set(err, "tensor ngram.idf holds a value out of range");
    return 0;
}

/* Every tensor of the model's layout present with its exact shape, nothing
 * else: a post-LN encoder under the checkpoint's names (hf_bert.h), the rest
 * under finsent's. */
static int load_tensors(const struct st_file *f, struct model *m, int extra, float *host,
                        struct fs_error *err)
{
    int post = m->cfg.arch == ARCH_POST_LN, want = extra;
    for (int i = 0; i < m->n_tensors; i++)
        want += !post || !hf_bert_is_encoder_tensor(m, i);
    if (post)
        want += hf_bert_n_tensors(m);
    if (f->n_tensors != want)
        return fs_error_set(err, "%d tensors where the configuration implies %d", f->n_tensors,
                            want);
    if (post && hf_bert_read_tensors(f, m, host, err) < 0)
        return -1;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        if (post && hf_bert_is_encoder_tensor(m, i))
            continue;
        if (load_tensor(f, t->name, t->ndim, t->shape, host + t->offset, err) < 0)
            return -1;
    }
    return 0;
}

/* The tokenizer the file holds: WordPiece or finsent's learned one. */
static int load_tokenizer(const struct st_file *f, const struct model_config *cfg,
                          struct classifier *c, struct fs_error *err)
{
    enum text_tok_kind kind = TEXT_TOK_WORDPIECE;
    const char *s = st_meta(f, text_tok_meta_key(kind));
    if (!s) {
        kind = TEXT_TOK_LEARNED;
        s = st_meta(f, text_tok_meta_key(kind));
    }
    if (!s)
        return fs_error_set(err, "metadata tokenizer missing");
    c->tok = text_tok_deserialize(kind, s, strlen(s), err);
    if (!c->tok)
        return -1; /* the message names the tokenizer */
    if (text_tok_vocab_size(c->tok) != cfg->vocab)
        return fs_error_set(err, "tokenizer has %d pieces but the model %d",
                            text_tok_vocab_size(c->tok), cfg->vocab);
    const char *urls = st_meta(f, TEXT_TOK_URL_FOLD_KEY);
    if (urls && strcmp(urls, TEXT_TOK_URL_FOLD_MARK) != 0)
        return fs_error_set(err, "metadata %s is '%.20s', not '%s'", TEXT_TOK_URL_FOLD_KEY, urls,
                            TEXT_TOK_URL_FOLD_MARK);
    text_tok_set_url_fold(c->tok, urls != NULL);
    return 0;
}

/* The optional "base" metadata: {"name", "sha256"} of the pretrained base. */
static int load_base_meta(const struct st_file *f, struct classifier *c, struct fs_error *err)
{
    const char *s = st_meta(f, "base");
    if (!s)
        return 0;
    json_error_t je;
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    json_t *name = json_object_get(o, "name"), *sha = json_object_get(o, "sha256");
    int ok = json_is_string(name) && json_is_string(sha) && strlen(json_string_value(sha)) < 65;
    if (ok) {
        snprintf(c->base_name, sizeof c->base_name, "%s", json_string_value(name));
        snprintf(c->base_sha256, sizeof c->base_sha256, "%s", json_string_value(sha));
    }
    json_decref(o);
    return ok ? 0 : fs_error_set(err, "metadata base is not {\"name\", \"sha256\"}");
}

static int load_checked(struct st_file *f, struct backend *be, struct classifier *c,
                        struct fs_error *err)
{
    const char *fmt = st_meta(f, "format"), *ver = st_meta(f, "format_version");
    if (!fmt || strcmp(fmt, MODEL_FORMAT) != 0)
        return fs_error_set(err, "not a finsent model (safetensors without format '%s')",
                            MODEL_FORMAT);
    if (!ver || strcmp(ver, MODEL_FORMAT_VERSION) != 0)
        return fs_error_set(err, "model format version '%.20s' is not supported (expected %s)",
                            ver ? ver : "(none)", MODEL_FORMAT_VERSION);
    const char *cfg_s = st_meta(f, "config");
    const char *id = st_meta(f, "model_id");
    struct model_config cfg;
    if (!cfg_s || parse_config(cfg_s, &cfg, err) < 0)
        return cfg_s ? -1 : fs_error_set(err, "metadata config missing");
    if (check_labels(f, &cfg, err) < 0)
        return -1;
    if (load_tokenizer(f, &cfg, c, err) < 0 || load_base_meta(f, c, err) < 0)
        return -1;
    if (!id || strlen(id) != 32)
        return fs_error_set(err, "metadata model_id missing");
    size_t room = 2 * file_floats(f), need = model_config_params(&cfg);
    if (check_room(need, room, "the configuration", err) < 0)
        return -1;
    const char *ng_s = st_meta(f, "ngram");
    if (ng_s && parse_ngram(ng_s, &cfg, room - need, &c->ngram, err) < 0)
        return -1;
    if (model_create_blank(&cfg, be, &c->model, err) < 0) /* every tensor comes from the file */
        return -1;
    float *host = xmalloc(c->model->n_params * sizeof(float));
    int rc = load_tensors(f, c->model, c->ngram ? 3 : 0, host, err);
    if (rc == 0 && c->ngram)
        rc = load_ngram_tensors(f, c->ngram, err);
    if (rc == 0) {
        params_hash(host, c->model->n_params, c->ngram, c->model_id);
        if (strcmp(c->model_id, id) != 0)
            rc = fs_error_set(err, "parameters do not match model_id (corrupted file)");
    }
    if (rc == 0)
        model_set_params(c->model, host);
    free(host);
    return rc;
}

/* The classifier in the parsed file f (freed here). */
static int classifier_from(struct st_file *f, struct backend *be, struct classifier **out,
                           struct fs_error *err)
{
    struct classifier *c = xcalloc(1, sizeof *c);
    c->be = be;
    int rc = load_checked(f, be, c, err);
    st_free(f);
    if (rc < 0) {
        classifier_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int classifier_load(const char *path, struct backend *be, struct classifier **out,
                    struct fs_error *err)
{
    *out = NULL;
    struct st_file f;
    if (st_load(path, &f, err) < 0) {
        st_free(&f);
        return -1;
    }
    if (classifier_from(&f, be, out, err) < 0)
        return fs_error_prefix(err, "%s", path);
    return 0;
}

int classifier_parse(unsigned char *buf, size_t len, struct backend *be, struct classifier **out,
                     struct fs_error *err)
{
    *out = NULL;
    struct st_file f;
    if (st_parse(buf, len, &f, err) < 0) {
        st_free(&f);
        return -1;
    }
    return classifier_from(&f, be, out, err);
}

void classifier_free(struct classifier *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < FS_ARRAY_LEN(c->views); i++)
        model_free(c->views[i]);
    model_free(c->model);
    text_tok_free(c->tok);
    ngram_free(c->ngram);
    free(c);
}
