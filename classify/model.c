/*
 * model.c — the encoder's parameters, activations, forward and backward passes,
 * written once above struct backend. Each layer is a forward / backward pair;
 * model_forward() and model_backward() chain them.
 */
#include "classify/model.h"
#include "classify/ops_math.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------- */

void model_config_default(struct model_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->vocab = 8000;
    cfg->max_len = 64;
    cfg->width = 128;
    cfg->layers = 2;
    cfg->heads = 4;
    cfg->ffn = 4 * 128;
    cfg->pool = POOL_ATTENTION;
    cfg->dropout = 0.25f;
    cfg->arch = ARCH_PRE_LN;
    cfg->type_vocab = 0;
    cfg->ln_eps = FS_LN_EPS;
    cfg->n_out = 2;
    cfg->out_sizes[0] = 20; /* TASK_TOPIC */
    cfg->out_sizes[1] = 3;  /* TASK_SENTIMENT */
}

int model_config_check(const struct model_config *c, struct fs_error *err)
{
    if (c->vocab < 9 || c->vocab > 1000000)
        return fs_error_set(err, "vocabulary size %d out of range [9, 1000000]", c->vocab);
    if (c->max_len < 2 || c->max_len > 4096)
        return fs_error_set(err, "max length %d out of range [2, 4096]", c->max_len);
    if (c->width < 2 || c->width > 4096)
        return fs_error_set(err, "width %d out of range [2, 4096]", c->width);
    if (c->layers < 1 || c->layers > MODEL_MAX_LAYERS)
        return fs_error_set(err, "layers %d out of range [1, %d]", c->layers, MODEL_MAX_LAYERS);
    if (c->heads < 1 || c->width % c->heads != 0)
        return fs_error_set(err, "width %d is not a multiple of heads %d", c->width, c->heads);
    if (c->ffn < 1 || c->ffn > 16384)
        return fs_error_set(err, "feed-forward size %d out of range [1, 16384]", c->ffn);
    if (c->pool != POOL_CLS && c->pool != POOL_ATTENTION && c->pool != POOL_MEAN)
        return fs_error_set(err, "unknown pooling %d", c->pool);
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return fs_error_set(err, "dropout %g out of range [0, 1)", c->dropout);
    if (c->arch != ARCH_PRE_LN && c->arch != ARCH_POST_LN)
        return fs_error_set(err, "unknown block arrangement %d", c->arch);
    if (c->type_vocab < 0 || c->type_vocab > 16)
        return fs_error_set(err, "token types %d out of range [0, 16]", c->type_vocab);
    if (!(c->ln_eps > 0.0f && c->ln_eps <= 0.1f))
        return fs_error_set(err, "LayerNorm epsilon %g out of range (0, 0.1]", c->ln_eps);
    if (c->n_out < 0 || c->n_out > MODEL_MAX_HEADS_OUT)
        return fs_error_set(err, "%d output heads out of range [0, %d]", c->n_out,
                            MODEL_MAX_HEADS_OUT);
    for (int i = 0; i < c->n_out; i++)
        if (c->out_sizes[i] < 2 || c->out_sizes[i] > 1000)
            return fs_error_set(err, "head %d: %d classes out of range [2, 1000]", i,
                                c->out_sizes[i]);
    return 0;
}

static const char *const pool_names[] = {[POOL_CLS] = "cls", [POOL_ATTENTION] = "attention",
                                         [POOL_MEAN] = "mean"};

const char *model_pool_name(int pool)
{
    return pool >= 0 && pool < (int)FS_ARRAY_LEN(pool_names) ? pool_names[pool] : "?";
}

int model_pool_from_name(const char *s)
{
    for (int i = 0; i < (int)FS_ARRAY_LEN(pool_names); i++)
        if (!strcmp(s, pool_names[i]))
            return i;
    return -1;
}

int model_config_logits(const struct model_config *cfg)
{
    int k = 0;
    for (int i = 0; i < cfg->n_out; i++)
        k += cfg->out_sizes[i];
    return k;
}

/* ---- parameter layout ------------------------------------------------------ */

static int idx_layer(const struct model *m, int l, int kind)
{
    return m->ix.layer0 + l * MODEL_LAYER_TENSORS + kind;
}

static float *P(const struct model *m, int idx)
{
    return m->params + m->tensors[idx].offset;
}
static float *G(const struct model *m, int idx)
{
    return m->grads + m->tensors[idx].offset;
}

/* Appends a tensor to the layout; returns its index. */
static int add_tensor(struct model *m, const char *name, int d0, int d1, int decay)
{
    struct model_tensor *t = &m->tensors[m->n_tensors];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->size = (size_t)d0 * (d1 ? d1 : 1);
    t->offset = m->n_params;
    t->decay = decay;
    m->n_params += t->size;
    return m->n_tensors++;
}

static void add_layer(struct model *m, int l)
{
    int C = m->cfg.width, F = m->cfg.ffn;
    static const struct {
        const char *suffix;
        int rows, cols, decay; /* in units of C (rows 3: 3C), F (rows -1, cols -1) */
    } spec[MODEL_LAYER_TENSORS] = {
        [LN1_W] = {"ln1.weight", 1, 0, 0},     [LN1_B] = {"ln1.bias", 1, 0, 0},
        [QKV_W] = {"attn.qkv.weight", 3, 1, 1}, [QKV_B] = {"attn.qkv.bias", 3, 0, 0},
        [OUT_W] = {"attn.out.weight", 1, 1, 1}, [OUT_B] = {"attn.out.bias", 1, 0, 0},
        [LN2_W] = {"ln2.weight", 1, 0, 0},     [LN2_B] = {"ln2.bias", 1, 0, 0},
        [FFN_IN_W] = {"ffn.in.weight", -1, 1, 1}, [FFN_IN_B] = {"ffn.in.bias", -1, 0, 0},
        [FFN_OUT_W] = {"ffn.out.weight", 1, -1, 1}, [FFN_OUT_B] = {"ffn.out.bias", 1, 0, 0},
    };
    for (int k = 0; k < MODEL_LAYER_TENSORS; k++) {
        char n[48];
        snprintf(n, sizeof n, "layers.%d.%s", l, spec[k].suffix);
        int rows = spec[k].rows < 0 ? F : spec[k].rows * C;
        int cols = spec[k].cols < 0 ? F : spec[k].cols * C;
        add_tensor(m, n, rows, cols, spec[k].decay);
    }
}

