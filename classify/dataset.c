/* dataset.c — loading text,label CSV files and the label names of both tasks. */
#include "classify/dataset.h"

#include "common/csv.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DATASET_MAX_BYTES ((size_t)1 << 30)

static const char *const sentiment_names[N_SENTIMENTS] = {"negative", "neutral", "positive"};

/* The bundled topic set's names, index = id (data/twitter_financial_news_topic/LABELS). */
static const char *const topic_names[N_TOPICS] = {
    "Analyst Update",
    "Fed | Central Banks",
    "Company | Product News",
    "Treasuries | Corporate Debt",
    "Dividend",
    "Earnings",
    "Energy | Oil",
    "Financials",
    "Currencies",
    "General News | Opinion",
    "Gold | Metals | Materials",
    "IPO",
    "Legal | Regulation",
    "M&A | Investments",
    "Macro",
    "Markets",
    "Politics",
    "Personnel Change",
    "Stock Commentary",
    "Stock Movement",
};

int task_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "topic") == 0)
        return TASK_TOPIC;
    if (strcmp(name, "sentiment") == 0)
        return TASK_SENTIMENT;
    return -1;
}

const char *task_name(enum task task)
{
    return task == TASK_TOPIC ? "topic" : task == TASK_SENTIMENT ? "sentiment" : "?";
}

int task_n_labels(enum task task)
{
    return task == TASK_TOPIC ? N_TOPICS : task == TASK_SENTIMENT ? N_SENTIMENTS : 0;
}

const char *const *task_label_names(enum task task)
{
    return task == TASK_TOPIC ? topic_names : task == TASK_SENTIMENT ? sentiment_names : NULL;
}

const char *task_label_name(enum task task, int label)
{
    if (label < 0 || label >= task_n_labels(task))
        return "?";
    return task_label_names(task)[label];
}

/* 1 when prefix (non-empty) starts name or one of its " | " parts, ignoring case. */
static int topic_prefix_match(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *part = name; part; part = strstr(part, " | ")) {
        while (*part == ' ' || *part == '|')
            part++;
        if (strncasecmp(part, prefix, n) == 0)
            return 1;
    }
    return 0;
}

int topic_lookup(const char *s, char *matches, size_t size)
{
    if (!s || !*s)
        return -1;
    for (int i = 0; i < N_TOPICS; i++)
        if (strcasecmp(s, topic_names[i]) == 0)
            return i;
    int found = -1, n = 0;
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < N_TOPICS; i++) {
        if (!topic_prefix_match(topic_names[i], s))
            continue;
        sb_appendf(&sb, "%s'%s'", n ? ", " : "", topic_names[i]);
        found = i;
        n++;
    }
    if (n > 1 && matches)
        str_copy(matches, size, sb.buf);
    sb_free(&sb);
    return n > 1 ? -2 : found;
}

void topic_lookup_error(const char *s, char *buf, size_t size)
{
    char matches[512];
    if (topic_lookup(s, matches, sizeof matches) == -2)
        snprintf(buf, size, "'%s' could be %s: say which (see 'finsent topics')", s, matches);
    else
        snprintf(buf, size, "unknown topic '%s' (see 'finsent topics')", s);
}

/* A non-negative decimal integer of at most 4 digits, or -1. */
static int parse_small_int(const char *s)
{
    int v = 0, n = 0;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 4)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return n ? v : -1;
}

static int sentiment_parse(const char *s)
{
    static const struct {
        const char *name;
        int id;
    } names[] = {{"negative", SENT_NEGATIVE},
                 {"neutral", SENT_NEUTRAL},
                 {"positive", SENT_POSITIVE},
                 {"bearish", SENT_NEGATIVE},
                 {"bullish", SENT_POSITIVE}};
    /* the bundled ids: 0 Bearish, 1 Bullish, 2 Neutral */
    static const int bundled[3] = {SENT_NEGATIVE, SENT_POSITIVE, SENT_NEUTRAL};
    int v = parse_small_int(s);
    if (v >= 0)
        return v < 3 ? bundled[v] : -1;
    for (size_t i = 0; i < FS_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].id;
    return -1;
}

static int topic_parse(const char *s)
{
    int v = parse_small_int(s);
    if (v >= 0)
        return v < N_TOPICS ? v : -1;
    for (int i = 0; i < N_TOPICS; i++)
        if (strcasecmp(s, topic_names[i]) == 0)
            return i;
    return -1;
}

int task_label_parse(enum task task, const char *s)
{
    if (!s)
        return -1;
    /* surrounding blanks are tolerated: " 2" and "Neutral " are labels too */
    char buf[64];
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (task == TASK_SENTIMENT)
        return sentiment_parse(buf);
    if (task == TASK_TOPIC)
        return topic_parse(buf);
    return -1;
}

