/*
 * schema.c — finsent's SQLite schema, as a list of migrations.
 *
 * Times are INTEGER seconds since the epoch (UTC). Topic -1 means "all topics".
 */
#include "db/schema.h"

static const char schema_v1[] =
    /* meta: key/value bookkeeping for stages (e.g. trends.stale) */
    "CREATE TABLE meta ("
    "  key   TEXT PRIMARY KEY,"
    "  value TEXT"
    ");"

    /* sources: one row per configured source, with its fetch state */
    "CREATE TABLE sources ("
    "  id                 INTEGER PRIMARY KEY,"
    "  name               TEXT NOT NULL UNIQUE,"
    "  url                TEXT NOT NULL,"
    "  kind               TEXT NOT NULL CHECK (kind IN ('feed','article','comments')),"
    "  selectors          TEXT," /* XPath for comment pages, NULL = default */
    "  follow_links       INTEGER NOT NULL DEFAULT 0,"
    "  etag               TEXT,"
    "  last_modified      TEXT,"
    "  last_status        INTEGER," /* HTTP status, 0 = transport error */
    "  last_error         TEXT,"
    "  consecutive_errors INTEGER NOT NULL DEFAULT 0,"
    "  ttl_seconds        INTEGER," /* a feed's <ttl>, or NULL */
    "  last_fetch_at      INTEGER,"
    "  next_fetch_at      INTEGER NOT NULL DEFAULT 0"
    ");"

    /* documents: every article and comment stored once */
    "CREATE TABLE documents ("
    "  id           INTEGER PRIMARY KEY,"
    "  source_id    INTEGER REFERENCES sources(id) ON DELETE SET NULL,"
    "  url          TEXT,"
    "  guid         TEXT,"
    "  dedupe_hash  TEXT NOT NULL," /* hash of the normalised content */
    "  title        TEXT,"
    "  text         TEXT NOT NULL,"
    "  author       TEXT,"
    "  kind         TEXT NOT NULL CHECK (kind IN ('article','comment')),"
    "  parent_id    INTEGER REFERENCES documents(id) ON DELETE CASCADE,"
    "  published_at INTEGER,"
    "  fetched_at   INTEGER NOT NULL"
    ");"
    "CREATE INDEX documents_source ON documents(source_id);"
    "CREATE INDEX documents_parent ON documents(parent_id);"

    /* dedupe_keys: 'g:'+GUID, 'u:'+normalised URL, 'h:'+content hash; any hit = seen
     * (v7 scopes GUIDs by source: crawler/dedupe.h) */
    "CREATE TABLE dedupe_keys ("
    "  key         TEXT PRIMARY KEY,"
    "  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE"
    ") WITHOUT ROWID;"

    /* crawl_log: one row per fetch attempt */
    "CREATE TABLE crawl_log ("
    "  id          INTEGER PRIMARY KEY,"
    "  source_id   INTEGER REFERENCES sources(id) ON DELETE CASCADE,"
    "  url         TEXT NOT NULL,"
    "  started_at  INTEGER NOT NULL,"
    "  duration_ms INTEGER,"
    "  outcome     TEXT NOT NULL CHECK (outcome IN ('new','unchanged','failed','skipped')),"
    "  http_status INTEGER,"
    "  bytes       INTEGER,"
    "  n_items     INTEGER,"
    "  n_new       INTEGER,"
    "  error       TEXT"
    ");"
    "CREATE INDEX crawl_log_source ON crawl_log(source_id, started_at);"

    /* robots: cached robots.txt per scheme://host[:port] */
    "CREATE TABLE robots ("
    "  origin     TEXT PRIMARY KEY,"
    "  body       TEXT," /* NULL = allow all (404 etc.) */
    "  fetched_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"

    /* classifications: one per document, written by `finsent classify` */
    "CREATE TABLE classifications ("
    "  document_id     INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,"
    "  model_id        TEXT NOT NULL,"
    "  topic           INTEGER NOT NULL,"
    "  topic_probs     TEXT NOT NULL,"    /* JSON array of floats */
    "  sentiment       INTEGER NOT NULL," /* 0 negative, 1 neutral, 2 positive */
    "  sentiment_probs TEXT NOT NULL,"    /* JSON array [neg, neu, pos] */
    "  score           REAL NOT NULL,"    /* p(positive) - p(negative) */
    "  attended        TEXT,"             /* JSON array of the most attended words */
    "  classified_at   INTEGER NOT NULL"
    ");"

    /* trends_pending: classifications not yet counted in buckets, queued by a
     * trigger and emptied by trends_update() in the transaction that counts them.
     * (A queue rather than a flag column: marking a million rows counted would
     * rewrite the whole classifications table; emptying the queue is one cheap
     * DELETE.) A counted classification (one not in the queue) that is deleted,
     * replaced or changed increments meta 'trends.stale', and the next update
     * rebuilds the buckets from scratch. */
    "CREATE TABLE trends_pending ("
    "  document_id INTEGER PRIMARY KEY"
    ");"
    "CREATE TRIGGER classifications_trends_queue AFTER INSERT ON classifications BEGIN"
    "  INSERT OR IGNORE INTO trends_pending(document_id) VALUES (new.document_id);"
    "END;"
    "CREATE TRIGGER classifications_trends_replace BEFORE INSERT ON classifications"
    "  WHEN EXISTS (SELECT 1 FROM classifications WHERE document_id = new.document_id)"
    "   AND NOT EXISTS (SELECT 1 FROM trends_pending WHERE document_id = new.document_id)"
    "  BEGIN"
    "  INSERT INTO meta(key, value) VALUES ('trends.stale', 1)"
    "    ON CONFLICT(key) DO UPDATE SET value = value + 1;"
    "END;"
    "CREATE TRIGGER classifications_trends_delete AFTER DELETE ON classifications BEGIN"
    "  INSERT INTO meta(key, value) SELECT 'trends.stale', 1 WHERE NOT EXISTS"
    "    (SELECT 1 FROM trends_pending WHERE document_id = old.document_id)"
    "    ON CONFLICT(key) DO UPDATE SET value = value + 1;"
    "  DELETE FROM trends_pending WHERE document_id = old.document_id;"
    "END;"
    "CREATE TRIGGER classifications_trends_update"
    "  AFTER UPDATE OF document_id, topic, sentiment, score ON classifications"
    "  WHEN NOT EXISTS (SELECT 1 FROM trends_pending WHERE document_id = old.document_id)"
    "  BEGIN"
    "  INSERT INTO meta(key, value) VALUES ('trends.stale', 1)"
    "    ON CONFLICT(key) DO UPDATE SET value = value + 1;"
    "END;"

    /* buckets: per topic (-1 = all) and UTC hour/day aggregates with spike scores.
     * Written only by trends/ (see trends/trends.h for what each column means and
     * what alerts/ should read); `evaluated` belongs to alerts/. */
    "CREATE TABLE buckets ("
    "  granularity     TEXT NOT NULL CHECK (granularity IN ('hour','day')),"
    "  topic           INTEGER NOT NULL,"
    "  bucket_start    INTEGER NOT NULL,"
    "  n_docs          INTEGER NOT NULL DEFAULT 0,"
    "  n_negative      INTEGER NOT NULL DEFAULT 0,"
    "  n_neutral       INTEGER NOT NULL DEFAULT 0,"
    "  n_positive      INTEGER NOT NULL DEFAULT 0,"
    "  score_sum_micro INTEGER NOT NULL DEFAULT 0," /* sum of round(score * 1e6): exact */
    "  negative_share  REAL GENERATED ALWAYS AS"
    "    (CASE WHEN n_docs > 0 THEN CAST(n_negative AS REAL) / n_docs END) VIRTUAL,"
    "  mean_score      REAL GENERATED ALWAYS AS"
    "    (CASE WHEN n_docs > 0 THEN score_sum_micro / 1e6 / n_docs END) VIRTUAL,"
    "  history         INTEGER NOT NULL DEFAULT 0," /* buckets of this series before it */
    "  baseline_mean   REAL,"                       /* EWMA of n_negative before it */
    "  baseline_std    REAL,"
    "  share_baseline  REAL," /* EWMA of negative_share before it */
    "  share_std       REAL,"
    "  z_count         REAL,"
    "  z_share         REAL,"
    "  z_score         REAL," /* min(z_count, z_share) */
    "  spike           INTEGER NOT NULL DEFAULT 0,"
    "  ewma_count_mean REAL NOT NULL DEFAULT 0," /* EWMA state after this bucket */
    "  ewma_count_var  REAL NOT NULL DEFAULT 0,"
    "  ewma_share_mean REAL NOT NULL DEFAULT 0,"
    "  ewma_share_excess REAL NOT NULL DEFAULT 0,"
    "  ewma_share_n    INTEGER NOT NULL DEFAULT 0,"
    "  final           INTEGER NOT NULL DEFAULT 0," /* bucket had ended at updated_at */
    "  updated_at      INTEGER NOT NULL DEFAULT 0,"
    "  evaluated       INTEGER NOT NULL DEFAULT 0," /* alerts/: 1 once read */
    "  PRIMARY KEY (granularity, topic, bucket_start)"
    ") WITHOUT ROWID;"
    "CREATE INDEX buckets_unevaluated ON buckets(granularity, topic, bucket_start)"
    "  WHERE evaluated = 0;"
    "CREATE INDEX buckets_open ON buckets(granularity, bucket_start) WHERE final = 0;"

    /* alerts: one row per episode of a rule on a topic (alerts/alerts.h explains
     * the states); at most one open (pending or firing) row per rule and topic */
    "CREATE TABLE alerts ("
    "  id               INTEGER PRIMARY KEY,"
    "  rule             TEXT NOT NULL,"
    "  topic            INTEGER NOT NULL," /* -1 = all topics together */
    "  granularity      TEXT NOT NULL CHECK (granularity IN ('hour','day')),"
    "  state            TEXT NOT NULL CHECK (state IN ('pending','firing','resolved')),"
    "  severity         TEXT NOT NULL DEFAULT 'warning' CHECK (severity IN ('warning','critical')),"
    "  bucket_start     INTEGER NOT NULL," /* the window last observed */
    "  bucket_end       INTEGER NOT NULL,"
    "  z_score          REAL,"
    "  negative_share   REAL,"
    "  n_negative       INTEGER,"
    "  n_docs           INTEGER,"
    "  baseline_share   REAL," /* buckets.share_baseline */
    "  baseline_share_std REAL,"
    "  baseline_count   REAL," /* buckets.baseline_mean (n_negative) */
    "  baseline_count_std REAL,"
    "  first_seen_at    INTEGER NOT NULL,"
    "  fired_at         INTEGER,"
    "  last_seen_at     INTEGER NOT NULL,"
    "  last_notified_at INTEGER," /* NULL = never notified */
    "  notify_count     INTEGER NOT NULL DEFAULT 0,"
    "  resolved_at      INTEGER,"
    "  acked_at         INTEGER" /* NULL = not acknowledged */
    ");"
    "CREATE UNIQUE INDEX alerts_open ON alerts(rule, topic) WHERE state != 'resolved';"
    "CREATE INDEX alerts_state ON alerts(state, topic);"

    /* silences: a topic (-1 = all topics together) muted until a time */
    "CREATE TABLE silences ("
    "  topic      INTEGER PRIMARY KEY,"
    "  until      INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"

    /* outbox: every notification, written in the same transaction as the alert
     * change that caused it, then delivered; kept afterwards as the send log */
    "CREATE TABLE outbox ("
    "  id              INTEGER PRIMARY KEY,"
    "  channel         TEXT NOT NULL CHECK (channel IN ('email','desktop')),"
    "  alert_ids       TEXT NOT NULL," /* JSON array of alerts.id */
    "  subject         TEXT NOT NULL,"
    "  body_text       TEXT NOT NULL,"
    "  body_html       TEXT,"
    "  urgency         TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN "
    "('low','normal','critical')),"
    "  message_id      TEXT NOT NULL,"    /* RFC 5322 Message-ID, kept on retry */
    "  created_at      INTEGER NOT NULL," /* also the Date: header */
    "  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','sent','expired')),"
    "  attempts        INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  sent_at         INTEGER,"
    "  last_error      TEXT" /* never holds a secret */
    ");"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_at);";

