/* tiny_classifier.h — a classifier small enough to save in a few KB: a
 * tokenizer learned from four headlines and a one-layer encoder of the given
 * width on the shared CPU backend (tests/cpu_backend.h). The model-file tests
 * use it, and so does fuzz/model_seeds.c for the fuzz target's seeds. */
#ifndef FINSENT_TESTS_TINY_CLASSIFIER_H
#define FINSENT_TESTS_TINY_CLASSIFIER_H

#include "classify/infer.h"
#include "classify/tokenizer.h"
#include "common/util.h"
#include "tests/cpu_backend.h"

#include <stdlib.h>

static struct classifier *tiny_classifier(int width)
{
    static const char *texts[] = {"$AAPL beats estimates", "Fed raises rates again",
                                  "Stocks fall on tariff fears", "Oil rallies as OPEC cuts"};
    struct classifier *c = xcalloc(1, sizeof *c);
    struct fs_error err;
    c->be = cpu();
    struct tokenizer *tok;
    if (tokenizer_train(texts, 4, 300, &tok, &err) < 0)
        abort();
    c->tok = text_tok_from_learned(tok);
    struct model_config cfg;
    model_config_default(&cfg);
    cfg.vocab = tokenizer_vocab_size(tok);
    cfg.max_len = 16;
    cfg.width = width;
    cfg.layers = 1;
    cfg.heads = 2;
    cfg.ffn = 16;
    if (model_create(&cfg, c->be, 1, &c->model, &err) < 0)
        abort();
    return c;
}

#endif
