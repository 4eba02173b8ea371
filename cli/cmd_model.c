/*
 * cmd_model.c — the model commands: 'train', 'eval', 'classify', 'predict'.
 *
 * Model path: --model / --out, else "path" in the config's [model] section,
 * else $XDG_DATA_HOME/finsent/model.safetensors. Training data: --*-data, else
 * data/ found through $FINSENT_DATA, beside the binary, or the install prefix.
 */
#include "classify/base.h"
#include "classify/classify.h"
#include "classify/hf_bert.h"
#include "classify/ops_math.h"
#include "classify/dataset.h"
#include "classify/infer.h"
#include "classify/metrics.h"
#include "classify/metrics_report.h"
#include "classify/train.h"
#include "classify/windows.h"
#include "cli/cli.h"
#include "cli/config_check.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RETRAIN "run 'finsent train' to make one"

/* ---- shared helpers --------------------------------------------------------- */

/* The model file: explicit path, [model] path in the config, or the XDG default. */
char *cli_model_path(struct cli_ctx *ctx, const char *opt)
{
    if (opt)
        return xstrdup(opt);
    if (cli_config(ctx) == 0) {
        const char *p = config_get(ctx->cfg, "model", "path");
        if (p)
            return xstrdup(p);
    }
    return path_xdg_data("model.safetensors");
}

static int dir_exists(const char *path)
{
    return access(path, R_OK | X_OK) == 0;
}

char *cli_data_dir(void)
{
    const char *env = getenv("FINSENT_DATA");
    if (env && *env)
        return xstrdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        const char *rel[] = {"/data", "/../share/finsent/data", "/../data"};
        for (size_t i = 0; i < FS_ARRAY_LEN(rel); i++) {
            struct strbuf sb = STRBUF_INIT;
            sb_appendf(&sb, "%s%s", exe, rel[i]);
            if (dir_exists(sb.buf))
                return sb_detach(&sb);
            sb_free(&sb);
        }
    }
    if (dir_exists("/usr/local/share/finsent/data"))
        return xstrdup("/usr/local/share/finsent/data");
    return NULL;
}

static char *data_file(const char *dir, const char *set, const char *split)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/twitter_financial_news_%s/%s.csv", dir, set, split);
    return sb_detach(&sb);
}

/* The device: explicit option, [model] device in the config, else "auto". */
const char *cli_model_device(struct cli_ctx *ctx, const char *opt)
{
    if (opt)
        return opt;
    const char *d = cli_config(ctx) == 0 ? config_get(ctx->cfg, "model", "device") : NULL;
    return d ? d : "auto";
}

/* Creates the backend and loads the model; returns 0 or an exit code (printed). */
int cli_open_classifier(struct cli_ctx *ctx, const char *path, const char *device,
                        struct backend **be, struct classifier **cls)
{
    struct fs_error err;
    *be = NULL;
    *cls = NULL;
    if (access(path, F_OK) != 0)
        return cli_fail(FS_EXIT_MODEL, "no model at %s (%s)", path, RETRAIN);
    if (backend_create(cli_model_device(ctx, device), be, ctx->verbose, &err) < 0)
        return cli_fail(FS_EXIT_FAILURE, "%s", err.msg);
    if (classifier_load(path, *be, cls, &err) < 0) {
        (*be)->destroy(*be);
        *be = NULL;
        return cli_fail(FS_EXIT_MODEL, "invalid model: %s (%s)", err.msg, RETRAIN);
    }
    return 0;
}

void cli_close_classifier(struct backend *be, struct classifier *cls)
{
    classifier_free(cls);
    if (be)
        be->destroy(be);
}

static int parse_int_opt(const char *name, const char *v, int min, int max, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || x < min || x > max)
        return cli_fail(FS_EXIT_USAGE, "%s: expected an integer in [%d, %d], got '%s'", name, min,
                        max, v);
    *out = (int)x;
    return 0;
}

static int parse_float_opt(const char *name, const char *v, float min, float max, float *out)
{
    char *end;
    double x = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || !(x >= min && x <= max))
        return cli_fail(FS_EXIT_USAGE, "%s: expected a number in [%g, %g], got '%s'", name,
                        (double)min, (double)max, v);
    *out = (float)x;
    return 0;
}

/* Accuracy and macro-F1 of c on an encoded set (rows all of one task). */
static int evaluate(struct classifier *c, const struct encoded_set *s, enum task task,
                    struct metrics *m, struct fs_error *err)
{
    int *pred = xcalloc(s->n + 1, sizeof *pred);
    int *truth = xcalloc(s->n + 1, sizeof *truth);
    int rc = classifier_predict_encoded(c, s, pred, err);
    for (size_t i = 0; i < s->n; i++)
        truth[i] = s->label[i];
    if (rc == 0)
        metrics_compute(truth, pred, s->n, task_n_labels(task), m);
    free(pred);
    free(truth);
    return rc;
}

/* ---- train ----------------------------------------------------------------------- */

