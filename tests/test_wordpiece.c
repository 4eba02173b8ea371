/* test_wordpiece.c — the WordPiece tokenizer on a tiny vocabulary written here:
 * greedy longest match, "##" pieces, [UNK] rules, truncation, each normalisation
 * stage (controls, accents, case, CJK, punctuation, NFD order, Hangul), invalid
 * UTF-8, special tokens in the text, surface words, serialisation round trip and
 * rejection of corrupt serialised data and bad vocabulary files. Parity with
 * Hugging Face on real text is tests/it_wordpiece.py. */
#include "classify/wordpiece.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* clang-format off */
static const char *const vocab_tokens[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",               /* 0-4 */
    "un", "##aff", "##able", "the", "stock",                    /* 5-9 */
    ",", "!", "cafe", "naive", "中",                             /* 10-14 */
    "文", "a", "##a", "b", "xy",                                 /* 15-19 */
    "x", "##yz", "\xE2\x80\x94", "[", "]",                      /* 20-24: U+2014 */
    "sep", "\xC3\xA9", "##\xC3\xA9", "caf", "##e",              /* 25-29: é */
    "i", "##\xCC\x87", "\xE1\x84\x92", "##\xE1\x85\xA1", "##\xE1\x86\xAB", /* 30-34 */
    "##\xF0\x9D\x85\xA5", "##\xF0\x9D\x85\xAD", "\xCE\xBF", "##\xCF\x83", "##\xCF\x82", /* 35-39 */
    "Caf", "##\xC3\xA9x",                                       /* 40-41 */
};
/* clang-format on */

enum { ID_UN = 5, ID_AFF, ID_ABLE, ID_THE, ID_STOCK, ID_COMMA, ID_BANG, ID_CAFE, ID_NAIVE };

static struct strbuf vocab_text(void)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < FS_ARRAY_LEN(vocab_tokens); i++)
        sb_appendf(&sb, "%s\n", vocab_tokens[i]);
    return sb;
}

static struct wordpiece *tiny(int lowercase, int strip, int chinese)
{
    struct wordpiece_options opt = {lowercase, strip, chinese};
    struct strbuf sb = vocab_text();
    struct wordpiece *wp = NULL;
    struct fs_error err;
    if (wordpiece_from_vocab(sb.buf, sb.len, &opt, &wp, &err) < 0)
        printf("  tiny: %s\n", err.msg);
    sb_free(&sb);
    return wp;
}

/* Encodes s (strlen) and compares with the expected ids (after [CLS], before [SEP]). */
static int encodes_as(const struct wordpiece *wp, const char *s, size_t len, const int32_t *want,
                      int n_want)
{
    int32_t ids[256];
    int n = wordpiece_encode(wp, s, len, ids, NULL, 256);
    int ok = n == n_want + 2 && ids[0] == 2 && ids[n - 1] == 3;
    for (int i = 0; ok && i < n_want; i++)
        ok = ids[i + 1] == want[i];
    if (!ok) {
        printf("  encode \"%.*s\": got", (int)len, s);
        for (int i = 0; i < n; i++)
            printf(" %d", ids[i]);
        printf("\n");
    }
    return ok;
}

#define ENCODES(wp, s, ...)                                                                        \
    encodes_as(wp, s, sizeof(s) - 1, (const int32_t[]){__VA_ARGS__},                               \
               (int)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t)))
#define ENCODES_NOTHING(wp, s) encodes_as(wp, s, sizeof(s) - 1, NULL, 0)