/* v2: documents by their time, for the queries that select a time range of
 * documents (the most negative headlines of a spike, CSV exports). The
 * expression must stay the one those queries use (db_trends.c DOC_TIME). */
static const char schema_v2[] =
    "CREATE INDEX documents_time ON documents(coalesce(published_at, fetched_at));";

/* v3: entities (issue 13). Each document's mentions of companies, found by
 * entities/ (entities/recognize.h says what counts), and the per-entity
 * sentiment the classify stage derives from them. documents.tickers holds the
 * tickers a feed supplied for the item; documents.entities_at is when the
 * recogniser read the document (NULL: not yet; the index finds those). */
static const char schema_v3[] =
    "ALTER TABLE documents ADD COLUMN tickers TEXT;"
    "ALTER TABLE documents ADD COLUMN entities_at INTEGER;"
    "CREATE INDEX documents_entities_pending ON documents(id) WHERE entities_at IS NULL;"

    /* entities: one row per company (or cashtag symbol) ever mentioned.
     * key: 'sec:CIK', 'cfg:NAME' (an [entity NAME] section), 'sym:SYMBOL' */
    "CREATE TABLE entities ("
    "  id     INTEGER PRIMARY KEY,"
    "  key    TEXT NOT NULL UNIQUE,"
    "  name   TEXT NOT NULL,"
    "  ticker TEXT"
    ");"
    "CREATE INDEX entities_name ON entities(name COLLATE NOCASE);"

    /* mentions: one row per mention; start/len are bytes in the field
     * (0/0 for a ticker the feed supplied) */
    "CREATE TABLE mentions ("
    "  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  entity_id   INTEGER NOT NULL REFERENCES entities(id),"
    "  field       TEXT NOT NULL CHECK (field IN ('title','text','feed')),"
    "  start       INTEGER NOT NULL,"
    "  len         INTEGER NOT NULL,"
    "  how         TEXT NOT NULL CHECK (how IN "
    "('cashtag','exchange','ticker','feed','name','alias'))"
    ");"
    "CREATE INDEX mentions_document ON mentions(document_id);"
    "CREATE INDEX mentions_entity ON mentions(entity_id);"

    /* entity_sentiments: the sentiment of each entity a classified document
     * mentions (classify/entity_sentiment.h): the document's own ('document'),
     * or that of the sentences that mention the entity ('sentences') */
    "CREATE TABLE entity_sentiments ("
    "  document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  entity_id       INTEGER NOT NULL REFERENCES entities(id),"
    "  sentiment       INTEGER NOT NULL," /* 0 negative, 1 neutral, 2 positive */
    "  sentiment_probs TEXT NOT NULL,"    /* JSON [neg, neu, pos] */
    "  score           REAL NOT NULL,"    /* p(positive) - p(negative) */
    "  attended        TEXT,"             /* JSON array of the most attended words */
    "  basis           TEXT NOT NULL CHECK (basis IN ('document','sentences')),"
    "  PRIMARY KEY (document_id, entity_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX entity_sentiments_entity ON entity_sentiments(entity_id);"

    /* entity_trends_pending / entity_buckets: per-entity trends, kept exactly
     * as trends_pending / buckets are per topic (trends/trends.h), keyed by
     * entities.id; meta 'entity_trends.stale' plays 'trends.stale' */
    "CREATE TABLE entity_trends_pending ("
    "  document_id INTEGER NOT NULL,"
    "  entity_id   INTEGER NOT NULL,"
    "  PRIMARY KEY (document_id, entity_id)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER entity_sentiments_trends_queue AFTER INSERT ON entity_sentiments BEGIN"
    "  INSERT OR IGNORE INTO entity_trends_pending(document_id, entity_id)"
    "    VALUES (new.document_id, new.entity_id);"
    "END;"
    "CREATE TRIGGER entity_sentiments_trends_replace BEFORE INSERT ON entity_sentiments"
    "  WHEN EXISTS (SELECT 1 FROM entity_sentiments WHERE document_id = new.document_id"
    "               AND entity_id = new.entity_id)"
    "   AND NOT EXISTS (SELECT 1 FROM entity_trends_pending WHERE document_id = new.document_id"
    "                   AND entity_id = new.entity_id)"
    "  BEGIN"
    "  INSERT INTO meta(key, value) VALUES ('entity_trends.stale', 1)"
    "    ON CONFLICT(key) DO UPDATE SET value = value + 1;"
    "END;"
    "CREATE TRIGGER entity_sentiments_trends_delete AFTER DELETE ON entity_sentiments BEGIN"
    "  INSERT INTO meta(key, value) SELECT 'entity_trends.stale', 1 WHERE NOT EXISTS"
    "    (SELECT 1 FROM entity_trends_pending WHERE document_id = old.document_id"
    "     AND entity_id = old.entity_id)"
    "    ON CONFLICT(key) DO UPDATE SET value = value + 1;"
    "  DELETE FROM entity_trends_pending WHERE document_id = old.document_id"
    "    AND entity_id = old.entity_id;"
    "END;"
    "CREATE TABLE entity_buckets ("
    "  granularity     TEXT NOT NULL CHECK (granularity IN ('hour','day')),"
    "  entity_id       INTEGER NOT NULL,"
    "  bucket_start    INTEGER NOT NULL,"
    "  n_docs          INTEGER NOT NULL DEFAULT 0,"
    "  n_negative      INTEGER NOT NULL DEFAULT 0,"
    "  n_neutral       INTEGER NOT NULL DEFAULT 0,"
    "  n_positive      INTEGER NOT NULL DEFAULT 0,"
    "  score_sum_micro INTEGER NOT NULL DEFAULT 0,"
    "  negative_share  REAL GENERATED ALWAYS AS"
    "    (CASE WHEN n_docs > 0 THEN CAST(n_negative AS REAL) / n_docs END) VIRTUAL,"
    "  mean_score      REAL GENERATED ALWAYS AS"
    "    (CASE WHEN n_docs > 0 THEN score_sum_micro / 1e6 / n_docs END) VIRTUAL,"
    "  history         INTEGER NOT NULL DEFAULT 0,"
    "  baseline_mean   REAL,"
    "  baseline_std    REAL,"
    "  share_baseline  REAL,"
    "  share_std       REAL,"
    "  z_count         REAL,"
    "  z_share         REAL,"
    "  z_score         REAL,"
    "  spike           INTEGER NOT NULL DEFAULT 0,"
    "  ewma_count_mean REAL NOT NULL DEFAULT 0,"
    "  ewma_count_var  REAL NOT NULL DEFAULT 0,"
    "  ewma_share_mean REAL NOT NULL DEFAULT 0,"
    "  ewma_share_excess REAL NOT NULL DEFAULT 0,"
    "  ewma_share_n    INTEGER NOT NULL DEFAULT 0,"
    "  final           INTEGER NOT NULL DEFAULT 0,"
    "  updated_at      INTEGER NOT NULL DEFAULT 0,"
    "  evaluated       INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (granularity, entity_id, bucket_start)"
    ") WITHOUT ROWID;"
    "CREATE INDEX entity_buckets_unevaluated ON entity_buckets(granularity, entity_id,"
    "  bucket_start) WHERE evaluated = 0;"
    "CREATE INDEX entity_buckets_open ON entity_buckets(granularity, bucket_start)"
    "  WHERE final = 0;";

