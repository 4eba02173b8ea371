/* test_tokenizer.c — normalisation, training, encoding, hostile input, words,
 * serialisation round trip and rejection of corrupt serialised data. */
#include "classify/dataset.h"
#include "classify/tokenizer.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>

static const char *const corpus[] = {
    "$AAPL rallies 5% after earnings beat https://t.co/abc123",
    "Stocks fall as the Fed raises rates &amp; yields climb",
    "Tesla downgraded at Goldman; shares -3.5% premarket",
    "Bank of America upgrades $MSFT to buy, target $400",
    "Oil prices rise on supply worries @Reuters reports",
    "Markets rally: S&amp;P 500 up 1.2%, Nasdaq gains 2,000 points",
    "Earnings: $TSLA misses, stock falls 10% after hours",
    "Fed holds rates steady; markets rally on the news",
    "Downgrades weigh on banks as rates rise",
    "Upgrades lift tech stocks; $NVDA up 4%",
};

static struct tokenizer *small_tokenizer(int vocab)
{
    struct tokenizer *tok = NULL;
    struct fs_error err;
    if (tokenizer_train(corpus, FS_ARRAY_LEN(corpus), vocab, &tok, &err) < 0)
        printf("  train: %s\n", err.msg);
    return tok;
}

/* The bundled training texts of both tasks (NULL when the data is missing). */
static struct tokenizer *real_tokenizer(int vocab)
{
    struct dataset a, b;
    struct fs_error err;
    if (dataset_load_csv("data/twitter_financial_news_sentiment/train.csv", TASK_SENTIMENT, &a,
                         &err) < 0)
        return NULL;
    if (dataset_load_csv("data/twitter_financial_news_topic/train.csv", TASK_TOPIC, &b, &err) < 0) {
        dataset_free(&a);
        return NULL;
    }
    dataset_append(&a, &b);
    const char **texts = xmalloc(a.n * sizeof *texts);
    for (size_t i = 0; i < a.n; i++)
        texts[i] = a.ex[i].text;
    struct tokenizer *tok = NULL;
    tokenizer_train(texts, a.n, vocab, &tok, &err);
    free(texts);
    dataset_free(&a);
    return tok;
}

static int encode_str(const struct tokenizer *tok, const char *s, int32_t *ids, int max)
{
    return tokenizer_encode(tok, s, strlen(s), ids, NULL, max);
}

/* The pieces of ids[from..to) joined with "##" prefixes removed. */
static void join_pieces(const struct tokenizer *tok, const int32_t *ids, int from, int to,
                        struct strbuf *sb)
{
    sb_reset(sb);
    for (int i = from; i < to; i++) {
        const char *p = tokenizer_piece(tok, ids[i]);
        sb_append(sb, strncmp(p, "##", 2) == 0 ? p + 2 : p);
    }
}

static void test_train_limits_and_specials(void)
{
    struct tokenizer *tok;
    struct fs_error err;
    CHECK(tokenizer_train(corpus, FS_ARRAY_LEN(corpus), 5, &tok, &err) < 0);
    CHECK(strstr(err.msg, "vocabulary size") != NULL);
    tok = small_tokenizer(120);
    CHECK(tok != NULL);
    CHECK(tokenizer_vocab_size(tok) <= 120);
    CHECK(tokenizer_vocab_size(tok) > TOK_N_SPECIAL + 20);
    CHECK_STR_EQ(tokenizer_piece(tok, TOK_PAD), "[PAD]");
    CHECK_STR_EQ(tokenizer_piece(tok, TOK_UNK), "[UNK]");
    CHECK_STR_EQ(tokenizer_piece(tok, TOK_CLS), "[CLS]");
    CHECK_STR_EQ(tokenizer_piece(tok, TOK_URL), "<url>");
    CHECK_STR_EQ(tokenizer_piece(tok, TOK_TICKER), "<ticker>");
    CHECK(tokenizer_piece(tok, -1) == NULL);
    CHECK(tokenizer_piece(tok, tokenizer_vocab_size(tok)) == NULL);
    tokenizer_free(tok);
    /* an empty corpus gives the special tokens and printable ASCII (lowercase) as
     * word starts and continuations: 8 + 2 * 68 */
    CHECK(tokenizer_train(NULL, 0, 1000, &tok, &err) == 0);
    CHECK_INT_EQ(tokenizer_vocab_size(tok), TOK_N_SPECIAL + 2 * 68);
    int32_t ids[8];
    CHECK_INT_EQ(encode_str(tok, "Hello", ids, 8), 6);
    CHECK_STR_EQ(tokenizer_piece(tok, ids[1]), "h");
    CHECK_STR_EQ(tokenizer_piece(tok, ids[2]), "##e");
    CHECK_INT_EQ(encode_str(tok, "\xC3\xA9", ids, 8), 2);
    CHECK_INT_EQ(ids[1], TOK_UNK);
    tokenizer_free(tok);
}