static void test_greedy_longest_match(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    CHECK(ENCODES(wp, "unaffable", ID_UN, ID_AFF, ID_ABLE));
    CHECK(ENCODES(wp, "the stock", ID_THE, ID_STOCK));
    /* longest first, no backtracking: "xy" then "##z" is missing -> [UNK], although
     * "x" "##yz" would have matched */
    CHECK(ENCODES(wp, "xyz", 1));
    CHECK(ENCODES(wp, "xyz x", 1, 20));
    /* one [UNK] per unknown word, the others intact */
    CHECK(ENCODES(wp, "the qqq stock", ID_THE, 1, ID_STOCK));
    CHECK(ENCODES(wp, "aaa b", 16, 17, 17, 18));
    CHECK(ENCODES_NOTHING(wp, ""));
    CHECK(ENCODES_NOTHING(wp, "   \t\n "));
    CHECK_INT_EQ(wordpiece_encode(wp, NULL, 5, (int32_t[4]){0}, NULL, 4), 2);
    wordpiece_free(wp);
}

static void test_unk_long_words(void)
{
    struct wordpiece *wp = tiny(0, 0, 1);
    CHECK(wp);
    struct strbuf sb = STRBUF_INIT;
    int32_t ids[256];
    for (int i = 0; i < 100; i++)
        sb_append(&sb, "\xC3\xA9"); /* é: 100 characters, 200 bytes */
    CHECK_INT_EQ(wordpiece_encode(wp, sb.buf, sb.len, ids, NULL, 256), 102);
    CHECK_INT_EQ(ids[1], 26);
    CHECK_INT_EQ(ids[100], 27);
    sb_append(&sb, "\xC3\xA9"); /* 101 characters: one [UNK] */
    CHECK_INT_EQ(wordpiece_encode(wp, sb.buf, sb.len, ids, NULL, 256), 3);
    CHECK_INT_EQ(ids[1], 1);
    sb_reset(&sb);
    for (int i = 0; i < 101; i++)
        sb_append(&sb, "a");
    sb_append(&sb, " b");
    CHECK_INT_EQ(wordpiece_encode(wp, sb.buf, sb.len, ids, NULL, 256), 4);
    CHECK_INT_EQ(ids[1], 1);
    CHECK_INT_EQ(ids[2], 18);
    sb_free(&sb);
    wordpiece_free(wp);
}

static void test_truncation_and_word_of(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    const char *s = "unaffable the, stock";
    int32_t ids[16], word_of[16];
    int n = wordpiece_encode(wp, s, strlen(s), ids, word_of, 16);
    CHECK_INT_EQ(n, 8);
    const int32_t want_w[] = {-1, 0, 0, 0, 1, 2, 3, -1};
    for (int i = 0; i < n; i++)
        CHECK_INT_EQ(word_of[i], want_w[i]);
    /* cut inside the first word; [SEP] kept */
    n = wordpiece_encode(wp, s, strlen(s), ids, word_of, 4);
    CHECK_INT_EQ(n, 4);
    CHECK(ids[0] == 2 && ids[1] == ID_UN && ids[2] == ID_AFF && ids[3] == 3);
    CHECK(word_of[3] == -1 && word_of[2] == 0);
    n = wordpiece_encode(wp, s, strlen(s), ids, NULL, 2);
    CHECK(n == 2 && ids[0] == 2 && ids[1] == 3);
    CHECK_INT_EQ(wordpiece_encode(wp, s, strlen(s), ids, NULL, 1), 0);
    CHECK_INT_EQ(wordpiece_encode(wp, s, strlen(s), ids, NULL, 0), 0);
    wordpiece_free(wp);
}