struct train_args {
    const char *out, *device, *sent, *topic, *sent_val, *topic_val;
    const char *news; /* --news-data: a text,sentiment,topic CSV, "none", or NULL (bundled) */
    struct model_config cfg;
    struct train_options opt;
    int ngram_bits; /* 0: no n-gram path; -1: the default for the encoder trained */
    const char *base; /* --base NAME|DIR|none, or NULL: [model] base, else the default */
    int max_examples; /* --max-examples: train on a random subset (0: all) */
    int negative_repeat; /* --negative-repeat: negative sentiment rows appear N times */
    int fold_urls;       /* --fold-urls: a base reads each URL as the word "http" */
    int train_len;    /* tokens per training text with a base (--max-len) */
    int lr_given, epochs_given, dropout_given, pool_given;
    const char *arch_opt; /* an option that shapes a new encoder (--width ...), or NULL */
    struct ngram_train_options ngram;
};

/* Fine-tuning defaults (a base's own encoder: a small learning rate, few epochs).
 * The learning rate was chosen on a development split held out of the tweet
 * training sets (scripts/dev_split.py), not on the validation sets: 1e-4 against
 * 5e-5 gave dev topic 0.9069 against 0.8985, sentiment 0.8698 against 0.8540;
 * 2e-4 and 1.5e-4, tried the same way, did not raise dev topic accuracy, and 2e-4
 * asked again with seed 2 gained nothing on sentiment (README, "Measured"). */
#define FINETUNE_EPOCHS 3
#define FINETUNE_LR 1e-4f
#define FINETUNE_DROPOUT 0.1f
#define FINETUNE_MAX_LEN 128
/* Negative sentiment examples count twice: chosen on the validation sets
 * (sentiment macro-F1 0.8254 -> 0.8328, accuracy 0.8727 -> 0.8752, topic
 * 0.9033 -> 0.9043; README, "Measured"). */
#define TRAIN_NEGATIVE_REPEAT 2
#define FINETUNE_POOL POOL_MEAN
/* A fine-tuned base reads without the n-gram path unless --ngram-bits asks for it:
 * the mix helped on the tweet validation sets but not on news text, the issue's
 * condition for keeping it (news check topic 0.8253 mixed against 0.8401 alone,
 * sentiment 0.8922 against 0.8996, negative recall 0.905 against 0.921; README,
 * "Measured"). An encoder learned from scratch keeps the mix. */
#define FINETUNE_NGRAM_BITS 0

static void train_usage(void)
{
    printf("usage: finsent train [--base NAME|DIR|none] [--out PATH] [--epochs N] [--seed N]\n"
           "         [--device auto|cpu|cuda] [--sentiment-data CSV] [--topic-data CSV]\n"
           "         [--sentiment-val CSV] [--topic-val CSV] [--news-data CSV|none]\n"
           "         [--max-examples N] [--width N] [--layers N] [--heads N] [--ffn N]\n"
           "         [--vocab N] [--max-len N] [--pool cls|attention|mean] [--dropout P]\n"
           "         [--batch N] [--batch-tokens N] [--lr X] [--label-smoothing X]\n"
           "         [--ngram-bits N] [--ngram-epochs N] [--negative-repeat N] [--fold-urls]\n"
           "Trains the topic + sentiment model on text,label CSVs and saves it\n"
           "(safetensors). By default it learns from the bundled data/: the labelled\n"
           "tweets and the news sentences of data/news_train/ (a text,sentiment,topic\n"
           "CSV, which --news-data replaces or, with none, leaves out). Given both\n"
           "--sentiment-data and --topic-data, it learns from those alone: no\n"
           "bundled file is read, and news only from --news-data. With a\n"
           "pretrained base (--base, [model] base, or %s when\n"
           "installed: 'make base-model'), the base is\n"
           "fine-tuned with its WordPiece tokenizer (defaults: %d epochs, lr %g, mean\n"
           "pooling, dropout %g, texts cut to %d tokens); with --base none (or no base\n"
           "installed), finsent's own encoder and tokenizer are learned from scratch;\n"
           "--width, --layers, --heads, --ffn and --vocab shape such a new encoder and\n"
           "so imply it.\n"
           "An encoder learned from scratch is mixed with a linear layer on hashed\n"
           "word and character n-grams (2^N buckets per kind, default %d;\n"
           "--ngram-bits 0 leaves it out); a fine-tuned base reads alone unless\n"
           "--ngram-bits N adds that layer (the mix did not help on news text, see\n"
           "the README).\n"
           "--negative-repeat N repeats each negative sentiment example N times (the\n"
           "class weighs N times as much; default %d: a missed negative costs more).\n"
           "--fold-urls makes a fine-tuned model read each URL as the word \"http\"\n"
           "(a third fewer tokens per tweet, so faster; off by default: it cost\n"
           "validation sentiment accuracy, see the README).\n",
           BASE_DEFAULT_NAME, FINETUNE_EPOCHS, (double)FINETUNE_LR, (double)FINETUNE_DROPOUT,
           FINETUNE_MAX_LEN, NGRAM_DEFAULT_BITS, TRAIN_NEGATIVE_REPEAT);
}

