/*
 * tokenizer.h — the subword tokenizer learned from the training texts.
 *
 * Text is normalised first (NFC-agnostic lowercasing of ASCII, URLs -> <url>,
 * $TICKERS -> a ticker marker plus the symbol, numbers -> a number marker,
 * @users -> <user>), split into words, and each word into subwords from the
 * learned vocabulary. Any byte sequence encodes without error (unknown pieces
 * fall back to byte tokens or TOK_UNK).
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
    TOK_N_SPECIAL = 8 /* 4..7 are used by the normaliser's markers */
};

struct tokenizer;

/* Learns a vocabulary of at most vocab_size ids from n texts. Deterministic. */
int tokenizer_train(const char *const *texts, size_t n, int vocab_size, struct tokenizer **out,
                    struct fs_error *err);

int tokenizer_vocab_size(const struct tokenizer *tok);

/* Encodes text (len bytes, need not be NUL-terminated or valid UTF-8):
 * ids[0] = TOK_CLS, then the subword ids, at most max_len ids in all (longer
 * texts are truncated). When word_of is not NULL, word_of[i] is the index of the
 * word (see tokenizer_words) that token i comes from, -1 for TOK_CLS.
 * Returns the number of ids written (>= 1). */
int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len, int32_t *ids,
                     int32_t *word_of, int max_len);

/* The words of text as the tokenizer splits them, in their original surface form
 * (e.g. "$AAPL", "downgrades"), as an array of n strings. Returns n; free with
 * tokenizer_words_free(). */
int tokenizer_words(const struct tokenizer *tok, const char *text, size_t len, char ***words);
void tokenizer_words_free(char **words, int n);

/* The text of one vocabulary entry (for debugging and tests). */
const char *tokenizer_piece(const struct tokenizer *tok, int32_t id);

/* Serialises to a self-contained string (stored in the model file); caller frees. */
char *tokenizer_serialize(const struct tokenizer *tok, size_t *len);
int tokenizer_deserialize(const char *data, size_t len, struct tokenizer **out,
                          struct fs_error *err);

void tokenizer_free(struct tokenizer *tok);

#endif