static void test_deterministic(void)
{
    struct tokenizer *a = real_tokenizer(4000), *b = real_tokenizer(4000);
    if (!a || !b) {
        tokenizer_free(a);
        tokenizer_free(b);
        SKIP("bundled data not found (run from the repository root)");
    }
    size_t la, lb;
    char *sa = tokenizer_serialize(a, &la), *sb = tokenizer_serialize(b, &lb);
    int same = la == lb && memcmp(sa, sb, la) == 0;
    int size = tokenizer_vocab_size(a);
    free(sa);
    free(sb);
    tokenizer_free(a);
    tokenizer_free(b);
    CHECK(same);
    CHECK_INT_EQ(size, 4000);
}

static void test_normalisation_markers(void)
{
    /* the symbol pieces after the ticker marker are an option (default: off) */
    struct tokenizer_options opt = {1, 1};
    struct tokenizer *tok;
    struct fs_error err;
    CHECK(tokenizer_train_opts(corpus, FS_ARRAY_LEN(corpus), 300, &opt, &tok, &err) == 0);
    int32_t ids[64];
    struct strbuf sb = STRBUF_INIT;
    int n = encode_str(tok, "$AAPL", ids, 64);
    CHECK_INT_EQ(ids[0], TOK_CLS);
    CHECK(n >= 3);
    CHECK_INT_EQ(ids[1], TOK_TICKER);
    join_pieces(tok, ids, 2, n, &sb);
    CHECK_STR_EQ(sb.buf, "aapl");
    /* class shares keep their suffix; "$5" is money, not a ticker */
    n = encode_str(tok, "$BRK.B", ids, 64);
    CHECK_INT_EQ(ids[1], TOK_TICKER);
    join_pieces(tok, ids, 2, n, &sb);
    CHECK_STR_EQ(sb.buf, "brk.b");
    n = encode_str(tok, "$5", ids, 64);
    CHECK_INT_EQ(n, 3);
    CHECK_STR_EQ(tokenizer_piece(tok, ids[1]), "$");
    CHECK_INT_EQ(ids[2], TOK_NUM);

    const char *urls[] = {"https://t.co/bd0xbFGjkT", "http://example.com/a?b=1&c=2",
                          "www.reuters.com/markets", "HTTPS://EXAMPLE.COM"};
    for (size_t i = 0; i < FS_ARRAY_LEN(urls); i++) {
        n = encode_str(tok, urls[i], ids, 64);
        CHECK_MSG(n == 2 && ids[1] == TOK_URL, "%s: %d tokens", urls[i], n);
    }
    /* a full stop after a URL is not part of it */
    n = encode_str(tok, "see https://t.co/x.", ids, 64);
    CHECK_INT_EQ(ids[n - 2], TOK_URL);
    CHECK_STR_EQ(tokenizer_piece(tok, ids[n - 1]), ".");

    n = encode_str(tok, "@Reuters", ids, 64);
    CHECK(n == 2 && ids[1] == TOK_USER);

    /* numbers: one marker for "1,000.50"; sign and percent are tokens of their own */
    n = encode_str(tok, "1,000.50", ids, 64);
    CHECK(n == 2 && ids[1] == TOK_NUM);
    int32_t plus[8], minus[8];
    int np = encode_str(tok, "+5%", plus, 8), nm = encode_str(tok, "-5%", minus, 8);
    CHECK_INT_EQ(np, 4);
    CHECK_INT_EQ(nm, 4);
    CHECK_STR_EQ(tokenizer_piece(tok, plus[1]), "+");
    CHECK_STR_EQ(tokenizer_piece(tok, minus[1]), "-");
    CHECK_INT_EQ(plus[2], TOK_NUM);
    CHECK_STR_EQ(tokenizer_piece(tok, plus[3]), "%");
    n = encode_str(tok, "10k", ids, 64);
    CHECK(n == 3 && ids[1] == TOK_NUM);
    CHECK_STR_EQ(tokenizer_piece(tok, ids[2]), "##k");

    /* entities are decoded: "&amp;" is the '&' token, like a literal '&' */
    int32_t a[16], b[16];
    int na = encode_str(tok, "S&amp;P", a, 16), nb = encode_str(tok, "S&P", b, 16);
    CHECK_INT_EQ(na, nb);
    CHECK(memcmp(a, b, (size_t)na * sizeof *a) == 0);
    CHECK_INT_EQ(na, 4);
    CHECK_STR_EQ(tokenizer_piece(tok, a[2]), "&");
    n = encode_str(tok, "&#36;AAPL &lt;&#x24;", ids, 64);
    CHECK_INT_EQ(ids[1], TOK_TICKER);
    /* lowercase: case does not change the ids */
    na = encode_str(tok, "STOCKS Rally", a, 16);
    nb = encode_str(tok, "stocks rally", b, 16);
    CHECK(na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0);
    /* punctuation is split off words */
    n = encode_str(tok, "rates,", ids, 64);
    CHECK_STR_EQ(tokenizer_piece(tok, ids[n - 1]), ",");
    sb_free(&sb);
    tokenizer_free(tok);
}

