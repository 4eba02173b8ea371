/* trends.c — aggregation of classifications into buckets and the update driver. */
#include "trends/trends.h"

#include "common/util.h"
#include "db/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *trends_topic_name(int topic)
{
    if (topic == TRENDS_ALL_TOPICS)
        return "all";
    if (topic < 0 || topic >= TRENDS_N_TOPICS)
        return "unknown";
    return task_label_name(TASK_TOPIC, topic);
}

int trends_topic_parse(const char *s, int *topic)
{
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == '\0') {
        if (v < -1 || v >= TRENDS_N_TOPICS)
            return -1;
        *topic = (int)v;
        return 0;
    }
    if (strcasecmp(s, "all") == 0) {
        *topic = TRENDS_ALL_TOPICS;
        return 0;
    }
    int t = topic_lookup(s, NULL, 0);
    if (t < 0)
        return -1;
    *topic = t;
    return 0;
}

int64_t trend_bucket_width(int granularity)
{
    return granularity == DB_TREND_DAY ? 86400 : 3600;
}

int64_t trend_bucket_start(int64_t t, int granularity)
{
    int64_t w = trend_bucket_width(granularity);
    int64_t q = t / w;
    if (t % w != 0 && t < 0)
        q--;
    return q * w;
}

void trend_format_bucket(int64_t t, int granularity, char *buf, size_t size)
{
    char iso[32];
    time_format_iso8601(t, iso, sizeof iso);
    if (granularity == DB_TREND_DAY)
        iso[10] = '\0';
    else {
        iso[10] = ' ';
        iso[16] = '\0';
    }
    str_copy(buf, size, iso);
}

int trend_granularity_parse(const char *s)
{
    if (s && strcmp(s, "hour") == 0)
        return DB_TREND_HOUR;
    if (s && strcmp(s, "day") == 0)
        return DB_TREND_DAY;
    return -1;
}

const char *const trends_config_keys[] = {"alpha",  "z_threshold", "min_docs", "min_negative_share",
                                          "warmup", NULL};

int trends_config_load(const struct config *cfg, struct spike_params *p, struct fs_error *err)
{
    spike_params_default(p);
    if (!cfg)
        return 0;
    const char *s = "trends";
    if (config_get_double(cfg, s, "alpha", p->alpha, 0.001, 1.0, &p->alpha, err) < 0 ||
        config_get_double(cfg, s, "z_threshold", p->z_threshold, 0.1, 1000.0, &p->z_threshold,
                          err) < 0 ||
        config_get_int(cfg, s, "min_docs", p->min_docs, 1, 1000000000, &p->min_docs, err) < 0 ||
        config_get_double(cfg, s, "min_negative_share", p->min_negative_share, 0.0, 1.0,
                          &p->min_negative_share, err) < 0 ||
        config_get_int(cfg, s, "warmup", p->warmup, 0, 1000000, &p->warmup, err) < 0)
        return -1;
    return 0;
}

size_t trends_series_split(const struct trend_row *rows, size_t n, struct trend_series **out)
{
    size_t n_series = 0;
    struct trend_series *v = xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n;) {
        size_t i0 = i;
        while (i < n && rows[i].topic == rows[i0].topic)
            i++;
        v[n_series++] = (struct trend_series){rows[i0].topic, rows + i0, i - i0};
    }
    *out = v;
    return n_series;
}

void trends_series_totals(const struct trend_series *s, struct trend_totals *t)
{
    *t = (struct trend_totals){0};
    for (size_t i = 0; i < s->n; i++) {
        t->n_docs += s->rows[i].n_docs;
        t->n_negative += s->rows[i].n_negative;
        t->score_sum_micro += s->rows[i].score_sum_micro;
        t->n_spikes += s->rows[i].spike != 0;
    }
}

/* ---- aggregation: an open-addressing hash of (granularity, topic, bucket) ---- */

struct agg_entry {
    int64_t bucket_start;
    int32_t topic;
    int16_t granularity;
    int16_t used;
    int64_t n_docs, n_negative, n_neutral, n_positive, score_sum_micro;
};

struct agg {
    struct agg_entry *slots;
    size_t cap, n;
    int64_t n_docs; /* documents counted */
    int by;         /* DB_TREND_BY_TOPIC (also adds to "all") or DB_TREND_BY_ENTITY */
};