static void test_accents_and_case(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    CHECK(ENCODES(wp, "Caf\xC3\xA9 NA\xC3\x8FVE", ID_CAFE, ID_NAIVE));
    CHECK(ENCODES(wp, "cafe\xCC\x81", ID_CAFE)); /* decomposed already */
    /* Hangul syllable 한 -> ᄒ ᅡ ᆫ (algorithmic NFD) */
    CHECK(ENCODES(wp, "\xED\x95\x9C", 32, 33, 34));
    wordpiece_free(wp);

    wp = tiny(1, 0, 1); /* lowercase, accents kept */
    CHECK(ENCODES(wp, "CAF\xC3\x89", 28, 27));
    /* İ lowercases to i + U+0307 (two characters) */
    CHECK(ENCODES(wp, "\xC4\xB0", 30, 31));
    /* final Σ lowercases to σ, without context (as tokenizers does) */
    CHECK(ENCODES(wp, "\xCE\x9F\xCE\xA3", 37, 38));
    wordpiece_free(wp);

    wp = tiny(0, 0, 1); /* cased */
    CHECK(ENCODES(wp, "Caf\xC3\xA9x", 40, 41));
    CHECK(ENCODES(wp, "caf\xC3\xA9", 28, 27));
    CHECK(ENCODES(wp, "CAFE", 1));
    wordpiece_free(wp);

    wp = tiny(0, 1, 1); /* accents stripped, case kept */
    CHECK(ENCODES(wp, "caf\xC3\xA9", ID_CAFE));
    CHECK(ENCODES(wp, "Caf\xC3\xA9", 40, 29));
    wordpiece_free(wp);
}

static void test_canonical_order(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    /* U+1D16D (ccc 226) before U+1D165 (ccc 216): NFD puts 216 first; both are Mc,
     * so stripping accents keeps them */
    CHECK(ENCODES(wp, "x\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5", 20, 35, 36));
    CHECK(ENCODES(wp, "x\xF0\x9D\x85\xA5\xF0\x9D\x85\xAD", 20, 35, 36));
    wordpiece_free(wp);
}

static void test_cjk_and_punctuation(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    CHECK(ENCODES(wp,
                  "a\xE4\xB8\xAD\xE6\x96\x87"
                  "b",
                  16, 14, 15, 18));
    CHECK(ENCODES(wp, "the,stock!", ID_THE, ID_COMMA, ID_STOCK, ID_BANG));
    CHECK(ENCODES(wp, "the\xE2\x80\x94stock", ID_THE, 22, ID_STOCK)); /* U+2014 (Pd) */
    CHECK(ENCODES(wp, "!!", ID_BANG, ID_BANG));
    wordpiece_free(wp);
    wp = tiny(1, 1, 0); /* CJK left in the word */
    CHECK(ENCODES(wp,
                  "a\xE4\xB8\xAD\xE6\x96\x87"
                  "b",
                  1));
    wordpiece_free(wp);
}

static void test_controls_and_invalid_utf8(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    /* controls, NUL, U+200B (Cf), U+FFFD and invalid bytes vanish inside a word */
    CHECK(ENCODES(wp, "st\x01oc\x7fk", ID_STOCK));
    CHECK(ENCODES(wp, "sto\0ck", ID_STOCK));
    CHECK(ENCODES(wp,
                  "sto\xE2\x80\x8B"
                  "ck",
                  ID_STOCK));
    CHECK(ENCODES(wp,
                  "sto\xEF\xBF\xBD"
                  "ck",
                  ID_STOCK));
    CHECK(ENCODES(wp,
                  "sto\xFF"
                  "ck",
                  ID_STOCK));
    CHECK(ENCODES(wp,
                  "sto\xC3"
                  "ck",
                  ID_STOCK)); /* truncated */
    CHECK(ENCODES(wp,
                  "sto\xED\xA0\x80"
                  "ck",
                  ID_STOCK)); /* surrogate */
    CHECK(ENCODES(wp,
                  "sto\xC0\xAF"
                  "ck",
                  ID_STOCK)); /* overlong */
    CHECK(ENCODES(wp,
                  "sto\xF4\x90\x80\x80"
                  "ck",
                  ID_STOCK)); /* > U+10FFFF */
    /* whitespace of every kind separates */
    CHECK(ENCODES(wp, "the\tstock\r\nthe\xC2\xA0stock\xE2\x80\xA8the", ID_THE, ID_STOCK, ID_THE,
                  ID_STOCK, ID_THE));
    /* every byte value, alone: no crash, ids in range */
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        int32_t ids[8];
        int n = wordpiece_encode(wp, &b, 1, ids, NULL, 8);
        CHECK(n >= 2 && n <= 3);
        for (int i = 0; i < n; i++)
            CHECK(ids[i] >= 0 && ids[i] < wordpiece_vocab_size(wp));
    }
    wordpiece_free(wp);
}