static void build_layout(struct model *m)
{
    const struct model_config *c = &m->cfg;
    int C = c->width, post = c->arch == ARCH_POST_LN;
    struct model_index *ix = &m->ix;
    m->tensors = xcalloc((size_t)c->layers * MODEL_LAYER_TENSORS + 10, sizeof *m->tensors);
    ix->wte = add_tensor(m, "embed.tokens", c->vocab, C, 0);
    ix->wpe = add_tensor(m, "embed.positions", c->max_len, C, 0);
    ix->wtt = c->type_vocab ? add_tensor(m, "embed.types", c->type_vocab, C, 0) : -1;
    ix->eln_w = post ? add_tensor(m, "embed.ln.weight", C, 0, 0) : -1;
    ix->eln_b = post ? add_tensor(m, "embed.ln.bias", C, 0, 0) : -1;
    ix->layer0 = m->n_tensors;
    for (int l = 0; l < c->layers; l++)
        add_layer(m, l);
    ix->lnf_w = post ? -1 : add_tensor(m, "final_ln.weight", C, 0, 0);
    ix->lnf_b = post ? -1 : add_tensor(m, "final_ln.bias", C, 0, 0);
    ix->pool_q = c->pool == POOL_ATTENTION ? add_tensor(m, "pool.query", C, 0, 0) : -1;
    ix->head_w = c->n_out ? add_tensor(m, "head.weight", model_config_logits(c), C, 1) : -1;
    ix->head_b = c->n_out ? add_tensor(m, "head.bias", model_config_logits(c), 0, 0) : -1;
}

size_t model_config_params(const struct model_config *cfg)
{
    struct model m = {.cfg = *cfg};
    build_layout(&m);
    free(m.tensors);
    return m.n_params;
}

int model_tensor_find(const struct model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name))
            return i;
    return -1;
}

/* ---- initialisation ------------------------------------------------------------ */