static int train_parse(int argc, char **argv, struct train_args *a)
{
    model_config_default(&a->cfg);
    train_options_default(&a->opt);
    a->ngram_bits = -1;
    a->negative_repeat = TRAIN_NEGATIVE_REPEAT;
    ngram_train_options_default(&a->ngram);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r = 0, rc = 0;
        if (!strcmp(argv[i], "--help")) {
            train_usage();
            exit(FS_EXIT_OK);
        }
#define OPT(name) ((r = cli_opt_value(argc, argv, &i, name, &v)) != 0)
        if (OPT("--out"))
            a->out = v;
        else if (OPT("--base"))
            a->base = v;
        else if (OPT("--max-examples"))
            rc = r > 0 ? parse_int_opt("--max-examples", v, 1, INT_MAX, &a->max_examples) : 0;
        else if (OPT("--negative-repeat"))
            rc = r > 0 ? parse_int_opt("--negative-repeat", v, 1, 10, &a->negative_repeat) : 0;
        else if (!strcmp(argv[i], "--fold-urls"))
            a->fold_urls = 1;
        else if (OPT("--device"))
            a->device = v;
        else if (OPT("--sentiment-data"))
            a->sent = v;
        else if (OPT("--topic-data"))
            a->topic = v;
        else if (OPT("--sentiment-val"))
            a->sent_val = v;
        else if (OPT("--topic-val"))
            a->topic_val = v;
        else if (OPT("--news-data"))
            a->news = v;
        else if (OPT("--epochs"))
            rc = r > 0 ? parse_int_opt("--epochs", v, 1, 1000, &a->opt.epochs) : 0,
            a->epochs_given = 1;
        else if (OPT("--seed")) {
            int s = 0;
            rc = r > 0 ? parse_int_opt("--seed", v, 0, INT_MAX, &s) : 0;
            a->opt.seed = (uint64_t)s;
        } else if (OPT("--width") && (a->arch_opt = "--width"))
            rc = r > 0 ? parse_int_opt("--width", v, 2, 4096, &a->cfg.width) : 0;
        else if (OPT("--layers") && (a->arch_opt = "--layers"))
            rc = r > 0 ? parse_int_opt("--layers", v, 1, MODEL_MAX_LAYERS, &a->cfg.layers) : 0;
        else if (OPT("--heads") && (a->arch_opt = "--heads"))
            rc = r > 0 ? parse_int_opt("--heads", v, 1, 64, &a->cfg.heads) : 0;
        else if (OPT("--ffn") && (a->arch_opt = "--ffn"))
            rc = r > 0 ? parse_int_opt("--ffn", v, 1, 16384, &a->cfg.ffn) : 0;
        else if (OPT("--vocab") && (a->arch_opt = "--vocab"))
            rc = r > 0 ? parse_int_opt("--vocab", v, 64, 1000000, &a->cfg.vocab) : 0;
        else if (OPT("--max-len"))
            rc = r > 0 ? parse_int_opt("--max-len", v, 4, 4096, &a->cfg.max_len) : 0,
            a->train_len = a->cfg.max_len;
        else if (OPT("--ngram-bits")) {
            rc = r > 0 ? parse_int_opt("--ngram-bits", v, 0, NGRAM_MAX_BITS, &a->ngram_bits) : 0;
            if (!rc && a->ngram_bits > 0 && a->ngram_bits < NGRAM_MIN_BITS)
                rc = cli_fail(FS_EXIT_USAGE, "--ngram-bits: 0 or %d..%d", NGRAM_MIN_BITS,
                              NGRAM_MAX_BITS);
        } else if (OPT("--ngram-epochs"))
            rc = r > 0 ? parse_int_opt("--ngram-epochs", v, 1, 1000, &a->ngram.epochs) : 0;
        else if (OPT("--batch"))
            rc = r > 0 ? parse_int_opt("--batch", v, 1, 4096, &a->opt.batch_size) : 0;
        else if (OPT("--batch-tokens"))
            rc = r > 0 ? parse_int_opt("--batch-tokens", v, 0, INT_MAX, &a->opt.batch_tokens) : 0;
        else if (OPT("--dropout"))
            rc = r > 0 ? parse_float_opt("--dropout", v, 0, 0.9f, &a->cfg.dropout) : 0,
            a->dropout_given = 1;
        else if (OPT("--lr"))
            rc = r > 0 ? parse_float_opt("--lr", v, 1e-6f, 1.0f, &a->opt.lr) : 0, a->lr_given = 1;
        else if (OPT("--label-smoothing"))
            rc = r > 0 ? parse_float_opt("--label-smoothing", v, 0, 0.5f, &a->opt.label_smoothing)
                       : 0;
        else if (OPT("--pool")) {
            if (r > 0 && model_pool_from_name(v) < 0)
                return cli_fail(FS_EXIT_USAGE, "--pool: expected cls, attention or mean");
            if (r > 0)
                a->cfg.pool = model_pool_from_name(v);
            a->pool_given = 1;
        } else
            return cli_fail(FS_EXIT_USAGE, "train: unknown option '%s' (see --help)", argv[i]);
#undef OPT
        if (r < 0)
            return FS_EXIT_USAGE;
        if (rc)
            return rc;
    }
    return 0;
}

