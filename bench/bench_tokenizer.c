/* bench_tokenizer.c — tokenizer figures on the bundled data: training time,
 * encoding speed, vocabulary size, tokens per text, UNK rate, truncation at 64/128,
 * and for comparison the unknown-word rate of a plain word vocabulary of the same
 * size (what subwords buy). Prints, never asserts.
 * Usage: bench_tokenizer [vocab_size...]
 *        bench_tokenizer --dump DIR [vocab_size [ticker_symbols number_marker]]
 *   writes DIR/train.txt and DIR/validation.txt, one line per example in file order
 *   ("task<TAB>piece piece ..."), for bench_baseline.py --ablation to fit on finsent's
 *   own token stream. */
#include "classify/dataset.h"
#include "classify/tokenizer.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENT_DIR "data/twitter_financial_news_sentiment/"
#define TOPIC_DIR "data/twitter_financial_news_topic/"

static int load(const char *split, struct dataset *all)
{
    struct fs_error err;
    struct dataset a, b;
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, SENT_DIR "%s.csv", split);
    snprintf(p2, sizeof p2, TOPIC_DIR "%s.csv", split);
    if (dataset_load_csv(p1, TASK_SENTIMENT, &a, &err) < 0 ||
        dataset_load_csv(p2, TASK_TOPIC, &b, &err) < 0) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
        return -1;
    }
    *all = a;
    dataset_append(all, &b);
    return 0;
}

struct figures {
    double seconds, tokens_per_text, unk_rate, over64, over128, words_per_text;
};

static void measure(const struct tokenizer *tok, const struct dataset *ds, struct figures *f)
{
    enum { MAX = 4096 };
    static int32_t ids[MAX];
    size_t tokens = 0, unk = 0, over64 = 0, over128 = 0, words = 0;
    double t0 = time_monotonic();
    for (size_t i = 0; i < ds->n; i++) {
        int n = tokenizer_encode(tok, ds->ex[i].text, strlen(ds->ex[i].text), ids, NULL, MAX);
        tokens += (size_t)n - 1;
        for (int j = 1; j < n; j++)
            unk += ids[j] == TOK_UNK;
        over64 += n > 64;
        over128 += n > 128;
    }
    f->seconds = time_monotonic() - t0;
    for (size_t i = 0; i < ds->n; i++) {
        char **w;
        int n = tokenizer_words(tok, ds->ex[i].text, strlen(ds->ex[i].text), &w);
        words += (size_t)n;
        tokenizer_words_free(w, n);
    }
    f->tokens_per_text = (double)tokens / (double)ds->n;
    f->words_per_text = (double)words / (double)ds->n;
    f->unk_rate = tokens ? (double)unk / (double)tokens : 0;
    f->over64 = (double)over64 / (double)ds->n;
    f->over128 = (double)over128 / (double)ds->n;
}

/* ---- a word-level vocabulary of the same size, for comparison ---------------------- */

struct word_count {
    char *w;
    size_t n;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_count_desc(const void *a, const void *b)
{
    const struct word_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->w, y->w);
}

