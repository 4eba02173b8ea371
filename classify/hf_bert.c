/*
 * hf_bert.c — a Hugging Face BERT checkpoint into finsent's encoder: the
 * config's sizes, then one name table from the model's tensors to the
 * checkpoint's.
 */
#include "classify/hf_bert.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config.json ---------------------------------------------------------------- */

static int cfg_int(json_t *o, const char *key, int lo, int hi, int *out, struct fs_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return fs_error_set(err, "config.json: %s missing or not an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return fs_error_set(err, "config.json: %s = %lld out of range [%d, %d]", key,
                            (long long)x, lo, hi);
    *out = (int)x;
    return 0;
}

/* An optional string key that must equal want when present. */
static int cfg_str_is(json_t *o, const char *key, const char *want, int required,
                      struct fs_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return 0;
    if (!json_is_string(v))
        return fs_error_set(err, "config.json: %s missing or not a string", key);
    if (strcmp(json_string_value(v), want) != 0)
        return fs_error_set(err, "config.json: %s is '%.40s'; only '%s' is supported", key,
                            json_string_value(v), want);
    return 0;
}

static int parse_sizes(json_t *o, struct model_config *c, struct fs_error *err)
{
    if (cfg_str_is(o, "model_type", "bert", 1, err) < 0 ||
        cfg_str_is(o, "hidden_act", "gelu", 0, err) < 0 ||
        cfg_str_is(o, "position_embedding_type", "absolute", 0, err) < 0)
        return -1;
    if (cfg_int(o, "vocab_size", 9, 1000000, &c->vocab, err) < 0 ||
        cfg_int(o, "hidden_size", 2, 4096, &c->width, err) < 0 ||
        cfg_int(o, "num_hidden_layers", 1, MODEL_MAX_LAYERS, &c->layers, err) < 0 ||
        cfg_int(o, "num_attention_heads", 1, 4096, &c->heads, err) < 0 ||
        cfg_int(o, "intermediate_size", 1, 16384, &c->ffn, err) < 0 ||
        cfg_int(o, "max_position_embeddings", 2, 4096, &c->max_len, err) < 0)
        return -1;
    c->type_vocab = 2;
    if (json_object_get(o, "type_vocab_size") &&
        cfg_int(o, "type_vocab_size", 0, 16, &c->type_vocab, err) < 0)
        return -1;
    json_t *eps = json_object_get(o, "layer_norm_eps");
    c->ln_eps = 1e-12f;
    if (eps && !json_is_number(eps))
        return fs_error_set(err, "config.json: layer_norm_eps is not a number");
    if (eps)
        c->ln_eps = (float)json_number_value(eps);
    return 0;
}

int hf_bert_parse_config(const char *json, size_t len, const struct model_config *heads,
                         struct model_config *cfg, struct fs_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return fs_error_set(err, "config.json: not a JSON object (%.80s)", o ? "" : je.text);
    }
    model_config_default(cfg);
    cfg->arch = ARCH_POST_LN;
    cfg->pool = heads ? heads->pool : POOL_CLS;
    cfg->dropout = heads ? heads->dropout : 0.0f;
    cfg->n_out = heads ? heads->n_out : 0;
    for (int i = 0; i < cfg->n_out && i < MODEL_MAX_HEADS_OUT; i++)
        cfg->out_sizes[i] = heads->out_sizes[i];
    int rc = parse_sizes(o, cfg, err);
    json_decref(o);
    if (rc < 0)
        return -1;
    if (model_config_check(cfg, err) < 0)
        return fs_error_prefix(err, "config.json");
    return 0;
}

/* ---- the name table ------------------------------------------------------------------ */

/* The checkpoint names of a block tensor (relative to "encoder.layer.L."); a
 * tensor with three names is the three stacked by rows. */
static const char *const layer_names[MODEL_LAYER_TENSORS][3] = {
    [LN1_W] = {"attention.output.LayerNorm.weight"},
    [LN1_B] = {"attention.output.LayerNorm.bias"},
    [QKV_W] = {"attention.self.query.weight", "attention.self.key.weight",
               "attention.self.value.weight"},
    [QKV_B] = {"attention.self.query.bias", "attention.self.key.bias",
               "attention.self.value.bias"},
    [OUT_W] = {"attention.output.dense.weight"},
    [OUT_B] = {"attention.output.dense.bias"},
    [LN2_W] = {"output.LayerNorm.weight"},
    [LN2_B] = {"output.LayerNorm.bias"},
    [FFN_IN_W] = {"intermediate.dense.weight"},
    [FFN_IN_B] = {"intermediate.dense.bias"},
    [FFN_OUT_W] = {"output.dense.weight"},
    [FFN_OUT_B] = {"output.dense.bias"},
};

/* The checkpoint names of model tensor i (without prefix) into names[];
 * returns how many (0: not in a checkpoint, e.g. the heads). */
static int hf_names(const struct model *m, int i, char names[3][96])
{
    const struct model_index *ix = &m->ix;
    const char *one = i == ix->wte     ? "embeddings.word_embeddings.weight"
                      : i == ix->wpe   ? "embeddings.position_embeddings.weight"
                      : i == ix->wtt   ? "embeddings.token_type_embeddings.weight"
                      : i == ix->eln_w ? "embeddings.LayerNorm.weight"
                      : i == ix->eln_b ? "embeddings.LayerNorm.bias"
                                       : NULL;
    if (one) {
        snprintf(names[0], sizeof names[0], "%s", one);
        return 1;
    }
    int first = ix->layer0, end = ix->layer0 + m->cfg.layers * MODEL_LAYER_TENSORS;
    if (i < first || i >= end)
        return 0;
    int l = (i - first) / MODEL_LAYER_TENSORS, kind = (i - first) % MODEL_LAYER_TENSORS;
    int n = 0;
    for (; n < 3 && layer_names[kind][n]; n++)
        snprintf(names[n], sizeof names[n], "encoder.layer.%d.%s", l, layer_names[kind][n]);
    return n;
}

