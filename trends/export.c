/* export.c — trends and documents as RFC 4180 CSV or JSON. */
#include "trends/export.h"

#include "common/csv.h"
#include "common/util.h"
#include "crawler/text.h"
#include "db/db_entities.h"
#include "trends/trends.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_CHUNK (1 << 20) /* flush a stream every MiB */

const char *export_sentiment_name(int sentiment)
{
    static const char *const names[] = {"negative", "neutral", "positive"};
    return sentiment >= 0 && sentiment < 3 ? names[sentiment] : "unknown";
}

/* Appends a header given as one comma-separated string (no quoting needed). */
static void append_header(struct strbuf *sb, const char *header)
{
    sb_append(sb, header);
    sb_append(sb, "\r\n");
}

void export_trend_row(struct strbuf *sb, const struct trend_row *r)
{
    export_series_row(sb, trends_topic_name(r->topic), r);
}

void export_series_row(struct strbuf *sb, const char *name, const struct trend_row *r)
{
    char start[32], n_docs[24], n_neg[24], n_neu[24], n_pos[24], mean[32], share[32], z[32];
    time_format_iso8601(r->bucket_start, start, sizeof start);
    snprintf(n_docs, sizeof n_docs, "%lld", (long long)r->n_docs);
    snprintf(n_neg, sizeof n_neg, "%lld", (long long)r->n_negative);
    snprintf(n_neu, sizeof n_neu, "%lld", (long long)r->n_neutral);
    snprintf(n_pos, sizeof n_pos, "%lld", (long long)r->n_positive);
    double n = r->n_docs > 0 ? (double)r->n_docs : 1.0;
    snprintf(mean, sizeof mean, "%.4f", (double)r->score_sum_micro / 1e6 / n);
    snprintf(share, sizeof share, "%.4f", (double)r->n_negative / n);
    z[0] = '\0';
    if (r->has_z)
        snprintf(z, sizeof z, "%.3f", r->z_score);
    const char *fields[] = {
        name, start, n_docs, n_neg, n_neu, n_pos, mean, share, z,
        r->spike ? "1" : "0"};
    csv_append_record(sb, fields, (int)FS_ARRAY_LEN(fields));
}