static uint64_t agg_hash(int granularity, int topic, int64_t bucket)
{
    uint64_t h = (uint64_t)bucket * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)(uint32_t)topic * 0xc2b2ae3d27d4eb4fULL + (uint64_t)granularity;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ULL;
}

static void agg_grow(struct agg *a);

static struct agg_entry *agg_slot(struct agg *a, int granularity, int topic, int64_t bucket)
{
    if (2 * (a->n + 1) > a->cap)
        agg_grow(a);
    size_t mask = a->cap - 1;
    size_t i = (size_t)(agg_hash(granularity, topic, bucket) & mask);
    for (;; i = (i + 1) & mask) {
        struct agg_entry *e = &a->slots[i];
        if (!e->used) {
            e->used = 1;
            e->granularity = (int16_t)granularity;
            e->topic = topic;
            e->bucket_start = bucket;
            a->n++;
            return e;
        }
        if (e->bucket_start == bucket && e->topic == topic && e->granularity == granularity)
            return e;
    }
}

static void agg_grow(struct agg *a)
{
    struct agg_entry *old = a->slots;
    size_t old_cap = a->cap;
    a->cap = a->cap ? a->cap * 2 : 1024;
    a->slots = xcalloc(a->cap, sizeof *a->slots);
    a->n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].used)
            continue;
        struct agg_entry *e = agg_slot(a, old[i].granularity, old[i].topic, old[i].bucket_start);
        *e = old[i];
    }
    free(old);
}

static void agg_add(struct agg *a, int granularity, int topic, int64_t t, int sentiment,
                    int64_t micro)
{
    struct agg_entry *e = agg_slot(a, granularity, topic, trend_bucket_start(t, granularity));
    e->n_docs++;
    e->n_negative += sentiment == 0;
    e->n_neutral += sentiment == 1;
    e->n_positive += sentiment == 2;
    e->score_sum_micro += micro;
}

/* db_trends_scan() callback: one document adds to 4 buckets (hour and day, its
 * topic and all topics); one entity's sentiment in a document to 2 (hour and
 * day of that entity). Rows with an impossible sentiment are ignored. */
static int agg_document(void *ctx, int topic, int sentiment, double score, int64_t t)
{
    struct agg *a = ctx;
    if (sentiment < 0 || sentiment > 2 || !isfinite(score))
        return 0;
    int64_t micro = llround(score * 1e6);
    for (int g = DB_TREND_HOUR; g <= DB_TREND_DAY; g++) {
        agg_add(a, g, topic, t, sentiment, micro);
        if (a->by == DB_TREND_BY_TOPIC)
            agg_add(a, g, TRENDS_ALL_TOPICS, t, sentiment, micro);
    }
    a->n_docs++;
    return 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct agg_entry *a = pa, *b = pb;
    if (a->granularity != b->granularity)
        return a->granularity < b->granularity ? -1 : 1;
    if (a->topic != b->topic)
        return a->topic < b->topic ? -1 : 1;
    if (a->bucket_start != b->bucket_start)
        return a->bucket_start < b->bucket_start ? -1 : 1;
    return 0;
}

/* Moves the used entries to the front of slots, sorted by series then time. */
static void agg_sort(struct agg *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->cap; i++)
        if (a->slots[i].used)
            a->slots[k++] = a->slots[i];
    if (k > 1)
        qsort(a->slots, k, sizeof *a->slots, entry_cmp);
}

/* ---- scoring one series ---- */

struct update_ctx {
    sqlite3 *db;
    int by;
    const struct spike_params *p;
    int64_t now;
    struct db_trends_writer w;
    struct trends_stats *stats;
    int recount; /* a rebuild: the new counts replace the stored ones (not added) */
};

static void state_from_row(struct spike_state *st, const struct trend_row *r)
{
    st->history = r->history + 1;
    st->count_mean = r->ewma_count_mean;
    st->count_var = r->ewma_count_var;
    st->share_mean = r->ewma_share_mean;
    st->share_excess = r->ewma_share_excess;
    st->share_n = r->ewma_share_n;
}