/* The tensor prefix ... + name, or with LayerNorm's old gamma/beta names. */
static const struct st_tensor *find_named(const struct st_file *f, const char *prefix,
                                          const char *name)
{
    char full[160];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const struct st_tensor *t = st_find(f, full);
    size_t n = strlen(full);
    if (t || !strstr(full, "LayerNorm."))
        return t;
    if (n > 7 && !strcmp(full + n - 7, ".weight"))
        snprintf(full + n - 7, sizeof full - (n - 7), ".gamma");
    else if (n > 5 && !strcmp(full + n - 5, ".bias"))
        snprintf(full + n - 5, sizeof full - (n - 5), ".beta");
    return st_find(f, full);
}

/* One checkpoint tensor into rows [row0, row0 + rows) of a model tensor. */
static int copy_part(const struct st_file *f, const char *prefix, const char *name,
                     const struct model_tensor *mt, int parts, int part, float *host,
                     struct fs_error *err)
{
    const struct st_tensor *t = find_named(f, prefix, name);
    if (!t)
        return fs_error_set(err, "tensor %s%s missing", prefix, name);
    int rows = mt->shape[0] / parts;
    int ok = t->ndim == mt->ndim && t->shape[0] == rows && (mt->ndim == 1 || t->shape[1] == mt->shape[1]);
    if (!ok) {
        if (mt->ndim == 1)
            return fs_error_set(err, "tensor %s%s: shape should be [%d]", prefix, name, rows);
        return fs_error_set(err, "tensor %s%s: shape should be [%d, %d]", prefix, name, rows,
                            mt->shape[1]);
    }
    if (!st_is_float(t))
        return fs_error_set(err, "tensor %s%s: dtype %s is not a float type", prefix, name,
                            st_dtype_name(t->dtype));
    st_read_f32(f, t, host + mt->offset + (size_t)part * (mt->size / parts));
    return 0;
}

int hf_bert_read_tensors(const struct st_file *f, const struct model *m, float *host,
                         struct fs_error *err)
{
    const char *prefix = st_find(f, "bert.embeddings.word_embeddings.weight") ? "bert." : "";
    for (int i = 0; i < m->n_tensors; i++) {
        char names[3][96];
        int n = hf_names(m, i, names);
        for (int p = 0; p < n; p++)
            if (copy_part(f, prefix, names[p], &m->tensors[i], n, p, host, err) < 0)
                return -1;
    }
    return 0;
}

int hf_bert_load_tensors(const struct st_file *f, struct model *m, struct fs_error *err)
{
    float *host = xmalloc(m->n_params * sizeof(float));
    model_get_params(m, host); /* heads keep their initialisation */
    int rc = hf_bert_read_tensors(f, m, host, err);
    if (rc == 0)
        model_set_params(m, host);
    free(host);
    return rc;
}

int hf_bert_n_tensors(const struct model *m)
{
    int n = 0;
    char names[3][96];
    for (int i = 0; i < m->n_tensors; i++)
        n += hf_names(m, i, names);
    return n;
}

int hf_bert_is_encoder_tensor(const struct model *m, int i)
{
    char names[3][96];
    return hf_names(m, i, names) > 0;
}

int hf_bert_add_tensors(struct st_writer *w, const struct model *m, const float *host,
                        const char *prefix)
{
    int added = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *mt = &m->tensors[i];
        char names[3][96], full[160];
        int n = hf_names(m, i, names);
        for (int p = 0; p < n; p++) {
            int64_t shape[2] = {mt->shape[0] / n, mt->shape[1]};
            snprintf(full, sizeof full, "%s%s", prefix, names[p]);
            st_writer_add(w, full, mt->ndim, shape, host + mt->offset + (size_t)p * (mt->size / n));
            added++;
        }
    }
    return added;
}

/* ---- the whole load ------------------------------------------------------------------- */

int hf_bert_load(const char *dir, struct backend *be, const struct model_config *heads,
                 uint64_t seed, struct model **out, struct fs_error *err)
{
    *out = NULL;
    struct strbuf path = STRBUF_INIT;
    char *json = NULL;
    size_t len;
    struct model_config cfg;
    struct st_file f = {0};
    struct model *m = NULL;
    int rc = -1;
    sb_appendf(&path, "%s/config.json", dir);
    if (file_read_all(path.buf, 1 << 20, &json, &len, err) < 0)
        goto done;
    if (hf_bert_parse_config(json, len, heads, &cfg, err) < 0) {
        fs_error_prefix(err, "%s", dir);
        goto done;
    }
    sb_reset(&path);
    sb_appendf(&path, "%s/model.safetensors", dir);
    if (st_load(path.buf, &f, err) < 0)
        goto done;
    if (model_create(&cfg, be, seed, &m, err) < 0)
        goto done;
    if (hf_bert_load_tensors(&f, m, err) < 0) {
        fs_error_prefix(err, "%s", path.buf);
        goto done;
    }
    *out = m;
    m = NULL;
    rc = 0;
done:
    model_free(m);
    st_free(&f);
    free(json);
    sb_free(&path);
    return rc;
}