static int id_in(int64_t id, const int64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

/* The name of entity id in the sorted list e (by id), or "" */
static const char *entity_name_of(const struct entity_volume *e, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e[mid].id == id)
            return e[mid].name ? e[mid].name : "";
        if (e[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "";
}

int export_entity_trends_csv(sqlite3 *db, const struct trend_filter *f, const int64_t *only,
                             size_t n_only, struct strbuf *out, struct fs_error *err)
{
    struct trend_row *rows;
    size_t n, n_ents;
    struct entity_volume *ents;
    if (db_entities_all(db, &ents, &n_ents, err) < 0)
        return -1;
    if (db_trends_query_by(db, DB_TREND_BY_ENTITY, f, &rows, &n, err) < 0) {
        db_entity_volume_free(ents, n_ents);
        return -1;
    }
    append_header(out, EXPORT_ENTITY_TRENDS_HEADER);
    for (size_t i = 0; i < n; i++)
        if (!only || id_in(rows[i].topic, only, n_only))
            export_series_row(out, entity_name_of(ents, n_ents, rows[i].topic), &rows[i]);
    free(rows);
    db_entity_volume_free(ents, n_ents);
    return 0;
}

int export_trends_csv(sqlite3 *db, const struct trend_filter *f, struct strbuf *out,
                      struct fs_error *err)
{
    struct trend_row *rows;
    size_t n;
    if (db_trends_query(db, f, &rows, &n, err) < 0)
        return -1;
    append_header(out, EXPORT_TRENDS_HEADER);
    for (size_t i = 0; i < n; i++)
        export_trend_row(out, &rows[i]);
    free(rows);
    return 0;
}

struct doc_export {
    struct strbuf *out;
    FILE *stream;
    int failed_errno;
};

static int flush_chunk(struct doc_export *x, int force)
{
    if (!x->stream || (!force && x->out->len < EXPORT_CHUNK))
        return 0;
    if (x->out->len > 0 && fwrite(x->out->buf, 1, x->out->len, x->stream) != x->out->len) {
        x->failed_errno = errno ? errno : EIO;
        return -1;
    }
    sb_reset(x->out);
    return 0;
}

static int doc_row(void *ctx, const struct trend_doc *d)
{
    struct doc_export *x = ctx;
    char id[24], published[32] = "", fetched[32], score[32];
    snprintf(id, sizeof id, "%lld", (long long)d->id);
    if (d->has_published)
        time_format_iso8601(d->published_at, published, sizeof published);
    time_format_iso8601(d->fetched_at, fetched, sizeof fetched);
    snprintf(score, sizeof score, "%.4f", d->score);
    const char *fields[] = {id,
                            published,
                            fetched,
                            d->source ? d->source : "",
                            d->kind ? d->kind : "",
                            d->url ? d->url : "",
                            d->title ? d->title : "",
                            trends_topic_name(d->topic),
                            export_sentiment_name(d->sentiment),
                            score,
                            d->model_id ? d->model_id : "",
                            d->text ? d->text : ""};
    csv_append_record(x->out, fields, (int)FS_ARRAY_LEN(fields));
    return flush_chunk(x, 0);
}

int export_documents_csv(sqlite3 *db, const struct trend_filter *f, FILE *stream,
                         struct strbuf *out, struct fs_error *err)
{
    struct doc_export x = {.out = out, .stream = stream};
    append_header(out, EXPORT_DOCUMENTS_HEADER);
    if (db_trends_documents(db, f, doc_row, &x, err) < 0)
        return -1;
    if (x.failed_errno == 0)
        flush_chunk(&x, 1);
    if (x.failed_errno != 0)
        return fs_error_set(err, "writing CSV: %s", strerror(x.failed_errno));
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------ */

/* A JSON string of s (NULL: null); bytes that are not UTF-8 become U+FFFD. */
static json_t *json_text(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (text_utf8_valid(s, n))
        return json_stringn(s, n);
    struct strbuf sb = STRBUF_INIT;
    text_utf8_repair(&sb, s, n);
    json_t *j = json_stringn(sb.buf, sb.len);
    sb_free(&sb);
    return j ? j : json_null();
}

static json_t *json_time(int64_t t)
{
    char buf[32];
    return json_string(time_format_iso8601(t, buf, sizeof buf));
}

json_t *export_trend_row_json(const struct trend_row *r)
{
    double n = r->n_docs > 0 ? (double)r->n_docs : 1.0;
    json_t *o = json_object();
    json_object_set_new(o, "topic", json_string(trends_topic_name(r->topic)));
    json_object_set_new(o, "bucket_start", json_time(r->bucket_start));
    json_object_set_new(o, "n_docs", json_integer(r->n_docs));
    json_object_set_new(o, "n_negative", json_integer(r->n_negative));
    json_object_set_new(o, "n_neutral", json_integer(r->n_neutral));
    json_object_set_new(o, "n_positive", json_integer(r->n_positive));
    json_object_set_new(o, "mean_score", json_real((double)r->score_sum_micro / 1e6 / n));
    json_object_set_new(o, "negative_share", json_real((double)r->n_negative / n));
    json_object_set_new(o, "z_score", r->has_z ? json_real(r->z_score) : json_null());
    json_object_set_new(o, "spike", json_boolean(r->spike));
    return o;
}

/* Appends j as compact JSON and releases it. */
static void append_json(struct strbuf *sb, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    sb_append(sb, text ? text : "null");
    free(text);
    json_decref(j);
}

int export_trends_json(sqlite3 *db, const struct trend_filter *f, struct strbuf *out,
                       struct fs_error *err)
{
    struct trend_row *rows;
    size_t n;
    if (db_trends_query(db, f, &rows, &n, err) < 0)
        return -1;
    sb_append(out, "[");
    for (size_t i = 0; i < n; i++) {
        sb_append(out, i ? ",\n " : "\n ");
        append_json(out, export_trend_row_json(&rows[i]));
    }
    sb_append(out, n ? "\n]\n" : "]\n");
    free(rows);
    return 0;
}

struct doc_json_export {
    struct doc_export x;
    size_t n;
};

static int doc_json_row(void *ctx, const struct trend_doc *d)
{
    struct doc_json_export *j = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(d->id));
    json_object_set_new(o, "published",
                        d->has_published ? json_time(d->published_at) : json_null());
    json_object_set_new(o, "fetched", json_time(d->fetched_at));
    json_object_set_new(o, "source", json_text(d->source));
    json_object_set_new(o, "kind", json_text(d->kind));
    json_object_set_new(o, "url", json_text(d->url));
    json_object_set_new(o, "title", json_text(d->title));
    json_object_set_new(o, "topic", json_string(trends_topic_name(d->topic)));
    json_object_set_new(o, "sentiment", json_string(export_sentiment_name(d->sentiment)));
    json_object_set_new(o, "score", json_real(d->score));
    json_object_set_new(o, "model", json_text(d->model_id));
    json_object_set_new(o, "text", json_text(d->text));
    sb_append(j->x.out, j->n++ ? ",\n " : "\n ");
    append_json(j->x.out, o);
    return flush_chunk(&j->x, 0);
}

int export_documents_json(sqlite3 *db, const struct trend_filter *f, FILE *stream,
                          struct strbuf *out, struct fs_error *err)
{
    struct doc_json_export j = {{.out = out, .stream = stream}, 0};
    sb_append(out, "[");
    if (db_trends_documents(db, f, doc_json_row, &j, err) < 0)
        return -1;
    sb_append(out, j.n ? "\n]\n" : "]\n");
    if (j.x.failed_errno == 0)
        flush_chunk(&j.x, 1);
    if (j.x.failed_errno != 0)
        return fs_error_set(err, "writing JSON: %s", strerror(j.x.failed_errno));
    return 0;
}