/* Applies the verdict and state to r; returns 1 when anything scored changed. */
static int row_score(struct trend_row *r, int64_t history, const struct spike_eval *ev,
                     const struct spike_state *st)
{
    struct trend_row old = *r;
    r->history = history;
    r->has_baseline = ev->has_baseline;
    r->baseline_mean = ev->has_baseline ? ev->count_mean : 0;
    r->baseline_std = ev->has_baseline ? ev->count_std : 0;
    r->z_count = ev->has_baseline ? ev->z_count : 0;
    r->has_share = ev->has_share;
    r->share_baseline = ev->has_share ? ev->share_mean : 0;
    r->share_std = ev->has_share ? ev->share_std : 0;
    r->z_share = ev->has_share ? ev->z_share : 0;
    r->has_z = ev->has_z;
    r->z_score = ev->has_z ? ev->z : 0;
    r->spike = ev->spike;
    r->ewma_count_mean = st->count_mean;
    r->ewma_count_var = st->count_var;
    r->ewma_share_mean = st->share_mean;
    r->ewma_share_excess = st->share_excess;
    r->ewma_share_n = st->share_n;
    return old.history != r->history || old.has_baseline != r->has_baseline ||
           old.baseline_mean != r->baseline_mean || old.baseline_std != r->baseline_std ||
           old.z_count != r->z_count || old.has_share != r->has_share ||
           old.share_baseline != r->share_baseline || old.share_std != r->share_std ||
           old.z_share != r->z_share || old.has_z != r->has_z || old.z_score != r->z_score ||
           old.spike != r->spike || old.ewma_count_mean != r->ewma_count_mean ||
           old.ewma_count_var != r->ewma_count_var || old.ewma_share_mean != r->ewma_share_mean ||
           old.ewma_share_excess != r->ewma_share_excess || old.ewma_share_n != r->ewma_share_n;
}

/* Adds the new counts of delta (may be NULL) to r, or with recount sets r's
 * counts to them; returns 1 when r's counts changed. */
static int row_count(struct trend_row *r, const struct agg_entry *delta, int recount)
{
    if (!delta)
        return 0;
    struct trend_row old = *r;
    if (recount)
        r->n_docs = r->n_negative = r->n_neutral = r->n_positive = r->score_sum_micro = 0;
    r->n_docs += delta->n_docs;
    r->n_negative += delta->n_negative;
    r->n_neutral += delta->n_neutral;
    r->n_positive += delta->n_positive;
    r->score_sum_micro += delta->score_sum_micro;
    return old.n_docs != r->n_docs || old.n_negative != r->n_negative ||
           old.n_neutral != r->n_neutral || old.n_positive != r->n_positive ||
           old.score_sum_micro != r->score_sum_micro;
}

/* One bucket of the merged walk: folds the gap since the previous bucket, scores
 * it, counts the new documents (delta may be NULL) and writes it when changed. */
static int series_bucket(struct update_ctx *u, struct spike_state *st, int64_t *last,
                         struct trend_row *r, const struct agg_entry *delta, int is_new,
                         struct fs_error *err)
{
    int64_t width = trend_bucket_width(r->granularity);
    if (*last != INT64_MIN)
        spike_state_skip(st, u->p, (r->bucket_start - *last) / width - 1);
    *last = r->bucket_start;
    int counted = row_count(r, delta, u->recount);
    int was_spike = !is_new && r->spike;
    int64_t history = st->history;
    struct spike_eval ev;
    spike_step(st, u->p, r->n_docs, r->n_negative, &ev);
    int changed = row_score(r, history, &ev, st) || counted || is_new;
    int final = r->bucket_start + width <= u->now;
    if (!changed && final == r->final)
        return 0;
    r->final = final;
    r->updated_at = u->now;
    r->evaluated = 0;
    if (db_trends_write(u->db, &u->w, r, !is_new, err) < 0)
        return -1;
    u->stats->n_rows++;
    u->stats->n_new_spikes += r->spike && !was_spike;
    return 0;
}

/* A stored bucket a rebuild found no document for: deleted. */
static int series_drop(struct update_ctx *u, const struct trend_row *r, struct fs_error *err)
{
    if (db_trends_delete(u->db, &u->w, r, err) < 0)
        return -1;
    u->stats->n_rows++;
    return 0;
}