/* alert history (issue 15): an alert row is one episode of a rule on a topic and
 * keeps the spike that fired it (while pending, the latest observation); what
 * happens to it afterwards is added as events, each with the bucket it saw, and
 * the most negative texts of a firing or repeat are kept with their event (a copy
 * of headline, link and source, so the record outlives the documents). */
static const char schema_alert_history[] =
    "CREATE TABLE alert_events ("
    "  id                 INTEGER PRIMARY KEY,"
    "  alert_id           INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,"
    "  at                 INTEGER NOT NULL,"
    "  kind               TEXT NOT NULL CHECK (kind IN ('pending','firing','repeat',"
    "'escalated','resolved','acked')),"
    "  severity           TEXT,"
    "  bucket_start       INTEGER," /* the bucket observed (NULL: none, e.g. acked) */
    "  bucket_end         INTEGER,"
    "  n_docs             INTEGER,"
    "  n_negative         INTEGER,"
    "  baseline_share     REAL,"
    "  baseline_share_std REAL,"
    "  baseline_count     REAL,"
    "  baseline_count_std REAL,"
    "  z_score            REAL,"
    "  notified           INTEGER NOT NULL DEFAULT 0" /* a notification was queued */
    ");"
    "CREATE INDEX alert_events_alert ON alert_events(alert_id, id);"
    "CREATE TABLE alert_texts ("
    "  event_id    INTEGER NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,"
    "  rank        INTEGER NOT NULL," /* 1 = most negative */
    "  document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,"
    "  score       REAL NOT NULL,"
    "  headline    TEXT NOT NULL,"
    "  url         TEXT,"
    "  source      TEXT,"
    "  attended    TEXT,"
    "  PRIMARY KEY (event_id, rank)"
    ") WITHOUT ROWID;";