/* Loads one training CSV (or the bundled one) into ds. */
static int load_set(const char *given, const char *data_dir, const char *set, const char *split,
                    enum task task, int required, struct dataset *ds)
{
    struct fs_error err;
    memset(ds, 0, sizeof *ds);
    char *path = given ? xstrdup(given) : data_dir ? data_file(data_dir, set, split) : NULL;
    if (!path) {
        if (!required)
            return 0;
        return cli_fail(FS_EXIT_USAGE,
                        "no training data: give --%s-data, or set FINSENT_DATA to finsent's data/",
                        set);
    }
    if (!given && !required && access(path, R_OK) != 0) {
        free(path);
        return 0;
    }
    int rc = dataset_load_csv(path, task, ds, &err);
    free(path);
    if (rc < 0)
        return cli_fail(FS_EXIT_FAILURE, "%s", err.msg);
    return 0;
}

/* The news sentences (text,sentiment,topic: one example per task and row), from
 * --news-data or the data directory's news_train/all.csv when there is one;
 * none with --news-data none. */
static int load_news(const struct train_args *a, const char *data_dir, struct dataset *train)
{
    if (a->news && !strcmp(a->news, "none"))
        return 0;
    char *path = a->news ? xstrdup(a->news) : data_dir ? path_join(data_dir, "news_train/all.csv")
                                                       : NULL;
    int rc = 0;
    if (path && (a->news || access(path, R_OK) == 0)) {
        for (int task = 0; task < TASK_COUNT && rc == 0; task++) {
            struct dataset ds;
            rc = load_set(path, NULL, NULL, NULL, (enum task)task, 1, &ds);
            dataset_append(train, &ds);
            dataset_free(&ds);
        }
    }
    free(path);
    return rc;
}

/* Validation accuracy and macro-F1 of the model, and of each path alone when it
 * has two. */
static void report_validation(struct cli_ctx *ctx, struct classifier *cls,
                              const struct dataset *val, enum task task)
{
    if (!val->n || ctx->quiet)
        return;
    struct encoded_set s;
    encoded_set_build(cls->tok, val, cls->model->cfg.max_len, &s);
    static const char *const part_name[] = {"", " (encoder alone)", " (n-gram alone)"};
    for (int part = PARTS_BOTH; part <= (cls->ngram ? PARTS_NGRAM : PARTS_BOTH); part++) {
        struct metrics m;
        struct fs_error err;
        cls->parts = (enum classifier_parts)part;
        if (evaluate(cls, &s, task, &m, &err) == 0) {
            printf("validation %-9s accuracy %.4f  macro-F1 %.4f  (n=%zu)%s\n", task_name(task),
                   m.accuracy, m.macro_f1, m.n, part_name[part]);
            metrics_free(&m);
        } else {
            log_warn("validation %s: %s", task_name(task), err.msg);
            break;
        }
    }
    cls->parts = PARTS_BOTH;
    encoded_set_free(&s);
}

/* The n-gram path, trained before the encoder (it takes seconds). */
static int train_ngram(struct cli_ctx *ctx, struct train_args *a, const struct dataset *train,
                       struct classifier *cls, struct fs_error *err)
{
    double t0 = time_monotonic();
    cls->ngram = ngram_create(a->ngram_bits, &a->cfg);
    a->ngram.seed = a->opt.seed;
    if (ngram_train(cls->ngram, train, &a->ngram, err) < 0)
        return -1;
    if (!ctx->quiet)
        printf("n-gram path: 2 x 2^%d buckets, %d epochs, trained in %.1f s\n", a->ngram_bits,
               a->ngram.epochs, time_monotonic() - t0);
    return 0;
}

/* The base to fine-tune: --base, else [model] base, else the default when it
 * is installed. Returns the directory (caller frees), NULL for training from
 * scratch, or NULL with *code set (printed) when an explicit base is missing. */
static char *train_base_dir(struct cli_ctx *ctx, const struct train_args *a, int *code)
{
    *code = 0;
    if (a->arch_opt && a->base && strcmp(a->base, "none")) {
        *code = cli_fail(FS_EXIT_USAGE, "train: %s shapes a new encoder; a base has its own "
                                         "(use --base none to train from scratch)",
                         a->arch_opt);
        return NULL;
    }
    if (a->arch_opt) /* the shape of a new encoder was asked for */
        return NULL;
    const char *b = a->base;
    if (!b && cli_config(ctx) == 0)
        b = config_get(ctx->cfg, "model", "base");
    if (b && !strcmp(b, "none"))
        return NULL;
    struct fs_error err;
    char *dir = base_resolve(b ? b : BASE_DEFAULT_NAME, &err);
    if (!dir && b)
        *code = cli_fail(FS_EXIT_MODEL, "train: %s", err.msg);
    else if (!dir && !ctx->quiet)
        printf("no base model installed (make base-model installs %s); training finsent's "
               "own encoder from scratch\n",
               BASE_DEFAULT_NAME);
    return dir;
}

