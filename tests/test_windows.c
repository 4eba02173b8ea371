/* test_windows.c — long documents cut into windows: every word read, windows
 * within their token budget, overlapping, the title in each, at most
 * WINDOWS_MAX; a short document is one window. */
#include "classify/text_tok.h"
#include "classify/windows.h"
#include "common/strbuf.h"
#include "tests/check.h"
#include "tests/tiny_wordpiece.h"

#include <stdlib.h>
#include <string.h>

/* A WordPiece vocabulary where "w<digit>" is one token and "long" is "lo ##ng". */
static struct text_tok *tiny_tok(void)
{
    const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nw\n##0\n##1\n##2\n##3\n##4\n##5\n"
                         "##6\n##7\n##8\n##9\nlo\n##ng\ntitle\n.\n";
    return tiny_wordpiece(vocab, sizeof vocab - 1);
}

/* A body of n distinct words w0 w1 ... (a token per character). */
static char *body_of(int n)
{
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < n; i++)
        sb_appendf(&sb, "%sw%d", i ? " " : "", i);
    return sb_detach(&sb);
}

static void test_short_document_is_one_window(void)
{
    struct text_tok *t = tiny_tok();
    struct window *w;
    size_t n = windows_cut(t, 32, "title", "w1 w2 lo long", &w);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(w[0].text, "title\nw1 w2 lo long");
    windows_free(w, n);
    n = windows_cut(t, 32, NULL, "", &w);
    CHECK_INT_EQ(n, 1);
    CHECK_STR_EQ(w[0].text, "");
    windows_free(w, n);
    text_tok_free(t);
}

static void test_long_document_windows(void)
{
    struct text_tok *t = tiny_tok();
    char *body = body_of(100); /* 290 tokens */
    struct window *w;
    size_t n = windows_cut(t, 32, "title", body, &w);
    /* budget 32 - [CLS] [SEP] - title = 29 tokens: 9 words (3 tokens each) a window, steps of 6 */
    CHECK_INT_EQ(n, 16);
    int32_t ids[64];
    const char *prev_end = NULL;
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(w[i].text, "title\n", 6) == 0);
        CHECK(text_tok_encode(t, w[i].text, w[i].len, ids, NULL, 64) <= 32);
        const char *first = w[i].text + 6;
        if (prev_end) /* overlap: this window starts before the previous one ended */
            CHECK(strstr(body, first) - body < prev_end - body);
        const char *at = strstr(body, first);
        CHECK(at != NULL);
        prev_end = at + strlen(first);
    }
    CHECK(prev_end == body + strlen(body)); /* the last word is read */
    windows_free(w, n);
    free(body);
    text_tok_free(t);
}

static void test_window_cap(void)
{
    struct text_tok *t = tiny_tok();
    char *body = body_of(5000);
    struct window *w;
    size_t n = windows_cut(t, 32, NULL, body, &w);
    CHECK_INT_EQ(n, WINDOWS_MAX);
    windows_free(w, n);
    free(body);
    text_tok_free(t);
}

int main(void)
{
    RUN(test_short_document_is_one_window);
    RUN(test_long_document_windows);
    RUN(test_window_cap);
    return check_summary();
}