static void test_options(void)
{
    struct tokenizer_options opt = {0, 0};
    struct tokenizer *tok, *back;
    struct fs_error err;
    /* the default: the ticker marker alone, numbers as TOK_NUM */
    CHECK(tokenizer_train(corpus, FS_ARRAY_LEN(corpus), 300, &tok, &err) == 0);
    int32_t def[8];
    CHECK_INT_EQ(encode_str(tok, "$AAPL 500", def, 8), 3);
    CHECK(def[1] == TOK_TICKER && def[2] == TOK_NUM);
    tokenizer_free(tok);
    CHECK(tokenizer_train_opts(corpus, FS_ARRAY_LEN(corpus), 300, &opt, &tok, &err) == 0);
    int32_t ids[16];
    /* the ticker marker alone; digits as pieces */
    CHECK_INT_EQ(encode_str(tok, "$AAPL", ids, 16), 2);
    CHECK_INT_EQ(ids[1], TOK_TICKER);
    int n = encode_str(tok, "500", ids, 16);
    CHECK(n >= 2 && ids[1] != TOK_NUM);
    struct strbuf sb = STRBUF_INIT;
    join_pieces(tok, ids, 1, n, &sb);
    CHECK_STR_EQ(sb.buf, "500");
    sb_free(&sb);
    size_t len;
    char *s = tokenizer_serialize(tok, &len);
    CHECK(strstr(s, "ticker_symbols=0 number_marker=0") != NULL);
    CHECK(tokenizer_deserialize(s, len, &back, &err) == 0);
    CHECK_INT_EQ(encode_str(back, "$AAPL 500", ids, 16), encode_str(tok, "$AAPL 500", ids, 16));
    free(s);
    tokenizer_free(back);
    tokenizer_free(tok);
}