static void dataset_push(struct dataset *ds, size_t *cap, char *text, int label, enum task task)
{
    if (ds->n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        ds->ex = xrealloc(ds->ex, *cap * sizeof *ds->ex);
    }
    ds->ex[ds->n++] = (struct example){text, label, task};
}

/* 1 when the header field f names the column name (any case, blanks around). */
static int header_is(const char *f, const char *name)
{
    size_t n = strlen(name);
    while (*f == ' ')
        f++;
    if (strncasecmp(f, name, n) != 0)
        return 0;
    for (f += n; *f == ' '; f++)
        ;
    return *f == '\0';
}

/* Finds the text and label columns in the header record: "label", else the
 * column named after the task ("sentiment", "topic"). */
static int header_columns(const struct csv_record *rec, enum task task, int *text_col,
                          int *label_col)
{
    int task_col = -1;
    *text_col = *label_col = -1;
    for (int i = 0; i < rec->n_fields; i++) {
        if (header_is(rec->fields[i], "text"))
            *text_col = i;
        else if (header_is(rec->fields[i], "label"))
            *label_col = i;
        else if (header_is(rec->fields[i], task_name(task)))
            task_col = i;
    }
    if (*label_col < 0)
        *label_col = task_col;
    return *text_col >= 0 && *label_col >= 0 ? 0 : -1;
}

static int load_records(const char *path, const char *data, size_t len, enum task task,
                        struct dataset *out, struct fs_error *err)
{
    struct csv_reader r;
    struct csv_record rec = {0};
    csv_reader_init(&r, data, len);
    int rc = csv_read_record(&r, &rec, err);
    int text_col, label_col;
    if (rc <= 0 || header_columns(&rec, task, &text_col, &label_col) < 0) {
        csv_record_free(&rec);
        if (rc < 0)
            return fs_error_prefix(err, "%s", path);
        return fs_error_set(err, "%s:1: expected a header with columns text,label (or text,%s)",
                            path, task_name(task));
    }
    int need = (text_col > label_col ? text_col : label_col) + 1;
    size_t cap = 0;
    for (;;) {
        int line = r.line;
        rc = csv_read_record(&r, &rec, err);
        if (rc == 0)
            break;
        if (rc < 0) {
            csv_record_free(&rec);
            return fs_error_prefix(err, "%s", path);
        }
        if (rec.n_fields < need) {
            csv_record_free(&rec);
            return fs_error_set(err, "%s:%d: expected %d fields, found %d", path, line, need,
                                rec.n_fields);
        }
        int label = task_label_parse(task, rec.fields[label_col]);
        if (label < 0) {
            fs_error_set(err, "%s:%d: unknown %s label \"%.64s\"", path, line, task_name(task),
                         rec.fields[label_col]);
            csv_record_free(&rec);
            return -1;
        }
        char *text = rec.fields[text_col];
        rec.fields[text_col] = xstrdup(""); /* the record keeps a placeholder to free */
        dataset_push(out, &cap, text, label, task);
    }
    csv_record_free(&rec);
    return 0;
}

int dataset_load_csv(const char *path, enum task task, struct dataset *out, struct fs_error *err)
{
    out->ex = NULL;
    out->n = 0;
    if (task != TASK_TOPIC && task != TASK_SENTIMENT)
        return fs_error_set(err, "%s: unknown task", path);
    char *data;
    size_t len;
    if (file_read_all(path, DATASET_MAX_BYTES, &data, &len, err) < 0)
        return -1;
    int rc = load_records(path, data, len, task, out, err);
    free(data);
    if (rc < 0)
        dataset_free(out);
    return rc;
}

void dataset_append(struct dataset *dst, struct dataset *src)
{
    if (!src->n)
        return;
    dst->ex = xrealloc(dst->ex, (dst->n + src->n) * sizeof *dst->ex);
    memcpy(dst->ex + dst->n, src->ex, src->n * sizeof *src->ex);
    dst->n += src->n;
    free(src->ex);
    src->ex = NULL;
    src->n = 0;
}

void dataset_repeat(struct dataset *ds, enum task task, int label, int times)
{
    size_t n = ds->n, hits = 0;
    for (size_t i = 0; i < n; i++)
        hits += ds->ex[i].task == task && ds->ex[i].label == label;
    if (times <= 1 || !hits)
        return;
    ds->ex = xrealloc(ds->ex, (n + hits * (size_t)(times - 1)) * sizeof *ds->ex);
    for (int t = 1; t < times; t++)
        for (size_t i = 0; i < n; i++)
            if (ds->ex[i].task == task && ds->ex[i].label == label) {
                ds->ex[ds->n] = ds->ex[i];
                ds->ex[ds->n++].text = xstrdup(ds->ex[i].text);
            }
}

void dataset_free(struct dataset *ds)
{
    for (size_t i = 0; i < ds->n; i++)
        free(ds->ex[i].text);
    free(ds->ex);
    ds->ex = NULL;
    ds->n = 0;
}
