/*
 * db_alerts.h — the queries of the alerting stage: reading buckets and the most
 * negative documents of a window, and the alerts, silences and outbox tables.
 *
 * Functions return 0 on success (or a count / 1 = found where said) and -1 with err
 * set on a database error. None of them opens a transaction: the caller groups
 * writes with db_begin()/db_commit(). Times are seconds since the epoch, UTC; an
 * int64 time field of 0 stands for SQL NULL ("never").
 *
 * An alert or silence is about a topic (a topic id, -1 for all topics
 * together) or about an entity (topic ALERT_TOPIC_ENTITY and entity_id, the
 * row of table entities). Functions that take both read the topic's series
 * (table buckets, classifications) when entity_id is 0, else the entity's
 * (table entity_buckets, entity_sentiments).
 */
#ifndef FINSENT_DB_ALERTS_H
#define FINSENT_DB_ALERTS_H

#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

/* One row of the trends stage's table buckets, as the alerter sees it. */
struct bucket_obs {
    int64_t bucket_start, bucket_end;
    int64_t n_docs, n_negative;
    double share_mean, share_std; /* baseline of the negative share (NaN when NULL) */
    double count_mean, count_std; /* baseline of n_negative (NaN when NULL) */
    double z_score;               /* NaN when not computed (a series' first bucket) */
    int64_t history;              /* buckets of the series before this one */
    int spike;                    /* the trends stage's verdict with [trends] thresholds */
    int final;                    /* the bucket is over */
};

/* The topic of an entity's alerts and silences (entity_id says which). */
enum { ALERT_TOPIC_ENTITY = -3 };

/* Buckets of (granularity, topic or entity) with bucket_start in [from, to],
 * newest first, at most max. bucket_end = bucket_start + gran_seconds. Returns
 * the count or -1. (Contract with trends/: trends/trends.h.) */
int db_alerts_buckets(sqlite3 *db, const char *granularity, int gran_seconds, int topic,
                      int64_t entity_id, int64_t from, int64_t to, struct bucket_obs *out, int max,
                      struct fs_error *err);

/* One of the most negative texts of a window. Strings owned by the struct. */
struct alert_example {
    int64_t document_id;
    char *title; /* may be NULL */
    char *text;
    char *url;      /* the document's URL, else its parent's; may be NULL */
    char *attended; /* JSON array of words as stored; may be NULL */
    char *source;   /* the [source NAME] it came from (or its parent's); may be NULL */
    double score;
};

/* Up to max documents of topic (-1 = any) whose time (published_at, else fetched_at)
 * is in [start, end), joined with their classification, lowest score first.
 * With entity_id: the documents that mention the entity, with the entity's
 * sentiment in each (score and attended words of entity_sentiments).
 * Returns the count or -1. Free each with db_alert_example_free(). */
int db_alerts_examples(sqlite3 *db, int topic, int64_t entity_id, int64_t start, int64_t end,
                       struct alert_example *out, int max, struct fs_error *err);
void db_alert_example_free(struct alert_example *ex);

/* One row of table alerts. */
struct alert_row {
    int64_t id;
    char rule[64];
    int topic;         /* ALERT_TOPIC_ENTITY for an entity's alert */
    int64_t entity_id; /* the entity, 0 for a topic's alert */
    char entity[128];  /* the entity's name (read from table entities; not written) */
    char granularity[8];
    char state[12];    /* pending | firing | resolved */
    char severity[12]; /* warning | critical */
    int64_t bucket_start, bucket_end;
    double z_score, negative_share;
    double baseline_share, baseline_share_std, baseline_count, baseline_count_std;
    int64_t n_negative, n_docs;
    int64_t first_seen_at, fired_at, last_seen_at, last_notified_at, resolved_at, acked_at;
    int64_t notify_count;
};

/* The open (pending or firing) alert of rule on topic or entity: returns 1 and
 * fills out, 0 when there is none, -1 on error. */
int db_alert_open_get(sqlite3 *db, const char *rule, int topic, int64_t entity_id,
                      struct alert_row *out, struct fs_error *err);

/* Alert by id: 1 found, 0 not found, -1 error. */
int db_alert_get(sqlite3 *db, int64_t id, struct alert_row *out, struct fs_error *err);

/* Inserts a (sets a->id) or updates every column of the row with a->id. */
int db_alert_insert(sqlite3 *db, struct alert_row *a, struct fs_error *err);
int db_alert_update(sqlite3 *db, const struct alert_row *a, struct fs_error *err);

/* Alerts newest first; open_only = pending and firing only; limit <= 0 = all.
 * *out is an array of *n rows the caller frees with free(). */
int db_alerts_list(sqlite3 *db, int open_only, int limit, struct alert_row **out, int *n,
                   struct fs_error *err);

/* Sets evaluated = 1 on the buckets of (granularity, topic or entity) in
 * [from, to]: the one column of tables buckets and entity_buckets the alerting
 * stage writes (trends/trends.h). */
int db_alerts_buckets_mark_evaluated(sqlite3 *db, const char *granularity, int topic,
                                     int64_t entity_id, int64_t from, int64_t to,
                                     struct fs_error *err);