static void test_special_tokens_in_text(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    CHECK(ENCODES(wp, "the [SEP] stock", ID_THE, 3, ID_STOCK));
    CHECK(ENCODES(wp, "the[MASK]stock[UNK]", ID_THE, 4, ID_STOCK, 1));
    CHECK(ENCODES(wp, "[sep]", 23, 25, 24)); /* only the exact text is special */
    CHECK(ENCODES(wp, "[SEP", 23, 25));
    CHECK(ENCODES(wp, "[CLS][PAD]", 2, 0));
    wordpiece_free(wp);
}

static void test_words(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    const char *s = "Caf\xC3\xA9, NA\xC3\x8FVE! st\x01ock a\xE4\xB8\xAD [SEP] x\xFFy";
    char **w;
    int n = wordpiece_words(wp, s, strlen(s), &w);
    const char *want[] = {"Caf\xC3\xA9", ",", "NA\xC3\x8FVE", "!", "stock", "a", "\xE4\xB8\xAD",
                          "[SEP]",       "xy"};
    CHECK_INT_EQ(n, FS_ARRAY_LEN(want));
    for (int i = 0; i < n; i++)
        CHECK_STR_EQ(w[i], want[i]);
    wordpiece_words_free(w, n);
    /* word_of agrees with the words: [CLS] cafe , naive ! stock a 中 [SEP] xy [SEP] */
    int32_t ids[32], word_of[32];
    int k = wordpiece_encode(wp, s, strlen(s), ids, word_of, 32);
    CHECK_INT_EQ(k, 11);
    for (int i = 1; i < k - 1; i++)
        CHECK_INT_EQ(word_of[i], i - 1);
    CHECK(word_of[0] == -1 && word_of[k - 1] == -1);
    CHECK(ids[8] == 3 && ids[9] == 19);
    CHECK_INT_EQ(wordpiece_words(wp, "", 0, &w), 0);
    CHECK(w == NULL);
    CHECK_INT_EQ(wordpiece_words(wp, "\x01\x02 \xFF", 4, &w), 0);
    wordpiece_free(wp);
}

static void test_accessors(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    CHECK_INT_EQ(wordpiece_vocab_size(wp), FS_ARRAY_LEN(vocab_tokens));
    CHECK_INT_EQ(wordpiece_pad_id(wp), 0);
    CHECK_INT_EQ(wordpiece_unk_id(wp), 1);
    CHECK_INT_EQ(wordpiece_cls_id(wp), 2);
    CHECK_INT_EQ(wordpiece_sep_id(wp), 3);
    CHECK_INT_EQ(wordpiece_mask_id(wp), 4);
    CHECK_STR_EQ(wordpiece_piece(wp, ID_AFF), "##aff");
    CHECK(wordpiece_piece(wp, -1) == NULL);
    CHECK(wordpiece_piece(wp, wordpiece_vocab_size(wp)) == NULL);
    CHECK_INT_EQ(wordpiece_id(wp, "##able"), ID_ABLE);
    CHECK_INT_EQ(wordpiece_id(wp, "able"), -1);
    CHECK_INT_EQ(wordpiece_id(wp, ""), -1);
    wordpiece_free(wp);
}