/* silences as objects (issue 15): each silence has an id, a comment, and can be
 * lifted before it ends; topic -2 silences every topic and the overall series.
 * A silence is active while created_at <= now < until and it is not lifted. */
static const char schema_silence_objects[] =
    "ALTER TABLE silences RENAME TO silences_by_topic;"
    "CREATE TABLE silences ("
    "  id         INTEGER PRIMARY KEY,"
    "  topic      INTEGER NOT NULL," /* a topic id, -1 all topics together, -2 every topic */
    "  created_at INTEGER NOT NULL,"
    "  until      INTEGER NOT NULL,"
    "  comment    TEXT,"
    "  lifted_at  INTEGER" /* `alerts unsilence`; NULL while not lifted */
    ");"
    "INSERT INTO silences(topic, created_at, until) "
    "  SELECT topic, created_at, until FROM silences_by_topic ORDER BY created_at, topic;"
    "DROP TABLE silences_by_topic;"
    "CREATE INDEX silences_until ON silences(until);";



/* the webhook channel (issue 15): outbox rows for channel 'webhook', with the
 * [webhook NAME] they go to in target (the CHECK constraint needs a new table). */
static const char schema_outbox_webhook[] =
    "CREATE TABLE outbox_webhook ("
    "  id              INTEGER PRIMARY KEY,"
    "  channel         TEXT NOT NULL CHECK (channel IN ('email','desktop','webhook')),"
    "  target          TEXT," /* the webhook's NAME; NULL for email and desktop */
    "  alert_ids       TEXT NOT NULL,"
    "  subject         TEXT NOT NULL,"
    "  body_text       TEXT NOT NULL," /* a webhook's JSON body, as POSTed */
    "  body_html       TEXT,"
    "  urgency         TEXT NOT NULL DEFAULT 'normal' CHECK (urgency IN "
    "('low','normal','critical')),"
    "  message_id      TEXT NOT NULL," /* also a webhook's Idempotency-Key */
    "  created_at      INTEGER NOT NULL,"
    "  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','sent','expired')),"
    "  attempts        INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    "  sent_at         INTEGER,"
    "  last_error      TEXT"
    ");"
    "INSERT INTO outbox_webhook(id, channel, alert_ids, subject, body_text, body_html, urgency, "
    "  message_id, created_at, state, attempts, next_attempt_at, sent_at, last_error) "
    "  SELECT id, channel, alert_ids, subject, body_text, body_html, urgency, message_id, "
    "  created_at, state, attempts, next_attempt_at, sent_at, last_error FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_webhook RENAME TO outbox;"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt_at);";

