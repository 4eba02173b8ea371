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
 *   - $TICKER ("$AAPL", "$BRK.B"; a letter after '$') -> TOK_TICKER followed by
 *     the symbol's pieces; "$5" is "$" then a number;
 *   - numbers ("5", "1,000.50", "10:30") -> TOK_NUM; a letter suffix stays as
 *     continuation pieces ("10k" -> TOK_NUM "##k", "2nd" -> TOK_NUM "##nd"); signs
 *     and '%' are their own tokens, so "+5%" is "+" TOK_NUM "%" and "-5%" differs;
 *   - ASCII letters are lowercased (other scripts are left as they are).
 * Each word is then cut into vocabulary pieces by greedy longest match (WordPiece
 * style; "##" marks a piece that continues a word, see tokenizer_piece). Bytes the
 * vocabulary lacks become TOK_UNK (one per run inside a word), so any byte sequence
 * (invalid UTF-8, NULs, binary) encodes.
 *
 * The vocabulary is learned by byte-level BPE merges over the training words
 * (alphabet = the bytes seen, most frequent first, then any printable ASCII not
 * seen, so that only unseen non-ASCII bytes can be TOK_UNK; merges need a count
 * >= 2; pieces are at most 32 bytes). Measured with bench/bench_tokenizer on the bundled train sets
 * (26,533 texts of both tasks): training takes about 0.1 s, encoding all of them
 * about 0.05 s; at 8,000 pieces a validation text is 19.3 words and 22.9 tokens on
 * average, 0.002% of tokens are TOK_UNK and 0.7% of texts exceed 64 tokens.
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
    TOK_TICKER = 6, /* a $TICKER (its symbol's pieces follow) */
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
