/*
 * text_tok.c — one interface over the learned tokenizer and WordPiece.
 */
#include "classify/text_tok.h"

#include <stdlib.h>

struct text_tok {
    enum text_tok_kind kind;
    struct tokenizer *learned;
    struct wordpiece *wp;
};

struct text_tok *text_tok_from_learned(struct tokenizer *tok)
{
    struct text_tok *t = xcalloc(1, sizeof *t);
    t->kind = TEXT_TOK_LEARNED;
    t->learned = tok;
    return t;
}

struct text_tok *text_tok_from_wordpiece(struct wordpiece *wp)
{
    struct text_tok *t = xcalloc(1, sizeof *t);
    t->kind = TEXT_TOK_WORDPIECE;
    t->wp = wp;
    return t;
}

enum text_tok_kind text_tok_kind(const struct text_tok *t)
{
    return t->kind;
}

int text_tok_encode(const struct text_tok *t, const char *text, size_t len, int32_t *ids,
                    int32_t *word_of, int max_len)
{
    if (t->kind == TEXT_TOK_WORDPIECE)
        return wordpiece_encode(t->wp, text, len, ids, word_of, max_len);
    return tokenizer_encode(t->learned, text, len, ids, word_of, max_len);
}

int text_tok_words(const struct text_tok *t, const char *text, size_t len, char ***words)
{
    if (t->kind == TEXT_TOK_WORDPIECE)
        return wordpiece_words(t->wp, text, len, words);
    return tokenizer_words(t->learned, text, len, words);
}

void text_tok_words_free(const struct text_tok *t, char **words, int n)
{
    if (t->kind == TEXT_TOK_WORDPIECE)
        wordpiece_words_free(words, n);
    else
        tokenizer_words_free(words, n);
}

int text_tok_vocab_size(const struct text_tok *t)
{
    if (t->kind == TEXT_TOK_WORDPIECE)
        return wordpiece_vocab_size(t->wp);
    return tokenizer_vocab_size(t->learned);
}

const char *text_tok_meta_key(enum text_tok_kind kind)
{
    return kind == TEXT_TOK_WORDPIECE ? "tokenizer.wordpiece" : "tokenizer";
}

char *text_tok_serialize(const struct text_tok *t)
{
    if (t->kind == TEXT_TOK_WORDPIECE)
        return wordpiece_serialize(t->wp, NULL);
    return tokenizer_serialize(t->learned, NULL);
}

struct text_tok *text_tok_deserialize(enum text_tok_kind kind, const char *data, size_t len,
                                      struct fs_error *err)
{
    if (kind == TEXT_TOK_WORDPIECE) {
        struct wordpiece *wp;
        return wordpiece_deserialize(data, len, &wp, err) < 0 ? NULL
                                                               : text_tok_from_wordpiece(wp);
    }
    struct tokenizer *tok;
    return tokenizer_deserialize(data, len, &tok, err) < 0 ? NULL : text_tok_from_learned(tok);
}

void text_tok_free(struct text_tok *t)
{
    if (!t)
        return;
    tokenizer_free(t->learned);
    wordpiece_free(t->wp);
    free(t);
}
