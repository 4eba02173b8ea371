/* bench_tokenizer.c — tokenizer figures on the bundled data: training time,
 * encoding speed, vocabulary size, tokens per text, UNK rate, truncation at 64/128.
 * Prints, never asserts. Usage: bench_tokenizer [vocab_size...] */
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

int main(int argc, char **argv)
{
    struct dataset train, valid;
    if (load("train", &train) < 0 || load("validation", &valid) < 0)
        return 1;
    const char **texts = malloc(train.n * sizeof *texts);
    for (size_t i = 0; i < train.n; i++)
        texts[i] = train.ex[i].text;
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
        tokenizer_free(tok);
    }
    free(texts);
    dataset_free(&train);
    dataset_free(&valid);
    return 0;
}
