/*
 * token_overlap.h — token-level precision and recall of an extracted text
 * against a main text marked by hand (tests/fixtures/pages/main_text/).
 *
 *   struct token_score s = token_overlap(extracted, marked);
 *   printf("%.3f %.3f\n", s.precision, s.recall);
 *
 * A token is a maximal run of ASCII letters and digits and of non-ASCII bytes
 * (so a UTF-8 word stays whole); case is kept. Both texts are compared as
 * multisets: a token that appears twice in the marked text and once in the
 * extracted one counts once. precision = common / extracted tokens, recall =
 * common / marked tokens (1 when that side has no token). Header-only, shared by
 * tests/test_html.c (a floor per page) and bench/bench_extract.c (the figures).
 */
#ifndef FINSENT_TOKEN_OVERLAP_H
#define FINSENT_TOKEN_OVERLAP_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct token_score {
    size_t extracted, marked, common;
    double precision, recall;
};

static int token_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

/* The tokens of s as one buffer of NUL-terminated strings (*buf, free it) and
 * an array of pointers into it (return value, free it); *n tokens. */
static char **token_split(const char *s, char **buf, size_t *n)
{
    size_t len = strlen(s);
    *buf = malloc(len + 1);
    char **tok = malloc((len / 2 + 1) * sizeof *tok);
    char *w = *buf;
    *n = 0;
    for (const char *p = s; *p;) {
        if (!token_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        tok[(*n)++] = w;
        while (*p && token_byte((unsigned char)*p))
            *w++ = *p++;
        *w++ = '\0';
    }
    return tok;
}

static int token_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct token_score token_overlap(const char *extracted, const char *marked)
{
    struct token_score s = {0};
    char *xb, *mb;
    char **x = token_split(extracted, &xb, &s.extracted);
    char **m = token_split(marked, &mb, &s.marked);
    qsort(x, s.extracted, sizeof *x, token_cmp);
    qsort(m, s.marked, sizeof *m, token_cmp);
    for (size_t i = 0, j = 0; i < s.extracted && j < s.marked;) {
        int c = strcmp(x[i], m[j]);
        s.common += c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    s.precision = s.extracted ? (double)s.common / (double)s.extracted : 1;
    s.recall = s.marked ? (double)s.common / (double)s.marked : 1;
    free(x), free(xb), free(m), free(mb);
    return s;
}

#endif
