/*
 * text_tok.c — one interface over the learned tokenizer and WordPiece.
 */
#include "classify/text_tok.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

struct text_tok {
    enum text_tok_kind kind;
    struct tokenizer *learned;
    struct wordpiece *wp;
    int fold_urls;
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

void text_tok_set_url_fold(struct text_tok *t, int on)
{
    t->fold_urls = on != 0;
}

int text_tok_url_fold(const struct text_tok *t)
{
    return t->fold_urls;
}

static int is_ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

char *text_tok_fold_urls(const char *text, size_t len, size_t *out_len)
{
    static const char mark[] = TEXT_TOK_URL_FOLD_MARK;
    /* a URL is at least 4 bytes, the mark 4: the text never grows */
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t m = (i == 0 || !is_ascii_alnum((unsigned char)text[i - 1]))
                       ? str_url_prefix(text + i, len - i)
                       : 0;
        if (!m) {
            out[o++] = text[i++];
            continue;
        }
        for (i += m; i < len && text[i] >= '!' && text[i] <= '~'; i++)
            ;
        memcpy(out + o, mark, sizeof mark - 1);
        o += sizeof mark - 1;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* The text the tokenizer reads: text itself, or a folded copy in *copy. */
static const char *text_tok_input(const struct text_tok *t, const char *text, size_t *len,
                                  char **copy)
{
    *copy = NULL;
    if (!t->fold_urls || !text)
        return text;
    *copy = text_tok_fold_urls(text, *len, len);
    return *copy;
}

int text_tok_encode(const struct text_tok *t, const char *text, size_t len, int32_t *ids,
                    int32_t *word_of, int max_len)
{
    char *copy;
    text = text_tok_input(t, text, &len, &copy);
    int n = t->kind == TEXT_TOK_WORDPIECE
                ? wordpiece_encode(t->wp, text, len, ids, word_of, max_len)
                : tokenizer_encode(t->learned, text, len, ids, word_of, max_len);
    free(copy);
    return n;
}

int text_tok_words(const struct text_tok *t, const char *text, size_t len, char ***words)
{
    char *copy;
    text = text_tok_input(t, text, &len, &copy);
    int n = t->kind == TEXT_TOK_WORDPIECE ? wordpiece_words(t->wp, text, len, words)
                                          : tokenizer_words(t->learned, text, len, words);
    free(copy);
    return n;
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