static void test_words_surface_forms(void)
{
    struct tokenizer *tok = small_tokenizer(300);
    CHECK(tok != NULL);
    const char *text = "$AAPL up +5% &amp; Tesla\xE2\x80\x99s 🚀 https://t.co/x @Fed";
    char **w;
    int n = tokenizer_words(tok, text, strlen(text), &w);
    const char *want[] = {
        "$AAPL",          "up",  "+", "5", "%", "&", "Tesla", "\xE2\x80\x99", "s", "🚀",
        "https://t.co/x", "@Fed"};
    CHECK_INT_EQ(n, (int)FS_ARRAY_LEN(want));
    for (int i = 0; i < n; i++)
        CHECK_STR_EQ(w[i], want[i]);
    tokenizer_words_free(w, n);
    CHECK_INT_EQ(tokenizer_words(tok, "   ", 3, &w), 0);
    CHECK(w == NULL);
    tokenizer_words_free(w, 0);
    tokenizer_free(tok);
}

/* word_of points into tokenizer_words, never goes back, and every word of a
 * text that was not truncated yields tokens whose pieces spell the word. */
static void check_word_of(const struct tokenizer *tok, const char *text)
{
    int32_t ids[512], word_of[512];
    int n = tokenizer_encode(tok, text, strlen(text), ids, word_of, 512);
    char **w;
    int nw = tokenizer_words(tok, text, strlen(text), &w);
    CHECK_INT_EQ(word_of[0], -1);
    int last = -1;
    for (int i = 1; i < n; i++) {
        CHECK_MSG(word_of[i] >= 0 && word_of[i] < nw, "token %d: word %d of %d", i, word_of[i], nw);
        CHECK_MSG(word_of[i] == last || word_of[i] == last + 1, "token %d skips a word", i);
        last = word_of[i];
    }
    CHECK_INT_EQ(last, nw - 1);
    struct strbuf sb = STRBUF_INIT, low = STRBUF_INIT;
    for (int wi = 0; wi < nw; wi++) {
        int from = 1;
        while (word_of[from] != wi)
            from++;
        int to = from;
        while (to < n && word_of[to] == wi)
            to++;
        if (ids[from] < TOK_N_SPECIAL)
            continue; /* markers: checked in test_normalisation_markers */
        join_pieces(tok, ids, from, to, &sb);
        sb_reset(&low);
        for (const char *p = w[wi]; *p; p++)
            sb_append_char(&low, (char)tolower((unsigned char)*p));
        int has_unk = 0;
        for (int i = from; i < to; i++)
            has_unk |= ids[i] == TOK_UNK;
        if (!has_unk)
            CHECK_MSG(strcmp(sb.buf, low.buf) == 0, "word \"%s\" -> \"%s\"", w[wi], sb.buf);
    }
    sb_free(&sb);
    sb_free(&low);
    tokenizer_words_free(w, nw);
}

static void test_word_of_consistency(void)
{
    struct tokenizer *tok = real_tokenizer(8000);
    if (!tok)
        SKIP("bundled data not found");
    const char *texts[] = {
        "$BYND - JPMorgan reels in expectations on Beyond Meat https://t.co/bd0xbFGjkT",
        "Qatar\xE2\x80\x99s $320 Billion Wealth Fund Seeks to Catch Up on Technology",
        "Stocks +5% &amp; $BRK.B up 1,000.50 on 10k rally!!! 🚀🚀 @elonmusk https://t.co/xyz.",
        "Zxqvj unseenword\xC3\xA9t\xC3\xA9 \xFF\xFE junk \x01\x02 end",
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(texts); i++) {
        check_word_of(tok, texts[i]);
        if (check_failed_now)
            break;
    }
    tokenizer_free(tok);
}

