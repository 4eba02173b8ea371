/* fuzz_tokenizer.c — libFuzzer target: tokenizer_deserialize on the input (must
 * reject or accept without crashing, and an accepted tokenizer must serialise back
 * to the same bytes); the same with a valid checksum line appended, so that the
 * parser behind the checksum is reached; then encoding and word splitting of the
 * input as text, and its n-gram features (classify/ngram.h: indices in range,
 * increasing, finite positive values).
 *
 * The text steps read at most TEXT_MAX bytes: the n-gram features of 64 KiB
 * cost 17 ms (no sanitizer), which held the target at 25 executions/s. They
 * are O(n log n) (every word and character n-gram hashed, then sorted), and
 * a profile of the 2 KiB cut still spent 40% of the time sorting them, at
 * 240-600 executions/s; a longer text reaches no code a 512-byte one does not.
 * A serialised tokenizer of the 200 pieces trained here is under 2 KiB, so
 * scripts/fuzz.sh gives this target -max_len=4096. */
#include "classify/ngram.h"
#include "classify/tokenizer.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>

#define TEXT_MAX 512

static const char *const corpus[] = {
    "$AAPL rallies 5% after earnings https://t.co/abc", "Fed raises rates &amp; yields climb",
    "Tesla downgraded; shares -3.5% @Reuters", "stocks stocks rally rally 🚀"};

static void deserialize_checked(const char *data, size_t size)
{
    struct fs_error err;
    struct tokenizer *tok;
    if (tokenizer_deserialize(data, size, &tok, &err) != 0)
        return;
    size_t len;
    char *s = tokenizer_serialize(tok, &len);
    fuzz_same_bytes(data, size, s, len);
    tokenizer_free(tok);
}

static struct tokenizer *trained; /* trained once: the fuzzer calls us millions of times */
static struct ngram_model *ngrams;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct fs_error err;
    struct tokenizer_options opt = {1, 1}; /* every code path: symbols and numbers */
    if (tokenizer_train_opts(corpus, 4, 200, &opt, &trained, &err) != 0)
        abort();
    struct model_config cfg = {.n_out = 2, .out_sizes = {20, 3}};
    ngrams = ngram_create(10, &cfg);
    ngram_fit_idf(ngrams, corpus, 4);
    return 0;
}

static void ngrams_checked(const char *data, size_t size)
{
    struct ngram_vec v = {0};
    ngram_featurize(ngrams, data, size, &v);
    for (int i = 0; i < v.n; i++)
        if (v.index[i] >= ngram_rows(ngrams) || (i && v.index[i] <= v.index[i - 1]) ||
            !(v.value[i] > 0.0f && v.value[i] <= 1.0f))
            abort();
    ngram_vec_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct tokenizer *tok = trained;
    deserialize_checked((const char *)data, size);
    struct strbuf sb = STRBUF_INIT;
    sb_append_n(&sb, (const char *)data, size);
    sb_appendf(&sb, "checksum %016llx\n", (unsigned long long)hash64(data, size, 0));
    deserialize_checked(sb.buf, sb.len);
    sb_free(&sb);
    size = fuzz_cut(size, TEXT_MAX);
    int32_t ids[64], word_of[64];
    int n = tokenizer_encode(tok, (const char *)data, size, ids, word_of, 64);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= tokenizer_vocab_size(tok))
            abort();
    char **words;
    int nw = tokenizer_words(tok, (const char *)data, size, &words);
    for (int i = 1; i < n; i++)
        if (word_of[i] < 0 || word_of[i] >= nw)
            abort();
    tokenizer_words_free(words, nw);
    ngrams_checked((const char *)data, size);
    return 0;
}
