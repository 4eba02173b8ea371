/*
 * tokenizer.h — the subword tokenizer learned from the training texts.
 *
 * Normalisation, in order:
 *   - HTML entities are decoded (&amp; &lt; &gt; &quot; &apos; &nbsp; &#NN; &#xHH;);
 *   - the text is split into words: runs of letters/digits (and non-ASCII letters),
 *     each ASCII punctuation character (a run of one repeated character such as
 *     "!!!" or "..." is one word), each symbol (emoji and other 4-byte characters,
 *     U+2010..U+2FFF: dashes, curly quotes, arrows, currency signs); blanks,
 *     no-break and zero-width spaces separate words;
 *   - URLs (http://, https://, www., t.co/ up to the next blank; trailing
 *     punctuation left out) -> TOK_URL;  @user -> TOK_USER;
 *   - $TICKER ("$AAPL", "$BRK.B"; a letter after '$') -> TOK_TICKER alone (by
 *     default; the option ticker_symbols adds the symbol's pieces after it);
 *     "$5" is "$" then a number;
 *   - numbers ("5", "1,000.50", "10:30") -> TOK_NUM (option number_marker, on by
 *     default); a letter suffix stays as continuation pieces ("10k" -> TOK_NUM
 *     "##k", "2nd" -> TOK_NUM "##nd"); signs and '%' are their own tokens, so "+5%"
 *     is "+" TOK_NUM "%" and "-5%" differs;
 *   - ASCII letters are lowercased (other scripts are left as they are).
 * Each word is then cut into vocabulary pieces by greedy longest match (WordPiece
 * style; "##" marks a piece that continues a word, see tokenizer_piece). Bytes the
 * vocabulary lacks become TOK_UNK (one per run inside a word), so any byte sequence
 * (invalid UTF-8, NULs, binary) encodes.
 *
 * The vocabulary is learned by byte-level BPE merges over the training words
 * (alphabet = the bytes seen, most frequent first, then any printable ASCII not
 * seen, so that only unseen non-ASCII bytes can be TOK_UNK; merges need a count
 * >= 2; pieces are at most 32 bytes).
 *
 * Measurements (bundled train sets of both tasks, 26,533 texts; validation 6,505):
 *   build/bench/bench_tokenizer — training takes 0.1-0.5 s, encoding all training
 *   texts 0.05-0.2 s (depending on machine load). At 8,000 pieces a validation text
 *   is 19.3 words and 22.1 tokens on average, 0.001% of tokens are TOK_UNK, 0.5% of
 *   texts exceed 64 tokens and none 128. A plain word vocabulary of the same 8,000
 *   entries would leave 7.3% of validation words unknown (4,000: 11.9%; 16,000:
 *   4.3%) — subwords buy near-full coverage for 15% more tokens than words.
 *   bench/bench_baseline.py --ablation — which normalisation helps the classical
 *   TF-IDF word + char n-gram LinearSVC (validation accuracy sentiment / topic; one
 *   step added per row; differences of 0.2-0.4 points are 5-15 texts, and none of
 *   them is significant by an exact McNemar test, p > 0.1):
 *       raw text                         0.8455 / 0.8615
 *       + entities decoded               0.8455 / 0.8613   (no effect)
 *       + URLs -> marker                 0.8472 / 0.8630   (helps)
 *       + @user -> marker                0.8488 / 0.8623
 *       + $TICKER -> marker alone        0.8505 / 0.8667   (helps most)
 *         (or marker + symbol instead)   0.8488 / 0.8632
 *       + numbers -> marker              0.8509 / 0.8620   (mixed)
 *       + sign and % as tokens           0.8509 / 0.8620   (no effect here)
 *   The same SVM on word 1-2 grams of finsent's own pieces (vocab 8,000), per
 *   (ticker_symbols, number_marker): (1,1) 0.8455 / 0.8535, (0,1) 0.8497 / 0.8550,
 *   (1,0) 0.8438 / 0.8511, (0,0) 0.8484 / 0.8564; sklearn's words of the raw text
 *   give 0.8384 / 0.8504. So the ticker marker alone is the default (better on
 *   both tasks in both measurements; the surface "$AAPL" still reaches explanations
 *   through tokenizer_words); the number marker stays (no clear difference, and it
 *   keeps digit pieces out of the vocabulary); the sign and '%' tokens stay because
 *   "+5%" and "-5%" should differ for a sequence model even if bag-of-n-grams do
 *   not show it. The vocabulary size hardly matters to that SVM: 1,000 / 2,000 /
 *   4,000 / 8,000 / 16,000 pieces give 0.845-0.850 sentiment and 0.852-0.856 topic
 *   accuracy. Unigram LM segmentation was not tried: BPE + longest match already
 *   leaves almost nothing unknown and trains in well under a second.
 *
 * Thread safety: a trained or deserialised tokenizer is read-only; encode and words
 * may run concurrently on one tokenizer.
 *
 * Ids 0..TOK_N_SPECIAL-1 are reserved for the special tokens below.
 */
