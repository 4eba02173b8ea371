/* tiny_wordpiece.h — a WordPiece tokenizer (lowercasing, accents stripped, CJK
 * split) over a vocabulary the test spells out, wrapped as a text_tok, for
 * tests that need a few known pieces. Aborts on a bad vocabulary. */
#ifndef FINSENT_TESTS_TINY_WORDPIECE_H
#define FINSENT_TESTS_TINY_WORDPIECE_H

#include "classify/text_tok.h"

#include <stdlib.h>

static struct text_tok *tiny_wordpiece(const char *vocab, size_t len)
{
    struct wordpiece_options opt = {1, 1, 1};
    struct wordpiece *wp;
    struct fs_error err;
    if (wordpiece_from_vocab(vocab, len, &opt, &wp, &err) < 0)
        abort();
    return text_tok_from_wordpiece(wp);
}

#endif
