/* fuzz_wordpiece.c — libFuzzer target for classify/wordpiece.h, on every input:
 *   - wordpiece_deserialize of the input (must reject or accept without crashing;
 *     an accepted tokenizer serialises back to the same bytes), then of the input
 *     as the piece lines behind a valid header and checksum, so that the piece
 *     parser is reached;
 *   - the input as a vocabulary (after the five special tokens): accepted ones
 *     must round-trip through serialisation and encode texts;
 *   - the input as text, under three option sets of a fixed vocabulary: ids in
 *     range, [CLS] first and [SEP] last, at most max_len, word_of within the words,
 *     words valid UTF-8 without NUL. */
#include "classify/wordpiece.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/text.h"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char *const tokens[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "stock", "##s", "rally", "##ing", "a",
    "##a", "b", "##b", ",", ".", "!", "$", "%", "[", "]", "#", "##e", "e", "caf", "\xC3\xA9",
    "##\xC3\xA9", "\xE4\xB8\xAD", "\xE6\x96\x87", "\xE1\x84\x92", "##\xE1\x85\xA1", "i",
    "##\xCC\x87", "\xF0\x9F\x9A\x80", "##\xF0\x9D\x85\xA5", "\xCE\xBF", "##\xCF\x83"};
/* clang-format on */

static const char *const texts[] = {"The stocks rally!", "caf\xC3\xA9 [SEP] a\xE4\xB8\xAD b",
                                    "\xC4\xB0 \xCE\x9F\xCE\xA3 \xED\x95\x9C"};

static struct wordpiece *fixed[3]; /* built once: the fuzzer calls us millions of times */

static struct wordpiece *build(const char *prefix, const char *data, size_t size,
                               const struct wordpiece_options *opt)
{
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, prefix);
    sb_append_n(&sb, data, size);
    struct wordpiece *wp = NULL;
    struct fs_error err;
    wordpiece_from_vocab(sb.buf, sb.len, opt, &wp, &err);
    sb_free(&sb);
    return wp;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++)
        sb_appendf(&sb, "%s\n", tokens[i]);
    const struct wordpiece_options opts[3] = {{1, 1, 1}, {0, 0, 1}, {1, 0, 0}};
    for (int i = 0; i < 3; i++)
        if (!(fixed[i] = build("", sb.buf, sb.len, &opts[i])))
            abort();
    sb_free(&sb);
    return 0;
}

/* An accepted tokenizer must serialise back to exactly the bytes it came from. */
static void deserialize_checked(const char *data, size_t size)
{
    struct wordpiece *wp;
    struct fs_error err;
    if (wordpiece_deserialize(data, size, &wp, &err) != 0)
        return;
    size_t len;
    char *s = wordpiece_serialize(wp, &len);
    fuzz_same_bytes(data, size, s, len);
    wordpiece_free(wp);
}

/* The input as the piece lines of a serialised tokenizer. */
static void deserialize_pieces(const char *data, size_t size)
{
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb,
               "finsent-wordpiece 1\noptions lowercase=1 strip_accents=0 chinese_chars=1\n"
               "pieces %zu\n",
               lines);
    sb_append_n(&sb, data, size);
    sb_appendf(&sb, "checksum %016llx\n", (unsigned long long)hash64(sb.buf, sb.len, 0));
    deserialize_checked(sb.buf, sb.len);
    sb_free(&sb);
}

static void encode_checked(const struct wordpiece *wp, const char *text, size_t len)
{
    enum { MAX = 64 };
    int32_t ids[MAX], word_of[MAX];
    int n = wordpiece_encode(wp, text, len, ids, word_of, MAX);
    char **words;
    int nw = wordpiece_words(wp, text, len, &words);
    if (n < 2 || n > MAX || ids[0] != wordpiece_cls_id(wp) || ids[n - 1] != wordpiece_sep_id(wp))
        abort();
    for (int i = 0; i < n; i++) {
        int inner = i > 0 && i < n - 1;
        if (ids[i] < 0 || ids[i] >= wordpiece_vocab_size(wp))
            abort();
        if (inner ? word_of[i] < 0 || word_of[i] >= nw || (i > 1 && word_of[i] < word_of[i - 1])
                  : word_of[i] != -1)
            abort();
    }
    for (int i = 0; i < nw; i++)
        if (!text_utf8_valid(words[i], strlen(words[i])) || words[i][0] == '\0')
            abort();
    wordpiece_words_free(words, nw);
}

/* The input as a vocabulary: when accepted, a round trip and some encoding. */
static void vocab_checked(const char *data, size_t size)
{
    const struct wordpiece_options opt = {1, 1, 1};
    struct wordpiece *wp = build("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", data, size, &opt);
    if (!wp)
        return;
    size_t len;
    char *s = wordpiece_serialize(wp, &len);
    deserialize_checked(s, len);
    free(s);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        encode_checked(wp, texts[i], strlen(texts[i]));
    encode_checked(wp, data, size);
    wordpiece_free(wp);
}

/* Texts and vocabularies past this are cut for the checks that scan them whole
 * (several passes each): the bugs live in short inputs, and speed finds them. */
enum { FUZZ_TEXT_MAX = 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    deserialize_checked(d, size);
    deserialize_pieces(d, size);
    size_t cut = fuzz_cut(size, FUZZ_TEXT_MAX);
    vocab_checked(d, cut);
    for (int i = 0; i < 3; i++)
        encode_checked(fixed[i], d, cut);
    return 0;
}