static void test_truncation(void)
{
    struct tokenizer *tok = small_tokenizer(300);
    CHECK(tok != NULL);
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < 500; i++)
        sb_append(&sb, "stocks rally ");
    int32_t ids[64], word_of[64];
    int n = tokenizer_encode(tok, sb.buf, sb.len, ids, word_of, 64);
    CHECK_INT_EQ(n, 64);
    CHECK_INT_EQ(ids[0], TOK_CLS);
    CHECK(word_of[63] > 0);
    CHECK_INT_EQ(tokenizer_encode(tok, sb.buf, sb.len, ids, word_of, 1), 1);
    CHECK_INT_EQ(ids[0], TOK_CLS);
    CHECK_INT_EQ(tokenizer_encode(tok, sb.buf, sb.len, ids, word_of, 0), 0);
    CHECK_INT_EQ(tokenizer_encode(tok, "", 0, ids, word_of, 64), 1);
    CHECK_INT_EQ(tokenizer_encode(tok, NULL, 0, ids, word_of, 64), 1);
    /* a text of exactly max_len tokens is not cut: same ids as with room to spare */
    int32_t big[256];
    int nb = tokenizer_encode(tok, corpus[0], strlen(corpus[0]), big, NULL, 256);
    n = tokenizer_encode(tok, corpus[0], strlen(corpus[0]), ids, NULL, nb);
    CHECK_INT_EQ(n, nb);
    CHECK(memcmp(ids, big, (size_t)n * sizeof *ids) == 0);
    sb_free(&sb);
    tokenizer_free(tok);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Encodes an exactly-sized heap copy (so ASan sees any read past the end) and
 * checks every id is in range. */
static int encode_hostile(const struct tokenizer *tok, const char *bytes, size_t len, int max)
{
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, bytes, len);
    int32_t *ids = xmalloc((size_t)max * sizeof *ids), *word_of = xmalloc((size_t)max * 4);
    int n = tokenizer_encode(tok, copy, len, ids, word_of, max);
    int ok = n >= 1 && n <= max && ids[0] == TOK_CLS;
    for (int i = 0; i < n && ok; i++)
        ok = ids[i] >= 0 && ids[i] < tokenizer_vocab_size(tok);
    free(ids);
    free(word_of);
    free(copy);
    return ok;
}

static void test_hostile_bytes(void)
{
    struct tokenizer *tok = small_tokenizer(300);
    CHECK(tok != NULL);
    uint64_t seed = 0x1234567;
    char buf[4096];
    for (int round = 0; round < 300; round++) {
        size_t len = rng_next(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rng_next(&seed);
        CHECK_MSG(encode_hostile(tok, buf, len, 256), "random round %d", round);
        char **w;
        char *copy = xmalloc(len ? len : 1);
        memcpy(copy, buf, len);
        int nw = tokenizer_words(tok, copy, len, &w);
        tokenizer_words_free(w, nw);
        free(copy);
    }
    /* truncated and invalid UTF-8, lone entities, markers at the very end */
    const char *odd[] = {"\xF0", "\xF0\x9F",    "\xF0\x9F\x9A", "\xE2", "\xE2\x80",
                         "\xC2", "\xEF\xB8",    "\xFF\xFE\xFD", "&",    "&#",
                         "&#x",  "&#99999999;", "&#xD800;",     "&amp", "$",
                         "@",    "http://",     "1,",           "1.",   "$A.",
                         "#"};
    for (size_t i = 0; i < FS_ARRAY_LEN(odd); i++)
        CHECK_MSG(encode_hostile(tok, odd[i], strlen(odd[i]), 16), "odd input %zu", i);
    /* every single byte, NUL included */
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        CHECK_MSG(encode_hostile(tok, &b, 1, 4), "byte %d", c);
    }
    /* a byte the training texts never had is TOK_UNK; a run of them in one word, one
     * UNK; the ids are the same whether word_of is asked for or not */
    int32_t ids[8], ids2[8], word_of[8];
    CHECK_INT_EQ(tokenizer_encode(tok, "\xFF\xFF\xFF", 3, ids, NULL, 8), 2);
    CHECK_INT_EQ(ids[1], TOK_UNK);
    CHECK_INT_EQ(tokenizer_encode(tok, "\xFF \xFF", 3, ids, NULL, 8), 3);
    CHECK_INT_EQ(tokenizer_encode(tok, "\xFF \xFF", 3, ids2, word_of, 8), 3);
    CHECK(memcmp(ids, ids2, 3 * sizeof *ids) == 0);
    CHECK(ids[1] == TOK_UNK && ids[2] == TOK_UNK && word_of[2] == 1);
    tokenizer_free(tok);
}