/* From scratch: finsent's tokenizer learned from the training texts, a new encoder. */
static int train_prepare_scratch(struct train_args *a, const struct dataset *train,
                                 struct classifier *cls, struct fs_error *err)
{
    const char **texts = xmalloc((train->n + 1) * sizeof *texts);
    for (size_t i = 0; i < train->n; i++)
        texts[i] = train->ex[i].text;
    struct tokenizer *tok;
    int rc = tokenizer_train(texts, train->n, a->cfg.vocab, &tok, err);
    free(texts);
    if (rc < 0)
        return fs_error_prefix(err, "tokenizer");
    cls->tok = text_tok_from_learned(tok);
    a->cfg.vocab = tokenizer_vocab_size(tok);
    a->train_len = a->cfg.max_len;
    return model_create(&a->cfg, cls->be, a->opt.seed, &cls->model, err);
}

/* Fine-tuning: the base's WordPiece and encoder, new heads, fine-tuning defaults
 * for what the command line left open. */
static int train_prepare_base(struct train_args *a, const char *dir, struct classifier *cls,
                              struct fs_error *err)
{
    struct wordpiece *wp;
    if (wordpiece_load_dir(dir, &wp, err) < 0)
        return -1;
    cls->tok = text_tok_from_wordpiece(wp);
    text_tok_set_url_fold(cls->tok, a->fold_urls);
    if (!a->epochs_given)
        a->opt.epochs = FINETUNE_EPOCHS;
    if (!a->lr_given)
        a->opt.lr = FINETUNE_LR;
    if (!a->dropout_given)
        a->cfg.dropout = FINETUNE_DROPOUT;
    if (!a->pool_given)
        a->cfg.pool = FINETUNE_POOL;
    if (!a->train_len)
        a->train_len = FINETUNE_MAX_LEN;
    if (hf_bert_load(dir, cls->be, &a->cfg, a->opt.seed, &cls->model, err) < 0)
        return -1;
    if (a->train_len > cls->model->cfg.max_len)
        a->train_len = cls->model->cfg.max_len;
    a->cfg = cls->model->cfg;
    struct base_info info;
    if (base_inspect(dir, &info, err) < 0)
        return -1;
    const char *slash = strstr(dir, "/base/");
    snprintf(cls->base_name, sizeof cls->base_name, "%s", info.name ? info.name
                                                         : slash        ? slash + 6
                                                                        : dir);
    snprintf(cls->base_sha256, sizeof cls->base_sha256, "%s", info.weights_sha256);
    base_info_free(&info);
    if (!cls->base_sha256[0]) {
        char *p = path_join(dir, "model.safetensors");
        int rc = sha256_file_hex(p, cls->base_sha256, err);
        free(p);
        return rc;
    }
    return 0;
}

/* A random subset of max rows (seeded), in place. */
static void train_subset(struct dataset *d, int max, uint64_t seed)
{
    if (max <= 0 || (size_t)max >= d->n)
        return;
    size_t *idx = xmalloc(d->n * sizeof *idx);
    for (size_t i = 0; i < d->n; i++)
        idx[i] = i;
    uint64_t rng = seed ^ 0x5eed;
    fs_shuffle(idx, d->n, &rng);
    struct example *keep = xmalloc((size_t)max * sizeof *keep);
    for (int i = 0; i < max; i++)
        keep[i] = d->ex[idx[i]];
    for (int i = max; (size_t)i < d->n; i++)
        free(d->ex[idx[i]].text);
    free(d->ex);
    d->ex = keep;
    d->n = (size_t)max;
    free(idx);
}

/* The validation rows of both tasks, encoded, for the per-epoch log line. */
static void train_validation_set(struct classifier *cls, const struct dataset *vt,
                                 const struct dataset *vs, int max_len, struct encoded_set *val)
{
    struct dataset both = {0};
    /* borrow the validation rows (texts stay owned by the callers) */
    both.ex = xcalloc(vt->n + vs->n + 1, sizeof *both.ex);
    memcpy(both.ex, vt->ex, vt->n * sizeof *both.ex);
    memcpy(both.ex + vt->n, vs->ex, vs->n * sizeof *both.ex);
    both.n = vt->n + vs->n;
    encoded_set_build(cls->tok, &both, max_len, val);
    free(both.ex);
}

