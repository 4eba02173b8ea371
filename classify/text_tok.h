/*
 * text_tok.h — the one tokenizer interface the classifier uses, over the two
 * tokenizers finsent has:
 *   TEXT_TOK_LEARNED    finsent's own subwords learned from the training texts
 *                       (classify/tokenizer.h): [CLS] pieces, for the encoder
 *                       trained from scratch;
 *   TEXT_TOK_WORDPIECE  a pretrained base's WordPiece (classify/wordpiece.h):
 *                       [CLS] pieces [SEP], for a fine-tuned BERT-family encoder.
 * The model file says which one it holds (its metadata key, text_tok_meta_key()).
 *
 * URL folding (off unless set: `finsent train --fold-urls` sets it for a
 * fine-tuned model, and the model file records it): before tokenizing, each
 * URL becomes the word "http". A URL
 * is "http://", "https://", "www." or "t.co/" (ASCII, any case) not preceded by
 * an ASCII letter or digit, with every printable ASCII character ('!'..'~')
 * that follows. The link's random path (t.co/AbC12xYz) carries no meaning but
 * costs a tweet about a third of its WordPiece tokens; the marker keeps the
 * fact that the text links somewhere. In Python:
 *   re.sub(r"(?<![A-Za-z0-9])(?:https?://|www\.|t\.co/)[!-~]*", "http", s,
 *          flags=re.I | re.A)
 *
 * Thread safety: a built tokenizer is read-only; encode and words may run
 * concurrently.
 */
#ifndef FINSENT_TEXT_TOK_H
#define FINSENT_TEXT_TOK_H

#include "classify/tokenizer.h"
#include "classify/wordpiece.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum text_tok_kind { TEXT_TOK_LEARNED, TEXT_TOK_WORDPIECE };

struct text_tok;

/* Wraps a tokenizer, taking ownership of it. */
struct text_tok *text_tok_from_learned(struct tokenizer *t);
struct text_tok *text_tok_from_wordpiece(struct wordpiece *wp);

enum text_tok_kind text_tok_kind(const struct text_tok *t);

/* URL folding (above) on or off, and whether it is on. */
void text_tok_set_url_fold(struct text_tok *t, int on);
int text_tok_url_fold(const struct text_tok *t);

/* The model file's metadata key that records URL folding, and its value. */
#define TEXT_TOK_URL_FOLD_KEY "text.urls"
#define TEXT_TOK_URL_FOLD_MARK "http"

/* text with URL folding applied (caller frees); *out_len gets its length. */
char *text_tok_fold_urls(const char *text, size_t len, size_t *out_len);

/* The text's ids, at most max_len, and for each the index of the word it
 * comes from (-1 for special tokens; word_of may be NULL). Returns the count. */
int text_tok_encode(const struct text_tok *t, const char *text, size_t len, int32_t *ids,
                    int32_t *word_of, int max_len);

/* The words of text in their surface form (for explanations); free with
 * text_tok_words_free(). Returns their number. */
int text_tok_words(const struct text_tok *t, const char *text, size_t len, char ***words);
void text_tok_words_free(const struct text_tok *t, char **words, int n);

int text_tok_vocab_size(const struct text_tok *t);

/* The model file's metadata key for this kind: "tokenizer" (learned) or
 * "tokenizer.wordpiece". */
const char *text_tok_meta_key(enum text_tok_kind kind);

/* Serialised form for the metadata (caller frees). */
char *text_tok_serialize(const struct text_tok *t);

/* Rebuilds the tokenizer of a kind from its untrusted serialised form.
 * Returns NULL with a reason in err. */
struct text_tok *text_tok_deserialize(enum text_tok_kind kind, const char *data, size_t len,
                                      struct fs_error *err);

void text_tok_free(struct text_tok *t);

#endif
