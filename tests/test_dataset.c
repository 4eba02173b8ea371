/* test_dataset.c — dataset loading and label names, metrics, the evaluation report. */
#include "classify/dataset.h"
#include "classify/metrics.h"
#include "classify/metrics_report.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "tests/check.h"

#include <stdlib.h>
#include <unistd.h>

#define SENT_DIR "data/twitter_financial_news_sentiment/"
#define TOPIC_DIR "data/twitter_financial_news_topic/"

static void count_labels(const struct dataset *ds, size_t *counts, int n)
{
    memset(counts, 0, (size_t)n * sizeof *counts);
    for (size_t i = 0; i < ds->n; i++)
        if (ds->ex[i].label >= 0 && ds->ex[i].label < n)
            counts[ds->ex[i].label]++;
}

static void test_load_sentiment_files(void)
{
    struct dataset tr, va;
    struct fs_error err;
    if (access(SENT_DIR "train.csv", R_OK) != 0)
        SKIP("bundled data not found (run from the repository root)");
    CHECK_MSG(dataset_load_csv(SENT_DIR "train.csv", TASK_SENTIMENT, &tr, &err) == 0, "%s",
              err.msg);
    CHECK_MSG(dataset_load_csv(SENT_DIR "validation.csv", TASK_SENTIMENT, &va, &err) == 0, "%s",
              err.msg);
    CHECK_INT_EQ(tr.n, 9543);
    CHECK_INT_EQ(va.n, 2388);
    /* SOURCE.md: train 1,442 Bearish / 1,923 Bullish / 6,178 Neutral; validation 347 / 475
     * / 1,566 — in finsent's order negative, neutral, positive */
    size_t c[3];
    count_labels(&tr, c, 3);
    CHECK(c[SENT_NEGATIVE] == 1442 && c[SENT_NEUTRAL] == 6178 && c[SENT_POSITIVE] == 1923);
    count_labels(&va, c, 3);
    CHECK(c[SENT_NEGATIVE] == 347 && c[SENT_NEUTRAL] == 1566 && c[SENT_POSITIVE] == 475);
    /* the first row is Bearish (0): "$BYND - JPMorgan reels in expectations ..." */
    CHECK(strncmp(tr.ex[0].text, "$BYND - JPMorgan", 16) == 0);
    CHECK_INT_EQ(tr.ex[0].label, SENT_NEGATIVE);
    CHECK_INT_EQ(tr.ex[0].task, TASK_SENTIMENT);
    /* quoted fields with newlines: 184 train texts */
    size_t multiline = 0;
    for (size_t i = 0; i < tr.n; i++)
        multiline += strchr(tr.ex[i].text, '\n') != NULL;
    CHECK_INT_EQ(multiline, 184);
    dataset_free(&tr);
    dataset_free(&va);
}

static void test_load_topic_files_and_append(void)
{
    struct dataset tr, va, sent;
    struct fs_error err;
    if (access(TOPIC_DIR "train.csv", R_OK) != 0)
        SKIP("bundled data not found (run from the repository root)");
    CHECK(dataset_load_csv(TOPIC_DIR "train.csv", TASK_TOPIC, &tr, &err) == 0);
    CHECK(dataset_load_csv(TOPIC_DIR "validation.csv", TASK_TOPIC, &va, &err) == 0);
    CHECK_INT_EQ(tr.n, 16990);
    CHECK_INT_EQ(va.n, 4117);
    size_t c[N_TOPICS];
    count_labels(&tr, c, N_TOPICS);
    CHECK_INT_EQ(c[0], 255);  /* Analyst Update */
    CHECK_INT_EQ(c[2], 3545); /* Company | Product News */
    CHECK_INT_EQ(c[11], 44);  /* IPO */
    CHECK_INT_EQ(c[19], 823); /* Stock Movement */
    count_labels(&va, c, N_TOPICS);
    CHECK_INT_EQ(c[14], 415); /* Macro */
    CHECK_INT_EQ(tr.ex[0].label, 0);
    CHECK(dataset_load_csv(SENT_DIR "validation.csv", TASK_SENTIMENT, &sent, &err) == 0);
    dataset_append(&tr, &sent);
    CHECK_INT_EQ(tr.n, 16990 + 2388);
    CHECK_INT_EQ(sent.n, 0);
    CHECK_INT_EQ(tr.ex[16990].task, TASK_SENTIMENT);
    CHECK_INT_EQ(tr.ex[0].task, TASK_TOPIC);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&sent);
}