static void test_very_long_input(void)
{
    struct tokenizer *tok = small_tokenizer(300);
    CHECK(tok != NULL);
    size_t len = 10u << 20;
    char *big = xmalloc(len);
    uint64_t seed = 42;
    /* 10 MB of words and spaces, then one 10 MB word without any blank */
    for (size_t i = 0; i < len; i++)
        big[i] = (rng_next(&seed) % 7 == 0) ? ' ' : (char)('a' + rng_next(&seed) % 26);
    CHECK(encode_hostile(tok, big, len, 128));
    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    int32_t ids[128];
    CHECK_INT_EQ(tokenizer_encode(tok, big, len, ids, NULL, 128), 128);
    memset(big, '!', len);
    CHECK(encode_hostile(tok, big, len, 128));
    free(big);
    tokenizer_free(tok);
}

static void test_serialize_roundtrip(void)
{
    struct tokenizer *tok = real_tokenizer(8000);
    if (!tok)
        SKIP("bundled data not found");
    size_t len, len2;
    char *s = tokenizer_serialize(tok, &len);
    CHECK(strlen(s) == len);
    struct tokenizer *back;
    struct fs_error err;
    CHECK_MSG(tokenizer_deserialize(s, len, &back, &err) == 0, "%s", err.msg);
    char *s2 = tokenizer_serialize(back, &len2);
    CHECK(len == len2 && memcmp(s, s2, len) == 0);
    CHECK_INT_EQ(tokenizer_vocab_size(back), tokenizer_vocab_size(tok));
    for (int id = 0; id < tokenizer_vocab_size(tok); id++)
        CHECK_STR_EQ(tokenizer_piece(back, id), tokenizer_piece(tok, id));
    const char *texts[] = {"$AAPL rallies +5% https://t.co/x &amp; more 🚀", "\xFF junk \x01",
                           "Fed raises rates by 75 bps; markets tumble"};
    for (size_t i = 0; i < FS_ARRAY_LEN(texts); i++) {
        int32_t a[128], b[128];
        int na = encode_str(tok, texts[i], a, 128), nb = encode_str(back, texts[i], b, 128);
        CHECK(na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0);
    }
    free(s);
    free(s2);
    tokenizer_free(back);
    tokenizer_free(tok);
}

/* Replaces the checksum line of s (a serialised tokenizer) to match its body. */
static void fix_checksum(struct strbuf *s)
{
    char *cs = strstr(s->buf, "\nchecksum ");
    if (!cs)
        return;
    size_t body = (size_t)(cs - s->buf) + 1;
    sb_truncate(s, body);
    sb_appendf(s, "checksum %016llx\n", (unsigned long long)hash64(s->buf, body, 0));
}

static int rejects(const char *data, size_t len, const char *want, struct fs_error *err)
{
    struct tokenizer *tok = NULL;
    int rc = tokenizer_deserialize(data, len, &tok, err);
    tokenizer_free(tok);
    return rc < 0 && tok == NULL && (!want || strstr(err->msg, want) != NULL);
}

/* Applies one edit to the body, fixes the checksum and expects a rejection. */
static int rejects_edit(const char *orig, const char *from, const char *to, const char *want,
                        struct fs_error *err)
{
    const char *at = strstr(orig, from);
    if (!at)
        return 0;
    struct strbuf sb = STRBUF_INIT;
    sb_append_n(&sb, orig, (size_t)(at - orig));
    sb_append(&sb, to);
    sb_append(&sb, at + strlen(from));
    fix_checksum(&sb);
    int ok = rejects(sb.buf, sb.len, want, err);
    sb_free(&sb);
    return ok;
}