static int train_run(struct cli_ctx *ctx, struct train_args *a, struct dataset *train,
                     struct dataset *val_topic, struct dataset *val_sent, const char *out)
{
    struct fs_error err;
    struct classifier cls = {0};
    int code;
    char *base = train_base_dir(ctx, a, &code);
    if (code)
        return code;
    if (a->ngram_bits < 0)
        a->ngram_bits = base ? FINETUNE_NGRAM_BITS : NGRAM_DEFAULT_BITS;
    if (backend_create(cli_model_device(ctx, a->device), &cls.be, ctx->verbose, &err) < 0) {
        free(base);
        return cli_fail(FS_EXIT_FAILURE, "%s", err.msg);
    }
    train_subset(train, a->max_examples, a->opt.seed);
    dataset_repeat(train, TASK_SENTIMENT, SENT_NEGATIVE, a->negative_repeat);
    int rc = base ? train_prepare_base(a, base, &cls, &err)
                  : train_prepare_scratch(a, train, &cls, &err);
    struct encoded_set set = {0}, val = {0};
    struct train_stats st;
    if (rc == 0 && a->ngram_bits > 0)
        rc = train_ngram(ctx, a, train, &cls, &err);
    if (rc == 0) {
        encoded_set_build(cls.tok, train, a->train_len, &set);
        a->opt.progress = ctx->is_tty && !ctx->quiet ? stderr : NULL;
        a->opt.log = !ctx->is_tty && !ctx->quiet ? stdout : NULL;
        if (a->opt.log && ctx->verbose && (val_topic->n || val_sent->n)) {
            train_validation_set(&cls, val_topic, val_sent, a->train_len, &val);
            a->opt.validation = &val;
        }
        if (!ctx->quiet)
            printf("training on %zu examples: %s%s, width %d, %d layers, %d heads, vocabulary %d, "
                   "%zu parameters, %d epochs, lr %g, pool %s (%s)\n",
                   train->n, base ? "fine-tuning " : "from scratch",
                   base ? cls.base_name : "", a->cfg.width, a->cfg.layers, a->cfg.heads,
                   a->cfg.vocab, cls.model->n_params, a->opt.epochs, (double)a->opt.lr,
                   model_pool_name(a->cfg.pool), cls.be->name);
        fflush(stdout);
        rc = train_model(cls.model, &set, &a->opt, &st, &err);
    }
    if (rc == 0)
        rc = classifier_save(&cls, out, &err);
    code = FS_EXIT_OK;
    if (rc < 0) {
        code = cli_fail(base && !cls.model ? FS_EXIT_MODEL : FS_EXIT_FAILURE, "train: %s",
                        err.msg);
    } else {
        if (!ctx->quiet)
            printf("trained in %.0f s (%.0f examples/s, final loss %.4f); saved %s (model %s)\n",
                   st.seconds, st.examples_per_second, st.last_loss, out, cls.model_id);
        report_validation(ctx, &cls, val_topic, TASK_TOPIC);
        report_validation(ctx, &cls, val_sent, TASK_SENTIMENT);
    }
    encoded_set_free(&set);
    encoded_set_free(&val);
    model_free(cls.model);
    ngram_free(cls.ngram);
    text_tok_free(cls.tok);
    cls.be->destroy(cls.be);
    free(base);
    return code;
}

int cmd_train(struct cli_ctx *ctx, int argc, char **argv)
{
    struct train_args a = {0};
    int rc = train_parse(argc, argv, &a);
    if (rc)
        return rc;
    char *dir = (a.sent && a.topic) ? NULL : cli_data_dir();
    struct dataset train = {0}, topic, sent, vt = {0}, vs = {0};
    rc = load_set(a.topic, dir, "topic", "train", TASK_TOPIC, 1, &topic);
    if (!rc)
        rc = load_set(a.sent, dir, "sentiment", "train", TASK_SENTIMENT, 1, &sent);
    if (!rc)
        rc = load_news(&a, dir, &train);
    if (!rc && (a.topic_val || !a.topic))
        rc = load_set(a.topic_val, dir, "topic", "validation", TASK_TOPIC, 0, &vt);
    if (!rc && (a.sent_val || !a.sent))
        rc = load_set(a.sent_val, dir, "sentiment", "validation", TASK_SENTIMENT, 0, &vs);
    if (!rc) {
        dataset_append(&train, &topic);
        dataset_append(&train, &sent);
        char *out = cli_model_path(ctx, a.out);
        rc = train_run(ctx, &a, &train, &vt, &vs, out);
        free(out);
    }
    dataset_free(&train), dataset_free(&topic), dataset_free(&sent);
    dataset_free(&vt), dataset_free(&vs);
    free(dir);
    return rc;
}

/* ---- eval --------------------------------------------------------------------------- */