/* v7: a GUID is unique within its source only (crawler/dedupe.h): the 'g:'
 * keys of GUIDs that are not http(s) URLs become 'g:<source id>:<guid>'. (Keys
 * of documents whose source was removed stay as they are.) */
static const char schema_dedupe_scoped[] =
    "UPDATE OR IGNORE dedupe_keys SET key = 'g:' ||"
    "  (SELECT d.source_id FROM documents d WHERE d.id = document_id) || ':' || substr(key, 3)"
    " WHERE key LIKE 'g:%' AND substr(key, 3) NOT LIKE 'http://%'"
    "  AND substr(key, 3) NOT LIKE 'https://%'"
    "  AND (SELECT d.source_id FROM documents d WHERE d.id = document_id) IS NOT NULL;";

/* alerts and silences on entities (issue 13): an alert or a silence of an
 * entity has topic -3 and the entity in entity_id (NULL for topics); at most
 * one open alert per rule and topic or entity. */
static const char schema_entity_alerts[] =
    "ALTER TABLE alerts ADD COLUMN entity_id INTEGER REFERENCES entities(id);"
    "DROP INDEX alerts_open;"
    "CREATE UNIQUE INDEX alerts_open ON alerts(rule, topic, COALESCE(entity_id, 0))"
    "  WHERE state != 'resolved';"
    "ALTER TABLE silences ADD COLUMN entity_id INTEGER REFERENCES entities(id);";