static void test_vocab_format(void)
{
    struct wordpiece_options opt = {1, 1, 1};
    struct wordpiece *wp;
    struct fs_error err;
    /* CRLF endings, no final newline, an empty line, a duplicate (the later id wins) */
    const char *v = "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\n\r\nthe\r\nstock\r\nthe";
    CHECK(wordpiece_from_vocab(v, strlen(v), &opt, &wp, &err) == 0);
    CHECK_INT_EQ(wordpiece_vocab_size(wp), 9);
    CHECK_STR_EQ(wordpiece_piece(wp, 5), "");
    CHECK_STR_EQ(wordpiece_piece(wp, 6), "the");
    CHECK_INT_EQ(wordpiece_id(wp, "the"), 8);
    CHECK_INT_EQ(wordpiece_id(wp, "stock"), 7);
    CHECK(ENCODES(wp, "the stock", 8, 7));
    wordpiece_free(wp);
}

static void test_bad_vocab(void)
{
    static const char nul_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\0c\n";
    struct wordpiece_options opt = {1, 1, 1};
    struct wordpiece *wp = (struct wordpiece *)&opt;
    struct fs_error err;
    struct {
        const char *data;
        size_t len;
        const char *msg;
    } bad[] = {
        {"[PAD]\n[CLS]\n[SEP]\n[MASK]\n", 0, "lacks [UNK]"},
        {"", 0, "lacks [PAD]"},
        {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\xFF\n", 0, "line 6: token is not valid UTF-8"},
        {nul_vocab, sizeof nul_vocab - 1, "line 6: token holds a NUL byte"},
        {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n\xED\xA0\x80\n", 0, "not valid UTF-8"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].data);
        CHECK(wordpiece_from_vocab(bad[i].data, len, &opt, &wp, &err) < 0);
        CHECK(wp == NULL);
        CHECK_MSG(strstr(err.msg, bad[i].msg) != NULL, "case %zu: %s", i, err.msg);
        CHECK(strchr(err.msg, '\n') == NULL);
    }
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    for (int i = 0; i <= WP_MAX_PIECE; i++)
        sb_append_char(&sb, 'a');
    CHECK(wordpiece_from_vocab(sb.buf, sb.len, &opt, &wp, &err) < 0);
    CHECK_MSG(strstr(err.msg, "longer than") != NULL, "%s", err.msg);
    sb_free(&sb);
}

/* ---- files: wordpiece_load_dir ---------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *data, size_t len)
{
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p.buf, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    sb_free(&p);
}

static void remove_file(const char *name)
{
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/%s", tmpdir, name);
    unlink(p.buf);
    sb_free(&p);
}

static int load_with_config(const char *config, struct wordpiece_options *got, char *msg,
                            size_t msg_size)
{
    if (config)
        write_file("tokenizer_config.json", config, strlen(config));
    else
        remove_file("tokenizer_config.json");
    struct wordpiece *wp;
    struct fs_error err;
    int rc = wordpiece_load_dir(tmpdir, &wp, &err);
    if (rc == 0) {
        wordpiece_get_options(wp, got);
        wordpiece_free(wp);
    } else {
        snprintf(msg, msg_size, "%s", err.msg);
    }
    return rc;
}

static void test_load_dir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/finsent-wordpiece-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    struct wordpiece *wp;
    struct fs_error err;
    CHECK(wordpiece_load_dir(tmpdir, &wp, &err) < 0); /* no vocab.txt */
    CHECK_MSG(strstr(err.msg, "vocab.txt") != NULL, "%s", err.msg);
    struct strbuf sb = vocab_text();
    write_file("vocab.txt", sb.buf, sb.len);
    sb_free(&sb);

    struct wordpiece_options o;
    char msg[FS_ERROR_MAX] = "";
    CHECK(load_with_config(NULL, &o, msg, sizeof msg) == 0);
    CHECK(o.lowercase == 1 && o.strip_accents == 1 && o.chinese_chars == 1);
    CHECK(load_with_config("{\"do_lower_case\": false, \"strip_accents\": null}", &o, msg,
                           sizeof msg) == 0);
    CHECK(o.lowercase == 0 && o.strip_accents == 0 && o.chinese_chars == 1);
    CHECK(load_with_config("{\"do_lower_case\": false, \"strip_accents\": true, "
                           "\"tokenize_chinese_chars\": false, \"model_max_length\": 512}",
                           &o, msg, sizeof msg) == 0);
    CHECK(o.lowercase == 0 && o.strip_accents == 1 && o.chinese_chars == 0);
    CHECK(load_with_config("{\"do_lower_case\": true, \"strip_accents\": false}", &o, msg,
                           sizeof msg) == 0);
    CHECK(o.lowercase == 1 && o.strip_accents == 0);

    const char *bad[] = {"{", "[]", "{\"do_lower_case\": \"yes\"}", "{\"strip_accents\": 1}",
                         "{\"tokenize_chinese_chars\": null}"};
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        CHECK_MSG(load_with_config(bad[i], &o, msg, sizeof msg) < 0, "accepted %s", bad[i]);
        CHECK_MSG(strstr(msg, "tokenizer_config.json") != NULL && !strchr(msg, '\n'), "%s", msg);
    }
    remove_file("tokenizer_config.json");
    remove_file("vocab.txt");
    rmdir(tmpdir);
}

