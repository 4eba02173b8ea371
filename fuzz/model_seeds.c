/* model_seeds.c — writes the seeds of fuzz_model_file into the directory given
 * (scripts/fuzz.sh runs it before that target): three model files of a few KB
 * made with the test suite's tiny classifier (tests/tiny_classifier.h), so that
 * each of the loader's paths starts from a file it accepts:
 *   pre_ln.safetensors   finsent's own encoder and learned tokenizer;
 *   ngram.safetensors    attention pooling and the n-gram path (ngram.* tensors
 *                        and metadata);
 *   post_ln.safetensors  a post-LN (BERT-style) encoder under the checkpoint's
 *                        tensor names, a WordPiece tokenizer and the "base"
 *                        metadata of a fine-tuned model. */
#include "classify/infer.h"
#include "classify/ngram.h"
#include "classify/wordpiece.h"
#include "common/strbuf.h"
#include "tests/tiny_classifier.h"

#include <stdio.h>
#include <stdlib.h>

static void save(struct classifier *c, const char *dir, const char *name)
{
    struct strbuf path = STRBUF_INIT;
    sb_appendf(&path, "%s/%s", dir, name);
    struct fs_error err;
    if (classifier_save(c, path.buf, &err) < 0) {
        fprintf(stderr, "model_seeds: %s\n", err.msg);
        exit(1);
    }
    sb_free(&path);
    classifier_free(c);
}

/* c's encoder replaced by a fresh one of configuration cfg. */
static void recreate(struct classifier *c, const struct model_config *cfg)
{
    struct fs_error err;
    model_free(c->model);
    if (model_create(cfg, c->be, 2, &c->model, &err) < 0)
        abort();
}

static struct classifier *with_ngram(void)
{
    struct classifier *c = tiny_classifier(2);
    struct model_config cfg = c->model->cfg;
    cfg.pool = POOL_ATTENTION;
    recreate(c, &cfg);
    c->ngram = ngram_create(NGRAM_MIN_BITS, &cfg);
    c->ngram->mix = 0.5f;
    for (size_t r = 0; r < ngram_rows(c->ngram); r++)
        c->ngram->idf[r] = 1.0f + (float)(r % 3);
    return c;
}

static struct classifier *post_ln(void)
{
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nstock\n##s\nrally\n"
                                "fed\nrates\n##ing\n$\n%\n.\n,\n";
    const struct wordpiece_options opt = {1, 1, 1};
    struct wordpiece *wp;
    struct fs_error err;
    if (wordpiece_from_vocab(vocab, sizeof vocab - 1, &opt, &wp, &err) < 0)
        abort();
    struct classifier *c = tiny_classifier(2);
    text_tok_free(c->tok);
    c->tok = text_tok_from_wordpiece(wp);
    struct model_config cfg = c->model->cfg;
    cfg.vocab = wordpiece_vocab_size(wp);
    cfg.arch = ARCH_POST_LN;
    cfg.type_vocab = 2;
    cfg.ln_eps = 1e-12f;
    recreate(c, &cfg);
    snprintf(c->base_name, sizeof c->base_name, "tiny-bert");
    snprintf(c->base_sha256, sizeof c->base_sha256, "%064d", 0);
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: model_seeds DIR\n");
        return 2;
    }
    save(tiny_classifier(2), argv[1], "pre_ln.safetensors");
    save(with_ngram(), argv[1], "ngram.safetensors");
    save(post_ln(), argv[1], "post_ln.safetensors");
    return 0;
}
