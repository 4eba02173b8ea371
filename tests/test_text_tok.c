/* test_text_tok.c — the tokenizer interface's URL folding: which spans are
 * URLs, what they become, and that encode and words read the folded text
 * only when folding is on. */
#include "classify/text_tok.h"
#include "tests/check.h"
#include "tests/tiny_wordpiece.h"

#include <stdlib.h>
#include <string.h>

static void check_fold(const char *in, const char *want)
{
    size_t n;
    char *got = text_tok_fold_urls(in, strlen(in), &n);
    CHECK_STR_EQ(got, want);
    CHECK_INT_EQ(n, strlen(want));
    free(got);
}

static void test_fold_urls(void)
{
    check_fold("$AAPL up 3% https://t.co/AbC12xYz", "$AAPL up 3% http");
    check_fold("see http://x.com/a?b=1&c=2). next", "see http next");
    check_fold("HTTPS://T.CO/x www.sec.gov t.co/zz", "http http http");
    check_fold("(https://a.b/c)", "(http");
    check_fold("no links here: http, https:, www", "no links here: http, https:, www");
    /* only at the start of a word: a letter or digit before it is not a URL */
    check_fold("xhttps://a.b 1www.c.d", "xhttps://a.b 1www.c.d");
    /* the URL ends at the first byte outside '!'..'~' */
    check_fold("a\thttps://a.b\tc https://d.e\xc3\xa9 f", "a\thttp\tc http\xc3\xa9 f");
    check_fold("https://", "http");
    check_fold("", "");
}

/* A WordPiece vocabulary with the marker and a few words. */
static struct text_tok *tiny_tok(void)
{
    const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhttp\nup\nstocks\n";
    return tiny_wordpiece(vocab, sizeof vocab - 1);
}

static void test_encode_reads_folded_text(void)
{
    struct text_tok *t = tiny_tok();
    const char *s = "stocks up https://t.co/AbC12xYz";
    int32_t ids[32];
    CHECK(!text_tok_url_fold(t));
    int raw = text_tok_encode(t, s, strlen(s), ids, NULL, 32);
    CHECK(raw > 6); /* the link's pieces, unknown to this vocabulary, each a word */
    text_tok_set_url_fold(t, 1);
    CHECK(text_tok_url_fold(t));
    int32_t word_of[32];
    CHECK_INT_EQ(text_tok_encode(t, s, strlen(s), ids, word_of, 32), 5);
    CHECK_INT_EQ(ids[1], 7); /* stocks */
    CHECK_INT_EQ(ids[3], 5); /* http */
    CHECK_INT_EQ(word_of[3], 2);
    char **w;
    int nw = text_tok_words(t, s, strlen(s), &w);
    CHECK_INT_EQ(nw, 3);
    if (nw == 3)
        CHECK_STR_EQ(w[2], "http");
    text_tok_words_free(t, w, nw);
    text_tok_free(t);
}

int main(void)
{
    RUN(test_fold_urls);
    RUN(test_encode_reads_folded_text);
    return check_summary();
}