/* Standard normal from a counter (Box-Muller on two hashed uniforms). */
static float normal_at(uint64_t seed, uint64_t i)
{
    uint64_t a = fs_hash64(seed ^ fs_hash64(2 * i)), b = fs_hash64(seed ^ fs_hash64(2 * i + 1));
    double u1 = ((a >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    double u2 = (b >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static void init_params(struct model *m, uint64_t seed)
{
    float *h = xcalloc(m->n_params, sizeof *h);
    float proj_std = 0.02f / sqrtf(2.0f * m->cfg.layers);
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        float *p = h + t->offset;
        const char *dot = strrchr(t->name, '.');
        int is_ln = strstr(t->name, "ln") && !strcmp(dot, ".weight");
        float std = 0.0f;
        if (is_ln) {
            for (size_t j = 0; j < t->size; j++)
                p[j] = 1.0f;
            continue;
        }
        if (t->ndim == 2)
            std = (strstr(t->name, "attn.out.") || strstr(t->name, "ffn.out.")) ? proj_std : 0.02f;
        for (size_t j = 0; j < t->size; j++)
            p[j] = std * normal_at(seed, t->offset + j);
    }
    m->be->upload(m->be, m->params, h, m->n_params * sizeof(float));
    free(h);
}

int model_create(const struct model_config *cfg, struct backend *be, uint64_t seed,
                 struct model **out, struct fs_error *err)
{
    if (model_create_blank(cfg, be, out, err) < 0)
        return -1;
    init_params(*out, seed);
    return 0;
}

int model_create_blank(const struct model_config *cfg, struct backend *be, struct model **out,
                       struct fs_error *err)
{
    *out = NULL;
    if (model_config_check(cfg, err) < 0)
        return -1;
    struct model *m = xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->be = be;
    build_layout(m);
    m->params = be->alloc(be, m->n_params * sizeof(float));
    if (!m->params) {
        model_free(m);
        return fs_error_set(err, "%s: cannot allocate %zu parameters", be->name, m->n_params);
    }
    *out = m;
    return 0;
}

int model_train_alloc(struct model *m, struct fs_error *err)
{
    struct backend *be = m->be;
    size_t bytes = m->n_params * sizeof(float);
    if (!m->grads)
        m->grads = be->alloc(be, bytes);
    if (m->shares_params)
        return m->grads ? 0 : fs_error_set(err, "%s: cannot allocate gradients", be->name);
    if (!m->adam_m)
        m->adam_m = be->alloc(be, bytes);
    if (!m->adam_v)
        m->adam_v = be->alloc(be, bytes);
    if (!m->grads || !m->adam_m || !m->adam_v)
        return fs_error_set(err, "%s: cannot allocate optimiser state", be->name);
    return 0;
}

void model_get_params(struct model *m, float *host)
{
    m->be->download(m->be, host, m->params, m->n_params * sizeof(float));
}

void model_set_params(struct model *m, const float *host)
{
    m->be->upload(m->be, m->params, host, m->n_params * sizeof(float));
}

/* ---- activations ------------------------------------------------------------------ */

struct layer_acts {
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *q, *k, *v, *att, *y, *yc, *ao, *x_mid;
    float *ln2, *ln2_mean, *ln2_rstd, *fh, *fg, *fo;
};

/* Gradient scratch of one layer (reused by every layer in the backward pass). */
struct layer_grads {
    float *dln1, *dqkv, *dq, *dk, *dv, *datt, *dscores, *dy, *dyc, *dao, *dln2, *dfh, *dfg, *dfo;
};

struct model_acts {
    size_t cap_tokens, cap_rows, cap_att; /* capacity: B*T, B, B*H*T*T */
    int n_slots;                          /* layers with their own activations */
    int with_grads;
    float *arena;
    size_t arena_floats;
    int32_t *ids, *lengths, *task, *label;
    float *res[MODEL_MAX_LAYERS + 1];
    struct layer_acts layer[MODEL_MAX_LAYERS];
    float *emb, *emb_mean, *emb_rstd; /* embedding sum before its LayerNorm (post-LN) */
    float *lnf, *lnf_mean, *lnf_rstd, *pooled, *poolw, *logits, *probs, *losses;
    float *hidden; /* the last hidden states: lnf (pre-LN) or the last block's output */
    float *pool_zero_q, *pool_dq_scratch; /* POOL_MEAN: a query that stays 0, a sink for its grad */
    /* gradients */
    float *grad_arena; /* layer scratch, zeroed per layer */
    size_t grad_arena_floats;
    struct layer_grads g;
    float *dres, *dlnf, *dpooled, *dlogits;
    /* the last forward pass */
    int B, T, train, last_slot;
    uint64_t seed;
    int n_labeled;
    int32_t *host_task; /* [cap_rows], -1 filled for inference */
};

/* Carves an arena into buffers, or (base NULL) only counts its floats: with no
 * arena there is no pointer to offset (NULL + n is undefined behaviour, which
 * clang's UBSan reported from the model-file fuzz target). */
struct cursor {
    float *base;
    size_t used;
};

static float *take(struct cursor *cur, size_t n)
{
    float *p = cur->base ? cur->base + cur->used : NULL;
    cur->used += n;
    return p;
}

/* Lays out (or, with base NULL, sizes) the activation arena. */
static size_t layout_acts(struct model_acts *a, const struct model_config *c, float *base)
{
    size_t N = a->cap_tokens, R = a->cap_rows, A = a->cap_att, C = c->width, F = c->ffn;
    size_t K = model_config_logits(c);
    struct cursor cur = {base, 0};
    int n_res = a->n_slots == 1 ? 2 : a->n_slots + 1;
    for (int i = 0; i < n_res; i++)
        a->res[i] = take(&cur, N * C);
    for (int l = 0; l < a->n_slots; l++) {
        struct layer_acts *la = &a->layer[l];
        la->ln1 = take(&cur, N * C);
        la->ln1_mean = take(&cur, N);
        la->ln1_rstd = take(&cur, N);
        la->qkv = take(&cur, N * 3 * C);
        la->q = take(&cur, N * C);
        la->k = take(&cur, N * C);
        la->v = take(&cur, N * C);
        la->att = take(&cur, A);
        la->y = take(&cur, N * C);
        la->yc = take(&cur, N * C);
        la->ao = take(&cur, N * C);
        la->x_mid = take(&cur, N * C);
        la->ln2 = take(&cur, N * C);
        la->ln2_mean = take(&cur, N);
        la->ln2_rstd = take(&cur, N);
        la->fh = take(&cur, N * F);
        la->fg = take(&cur, N * F);
        la->fo = take(&cur, N * C);
    }
    int post = c->arch == ARCH_POST_LN;
    a->emb = take(&cur, post ? N * C : 0);
    a->emb_mean = take(&cur, post ? N : 0);
    a->emb_rstd = take(&cur, post ? N : 0);
    a->lnf = take(&cur, post ? 0 : N * C);
    a->lnf_mean = take(&cur, post ? 0 : N);
    a->lnf_rstd = take(&cur, post ? 0 : N);
    a->pooled = take(&cur, R * C);
    a->pool_zero_q = take(&cur, C); /* the arena is allocated zero-filled and never written here */
    a->pool_dq_scratch = take(&cur, C);
    a->poolw = take(&cur, N);
    a->logits = take(&cur, R * K);
    a->probs = take(&cur, R * K);
    a->losses = take(&cur, R);
    if (a->with_grads) {
        a->dres = take(&cur, N * C);
        a->dlnf = take(&cur, N * C);
        a->dpooled = take(&cur, R * C);
        a->dlogits = take(&cur, R * K);
    }
    return cur.used;
}

static size_t layout_grads(struct layer_grads *g, const struct model_config *c, size_t N, size_t A,
                           float *base)
{
    size_t C = c->width, F = c->ffn;
    struct cursor cur = {base, 0};
    g->dln1 = take(&cur, N * C);
    g->dqkv = take(&cur, N * 3 * C);
    g->dq = take(&cur, N * C);
    g->dk = take(&cur, N * C);
    g->dv = take(&cur, N * C);
    g->datt = take(&cur, A);
    g->dscores = take(&cur, A);
    g->dy = take(&cur, N * C);
    g->dyc = take(&cur, N * C);
    g->dao = take(&cur, N * C);
    g->dln2 = take(&cur, N * C);
    g->dfh = take(&cur, N * F);
    g->dfg = take(&cur, N * F);
    g->dfo = take(&cur, N * C);
    return cur.used;
}

static void acts_free(struct backend *be, struct model_acts *a)
{
    if (!a)
        return;
    be->free(be, a->arena);
    be->free(be, a->grad_arena);
    be->free(be, a->ids);
    be->free(be, a->lengths);
    be->free(be, a->task);
    be->free(be, a->label);
    free(a->host_task);
    free(a);
}

/* A capacity of at least need: have, else twice have, else need. */
static size_t grown_cap(size_t have, size_t need)
{
    if (have >= need)
        return have;
    return 2 * have > need ? 2 * have : need;
}

/* Makes sure the activations hold B rows, N tokens and A attention weights
 * (training: every layer's). */
static int acts_reserve(struct model *m, int B, size_t N, size_t A, int train,
                        struct fs_error *err)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int slots = train ? m->cfg.layers : 1;
    if (a && a->cap_tokens >= N && a->cap_rows >= (size_t)B && a->cap_att >= A &&
        a->n_slots >= slots && a->with_grads >= train)
        return 0;
    struct model_acts *n = xcalloc(1, sizeof *n);
    /* tokens and attention grow geometrically: batches sorted by length would
     * otherwise reallocate at every new length */
    n->cap_tokens = grown_cap(a ? a->cap_tokens : 0, N);
    n->cap_rows = a && a->cap_rows > (size_t)B ? a->cap_rows : (size_t)B;
    n->cap_att = grown_cap(a ? a->cap_att : 0, A);
    n->n_slots = a && a->n_slots > slots ? a->n_slots : slots;
    n->with_grads = (a && a->with_grads) || train;
    acts_free(be, a);
    m->acts = n;
    n->arena_floats = layout_acts(n, &m->cfg, NULL);
    n->arena = be->alloc(be, n->arena_floats * sizeof(float));
    if (n->with_grads) {
        struct layer_grads g;
        n->grad_arena_floats = layout_grads(&g, &m->cfg, n->cap_tokens, n->cap_att, NULL);
        n->grad_arena = be->alloc(be, n->grad_arena_floats * sizeof(float));
    }
    n->ids = be->alloc(be, n->cap_tokens * sizeof(int32_t));
    n->lengths = be->alloc(be, n->cap_rows * sizeof(int32_t));
    n->task = be->alloc(be, n->cap_rows * sizeof(int32_t));
    n->label = be->alloc(be, n->cap_rows * sizeof(int32_t));
    n->host_task = xcalloc(n->cap_rows, sizeof(int32_t));
    if (!n->arena || (n->with_grads && !n->grad_arena) || !n->ids || !n->lengths || !n->task ||
        !n->label) {
        acts_free(be, n);
        m->acts = NULL;
        return fs_error_set(err, "%s: cannot allocate activations for %zu tokens in %d rows",
                            be->name, N, B);
    }
    layout_acts(n, &m->cfg, n->arena);
    if (n->with_grads)
        layout_grads(&n->g, &m->cfg, n->cap_tokens, n->cap_att, n->grad_arena);
    return 0;
}

int model_reserve(struct model *m, int B, int T, int train, struct fs_error *err)
{
    return acts_reserve(m, B, (size_t)B * T, (size_t)B * m->cfg.heads * T * T, train, err);
}

size_t model_activation_floats(const struct model *m)
{
    return m->acts ? m->acts->arena_floats + m->acts->grad_arena_floats : 0;
}

int model_reserve_tokens(struct model *m, int B, size_t tokens, int T, int train,
                         struct fs_error *err)
{
    size_t att = (size_t)m->cfg.heads * tokens * T, full = (size_t)B * m->cfg.heads * T * T;
    return acts_reserve(m, B, tokens, att < full ? att : full, train, err);
}

void model_free(struct model *m)
{
    if (!m)
        return;
    struct backend *be = m->be;
    acts_free(be, m->acts);
    if (!m->shares_params)
        be->free(be, m->params);
    be->free(be, m->grads);
    be->free(be, m->adam_m);
    be->free(be, m->adam_v);
    free(m->tensors);
    free(m);
}

struct model *model_share(const struct model *m)
{
    struct model *s = xcalloc(1, sizeof *s);
    s->cfg = m->cfg;
    s->be = m->be;
    s->n_params = m->n_params;
    s->params = m->params;
    s->shares_params = 1;
    s->label_smoothing = m->label_smoothing;
    s->n_tensors = m->n_tensors;
    s->ix = m->ix;
    s->tensors = xmalloc((size_t)m->n_tensors * sizeof *s->tensors);
    memcpy(s->tensors, m->tensors, (size_t)m->n_tensors * sizeof *s->tensors);
    return s;
}

/* ---- layers: linear ------------------------------------------------------------------ */

/* out[N,OC] = inp[N,IC] @ w[OC,IC]^T + b */
static void linear_forward(struct backend *be, float *out, const float *inp, const float *w,
                           const float *b, int N, int IC, int OC)
{
    be->matmul(be, 0, 1, N, OC, IC, 1.0f, inp, IC, w, IC, 0.0f, out, OC);
    be->bias_forward(be, out, b, N, OC);
}

static void linear_backward(struct backend *be, float *dinp, float *dw, float *db,
                            const float *dout, const float *inp, const float *w, int N, int IC,
                            int OC)
{
    be->matmul(be, 0, 0, N, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, dinp, IC);
    be->matmul(be, 1, 0, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
    be->bias_backward(be, db, dout, N, OC);
}

/* ---- layers: self-attention -------------------------------------------------------------- */

/* inp [N,C] -> ao [N,C] (before dropout). */
static void attention_forward(struct model *m, struct layer_acts *la, int l, const float *inp, int B,
                              int T)
{
    struct backend *be = m->be;
    const int *lengths = m->acts->lengths;
    int C = m->cfg.width, H = m->cfg.heads, D = C / H, N = B * T;
    long sq = (long)T * D, ss = (long)T * T;
    linear_forward(be, la->qkv, inp, P(m, idx_layer(m, l, QKV_W)), P(m, idx_layer(m, l, QKV_B)), N,
                   C, 3 * C);
    be->split_heads_forward(be, la->q, la->k, la->v, la->qkv, B, T, C, H);
    be->matmul_batched(be, 0, 1, T, T, D, 1.0f, la->q, D, sq, la->k, D, sq, 0.0f, la->att, T, ss,
                       B * H);
    be->softmax_forward(be, la->att, la->att, lengths, B, H, T, 1.0f / sqrtf((float)D));
    be->matmul_batched(be, 0, 0, T, D, T, 1.0f, la->att, T, ss, la->v, D, sq, 0.0f, la->y, D, sq,
                       B * H);
    be->merge_heads_forward(be, la->yc, la->y, B, T, C, H);
    linear_forward(be, la->ao, la->yc, P(m, idx_layer(m, l, OUT_W)), P(m, idx_layer(m, l, OUT_B)), N,
                   C, C);
}

/* g->dao -> dinp (accumulated), parameter gradients. */
static void attention_backward(struct model *m, struct layer_acts *la, struct layer_grads *g, int l,
                               const float *inp, float *dinp, int B, int T)
{
    struct backend *be = m->be;
    const int *lengths = m->acts->lengths;
    int C = m->cfg.width, H = m->cfg.heads, D = C / H, N = B * T;
    long sq = (long)T * D, ss = (long)T * T;
    linear_backward(be, g->dyc, G(m, idx_layer(m, l, OUT_W)), G(m, idx_layer(m, l, OUT_B)), g->dao,
                    la->yc, P(m, idx_layer(m, l, OUT_W)), N, C, C);
    be->merge_heads_backward(be, g->dy, g->dyc, B, T, C, H);
    /* y = att @ v */
    be->matmul_batched(be, 0, 1, T, T, D, 1.0f, g->dy, D, sq, la->v, D, sq, 1.0f, g->datt, T, ss,
                       B * H);
    be->matmul_batched(be, 1, 0, T, D, T, 1.0f, la->att, T, ss, g->dy, D, sq, 1.0f, g->dv, D, sq,
                       B * H);
    be->softmax_backward(be, g->dscores, g->datt, la->att, lengths, B, H, T,
                         1.0f / sqrtf((float)D));
    /* scores = q @ k^T */
    be->matmul_batched(be, 0, 0, T, D, T, 1.0f, g->dscores, T, ss, la->k, D, sq, 1.0f, g->dq, D, sq,
                       B * H);
    be->matmul_batched(be, 1, 0, T, D, T, 1.0f, g->dscores, T, ss, la->q, D, sq, 1.0f, g->dk, D, sq,
                       B * H);
    be->split_heads_backward(be, g->dqkv, g->dq, g->dk, g->dv, B, T, C, H);
    linear_backward(be, dinp, G(m, idx_layer(m, l, QKV_W)), G(m, idx_layer(m, l, QKV_B)), g->dqkv,
                    inp, P(m, idx_layer(m, l, QKV_W)), N, C, 3 * C);
}

/* ---- layers: feed-forward ------------------------------------------------------------------- */

/* inp [N,C] -> fo [N,C] (before dropout). */
static void ffn_forward(struct model *m, struct layer_acts *la, int l, const float *inp, int N)
{
    struct backend *be = m->be;
    int C = m->cfg.width, F = m->cfg.ffn;
    linear_forward(be, la->fh, inp, P(m, idx_layer(m, l, FFN_IN_W)),
                   P(m, idx_layer(m, l, FFN_IN_B)), N, C, F);
    be->gelu_forward(be, la->fg, la->fh, (size_t)N * F);
    linear_forward(be, la->fo, la->fg, P(m, idx_layer(m, l, FFN_OUT_W)),
                   P(m, idx_layer(m, l, FFN_OUT_B)), N, F, C);
}

/* g->dfo -> dinp (accumulated), parameter gradients. */
static void ffn_backward(struct model *m, struct layer_acts *la, struct layer_grads *g, int l,
                         const float *inp, float *dinp, int N)
{
    struct backend *be = m->be;
    int C = m->cfg.width, F = m->cfg.ffn;
    linear_backward(be, g->dfg, G(m, idx_layer(m, l, FFN_OUT_W)), G(m, idx_layer(m, l, FFN_OUT_B)),
                    g->dfo, la->fg, P(m, idx_layer(m, l, FFN_OUT_W)), N, F, C);
    be->gelu_backward(be, g->dfh, la->fh, g->dfg, (size_t)N * F);
    linear_backward(be, dinp, G(m, idx_layer(m, l, FFN_IN_W)), G(m, idx_layer(m, l, FFN_IN_B)),
                    g->dfh, inp, P(m, idx_layer(m, l, FFN_IN_W)), N, C, F);
}

/* ---- layers: transformer block -------------------------------------------------------------- */

static uint64_t site_seed(uint64_t seed, int site)
{
    return fs_hash64(seed * 0x100000001b3ULL + (uint64_t)site);
}

static float drop_p(const struct model *m)
{
    return m->acts->train ? m->cfg.dropout : 0.0f;
}

static void layernorm(struct model *m, float *out, float *mean, float *rstd, const float *inp,
                      int w, int b, int N)
{
    m->be->layernorm_forward(m->be, out, mean, rstd, inp, P(m, w), P(m, b), N, m->cfg.width,
                             m->cfg.ln_eps);
}

/* dinp += d LN(inp) given dout; the LayerNorm's parameter gradients. */
static void layernorm_back(struct model *m, float *dinp, const float *dout, const float *inp,
                           const float *mean, const float *rstd, int w, int b, int N)
{
    m->be->layernorm_backward(m->be, dinp, G(m, w), G(m, b), dout, inp, P(m, w), mean, rstd, N,
                              m->cfg.width);
}

/* Pre-LN, x [N,C] -> out [N,C]: x_mid = x + drop(attn(ln1(x))),
 * out = x_mid + drop(ffn(ln2(x_mid))). */
static void block_forward_pre(struct model *m, int l, struct layer_acts *la, const float *x,
                              float *out, int B, int T)
{
    struct backend *be = m->be;
    int N = B * T;
    size_t NC = (size_t)N * m->cfg.width;
    uint64_t seed = m->acts->seed;
    layernorm(m, la->ln1, la->ln1_mean, la->ln1_rstd, x, idx_layer(m, l, LN1_W),
              idx_layer(m, l, LN1_B), N);
    attention_forward(m, la, l, la->ln1, B, T);
    be->dropout_forward(be, la->ao, la->ao, NC, drop_p(m), site_seed(seed, 1 + 2 * l));
    be->residual_forward(be, la->x_mid, x, la->ao, NC);
    layernorm(m, la->ln2, la->ln2_mean, la->ln2_rstd, la->x_mid, idx_layer(m, l, LN2_W),
              idx_layer(m, l, LN2_B), N);
    ffn_forward(m, la, l, la->ln2, N);
    be->dropout_forward(be, la->fo, la->fo, NC, drop_p(m), site_seed(seed, 2 + 2 * l));
    be->residual_forward(be, out, la->x_mid, la->fo, NC);
}

/* Post-LN (BERT), x [N,C] -> out [N,C]: x_mid = x + drop(attn(x)), ln1 = LN1(x_mid),
 * ln2 = ln1 + drop(ffn(ln1)) (the sum before the second LayerNorm), out = LN2(ln2). */
static void block_forward_post(struct model *m, int l, struct layer_acts *la, const float *x,
                               float *out, int B, int T)
{
    struct backend *be = m->be;
    int N = B * T;
    size_t NC = (size_t)N * m->cfg.width;
    uint64_t seed = m->acts->seed;
    attention_forward(m, la, l, x, B, T);
    be->dropout_forward(be, la->ao, la->ao, NC, drop_p(m), site_seed(seed, 1 + 2 * l));
    be->residual_forward(be, la->x_mid, x, la->ao, NC);
    layernorm(m, la->ln1, la->ln1_mean, la->ln1_rstd, la->x_mid, idx_layer(m, l, LN1_W),
              idx_layer(m, l, LN1_B), N);
    ffn_forward(m, la, l, la->ln1, N);
    be->dropout_forward(be, la->fo, la->fo, NC, drop_p(m), site_seed(seed, 2 + 2 * l));
    be->residual_forward(be, la->ln2, la->ln1, la->fo, NC);
    layernorm(m, out, la->ln2_mean, la->ln2_rstd, la->ln2, idx_layer(m, l, LN2_W),
              idx_layer(m, l, LN2_B), N);
}

static void block_forward(struct model *m, int l, struct layer_acts *la, const float *x,
                          float *out, int B, int T)
{
    if (m->cfg.arch == ARCH_POST_LN)
        block_forward_post(m, l, la, x, out, B, T);
    else
        block_forward_pre(m, l, la, x, out, B, T);
}

/* Zeroes the used part of each layer-gradient buffer for a B x T batch. */
static void zero_layer_grads(struct model *m, int B, int T)
{
    struct backend *be = m->be;
    struct layer_grads *g = &m->acts->g;
    size_t N = (size_t)B * T, C = m->cfg.width, F = m->cfg.ffn;
    size_t A = (size_t)B * m->cfg.heads * T * T, f = sizeof(float);
    float *nc[] = {g->dln1, g->dq, g->dk, g->dv, g->dy, g->dyc, g->dao, g->dln2, g->dfo};
    for (size_t i = 0; i < FS_ARRAY_LEN(nc); i++)
        be->zero(be, nc[i], N * C * f);
    be->zero(be, g->dqkv, 3 * N * C * f);
    be->zero(be, g->datt, A * f);
    be->zero(be, g->dscores, A * f);
    be->zero(be, g->dfh, N * F * f);
    be->zero(be, g->dfg, N * F * f);
}

/* Pre-LN; dres holds d(out) on entry and d(x) on return. */
static void block_backward_pre(struct model *m, int l, struct layer_acts *la, const float *x,
                               float *dres, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    struct layer_grads *g = &a->g;
    int N = B * T;
    size_t NC = (size_t)N * m->cfg.width;
    be->dropout_backward(be, g->dfo, dres, NC, drop_p(m), site_seed(a->seed, 2 + 2 * l));
    ffn_backward(m, la, g, l, la->ln2, g->dln2, N);
    layernorm_back(m, dres, g->dln2, la->x_mid, la->ln2_mean, la->ln2_rstd,
                   idx_layer(m, l, LN2_W), idx_layer(m, l, LN2_B), N);
    be->dropout_backward(be, g->dao, dres, NC, drop_p(m), site_seed(a->seed, 1 + 2 * l));
    attention_backward(m, la, g, l, la->ln1, g->dln1, B, T);
    layernorm_back(m, dres, g->dln1, x, la->ln1_mean, la->ln1_rstd, idx_layer(m, l, LN1_W),
                   idx_layer(m, l, LN1_B), N);
}

/* Post-LN; dres holds d(out) on entry and d(x) on return. g->dln2 takes
 * d(sum before LN2), g->dln1 d(ln1). */
static void block_backward_post(struct model *m, int l, struct layer_acts *la, const float *x,
                                float *dres, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    struct layer_grads *g = &a->g;
    int N = B * T;
    size_t NC = (size_t)N * m->cfg.width;
    layernorm_back(m, g->dln2, dres, la->ln2, la->ln2_mean, la->ln2_rstd, idx_layer(m, l, LN2_W),
                   idx_layer(m, l, LN2_B), N);
    be->copy(be, g->dln1, g->dln2, NC * sizeof(float)); /* the residual path to ln1 */
    be->dropout_backward(be, g->dfo, g->dln2, NC, drop_p(m), site_seed(a->seed, 2 + 2 * l));
    ffn_backward(m, la, g, l, la->ln1, g->dln1, N);
    be->zero(be, dres, NC * sizeof(float));
    layernorm_back(m, dres, g->dln1, la->x_mid, la->ln1_mean, la->ln1_rstd,
                   idx_layer(m, l, LN1_W), idx_layer(m, l, LN1_B), N);
    be->dropout_backward(be, g->dao, dres, NC, drop_p(m), site_seed(a->seed, 1 + 2 * l));
    attention_backward(m, la, g, l, x, dres, B, T);
}

static void block_backward(struct model *m, int l, struct layer_acts *la, const float *x,
                           float *dres, int B, int T)
{
    zero_layer_grads(m, B, T);
    if (m->cfg.arch == ARCH_POST_LN)
        block_backward_post(m, l, la, x, dres, B, T);
    else
        block_backward_pre(m, l, la, x, dres, B, T);
}

/* ---- layers: embeddings --------------------------------------------------------------------- */

/* ids -> out [N,C]: tok + pos (pre-LN), LN_emb(tok + pos + type[0]) (post-LN); then dropout. */
static void embed_forward(struct model *m, float *out, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int C = m->cfg.width, N = B * T;
    float *sum = m->cfg.arch == ARCH_POST_LN ? a->emb : out;
    be->embedding_forward(be, sum, a->ids, P(m, m->ix.wte), P(m, m->ix.wpe), B, T, C);
    if (m->ix.wtt >= 0)
        be->bias_forward(be, sum, P(m, m->ix.wtt), N, C); /* every token is of type 0 */
    if (m->cfg.arch == ARCH_POST_LN)
        layernorm(m, out, a->emb_mean, a->emb_rstd, a->emb, m->ix.eln_w, m->ix.eln_b, N);
    be->dropout_forward(be, out, out, (size_t)N * C, drop_p(m), site_seed(a->seed, 0));
}

/* dres = d(embedding output) -> parameter gradients. */
static void embed_backward(struct model *m, const float *dres, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int C = m->cfg.width, N = B * T;
    size_t bytes = (size_t)N * C * sizeof(float);
    float *demb = a->g.dln1, *dsum = demb; /* layer scratch, free again */
    be->zero(be, demb, bytes);
    be->dropout_backward(be, demb, dres, (size_t)N * C, drop_p(m), site_seed(a->seed, 0));
    if (m->cfg.arch == ARCH_POST_LN) {
        dsum = a->g.dln2;
        be->zero(be, dsum, bytes);
        layernorm_back(m, dsum, demb, a->emb, a->emb_mean, a->emb_rstd, m->ix.eln_w, m->ix.eln_b,
                       N);
    }
    if (m->ix.wtt >= 0)
        be->bias_backward(be, G(m, m->ix.wtt), dsum, N, C);
    be->embedding_backward(be, G(m, m->ix.wte), G(m, m->ix.wpe), dsum, a->ids, B, T, C);
}

/* ---- layers: pooling and heads ------------------------------------------------------------------
 */

/* The pooling query: the learned one, or for POOL_MEAN a zero vector (equal
 * scores: the softmax gives each real token 1/len; its gradient through the
 * scores is q times something, so zero, and the one left is dpooled / len). */
static const float *pool_query(struct model *m)
{
    return m->cfg.pool == POOL_ATTENTION ? P(m, m->ix.pool_q) : m->acts->pool_zero_q;
}

/* hidden [B,T,C] -> logits [B,K] */
static void head_forward(struct model *m, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int C = m->cfg.width, K = model_config_logits(&m->cfg);
    const float *w = P(m, m->ix.head_w);
    if (m->cfg.pool != POOL_CLS) {
        be->attnpool_forward(be, a->pooled, a->poolw, a->hidden, pool_query(m), a->lengths, B, T,
                             C);
        be->matmul(be, 0, 1, B, K, C, 1.0f, a->pooled, C, w, C, 0.0f, a->logits, K);
    } else {
        /* the [CLS] rows: row 0 of each sequence, stride T*C */
        be->matmul(be, 0, 1, B, K, C, 1.0f, a->hidden, T * C, w, C, 0.0f, a->logits, K);
    }
    be->bias_forward(be, a->logits, P(m, m->ix.head_b), B, K);
}

static void head_backward(struct model *m, int B, int T)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int C = m->cfg.width, K = model_config_logits(&m->cfg);
    const float *w = P(m, m->ix.head_w);
    be->bias_backward(be, G(m, m->ix.head_b), a->dlogits, B, K);
    if (m->cfg.pool != POOL_CLS) {
        float *dq = m->cfg.pool == POOL_ATTENTION ? G(m, m->ix.pool_q) : a->pool_dq_scratch;
        be->matmul(be, 1, 0, K, C, B, 1.0f, a->dlogits, K, a->pooled, C, 1.0f, G(m, m->ix.head_w),
                   C);
        be->matmul(be, 0, 0, B, C, K, 1.0f, a->dlogits, K, w, C, 1.0f, a->dpooled, C);
        be->attnpool_backward(be, a->dlnf, dq, a->dpooled, a->hidden, pool_query(m), a->poolw,
                              a->lengths, B, T, C);
    } else {
        be->matmul(be, 1, 0, K, C, B, 1.0f, a->dlogits, K, a->hidden, T * C, 1.0f, G(m, m->ix.head_w),
                   C);
        be->matmul(be, 0, 0, B, C, K, 1.0f, a->dlogits, K, w, C, 1.0f, a->dlnf, T * C);
    }
}

/* ---- the whole model
 * ------------------------------------------------------------------------------ */

static int check_batch(const struct model *m, const struct model_batch *b, struct fs_error *err)
{
    if (b->B < 1 || b->T < 1)
        return fs_error_set(err, "empty batch");
    if (b->T > m->cfg.max_len)
        return fs_error_set(err, "batch length %d exceeds the model's %d positions", b->T,
                            m->cfg.max_len);
    for (int i = 0; i < b->B; i++)
        if (b->lengths[i] < 1 || b->lengths[i] > b->T)
            return fs_error_set(err, "sequence %d has length %d (batch length %d)", i,
                                b->lengths[i], b->T);
    for (size_t i = 0; i < (size_t)b->B * b->T; i++)
        if (b->ids[i] < 0 || b->ids[i] >= m->cfg.vocab)
            return fs_error_set(err, "token id %d outside the vocabulary (%d)", b->ids[i],
                                m->cfg.vocab);
    return 0;
}

int model_row_labeled(const struct model_config *c, int32_t task, int32_t label)
{
    return task >= 0 && task < c->n_out && label >= 0 && label < c->out_sizes[task];
}

static void upload_labels(struct model *m, const struct model_batch *b)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    size_t bytes = (size_t)b->B * sizeof(int32_t);
    a->n_labeled = 0;
    if (b->task && b->label) {
        for (int i = 0; i < b->B; i++)
            a->n_labeled += model_row_labeled(&m->cfg, b->task[i], b->label[i]);
        be->upload(be, a->task, b->task, bytes);
        be->upload(be, a->label, b->label, bytes);
        return;
    }
    for (int i = 0; i < b->B; i++)
        a->host_task[i] = -1;
    be->upload(be, a->task, a->host_task, bytes);
    be->upload(be, a->label, a->host_task, bytes);
}

int model_forward(struct model *m, const struct model_batch *b, int train, uint64_t seed,
                  float *loss, struct fs_error *err)
{
    if (check_batch(m, b, err) < 0)
        return -1;
    if (acts_reserve(m, b->B, (size_t)b->B * b->T, (size_t)b->B * m->cfg.heads * b->T * b->T,
                     train, err) < 0)
        return -1;
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int B = b->B, T = b->T, N = B * T, L = m->cfg.layers;
    a->B = B;
    a->T = T;
    a->train = train;
    a->seed = seed;
    be->upload(be, a->ids, b->ids, (size_t)N * sizeof(int32_t));
    be->upload(be, a->lengths, b->lengths, (size_t)B * sizeof(int32_t));
    upload_labels(m, b);

    embed_forward(m, a->res[0], B, T);
    for (int l = 0; l < L; l++) {
        int slot = train ? l : 0;
        float *x = train ? a->res[l] : a->res[l % 2];
        float *out = train ? a->res[l + 1] : a->res[(l + 1) % 2];
        block_forward(m, l, &a->layer[slot], x, out, B, T);
        a->last_slot = slot;
    }
    float *last = train ? a->res[L] : a->res[L % 2];
    a->hidden = last;
    if (m->cfg.arch == ARCH_PRE_LN) {
        layernorm(m, a->lnf, a->lnf_mean, a->lnf_rstd, last, m->ix.lnf_w, m->ix.lnf_b, N);
        a->hidden = a->lnf;
    }
    if (m->cfg.n_out) {
        head_forward(m, B, T);
        be->crossentropy_forward(be, a->losses, a->probs, a->logits, a->task, a->label, B,
                                 m->cfg.n_out, m->cfg.out_sizes, m->label_smoothing);
    }
    if (loss && !m->cfg.n_out) {
        *loss = 0.0f;
    } else if (loss) {
        float *h = xmalloc((size_t)B * sizeof(float));
        be->download(be, h, a->losses, (size_t)B * sizeof(float));
        double s = 0.0;
        for (int i = 0; i < B; i++)
            s += h[i];
        *loss = a->n_labeled ? (float)(s / a->n_labeled) : 0.0f;
        free(h);
    }
    return be->check(be, err);
}

void model_backward(struct model *m)
{
    model_backward_rows(m, m->acts->n_labeled);
}

void model_backward_rows(struct model *m, int rows)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int B = a->B, T = a->T, C = m->cfg.width, N = B * T, L = m->cfg.layers;
    int K = model_config_logits(&m->cfg);
    be->zero(be, m->grads, m->n_params * sizeof(float));
    be->zero(be, a->dres, (size_t)N * C * sizeof(float));
    be->zero(be, a->dlnf, (size_t)N * C * sizeof(float));
    be->zero(be, a->dpooled, (size_t)B * C * sizeof(float));
    be->zero(be, a->dlogits, (size_t)B * K * sizeof(float));
    if (!a->n_labeled || rows < 1)
        return;
    be->crossentropy_backward(be, a->dlogits, a->probs, a->task, a->label, B, m->cfg.n_out,
                              m->cfg.out_sizes, m->label_smoothing, 1.0f / rows);
    head_backward(m, B, T);
    if (m->cfg.arch == ARCH_PRE_LN)
        layernorm_back(m, a->dres, a->dlnf, a->res[L], a->lnf_mean, a->lnf_rstd, m->ix.lnf_w,
                       m->ix.lnf_b, N);
    else
        be->copy(be, a->dres, a->dlnf, (size_t)N * C * sizeof(float));
    for (int l = L - 1; l >= 0; l--)
        block_backward(m, l, &a->layer[l], a->res[l], a->dres, B, T);
    embed_backward(m, a->dres, B, T);
}