static void print_metrics(const struct metrics *m, enum task task, const char *model_id, int json)
{
    const char *const *names = task_label_names(task);
    if (json) {
        json_t *o = metrics_report_json(m, names);
        json_object_set_new(o, "task", json_string(task_name(task)));
        json_object_set_new(o, "model_id", json_string(model_id));
        char *s = json_dumps(o, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(o);
        return;
    }
    struct strbuf sb = STRBUF_INIT;
    metrics_report_text(&sb, m, names);
    printf("%s: model %s\n%s", task_name(task), model_id, sb.buf);
    sb_free(&sb);
}

/* --model PATH and --device auto|cpu|cuda, shared by eval, classify and predict:
 * 1 when argv[*i] was one of them, 0 when not, -1 when its value is missing. */
static int model_device_opt(int argc, char **argv, int *i, const char **model, const char **device)
{
    int r = cli_opt_value(argc, argv, i, "--model", model);
    if (r == 0 && (r = cli_opt_value(argc, argv, i, "--device", device)) > 0 &&
        !config_device_valid(*device)) {
        cli_fail(FS_EXIT_USAGE, "--device: '%s' is not auto, cpu or cuda", *device);
        return -1;
    }
    return r;
}

int cmd_eval(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *task_s = NULL, *data = NULL, *model = NULL, *device = NULL, *parts = "both";
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: finsent eval --task sentiment|topic --data FILE.csv [--model PATH]\n"
                   "                    [--device auto|cpu|cuda] [--parts both|encoder|ngram]\n"
                   "                    [--json]\n"
                   "--parts scores the encoder or the n-gram path alone (default: both).\n");
            return FS_EXIT_OK;
        } else if ((r = cli_opt_value(argc, argv, &i, "--task", &v))) {
            task_s = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--data", &v))) {
            data = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--parts", &v))) {
            parts = r > 0 ? v : parts;
        } else if ((r = model_device_opt(argc, argv, &i, &model, &device))) {
            /* --model or --device */
        } else {
            return cli_fail(FS_EXIT_USAGE, "eval: unknown option '%s' (see --help)", argv[i]);
        }
        if (r < 0)
            return FS_EXIT_USAGE;
    }
    if (!task_s || task_from_name(task_s) < 0)
        return cli_fail(FS_EXIT_USAGE, "eval: --task sentiment|topic is required");
    if (!data)
        return cli_fail(FS_EXIT_USAGE, "eval: --data FILE.csv is required");
    static const char *const part_names[] = {"both", "encoder", "ngram"};
    int part = -1;
    for (int p = 0; p < 3; p++)
        part = strcmp(parts, part_names[p]) ? part : p;
    if (part < 0)
        return cli_fail(FS_EXIT_USAGE, "eval: --parts expects both, encoder or ngram");
    enum task task = (enum task)task_from_name(task_s);
    struct fs_error err;
    struct dataset ds;
    if (dataset_load_csv(data, task, &ds, &err) < 0)
        return cli_fail(FS_EXIT_FAILURE, "%s", err.msg);
    char *path = cli_model_path(ctx, model);
    struct backend *be;
    struct classifier *cls;
    int rc = cli_open_classifier(ctx, path, device, &be, &cls);
    free(path);
    if (rc) {
        dataset_free(&ds);
        return rc;
    }
    if (part == PARTS_NGRAM && !cls->ngram) {
        dataset_free(&ds);
        cli_close_classifier(be, cls);
        return cli_fail(FS_EXIT_USAGE, "eval: this model has no n-gram path");
    }
    cls->parts = (enum classifier_parts)part;
    struct encoded_set s;
    encoded_set_build(cls->tok, &ds, cls->model->cfg.max_len, &s);
    struct metrics m;
    rc = evaluate(cls, &s, task, &m, &err);
    if (rc == 0) {
        print_metrics(&m, task, cls->model_id, json);
        metrics_free(&m);
    } else {
        rc = cli_fail(FS_EXIT_FAILURE, "eval: %s", err.msg);
    }
    encoded_set_free(&s);
    dataset_free(&ds);
    cli_close_classifier(be, cls);
    return rc;
}

/* ---- classify ------------------------------------------------------------------------ */

int cli_classify(struct cli_ctx *ctx, struct classifier *cls, struct classify_stats *st,
                 struct fs_error *err)
{
    struct classify_settings s;
    if (classify_config_load(ctx->cfg, &s, err) < 0) /* checked up front: cannot fail here */
        return -1;
    return classify_pending(ctx->db, cls, ctx->now, &s, st, err);
}

int cmd_classify(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *model = NULL, *device = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help")) {
            printf("usage: finsent classify [--model PATH] [--device auto|cpu|cuda]\n"
                   "Classifies every stored document that has no classification yet.\n");
            return FS_EXIT_OK;
        } else if ((r = model_device_opt(argc, argv, &i, &model, &device))) {
            if (r < 0)
                return FS_EXIT_USAGE;
        } else {
            return cli_fail(FS_EXIT_USAGE, "classify: unknown option '%s'", argv[i]);
        }
    }
    int rc = cli_lock(ctx, "classify", -1);
    if (rc == 0)
        rc = cli_db(ctx);
    if (rc)
        return rc;
    char *path = cli_model_path(ctx, model);
    struct backend *be;
    struct classifier *cls;
    rc = cli_open_classifier(ctx, path, device, &be, &cls);
    free(path);
    if (rc)
        return rc;
    struct classify_stats st;
    struct fs_error err;
    rc = cli_entities_scan(ctx);
    if (rc == 0 && cli_classify(ctx, cls, &st, &err) < 0)
        rc = cli_fail(FS_EXIT_DB, "classify: %s", err.msg);
    else if (rc == 0 && !ctx->quiet)
        printf("classified %lld documents in %.1f s (%lld entities read from their sentences, "
               "%lld documents read again for their entities)\n",
               (long long)st.classified, st.seconds, (long long)st.entity_reads,
               (long long)st.reread);
    cli_close_classifier(be, cls);
    return rc;
}

/* ---- predict ------------------------------------------------------------------------------ */

/* The first occurrence of word in s (at or after s, inside text) that is not
 * part of a longer word, or NULL. */
static const char *find_word(const char *text, const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *hit = n ? strstr(s, word) : NULL; hit; hit = strstr(hit + 1, word)) {
        int before = hit > text && isalnum((unsigned char)hit[-1]);
        int after = isalnum((unsigned char)hit[n]);
        if (!before && !after)
            return hit;
    }
    return NULL;
}