/* All words of ds, ASCII-lowercased, numbers/URLs/users/tickers as the markers. */
static char **all_words(const struct tokenizer *tok, const struct dataset *ds, size_t *n_out)
{
    size_t n = 0, cap = 0;
    char **out = NULL;
    for (size_t i = 0; i < ds->n; i++) {
        char **w;
        int nw = tokenizer_words(tok, ds->ex[i].text, strlen(ds->ex[i].text), &w);
        for (int j = 0; j < nw; j++) {
            char *p = w[j];
            for (char *q = p; *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                    *q = (char)(*q + 32);
            if (p[0] >= '0' && p[0] <= '9')
                p[0] = '#', p[1] = '\0';
            else if (strncmp(p, "http", 4) == 0 || (p[0] == '@' && p[1]))
                p[0] = '@', p[1] = '\0';
            if (n == cap) {
                cap = cap ? cap * 2 : 65536;
                out = realloc(out, cap * sizeof *out);
            }
            out[n++] = p;
        }
        free(w);
    }
    *n_out = n;
    return out;
}

static void word_vocab_oov(const struct tokenizer *tok, const struct dataset *train,
                           const struct dataset *valid, const int *sizes, int n_sizes)
{
    size_t nt, nv;
    char **tw = all_words(tok, train, &nt), **vw = all_words(tok, valid, &nv);
    qsort(tw, nt, sizeof *tw, cmp_str);
    struct word_count *wc = malloc(nt * sizeof *wc);
    size_t nu = 0;
    for (size_t i = 0; i < nt; i++) {
        if (nu && strcmp(wc[nu - 1].w, tw[i]) == 0)
            wc[nu - 1].n++;
        else
            wc[nu++] = (struct word_count){tw[i], 1};
    }
    qsort(wc, nu, sizeof *wc, cmp_count_desc);
    printf("\nword-level vocabulary of the same size (for comparison): %zu distinct train words\n",
           nu);
    printf("%7s %14s\n", "vocab", "valid OOV%");
    char **keep = malloc(nu * sizeof *keep);
    for (int s = 0; s < n_sizes; s++) {
        size_t k = (size_t)sizes[s] < nu ? (size_t)sizes[s] : nu;
        for (size_t i = 0; i < k; i++)
            keep[i] = wc[i].w;
        qsort(keep, k, sizeof *keep, cmp_str);
        size_t oov = 0;
        for (size_t i = 0; i < nv; i++)
            oov += bsearch(&vw[i], keep, k, sizeof *keep, cmp_str) == NULL;
        printf("%7d %14.2f\n", sizes[s], 100.0 * (double)oov / (double)nv);
    }
    free(keep);
    free(wc);
    for (size_t i = 0; i < nt; i++)
        free(tw[i]);
    for (size_t i = 0; i < nv; i++)
        free(vw[i]);
    free(tw);
    free(vw);
}

static int dump_split(const struct tokenizer *tok, const struct dataset *ds, const char *dir,
                      const char *split)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", dir, split);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    enum { MAX = 512 };
    int32_t ids[MAX];
    for (size_t i = 0; i < ds->n; i++) {
        int n = tokenizer_encode(tok, ds->ex[i].text, strlen(ds->ex[i].text), ids, NULL, MAX);
        fputs(task_name(ds->ex[i].task), f);
        for (int j = 1; j < n; j++)
            fprintf(f, "%c%s", j == 1 ? '\t' : ' ', tokenizer_piece(tok, ids[j]));
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int dump(const char *const *texts, const struct dataset *train, const struct dataset *valid,
                const char *dir, int vocab, const struct tokenizer_options *opt)
{
    struct tokenizer *tok;
    struct fs_error err;
    if (tokenizer_train_opts(texts, train->n, vocab, opt, &tok, &err) < 0) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
        return 1;
    }
    int rc =
        dump_split(tok, train, dir, "train") < 0 || dump_split(tok, valid, dir, "validation") < 0;
    tokenizer_free(tok);
    return rc;
}

int main(int argc, char **argv)
{
    struct dataset train, valid;
    if (load("train", &train) < 0 || load("validation", &valid) < 0)
        return 1;
    const char **texts = malloc(train.n * sizeof *texts);
    for (size_t i = 0; i < train.n; i++)
        texts[i] = train.ex[i].text;
    if (argc > 2 && strcmp(argv[1], "--dump") == 0) {
        struct tokenizer_options opt = tokenizer_default_options;
        if (argc > 5) {
            opt.ticker_symbols = atoi(argv[4]);
            opt.number_marker = atoi(argv[5]);
        }
        int rc = dump(texts, &train, &valid, argv[2], argc > 3 ? atoi(argv[3]) : 8000, &opt);
        free(texts);
        dataset_free(&train);
        dataset_free(&valid);
        return rc;
    }
    int sizes[16] = {2000, 4000, 8000, 16000}, n_sizes = 4;
    if (argc > 1) {
        n_sizes = 0;
        for (int i = 1; i < argc && n_sizes < 16; i++)
            sizes[n_sizes++] = atoi(argv[i]);
    }
    printf("tokenizer on %zu train / %zu validation texts (both tasks)\n", train.n, valid.n);
    printf("%7s %6s %8s %10s %9s %9s %8s %8s %8s\n", "vocab", "got", "train_s", "encode_s",
           "words/tx", "tok/text", "unk%", ">64%", ">128%");
    for (int s = 0; s < n_sizes; s++) {
        struct tokenizer *tok;
        struct fs_error err;
        double t0 = time_monotonic();
        if (tokenizer_train(texts, train.n, sizes[s], &tok, &err) < 0) {
            fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
            return 1;
        }
        double train_s = time_monotonic() - t0;
        struct figures ft, fv;
        measure(tok, &train, &ft);
        measure(tok, &valid, &fv);
        printf(
            "%7d %6d %8.2f %10.3f %9.1f %9.2f %8.3f %8.2f %8.2f  (train; encode time = all %zu)\n",
            sizes[s], tokenizer_vocab_size(tok), train_s, ft.seconds, ft.words_per_text,
            ft.tokens_per_text, 100 * ft.unk_rate, 100 * ft.over64, 100 * ft.over128, train.n);
        printf("%7s %6s %8s %10.3f %9.1f %9.2f %8.3f %8.2f %8.2f  (validation)\n", "", "", "",
               fv.seconds, fv.words_per_text, fv.tokens_per_text, 100 * fv.unk_rate,
               100 * fv.over64, 100 * fv.over128);
        size_t len;
        char *ser = tokenizer_serialize(tok, &len);
        printf("%7s serialized: %zu bytes\n", "", len);
        free(ser);
        if (s == n_sizes - 1)
            word_vocab_oov(tok, &train, &valid, sizes, n_sizes);
        tokenizer_free(tok);
    }
    free(texts);
    dataset_free(&train);
    dataset_free(&valid);
    return 0;
}