/* ---- serialisation -------------------------------------------------------------------- */

static void test_serialize_round_trip(void)
{
    struct wordpiece *wp = tiny(0, 1, 0), *back = NULL;
    CHECK(wp);
    size_t len;
    char *s = wordpiece_serialize(wp, &len);
    CHECK(strlen(s) == len);
    CHECK(strncmp(s, "finsent-wordpiece 1\noptions lowercase=0 strip_accents=1 chinese_chars=0\n",
                  71) == 0);
    struct fs_error err;
    CHECK_MSG(wordpiece_deserialize(s, len, &back, &err) == 0, "%s", err.msg);
    size_t len2;
    char *s2 = wordpiece_serialize(back, &len2);
    CHECK(len2 == len && memcmp(s, s2, len) == 0);
    struct wordpiece_options o;
    wordpiece_get_options(back, &o);
    CHECK(o.lowercase == 0 && o.strip_accents == 1 && o.chinese_chars == 0);
    for (int i = 0; i < wordpiece_vocab_size(wp); i++)
        CHECK_STR_EQ(wordpiece_piece(back, i), wordpiece_piece(wp, i));
    const char *text = "Caf\xC3\xA9 the, [SEP] xyz a\xE4\xB8\xAD";
    int32_t a[32], b[32];
    int na = wordpiece_encode(wp, text, strlen(text), a, NULL, 32);
    int nb = wordpiece_encode(back, text, strlen(text), b, NULL, 32);
    CHECK(na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0);
    free(s);
    free(s2);
    wordpiece_free(back);
    wordpiece_free(wp);
}

/* Body (everything before the checksum line) with a fresh checksum appended. */
static char *with_checksum(const char *body, size_t *len)
{
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, body);
    sb_appendf(&sb, "checksum %016llx\n", (unsigned long long)hash64(sb.buf, sb.len, 0));
    *len = sb.len;
    return sb_detach(&sb);
}