/* Prints text with the attended words in bold (on a terminal). */
static void print_highlighted(const char *text, const struct prediction *p, int bold)
{
    const char *s = text;
    while (*s) {
        const char *best = NULL;
        size_t best_len = 0;
        for (int i = 0; bold && i < p->n_attended; i++) {
            const char *hit = find_word(text, s, p->attended[i]);
            if (hit && (!best || hit < best)) {
                best = hit;
                best_len = strlen(p->attended[i]);
            }
        }
        if (!best || best_len == 0) {
            fputs(s, stdout);
            break;
        }
        fwrite(s, 1, (size_t)(best - s), stdout);
        printf("\033[1m%.*s\033[0m", (int)best_len, best);
        s = best + best_len;
    }
    putchar('\n');
}

static void print_prediction_json(const char *text, const struct prediction *p)
{
    json_t *o = json_object(), *tp = json_object(), *sp = json_object(), *aw = json_array();
    for (int k = 0; k < N_TOPICS; k++)
        json_object_set_new(tp, task_label_name(TASK_TOPIC, k), json_real(p->topic_probs[k]));
    for (int k = 0; k < N_SENTIMENTS; k++)
        json_object_set_new(sp, task_label_name(TASK_SENTIMENT, k),
                            json_real(p->sentiment_probs[k]));
    for (int k = 0; k < p->n_attended; k++) {
        json_t *w = json_string(p->attended[k]);
        if (w)
            json_array_append_new(aw, w);
    }
    json_object_set_new(o, "text", cli_json_text(text, strlen(text)));
    json_object_set_new(o, "topic", json_string(task_label_name(TASK_TOPIC, p->topic)));
    json_object_set_new(o, "topic_id", json_integer(p->topic));
    json_object_set_new(o, "sentiment", json_string(task_label_name(TASK_SENTIMENT, p->sentiment)));
    json_object_set_new(o, "sentiment_id", json_integer(p->sentiment));
    json_object_set_new(o, "score", json_real(p->score));
    json_object_set_new(o, "topic_probs", tp);
    json_object_set_new(o, "sentiment_probs", sp);
    json_object_set_new(o, "attended", aw);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", s);
    free(s);
    json_decref(o);
}

static void print_prediction_text(const char *text, const struct prediction *p, int tty)
{
    print_highlighted(text, p, tty);
    printf("  topic:     %s (%.2f)\n", task_label_name(TASK_TOPIC, p->topic),
           (double)p->topic_probs[p->topic]);
    printf("  sentiment: %s (%.2f)  score %+.2f  [neg %.2f neu %.2f pos %.2f]\n",
           task_label_name(TASK_SENTIMENT, p->sentiment), (double)p->sentiment_probs[p->sentiment],
           (double)p->score, (double)p->sentiment_probs[0], (double)p->sentiment_probs[1],
           (double)p->sentiment_probs[2]);
    printf("  attended:  ");
    for (int k = 0; k < p->n_attended; k++)
        printf("%s%s", k ? ", " : "", p->attended[k]);
    printf("\n");
}

int cmd_predict(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *model = NULL, *device = NULL;
    int json = 0, first = argc;
    for (int i = 1; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--")) {
            first = i + 1;
            break;
        }
        if (argv[i][0] != '-') {
            first = i;
            break;
        }
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: finsent predict [--json] [--model PATH] [--device D] [TEXT...]\n"
                   "Topic, sentiment, probabilities and attended words of each TEXT; with no\n"
                   "TEXT, of each line of standard input. --json: one JSON object per line.\n");
            return FS_EXIT_OK;
        } else if ((r = model_device_opt(argc, argv, &i, &model, &device))) {
            if (r < 0)
                return FS_EXIT_USAGE;
        } else {
            return cli_fail(FS_EXIT_USAGE, "predict: unknown option '%s'", argv[i]);
        }
    }
    if (first >= argc && isatty(STDIN_FILENO))
        return cli_fail(FS_EXIT_USAGE, "predict: give TEXT arguments or texts on standard input, "
                                       "one per line");
    char *path = cli_model_path(ctx, model);
    struct backend *be;
    struct classifier *cls;
    int rc = cli_open_classifier(ctx, path, device, &be, &cls);
    free(path);
    if (rc)
        return rc;
    size_t n;
    char **texts = cli_texts(argc, argv, first, &n);
    const char **titles = xcalloc(n ? n : 1, sizeof *titles); /* none: long texts in windows */
    struct prediction *p = xcalloc(n ? n : 1, sizeof *p);
    struct infer_options opt = {0, 3};
    struct fs_error err;
    if (n > 0 && classifier_predict_documents(cls, titles, (const char *const *)texts, n, &opt, p,
                                              &err) < 0) {
        rc = cli_fail(FS_EXIT_FAILURE, "predict: %s", err.msg);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (json)
                print_prediction_json(texts[i], &p[i]);
            else
                print_prediction_text(texts[i], &p[i], ctx->is_tty);
        }
    }
    for (size_t i = 0; i < n; i++)
        prediction_free(&p[i]);
    free(p);
    free(titles);
    cli_texts_free(texts, n);
    cli_close_classifier(be, cls);
    return rc;
}