/* Repeating a class adds copies of its rows of that task only, texts owned. */
static void test_repeat_a_class(void)
{
    struct dataset d = {xcalloc(4, sizeof(struct example)), 4};
    static const char *const text[4] = {"a", "b", "c", "d"};
    static const int label[4] = {SENT_NEGATIVE, SENT_NEUTRAL, SENT_NEGATIVE, SENT_NEGATIVE};
    static const enum task task[4] = {TASK_SENTIMENT, TASK_SENTIMENT, TASK_TOPIC, TASK_SENTIMENT};
    for (int i = 0; i < 4; i++)
        d.ex[i] = (struct example){xstrdup(text[i]), label[i], task[i]};
    dataset_repeat(&d, TASK_SENTIMENT, SENT_NEGATIVE, 1);
    CHECK_INT_EQ(d.n, 4);
    dataset_repeat(&d, TASK_SENTIMENT, SENT_NEGATIVE, 3);
    CHECK_INT_EQ(d.n, 8);
    struct strbuf seen = STRBUF_INIT;
    for (size_t i = 4; i < d.n; i++) {
        sb_append(&seen, d.ex[i].text);
        CHECK(d.ex[i].task == TASK_SENTIMENT && d.ex[i].label == SENT_NEGATIVE);
        CHECK(d.ex[i].text != d.ex[0].text && d.ex[i].text != d.ex[3].text);
    }
    CHECK_STR_EQ(seen.buf, "adad");
    sb_free(&seen);
    dataset_free(&d);
}

static void test_label_names(void)
{
    CHECK_INT_EQ(task_from_name("topic"), TASK_TOPIC);
    CHECK_INT_EQ(task_from_name("sentiment"), TASK_SENTIMENT);
    CHECK_INT_EQ(task_from_name("mood"), -1);
    CHECK_INT_EQ(task_from_name(NULL), -1);
    CHECK_STR_EQ(task_name(TASK_SENTIMENT), "sentiment");
    CHECK_INT_EQ(task_n_labels(TASK_TOPIC), 20);
    CHECK_INT_EQ(task_n_labels(TASK_SENTIMENT), 3);
    /* bundled ids: 0 Bearish, 1 Bullish, 2 Neutral */
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "0"), SENT_NEGATIVE);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "1"), SENT_POSITIVE);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "2"), SENT_NEUTRAL);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "3"), -1);
    const char *neg[] = {"negative", "NEGATIVE", "Bearish", "bearish", " Negative "};
    for (size_t i = 0; i < FS_ARRAY_LEN(neg); i++)
        CHECK_MSG(task_label_parse(TASK_SENTIMENT, neg[i]) == SENT_NEGATIVE, "%s", neg[i]);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "Neutral"), SENT_NEUTRAL);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "bullish"), SENT_POSITIVE);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "Positive"), SENT_POSITIVE);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "happy"), -1);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, ""), -1);
    CHECK_INT_EQ(task_label_parse(TASK_SENTIMENT, "-1"), -1);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "19"), 19);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "20"), -1);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "Fed | Central Banks"), 1);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "M&A | Investments"), 13);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "ipo"), 11);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, "Fed"), -1);
    CHECK_INT_EQ(task_label_parse(TASK_TOPIC, NULL), -1);
    CHECK_STR_EQ(task_label_name(TASK_SENTIMENT, SENT_NEUTRAL), "neutral");
    CHECK_STR_EQ(task_label_name(TASK_TOPIC, 19), "Stock Movement");
    CHECK_STR_EQ(task_label_name(TASK_TOPIC, 20), "?");
    /* every name parses back to its id */
    for (int t = 0; t < TASK_COUNT; t++)
        for (int l = 0; l < task_n_labels((enum task)t); l++)
            CHECK_INT_EQ(task_label_parse((enum task)t, task_label_names((enum task)t)[l]), l);
}