static void test_deserialize_rejects(void)
{
    struct wordpiece *wp = tiny(1, 1, 1), *out = (struct wordpiece *)&out;
    CHECK(wp);
    size_t len;
    char *s = wordpiece_serialize(wp, &len);
    struct fs_error err;
    /* every truncation, and a flipped byte anywhere */
    for (size_t cut = 0; cut < len; cut++) {
        CHECK_MSG(wordpiece_deserialize(s, cut, &out, &err) < 0, "accepted a cut at %zu", cut);
        CHECK(out == NULL);
    }
    for (size_t i = 0; i < len; i += 7) {
        s[i] ^= 0x20;
        CHECK_MSG(wordpiece_deserialize(s, len, &out, &err) < 0, "accepted a flip at %zu", i);
        s[i] ^= 0x20;
    }
    CHECK(wordpiece_deserialize(NULL, 0, &out, &err) < 0);
    free(s);
    wordpiece_free(wp);

    const char *specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    struct {
        const char *head, *tail, *msg;
    } bad[] = {
        {"finsent-wordpiece 2\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 5\n", "",
         "format line"},
        {"finsent-wordpiece 1\noptions lowercase=2 strip_accents=1 chinese_chars=1\npieces 5\n", "",
         "bad options"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1\npieces 5\n", "", "bad options"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 05\n",
         "", "bad piece count"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 999\n",
         "", "larger than the data"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n", "",
         "truncated"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 5\n",
         "extra\n", "unexpected data"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n",
         "%41\n", "bad escape"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n",
         "a b\n", "bad escape"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n",
         "%4\n", "bad escape"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n",
         "%FF\n", "not valid UTF-8"},
        {"finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 6\n",
         "%00\n", "NUL"},
    };
    for (size_t i = 0; i < FS_ARRAY_LEN(bad); i++) {
        struct strbuf body = STRBUF_INIT;
        sb_appendf(&body, "%s%s%s", bad[i].head, specials, bad[i].tail);
        char *d = with_checksum(body.buf, &len);
        CHECK_MSG(wordpiece_deserialize(d, len, &out, &err) < 0, "case %zu accepted", i);
        CHECK_MSG(strstr(err.msg, bad[i].msg) != NULL, "case %zu: %s", i, err.msg);
        CHECK(out == NULL);
        free(d);
        sb_free(&body);
    }
    /* a missing special token */
    char *d = with_checksum(
        "finsent-wordpiece 1\noptions lowercase=1 strip_accents=1 chinese_chars=1\npieces 2\n"
        "[PAD]\n[UNK]\n",
        &len);
    CHECK(wordpiece_deserialize(d, len, &out, &err) < 0);
    CHECK_MSG(strstr(err.msg, "lacks [CLS]") != NULL, "%s", err.msg);
    free(d);
}

/* ---- threads ---------------------------------------------------------------------------- */

struct thread_job {
    const struct wordpiece *wp;
    int ok;
};

static const char *const thread_texts[] = {"unaffable the, stock", "Caf\xC3\xA9 NA\xC3\x8FVE!",
                                           "a\xE4\xB8\xAD\xE6\x96\x87"
                                           "b [SEP] xyz",
                                           "sto\xFF"
                                           "ck the"};

static void *thread_main(void *p)
{
    struct thread_job *job = p;
    int32_t want[4][32], got[32];
    int n[4];
    for (int t = 0; t < 4; t++)
        n[t] =
            wordpiece_encode(job->wp, thread_texts[t], strlen(thread_texts[t]), want[t], NULL, 32);
    job->ok = 1;
    for (int r = 0; r < 2000; r++) {
        int t = r % 4;
        int k = wordpiece_encode(job->wp, thread_texts[t], strlen(thread_texts[t]), got, NULL, 32);
        if (k != n[t] || memcmp(got, want[t], (size_t)k * sizeof *got) != 0)
            job->ok = 0;
    }
    return NULL;
}

static void test_concurrent_encode(void)
{
    struct wordpiece *wp = tiny(1, 1, 1);
    CHECK(wp);
    pthread_t th[4];
    struct thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){wp, 0};
        CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(jobs[i].ok);
    wordpiece_free(wp);
}

int main(void)
{
    RUN(test_greedy_longest_match);
    RUN(test_unk_long_words);
    RUN(test_truncation_and_word_of);
    RUN(test_accents_and_case);
    RUN(test_canonical_order);
    RUN(test_cjk_and_punctuation);
    RUN(test_controls_and_invalid_utf8);
    RUN(test_special_tokens_in_text);
    RUN(test_words);
    RUN(test_accessors);
    RUN(test_vocab_format);
    RUN(test_bad_vocab);
    RUN(test_load_dir);
    RUN(test_serialize_round_trip);
    RUN(test_deserialize_rejects);
    RUN(test_concurrent_encode);
    return check_summary();
}
