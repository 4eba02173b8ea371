/*
 * export.h — CSV export of the trend buckets and of the classified documents.
 *
 * Both are RFC 4180 (common/csv.h): a header row, fields quoted when they hold a
 * comma, quote, CR or LF, records ended by CRLF. Times are ISO-8601 UTC
 * ("2026-03-01T14:00:00Z"), topics and sentiments are names.
 *
 * Trends header (exactly):
 *   topic,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,
 *   negative_share,z_score,spike
 * topic is the topic's name, "all" for the all-topics series; z_score is empty
 * for a series' first bucket; spike is 0 or 1. One row per stored bucket (buckets
 * without documents have no row), ordered by topic id (all first), then time.
 *
 * Entity trends header (exactly), one row per stored entity bucket:
 *   entity,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,
 *   negative_share,z_score,spike
 *
 * Documents header (exactly):
 *   id,published,fetched,source,kind,url,title,topic,sentiment,score,model,text
 * published is empty when the document had no date (its time is then fetched).
 *
 * JSON (export --json): one array of objects with the same fields as the CSV
 * columns: times ISO-8601, counts and scores numbers, spike true/false, an
 * empty z_score or published null. Text that is not UTF-8 is repaired (U+FFFD).
 */
#ifndef FINSENT_EXPORT_H
#define FINSENT_EXPORT_H

#include "common/common.h"
#include "common/strbuf.h"
#include "db/db_trends.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>

#define EXPORT_TRENDS_HEADER                                                                       \
    "topic,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,negative_share,"         \
    "z_score,spike"
#define EXPORT_ENTITY_TRENDS_HEADER                                                                \
    "entity,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,negative_share,"        \
    "z_score,spike"
#define EXPORT_DOCUMENTS_HEADER                                                                    \
    "id,published,fetched,source,kind,url,title,topic,sentiment,score,model,text"

/* Appends one CSV record for a bucket row to sb. */
void export_trend_row(struct strbuf *sb, const struct trend_row *r);

/* The same with the series named by name (an entity). */
void export_series_row(struct strbuf *sb, const char *name, const struct trend_row *r);

/* Appends the header and every bucket matching f to out. */
int export_trends_csv(sqlite3 *db, const struct trend_filter *f, struct strbuf *out,
                      struct fs_error *err);

/* Entity trends (`export trends --by entity`), header EXPORT_ENTITY_TRENDS_HEADER:
 * the same columns and conventions, entity = the entity's name (as `finsent
 * entities` prints it), rows ordered by entity id, then time. f->topic_set /
 * f->topic select one entity id. When only is not NULL, only the entity ids
 * only[0..n_only) are written (a watchlist). */
int export_entity_trends_csv(sqlite3 *db, const struct trend_filter *f, const int64_t *only,
                             size_t n_only, struct strbuf *out, struct fs_error *err);

/* Appends the header and every classified document matching f (time range on the
 * document's time, topic; granularity ignored) to out. When stream is not NULL
 * the text is written to it in chunks as it grows (out is then only a buffer);
 * a write error fails with err set. */
int export_documents_csv(sqlite3 *db, const struct trend_filter *f, FILE *stream,
                         struct strbuf *out, struct fs_error *err);

/* One bucket row as a JSON object (the CSV's fields). Caller owns it. */
json_t *export_trend_row_json(const struct trend_row *r);

/* export_trends_csv() and export_documents_csv() as one JSON array. */
int export_trends_json(sqlite3 *db, const struct trend_filter *f, struct strbuf *out,
                       struct fs_error *err);
int export_documents_json(sqlite3 *db, const struct trend_filter *f, FILE *stream,
                          struct strbuf *out, struct fs_error *err);

/* "negative" / "neutral" / "positive" ("unknown" otherwise). */
const char *export_sentiment_name(int sentiment);

#endif