/* One row of table alert_events: something that happened to an alert, with the
 * bucket it observed (bucket_start 0 when none, as for "acked"). */
struct alert_event_row {
    int64_t id, alert_id, at;
    char kind[12];     /* pending | firing | repeat | escalated | resolved | acked */
    char severity[12]; /* warning | critical, "" when none */
    int64_t bucket_start, bucket_end, n_docs, n_negative;
    double baseline_share, baseline_share_std, baseline_count, baseline_count_std;
    double z_score; /* NaN when unknown */
    int notified;   /* a notification was queued for it */
};

/* Inserts e (sets e->id). */
int db_alert_event_insert(sqlite3 *db, struct alert_event_row *e, struct fs_error *err);

/* The events of alert_id, oldest first. *out: array of *n the caller frees. */
int db_alert_events(sqlite3 *db, int64_t alert_id, struct alert_event_row **out, int *n,
                    struct fs_error *err);

/* Stores the texts of an event, ranks 1..n in the order given (a copy of the
 * headline, link, source and attended words). */
int db_alert_texts_insert(sqlite3 *db, int64_t event_id, const struct alert_example *ex, int n,
                          struct fs_error *err);

/* The stored texts of event_id, rank order, at most max. Returns the count or -1;
 * free each with db_alert_example_free() (title holds the headline). */
int db_alert_texts(sqlite3 *db, int64_t event_id, struct alert_example *out, int max,
                   struct fs_error *err);

/* Marks alert id acknowledged at now. Returns 1 when it exists, 0 when not, -1. */
int db_alert_ack(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err);

/* Topic of a silence that covers every topic, the overall series and every
 * entity. */
enum { SILENCE_EVERY_TOPIC = -2 };

/* One row of table silences. */
struct silence_row {
    int64_t id;
    int topic;         /* a topic id, -1 (all topics together), SILENCE_EVERY_TOPIC
                        * or ALERT_TOPIC_ENTITY */
    int64_t entity_id; /* the entity silenced, 0 when a topic */
    char entity[128];  /* its name (read only) */
    int64_t created_at, until, lifted_at; /* lifted_at 0 while not lifted */
    char comment[256];                    /* "" when none */
};

/* Adds a silence of topic from now until `until` (sets s->id; created_at = now). */
int db_silence_add(sqlite3 *db, struct silence_row *s, struct fs_error *err);

/* 1 with the id of the silence covering topic or entity at now (the one lasting
 * longest; a SILENCE_EVERY_TOPIC silence covers every topic and entity) when
 * there is one, 0 when not, -1 on error. id may be NULL. */
int db_silence_active(sqlite3 *db, int topic, int64_t entity_id, int64_t now, int64_t *id,
                      struct fs_error *err);

/* Silences newest first: those active at now, or every one with all. *out is an
 * array of *n rows the caller frees with free(). */
int db_silences_list(sqlite3 *db, int64_t now, int all, struct silence_row **out, int *n,
                     struct fs_error *err);

/* Lifts silence id at now. Returns 1, 0 when there is no such silence or it is
 * no longer active, -1 on error. */
int db_silence_lift(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err);

/* One row of table outbox. Strings owned by the struct. */
struct outbox_row {
    int64_t id;
    char channel[8]; /* email | desktop | webhook */
    char *target;    /* webhook: its NAME; desktop: the link its default action opens;
                      * may be NULL */
    char *alert_ids; /* JSON array */
    char *subject;
    char *body_text;  /* webhook: the JSON body */
    char *body_html;  /* NULL for desktop and webhook */
    char urgency[10]; /* low | normal | critical */
    char *message_id;
    int64_t created_at;
    char state[8]; /* queued | sent | expired */
    int64_t attempts, next_attempt_at, sent_at;
    char *last_error;
};

/* Inserts r (sets r->id); state queued, attempts 0. */
int db_outbox_insert(sqlite3 *db, struct outbox_row *r, struct fs_error *err);

/* Queued rows with next_attempt_at <= now, oldest first. *out: array the caller
 * frees with db_outbox_rows_free(). */
int db_outbox_due(sqlite3 *db, int64_t now, struct outbox_row **out, int *n, struct fs_error *err);

/* Number of queued rows, due or not. */
int db_outbox_counts(sqlite3 *db, int64_t *queued, struct fs_error *err);

/* Claims a due row for one delivery attempt by moving its next_attempt_at to
 * lease_until, so a second finsent process running at the same time skips it.
 * Returns 1 when claimed, 0 when the row is no longer due (another process has
 * it), -1 on error. */
int db_outbox_claim(sqlite3 *db, int64_t id, int64_t now, int64_t lease_until,
                    struct fs_error *err);

/* Marks a row sent (state sent, sent_at = now, attempts + 1). */
int db_outbox_mark_sent(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err);

/* Records a failed attempt: attempts + 1, next_attempt_at, last_error; state becomes
 * expired when expire is set. */
int db_outbox_mark_failed(sqlite3 *db, int64_t id, int64_t next_attempt_at, const char *error,
                          int expire, struct fs_error *err);

void db_outbox_row_free(struct outbox_row *r);
void db_outbox_rows_free(struct outbox_row *rows, int n);

#endif