#ifndef FINSENT_TOKENIZER_H
#define FINSENT_TOKENIZER_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum {
    TOK_PAD = 0,
    TOK_UNK = 1,
    TOK_CLS = 2,
    TOK_SEP = 3,
    TOK_URL = 4,    /* a URL */
    TOK_USER = 5,   /* an @user mention */
    TOK_TICKER = 6, /* a $TICKER (its symbol's pieces follow with ticker_symbols) */
    TOK_NUM = 7,    /* a number */
    TOK_N_SPECIAL = 8
};

struct tokenizer;

/* Learns a vocabulary of at most vocab_size ids (TOK_N_SPECIAL < vocab_size <=
 * 1,000,000; fewer when the texts have no more pairs seen twice) from n
 * NUL-terminated texts (NULL entries are skipped). Deterministic: the same texts
 * give the same vocabulary. Returns 0 and *out (free with tokenizer_free), or -1. */
int tokenizer_train(const char *const *texts, size_t n, int vocab_size, struct tokenizer **out,
                    struct fs_error *err);

/* The normaliser's choices, fixed at training and stored with the vocabulary. */
struct tokenizer_options {
    int ticker_symbols; /* 1: TOK_TICKER then the symbol's pieces; 0: TOK_TICKER alone */
    int number_marker;  /* 1: numbers -> TOK_NUM; 0: digits are pieces like letters */
};

/* What tokenizer_train() uses (see the measurements above). */
extern const struct tokenizer_options tokenizer_default_options;

/* tokenizer_train() with explicit options. */
int tokenizer_train_opts(const char *const *texts, size_t n, int vocab_size,
                         const struct tokenizer_options *opt, struct tokenizer **out,
                         struct fs_error *err);

int tokenizer_vocab_size(const struct tokenizer *tok);

/* Encodes text (len bytes, need not be NUL-terminated or valid UTF-8; NULL is an
 * empty text):
 * ids[0] = TOK_CLS, then the subword ids, at most max_len ids in all (longer
 * texts are truncated). When word_of is not NULL, word_of[i] is the index of the
 * word (see tokenizer_words) that token i comes from, -1 for TOK_CLS.
 * ids and word_of need room for max_len entries. Only the words needed are
 * scanned, but the whole text is normalised first (linear in len).
 * Returns the number of ids written (>= 1; 0 when max_len <= 0). */
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len, int32_t *ids,
                     int32_t *word_of, int max_len);

/* The words of text as the tokenizer splits them, in their original surface form
 * (e.g. "$AAPL", "downgrades"), as an array of n strings. Returns n; free with
 * tokenizer_words_free() (*words is NULL when n is 0). HTML entities are shown
 * decoded ("&amp;" -> "&"); the case is kept. Every word yields at least one token,
 * except that words cut off by max_len yield none. */
int tokenizer_words(const struct tokenizer *tok, const char *text, size_t len, char ***words);
void tokenizer_words_free(char **words, int n);

/* The text of one vocabulary entry (for debugging and tests): "[PAD]", "<url>",
 * "stock", "##ing" (a continuation). NULL for an id out of range. Owned by tok. */
const char *tokenizer_piece(const struct tokenizer *tok, int32_t id);

/* Serialises to a self-contained NUL-terminated text (stored in the model file's
 * metadata): a format line, the options, one escaped piece per line and a
 * checksum line. *len (when not NULL) gets its length. Caller frees. */
char *tokenizer_serialize(const struct tokenizer *tok, size_t *len);
/* Rebuilds a tokenizer from len bytes of tokenizer_serialize() output. The data is
 * untrusted: truncation, a wrong checksum, bad escapes, duplicate or overlong
 * pieces and trailing bytes fail with one line in err. Returns 0 or -1. */
int tokenizer_deserialize(const char *data, size_t len, struct tokenizer **out,
                          struct fs_error *err);

void tokenizer_free(struct tokenizer *tok);

#endif