/* Re-scores series (granularity, topic) from bucket `from` on, merging in the
 * sorted new counts deltas[0..n_deltas) (with recount, the whole series and
 * every count of it). */
static int series_update(struct update_ctx *u, int granularity, int topic, int64_t from,
                         const struct agg_entry *deltas, size_t n_deltas, struct fs_error *err)
{
    struct trend_row prev, *rows;
    int has_prev;
    size_t n_rows;
    if (db_trends_load_series_by(u->db, u->by, granularity, topic, from, &prev, &has_prev, &rows,
                                 &n_rows, err) < 0)
        return -1;
    struct spike_state st;
    spike_state_init(&st);
    int64_t last = INT64_MIN;
    if (has_prev) {
        state_from_row(&st, &prev);
        last = prev.bucket_start;
    }
    size_t i = 0, j = 0;
    int rc = 0;
    while (rc == 0 && (i < n_rows || j < n_deltas)) {
        if (j >= n_deltas || (i < n_rows && rows[i].bucket_start < deltas[j].bucket_start)) {
            rc = u->recount ? series_drop(u, &rows[i++], err)
                            : series_bucket(u, &st, &last, &rows[i++], NULL, 0, err);
        } else if (i < n_rows && rows[i].bucket_start == deltas[j].bucket_start) {
            rc = series_bucket(u, &st, &last, &rows[i++], &deltas[j++], 0, err);
        } else {
            struct trend_row r = {0};
            r.granularity = granularity;
            r.topic = topic;
            r.bucket_start = deltas[j].bucket_start;
            rc = series_bucket(u, &st, &last, &r, &deltas[j++], 1, err);
        }
    }
    free(rows);
    return rc;
}

/* ---- the update driver ---- */

static int64_t params_hash(const struct spike_params *p)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "v1 %.17g %.17g %lld %.17g %lld", p->alpha, p->z_threshold,
                     (long long)p->min_docs, p->min_negative_share, (long long)p->warmup);
    return (int64_t)(hash64(buf, (size_t)n, 0) >> 1);
}

static int pair_cmp(const void *pa, const void *pb)
{
    const int *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* The series to re-score: those with new counts, plus (rescore) every stored
 * one. Sorted like agg_sort() orders entries, without duplicates. */
static int series_list(struct update_ctx *u, const struct agg_entry *e, size_t n, int rescore,
                       int **out, size_t *n_out, struct fs_error *err)
{
    int *stored = NULL;
    size_t n_stored = 0;
    if (rescore && db_trends_series_by(u->db, u->by, &stored, &n_stored, err) < 0)
        return -1;
    int *v = xmalloc((2 * (n + n_stored) + 2) * sizeof *v);
    size_t k = 0;
    for (size_t s = 0; s < n_stored; s++, k++) {
        v[2 * k] = stored[2 * s];
        v[2 * k + 1] = stored[2 * s + 1];
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && e[i].granularity == e[i - 1].granularity && e[i].topic == e[i - 1].topic)
            continue;
        v[2 * k] = e[i].granularity;
        v[2 * k + 1] = e[i].topic;
        k++;
    }
    free(stored);
    qsort(v, k, 2 * sizeof *v, pair_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m > 0 && v[2 * i] == v[2 * (m - 1)] && v[2 * i + 1] == v[2 * (m - 1) + 1])
            continue;
        v[2 * m] = v[2 * i];
        v[2 * m + 1] = v[2 * i + 1];
        m++;
    }
    *out = v;
    *n_out = m;
    return 0;
}

/* Re-scores every series in the list: from its earliest new bucket, or from its
 * start when rescoring after a parameter change. */
static int update_series(struct update_ctx *u, struct agg *a, int rescore, struct fs_error *err)
{
    agg_sort(a);
    const struct agg_entry *e = a->slots;
    size_t n = a->n;
    int *series;
    size_t n_series;
    if (series_list(u, e, n, rescore, &series, &n_series, err) < 0)
        return -1;
    int rc = 0;
    size_t k = 0;
    for (size_t s = 0; rc == 0 && s < n_series; s++) {
        int g = series[2 * s], t = series[2 * s + 1];
        while (k < n && (e[k].granularity < g || (e[k].granularity == g && e[k].topic < t)))
            k++;
        size_t k0 = k;
        while (k < n && e[k].granularity == g && e[k].topic == t)
            k++;
        if (k == k0 && !rescore)
            continue;
        int64_t from = rescore || k == k0 ? INT64_MIN : e[k0].bucket_start;
        rc = series_update(u, g, t, from, e + k0, k - k0, err);
    }
    free(series);
    return rc;
}