static void test_deserialize_rejects_corrupt(void)
{
    struct tokenizer *tok = small_tokenizer(120);
    CHECK(tok != NULL);
    size_t len;
    char *s = tokenizer_serialize(tok, &len);
    struct fs_error err;
    /* every truncation, into an exactly-sized buffer */
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = xmalloc(cut ? cut : 1);
        memcpy(copy, s, cut);
        int ok = rejects(copy, cut, NULL, &err);
        free(copy);
        CHECK_MSG(ok, "truncated at %zu of %zu accepted", cut, len);
    }
    CHECK(rejects(s, len - 1, "truncated", &err));
    /* every single-byte change */
    for (size_t i = 0; i < len; i++) {
        char *copy = xmalloc(len);
        memcpy(copy, s, len);
        copy[i] ^= 0x20;
        int ok = rejects(copy, len, NULL, &err);
        free(copy);
        CHECK_MSG(ok, "byte %zu changed accepted", i);
    }
    CHECK(rejects(NULL, 0, NULL, &err));
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, s);
    sb_append(&sb, "extra\n");
    CHECK(rejects(sb.buf, sb.len, NULL, &err));
    /* a correct checksum over a bad body */
    CHECK(rejects_edit(s, "finsent-tokenizer 1", "finsent-tokenizer 9", "format", &err));
    CHECK(rejects_edit(s, "ticker_symbols=0", "ticker_symbols=7", "options", &err));
    CHECK(rejects_edit(s, "number_marker=1", "number_marker=", "options", &err));
    CHECK(rejects_edit(s, " number_marker", "  number_marker", "options", &err));
    char count[32];
    snprintf(count, sizeof count, "pieces %d\n", tokenizer_vocab_size(tok));
    CHECK(rejects_edit(s, count, "pieces 99999\n", NULL, &err));
    CHECK(rejects_edit(s, count, "pieces 3\n", "piece count", &err));
    CHECK(rejects_edit(s, count, "pieces -1\n", "piece count", &err));
    char more[32];
    snprintf(more, sizeof more, "pieces %d\n", tokenizer_vocab_size(tok) + 1);
    CHECK(rejects_edit(s, count, more, "truncated", &err));
    CHECK(rejects_edit(s, "s [PAD]", "s [PUD]", "special", &err));
    CHECK(rejects_edit(s, "\nw ", "\nx ", "kind", &err));
    CHECK(rejects_edit(s, "\nw ", "\nw %zz", "bad piece", &err));
    CHECK(rejects_edit(s, "\nw ", "\nw %41", "bad piece", &err)); /* non-canonical 'A' */
    CHECK(
        rejects_edit(s, "\nw ", "\nw xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "bad piece", &err));
    /* a duplicate piece: the last word piece written twice */
    const char *last = strrchr(s, '\n');
    while (last > s && last[-1] != '\n')
        last--;
    CHECK(last && strncmp(last, "checksum", 8) == 0);
    const char *prev = last - 1;
    while (prev > s && prev[-1] != '\n')
        prev--;
    sb_reset(&sb);
    sb_append_n(&sb, s, (size_t)(last - s));
    sb_append_n(&sb, prev, (size_t)(last - prev));
    sb_append(&sb, "checksum 0\n");
    char *pc = strstr(sb.buf, "pieces ");
    int np = atoi(pc + 7);
    char *rest = xstrdup(strchr(pc, '\n'));
    sb_truncate(&sb, (size_t)(pc - sb.buf));
    sb_appendf(&sb, "pieces %d%s", np + 1, rest);
    free(rest);
    fix_checksum(&sb);
    CHECK_MSG(rejects(sb.buf, sb.len, "duplicate", &err), "%s", err.msg);
    sb_free(&sb);
    free(s);
    tokenizer_free(tok);
}

int main(void)
{
    RUN(test_train_limits_and_specials);
    RUN(test_deterministic);
    RUN(test_normalisation_markers);
    RUN(test_options);
    RUN(test_words_surface_forms);
    RUN(test_word_of_consistency);
    RUN(test_truncation);
    RUN(test_hostile_bytes);
    RUN(test_very_long_input);
    RUN(test_serialize_roundtrip);
    RUN(test_deserialize_rejects_corrupt);
    return check_summary();
}