static char *write_temp(const char *content)
{
    char *path = xstrdup("/tmp/finsent-test-dataset-XXXXXX.csv");
    int fd = mkstemps(path, 4);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    ssize_t w = write(fd, content, strlen(content));
    close(fd);
    (void)w;
    return path;
}

static void test_load_errors_name_file_and_line(void)
{
    struct dataset ds;
    struct fs_error err;
    /* line 2 holds a quoted text over two lines, so the bad label is on line 5 */
    char *path = write_temp("text,label\n\"first\nrow\",Bearish\nsecond,neutral\n"
                            "third,excited\n");
    CHECK(path != NULL);
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) < 0);
    char want[128];
    snprintf(want, sizeof want, "%s:5:", path);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message: %s", err.msg);
    CHECK_MSG(strstr(err.msg, "excited") != NULL, "message: %s", err.msg);
    CHECK(ds.n == 0 && ds.ex == NULL);
    unlink(path);
    free(path);

    /* names, CRLF and the columns in the other order */
    path = write_temp("label,text\r\nBullish,\"up, up\"\r\nNEGATIVE,down\r\n2,flat\r\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) == 0);
    CHECK_INT_EQ(ds.n, 3);
    CHECK_STR_EQ(ds.ex[0].text, "up, up");
    CHECK_INT_EQ(ds.ex[0].label, SENT_POSITIVE);
    CHECK_INT_EQ(ds.ex[1].label, SENT_NEGATIVE);
    CHECK_INT_EQ(ds.ex[2].label, SENT_NEUTRAL);
    dataset_free(&ds);
    unlink(path);
    free(path);

    path = write_temp("text,label\n\"Fed hikes\",Fed | Central Banks\nx,19\ny,20\n");
    CHECK(dataset_load_csv(path, TASK_TOPIC, &ds, &err) < 0);
    snprintf(want, sizeof want, "%s:4:", path);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message: %s", err.msg);
    unlink(path);
    free(path);

    /* one text,sentiment,topic file serves both tasks; a label column wins */
    path = write_temp("text,sentiment,topic\n\"Lender defaults\",negative,Treasuries | Corporate "
                      "Debt\nFed holds,neutral,1\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) == 0);
    CHECK_INT_EQ(ds.n, 2);
    CHECK_INT_EQ(ds.ex[0].label, SENT_NEGATIVE);
    CHECK_INT_EQ(ds.ex[1].label, SENT_NEUTRAL);
    dataset_free(&ds);
    CHECK(dataset_load_csv(path, TASK_TOPIC, &ds, &err) == 0);
    CHECK_INT_EQ(ds.n, 2);
    CHECK_STR_EQ(ds.ex[0].text, "Lender defaults");
    CHECK_INT_EQ(ds.ex[0].label, 3);
    CHECK_INT_EQ(ds.ex[1].label, 1);
    CHECK_INT_EQ(ds.ex[1].task, TASK_TOPIC);
    dataset_free(&ds);
    unlink(path);
    free(path);
    path = write_temp("text,label,sentiment\nx,positive,negative\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) == 0);
    CHECK_INT_EQ(ds.ex[0].label, SENT_POSITIVE);
    dataset_free(&ds);
    unlink(path);
    free(path);

    path = write_temp("sentence,sentiment\nx,0\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) < 0);
    CHECK_MSG(strstr(err.msg, "header") != NULL, "message: %s", err.msg);
    unlink(path);
    free(path);

    path = write_temp("text,label\nonly one field\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) < 0);
    CHECK_MSG(strstr(err.msg, ":2:") != NULL, "message: %s", err.msg);
    unlink(path);
    free(path);

    path = write_temp("text,label\n\"never closed,0\n");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) < 0);
    CHECK_MSG(strstr(err.msg, "line 2") != NULL, "message: %s", err.msg);
    unlink(path);
    free(path);

    path = write_temp("");
    CHECK(dataset_load_csv(path, TASK_SENTIMENT, &ds, &err) < 0);
    unlink(path);
    free(path);

    CHECK(dataset_load_csv("/nonexistent/x.csv", TASK_TOPIC, &ds, &err) < 0);
    CHECK(strstr(err.msg, "/nonexistent/x.csv") != NULL);
}

static void test_metrics_hand_computed(void)
{
    /* truth 0 0 1 1 2 2, predicted 0 1 1 1 2 0:
     * class 0: tp 1, predicted 2, support 2 -> p 1/2, r 1/2, f1 1/2
     * class 1: tp 2, predicted 3, support 2 -> p 2/3, r 1,   f1 4/5
     * class 2: tp 1, predicted 1, support 2 -> p 1,   r 1/2, f1 2/3 */
    int truth[] = {0, 0, 1, 1, 2, 2}, pred[] = {0, 1, 1, 1, 2, 0};
    struct metrics m;
    metrics_compute(truth, pred, 6, 3, &m);
    CHECK_INT_EQ(m.n, 6);
    CHECK_NEAR(m.accuracy, 4.0 / 6, 1e-12);
    CHECK_NEAR(m.precision[0], 0.5, 1e-12);
    CHECK_NEAR(m.recall[1], 1.0, 1e-12);
    CHECK_NEAR(m.precision[1], 2.0 / 3, 1e-12);
    CHECK_NEAR(m.f1[1], 0.8, 1e-12);
    CHECK_NEAR(m.f1[2], 2.0 / 3, 1e-12);
    CHECK_NEAR(m.macro_f1, (0.5 + 0.8 + 2.0 / 3) / 3, 1e-12);
    CHECK_INT_EQ(m.support[0], 2);
    size_t want[9] = {1, 1, 0, 0, 2, 0, 1, 0, 1};
    for (int i = 0; i < 9; i++)
        CHECK_MSG(m.confusion[i] == want[i], "confusion[%d] = %zu", i, m.confusion[i]);
    metrics_free(&m);
}

static void test_metrics_edge_cases(void)
{
    struct metrics m;
    /* class 2 never occurs: left out of macro-F1 */
    int t1[] = {0, 1, 1, 0}, p1[] = {0, 1, 0, 0};
    metrics_compute(t1, p1, 4, 3, &m);
    CHECK_NEAR(m.accuracy, 0.75, 1e-12);
    /* class 0: p 2/3 r 1 f1 0.8; class 1: p 1 r 1/2 f1 2/3 */
    CHECK_NEAR(m.macro_f1, (0.8 + 2.0 / 3) / 2, 1e-12);
    CHECK_NEAR(m.f1[2], 0.0, 0);
    metrics_free(&m);
    /* predictions out of range count as wrong and reduce recall */
    int t2[] = {0, 1}, p2[] = {-1, 7};
    metrics_compute(t2, p2, 2, 2, &m);
    CHECK_NEAR(m.accuracy, 0.0, 0);
    CHECK_NEAR(m.recall[0], 0.0, 0);
    CHECK_INT_EQ(m.support[0], 1);
    CHECK_NEAR(m.macro_f1, 0.0, 0);
    metrics_free(&m);
    /* nothing at all */
    metrics_compute(NULL, NULL, 0, 3, &m);
    CHECK_INT_EQ(m.n, 0);
    CHECK_NEAR(m.accuracy, 0.0, 0);
    CHECK_NEAR(m.macro_f1, 0.0, 0);
    metrics_free(&m);
    /* perfect */
    int t3[] = {2, 1, 0}, p3[] = {2, 1, 0};
    metrics_compute(t3, p3, 3, 3, &m);
    CHECK_NEAR(m.accuracy, 1.0, 0);
    CHECK_NEAR(m.macro_f1, 1.0, 1e-12);
    metrics_free(&m);
}

static void test_report_text_and_json(void)
{
    int truth[] = {0, 0, 1, 1, 2, 2}, pred[] = {0, 1, 1, 1, 2, 0};
    struct metrics m;
    metrics_compute(truth, pred, 6, 3, &m);
    const char *const *names = task_label_names(TASK_SENTIMENT);
    struct strbuf sb = STRBUF_INIT;
    metrics_report_text(&sb, &m, names);
    CHECK(strstr(sb.buf, "accuracy 0.6667") != NULL);
    CHECK(strstr(sb.buf, "macro-F1 0.6556") != NULL);
    CHECK(strstr(sb.buf, "negative") && strstr(sb.buf, "neutral") && strstr(sb.buf, "positive"));
    CHECK(strstr(sb.buf, "precision") && strstr(sb.buf, "support"));
    CHECK(strstr(sb.buf, "confusion") != NULL);
    sb_reset(&sb);
    metrics_report_text(&sb, &m, NULL); /* no names: ids */
    CHECK(strstr(sb.buf, "macro avg") != NULL);
    sb_free(&sb);

    json_t *o = metrics_report_json(&m, names);
    char *dump = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    json_error_t jerr;
    o = json_loads(dump, 0, &jerr); /* what a program reading --json sees */
    free(dump);
    CHECK(o != NULL);
    CHECK_INT_EQ(json_integer_value(json_object_get(o, "n")), 6);
    CHECK_NEAR(json_real_value(json_object_get(o, "accuracy")), 4.0 / 6, 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(o, "macro_f1")), m.macro_f1, 1e-9);
    json_t *pc = json_object_get(o, "per_class");
    CHECK(json_is_array(pc) && json_array_size(pc) == 3);
    json_t *pos = json_array_get(pc, 2);
    CHECK_STR_EQ(json_string_value(json_object_get(pos, "label")), "positive");
    CHECK_NEAR(json_real_value(json_object_get(pos, "precision")), 1.0, 1e-12);
    CHECK_INT_EQ(json_integer_value(json_object_get(pos, "support")), 2);
    CHECK(json_object_get(pos, "recall") && json_object_get(pos, "f1"));
    json_t *conf = json_object_get(o, "confusion");
    CHECK(json_is_array(conf) && json_array_size(conf) == 3);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(conf, 1), 1)), 2);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_array_get(conf, 2), 0)), 1);
    CHECK_INT_EQ(json_array_size(json_object_get(o, "labels")), 3);
    json_decref(o);
    metrics_free(&m);
}