/* The meta keys of a kind of series. */
static const char *stale_key(int by)
{
    return by == DB_TREND_BY_ENTITY ? "entity_trends.stale" : "trends.stale";
}

static const char *params_key(int by)
{
    return by == DB_TREND_BY_ENTITY ? "entity_trends.params" : "trends.params";
}

static int update_kind(sqlite3 *db, int by, const struct spike_params *p, int64_t now, int force,
                       struct trends_stats *stats, struct fs_error *err)
{
    int64_t stale, old_hash, hash = params_hash(p);
    if (db_meta_get_int(db, stale_key(by), 0, &stale, err) < 0 ||
        db_meta_get_int(db, params_key(by), -1, &old_hash, err) < 0)
        return -1;
    stats->rebuilt = force || stale != 0;
    stats->rescored = !stats->rebuilt && old_hash != -1 && old_hash != hash;

    struct agg a = {.by = by};
    int rc = db_trends_scan_by(db, by, stats->rebuilt, agg_document, &a, err);
    stats->n_docs = a.n_docs;
    if (rc == 0 && (a.n_docs > 0 || stats->rebuilt)) /* no write when nothing is queued */
        rc = db_trends_mark_counted_by(db, by, err);
    struct update_ctx u = {
        .db = db, .by = by, .p = p, .now = now, .stats = stats, .recount = stats->rebuilt};
    if (rc == 0 && (a.n > 0 || stats->rescored || stats->rebuilt)) {
        rc = db_trends_writer_open_by(db, by, &u.w, err);
        if (rc == 0)
            rc = update_series(&u, &a, stats->rescored || stats->rebuilt, err);
        db_trends_writer_close(&u.w);
    }
    free(a.slots);
    if (rc == 0)
        rc = db_trends_finalize_by(db, by, now, &stats->n_final, err);
    if (rc == 0 && stale != 0)
        rc = db_meta_set_int(db, stale_key(by), 0, err);
    if (rc == 0 && old_hash != hash)
        rc = db_meta_set_int(db, params_key(by), hash, err);
    return rc;
}

/* Topics, then entities, in one transaction. */
static int update_locked(sqlite3 *db, const struct spike_params *p, int64_t now, int force,
                         struct trends_stats *stats, struct fs_error *err)
{
    struct trends_stats es = {0};
    if (update_kind(db, DB_TREND_BY_TOPIC, p, now, force, stats, err) < 0 ||
        update_kind(db, DB_TREND_BY_ENTITY, p, now, force, &es, err) < 0)
        return -1;
    stats->entity_docs = es.n_docs;
    stats->entity_rows = es.n_rows;
    stats->entity_new_spikes = es.n_new_spikes;
    stats->entity_rebuilt = es.rebuilt;
    return 0;
}

static int update_tx(sqlite3 *db, const struct spike_params *p, int64_t now, int force,
                     struct trends_stats *out, struct fs_error *err)
{
    struct trends_stats stats = {0};
    if (db_begin(db, err) < 0)
        return fs_error_prefix(err, "trends");
    if (update_locked(db, p, now, force, &stats, err) < 0 || db_commit(db, err) < 0) {
        db_rollback(db);
        return fs_error_prefix(err, "trends");
    }
    if (out)
        *out = stats;
    return 0;
}

int trends_update_params(sqlite3 *db, const struct spike_params *p, int64_t now,
                         struct trends_stats *out, struct fs_error *err)
{
    return update_tx(db, p, now, 0, out, err);
}

int trends_rebuild(sqlite3 *db, const struct spike_params *p, int64_t now, struct trends_stats *out,
                   struct fs_error *err)
{
    return update_tx(db, p, now, 1, out, err);
}

int trends_update(sqlite3 *db, const struct config *cfg, int64_t now, struct trends_stats *out,
                  struct fs_error *err)
{
    struct spike_params p;
    if (trends_config_load(cfg, &p, err) < 0)
        return -1;
    return trends_update_params(db, &p, now, out, err);
}