void model_get_probs(struct model *m, float *probs)
{
    struct model_acts *a = m->acts;
    size_t n = (size_t)a->B * model_config_logits(&m->cfg);
    m->be->download(m->be, probs, a->probs, n * sizeof(float));
}

void model_get_logits(struct model *m, float *logits)
{
    struct model_acts *a = m->acts;
    size_t n = (size_t)a->B * model_config_logits(&m->cfg);
    m->be->download(m->be, logits, a->logits, n * sizeof(float));
}

void model_get_hidden(struct model *m, float *hidden)
{
    struct model_acts *a = m->acts;
    size_t n = (size_t)a->B * a->T * m->cfg.width;
    m->be->download(m->be, hidden, a->hidden, n * sizeof(float));
}

void model_get_attention(struct model *m, float *att)
{
    struct backend *be = m->be;
    struct model_acts *a = m->acts;
    int B = a->B, T = a->T, H = m->cfg.heads;
    if (m->cfg.pool == POOL_ATTENTION) {
        be->download(be, att, a->poolw, (size_t)B * T * sizeof(float));
        return;
    }
    float *row = xmalloc((size_t)T * sizeof(float));
    const float *src = a->layer[a->last_slot].att;
    for (int b = 0; b < B; b++) {
        float *o = att + (size_t)b * T;
        memset(o, 0, (size_t)T * sizeof(float));
        for (int h = 0; h < H; h++) {
            be->download(be, row, src + ((size_t)b * H + h) * T * T, (size_t)T * sizeof(float));
            for (int t = 0; t < T; t++)
                o[t] += row[t] / H;
        }
    }
    free(row);
}