/* v9: entity trends without the documents (issue 13 item 6). entity_sentiments
 * keeps its document's time (published_at, else fetched_at) in `at`, so that
 * counting and rebuilding entity trends read that one table in its own order
 * instead of looking up each document, whose times are stored after its text
 * (in overflow pages for a long article). A document's times never change once
 * stored. A row inserted without `at` gets it from the trigger. */
static const char schema_entity_time[] =
    "ALTER TABLE entity_sentiments ADD COLUMN at INTEGER;"
    "UPDATE entity_sentiments SET at = (SELECT coalesce(d.published_at, d.fetched_at)"
    "  FROM documents d WHERE d.id = document_id);"
    "CREATE TRIGGER entity_sentiments_at AFTER INSERT ON entity_sentiments"
    "  WHEN new.at IS NULL BEGIN"
    "  UPDATE entity_sentiments SET at = (SELECT coalesce(d.published_at, d.fetched_at)"
    "    FROM documents d WHERE d.id = new.document_id)"
    "   WHERE document_id = new.document_id AND entity_id = new.entity_id;"
    "END;";

/* v10: entity readings survive a rescan (issue 13 item 2). `finsent entities
 * rescan` reads every document again but keeps an entity's sentiment where its
 * mentions in the document came out the same. An entity of a classified
 * document whose mentions changed (or that is new to it) takes the document's
 * sentiment and waits here until the classify stage reads the sentences that
 * mention it (classify/classify.h). */
static const char schema_entity_reread[] =
    "CREATE TABLE entity_sentiments_pending ("
    "  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  entity_id   INTEGER NOT NULL,"
    "  PRIMARY KEY (document_id, entity_id)"
    ") WITHOUT ROWID;";

const char *const db_migrations[] = {
    schema_v1,
    schema_v2,
    schema_v3,
    schema_alert_history,
    schema_silence_objects,
    schema_outbox_webhook,
    schema_dedupe_scoped,
    schema_entity_alerts,
    schema_entity_time,
    schema_entity_reread};
const int db_migration_count = (int)(sizeof db_migrations / sizeof db_migrations[0]);