static void test_report_topic_table_fits(void)
{
    int truth[N_TOPICS], pred[N_TOPICS];
    for (int i = 0; i < N_TOPICS; i++) {
        truth[i] = i;
        pred[i] = (i * 7) % N_TOPICS;
    }
    struct metrics m;
    metrics_compute(truth, pred, N_TOPICS, N_TOPICS, &m);
    struct strbuf sb = STRBUF_INIT;
    metrics_report_text(&sb, &m, task_label_names(TASK_TOPIC));
    CHECK(strstr(sb.buf, "Treasuries | Corporate Debt") != NULL);
    /* no line is much wider than a terminal */
    size_t longest = 0, cur = 0;
    for (const char *p = sb.buf; *p; p++) {
        cur = *p == '\n' ? 0 : cur + 1;
        longest = cur > longest ? cur : longest;
    }
    CHECK_MSG(longest <= 160, "longest line %zu", longest);
    sb_free(&sb);
    metrics_free(&m);
}

int main(void)
{
    RUN(test_load_sentiment_files);
    RUN(test_load_topic_files_and_append);
    RUN(test_repeat_a_class);
    RUN(test_label_names);
    RUN(test_load_errors_name_file_and_line);
    RUN(test_metrics_hand_computed);
    RUN(test_metrics_edge_cases);
    RUN(test_report_text_and_json);
    RUN(test_report_topic_table_fits);
    return check_summary();
}
