/* alerts.c — the alert state machine, grouping, and the stage's entry points. */
#include "alerts/alerts.h"

#include "alerts/desktop.h"
#include "alerts/email.h"
#include "alerts/message.h"
#include "alerts/outbox.h"
#include "alerts/rules.h"
#include "alerts/webhook.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_alerts.h"
#include "db/db_entities.h"
#include "entities/lookup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one alert watches: a topic, or an entity (topic ALERT_TOPIC_ENTITY). */
struct target {
    int topic;
    int64_t entity_id; /* 0 for a topic */
    char entity[128];  /* the entity's name */
};

/* The entities one rule watches, resolved to rows of table entities. */
struct rule_targets {
    struct target *v;
    int n;
    size_t cap;
};

/* Everything one alerts_run() works with. */
struct run {
    sqlite3 *db;
    int64_t now;
    struct alert_rule *rules;
    int n_rules;
    const struct entity_dir *dir;  /* resolves the rules' entity names */
    struct rule_targets *entities; /* per rule */
    struct alert_item *items; /* notifications decided this run */
    int n_items, cap_items;
    struct alerts_stats *st;
    struct smtp_config smtp; /* url NULL when email is off or its config failed */
    int smtp_ok;
    struct fs_error smtp_err; /* why the [smtp] configuration cannot be used */
    struct webhook_config *webhooks;
    int n_webhooks;
    char *command;           /* alerts_command_prefix(), quoted in messages */
    const char *report_path; /* [report] path: what a desktop notification opens */
};

/* The trends stage's spike test (trends/spike.h) with the rule's thresholds; with
 * the rule at its defaults this is exactly buckets.spike. */
static int condition_holds(const struct alert_rule *r, const struct bucket_obs *b)
{
    if (b->history < r->warmup || b->n_docs < r->min_docs || b->n_docs <= 0 || isnan(b->z_score))
        return 0;
    double share = (double)b->n_negative / (double)b->n_docs;
    return share >= r->min_negative_share && b->z_score >= r->z_threshold;
}

static void observe(struct alert_row *a, const struct alert_rule *r, const struct bucket_obs *b)
{
    a->bucket_start = b->bucket_start;
    a->bucket_end = b->bucket_end;
    a->n_docs = b->n_docs;
    a->n_negative = b->n_negative;
    a->negative_share = b->n_docs > 0 ? (double)b->n_negative / (double)b->n_docs : NAN;
    a->baseline_share = b->share_mean;
    a->baseline_share_std = b->share_std;
    a->baseline_count = b->count_mean;
    a->baseline_count_std = b->count_std;
    a->z_score = b->z_score;
    /* severity only rises within an episode: one escalation, never a see-saw */
    int critical =
        !strcmp(a->severity, "critical") || (!isnan(b->z_score) && b->z_score >= r->critical_z);
    str_copy(a->severity, sizeof a->severity, critical ? "critical" : "warning");
}

/* The observed values of src (bucket, counts, usual level, z-score) into dst. */
static void copy_observation(struct alert_row *dst, const struct alert_row *src)
{
    dst->bucket_start = src->bucket_start;
    dst->bucket_end = src->bucket_end;
    dst->n_docs = src->n_docs;
    dst->n_negative = src->n_negative;
    dst->negative_share = src->negative_share;
    dst->baseline_share = src->baseline_share;
    dst->baseline_share_std = src->baseline_share_std;
    dst->baseline_count = src->baseline_count;
    dst->baseline_count_std = src->baseline_count_std;
    dst->z_score = src->z_score;
}

/* Adds an event of kind to alert a->id with a's observation (none when
 * with_bucket is 0). With texts, the window's most negative texts are fetched,
 * stored with the event and handed to the caller (*n_texts of them, to free). */
static int record_event(struct run *run, const struct alert_rule *rule, const struct alert_row *a,
                        const char *kind, int with_bucket, int notified,
                        struct alert_example *texts, int *n_texts, struct fs_error *err)
{
    struct alert_event_row e = {.alert_id = a->id, .at = run->now, .notified = notified};
    str_copy(e.kind, sizeof e.kind, kind);
    str_copy(e.severity, sizeof e.severity, a->severity);
    e.z_score = NAN;
    e.baseline_share = e.baseline_share_std = e.baseline_count = e.baseline_count_std = NAN;
    if (with_bucket) {
        e.bucket_start = a->bucket_start;
        e.bucket_end = a->bucket_end;
        e.n_docs = a->n_docs;
        e.n_negative = a->n_negative;
        e.baseline_share = a->baseline_share;
        e.baseline_share_std = a->baseline_share_std;
        e.baseline_count = a->baseline_count;
        e.baseline_count_std = a->baseline_count_std;
        e.z_score = a->z_score;
    }
    if (db_alert_event_insert(run->db, &e, err) < 0)
        return -1;
    if (!texts)
        return 0;
    *n_texts = db_alerts_examples(run->db, a->topic, a->entity_id, a->bucket_start, a->bucket_end,
                                  texts, rule->examples, err);
    if (*n_texts < 0) {
        *n_texts = 0;
        return -1;
    }
    return db_alert_texts_insert(run->db, e.id, texts, *n_texts, err);
}

static void free_examples(struct alert_example *ex, int n)
{
    for (int i = 0; i < n; i++)
        db_alert_example_free(&ex[i]);
}

/* Records a notification to send; takes ownership of the n examples. */
static void add_item(struct run *run, const struct alert_rule *rule, const struct alert_row *a,
                     enum alert_event ev, struct alert_example *examples, int n)
{
    if (run->n_items == run->cap_items) {
        run->cap_items = run->cap_items ? run->cap_items * 2 : 8;
        run->items = xrealloc(run->items, (size_t)run->cap_items * sizeof *run->items);
    }
    struct alert_item *it = &run->items[run->n_items++];
    memset(it, 0, sizeof *it);
    it->rule = rule;
    it->alert = *a;
    it->event = ev;
    for (int i = 0; i < n; i++)
        it->examples[i] = examples[i];
    it->n_examples = n;
    it->command = run->command;
    if (ev == ALERT_EV_REPEAT)
        run->st->repeated++;
}

static int save(struct run *run, struct alert_row *a, int is_new, struct fs_error *err)
{
    return is_new ? db_alert_insert(run->db, a, err) : db_alert_update(run->db, a, err);
}

static void new_alert(struct run *run, const struct alert_rule *rule, const struct target *t,
                      struct alert_row *a)
{
    memset(a, 0, sizeof *a);
    str_copy(a->rule, sizeof a->rule, rule->name);
    a->topic = t->topic;
    a->entity_id = t->entity_id;
    str_copy(a->entity, sizeof a->entity, t->entity);
    str_copy(a->granularity, sizeof a->granularity, rule->granularity);
    str_copy(a->state, sizeof a->state, "pending");
    str_copy(a->severity, sizeof a->severity, "warning");
    a->first_seen_at = run->now;
}

/* The condition holds on bucket b: open, confirm, repeat or escalate. The row
 * keeps the spike that fired it (while pending it follows what it sees); later
 * observations go into events. */
static int on_condition(struct run *run, const struct alert_rule *rule, const struct target *t,
                        const struct bucket_obs *b, const struct alert_row *open, int silenced,
                        struct fs_error *err)
{
    struct alert_row a;
    if (open)
        a = *open;
    else
        new_alert(run, rule, t, &a);
    int was_firing = !strcmp(a.state, "firing");
    int was_warning = !strcmp(a.severity, "warning");
    struct alert_row seen = a;
    observe(&seen, rule, b);
    if (!was_firing)
        copy_observation(&a, &seen);
    str_copy(a.severity, sizeof a.severity, seen.severity);
    a.last_seen_at = run->now;
    if (!was_firing && run->now - a.first_seen_at >= rule->pending_for)
        str_copy(a.state, sizeof a.state, "firing");
    if (strcmp(a.state, "firing") != 0) {
        run->st->pending++;
        if (save(run, &a, !open, err) < 0)
            return -1;
        return open ? 0 : record_event(run, rule, &a, "pending", 1, 0, NULL, NULL, err);
    }
    int fired_now = !a.fired_at;
    if (fired_now) {
        a.fired_at = run->now;
        run->st->fired++;
    }
    int escalated = was_firing && was_warning && !strcmp(a.severity, "critical");
    int due = !a.acked_at &&
              (!a.last_notified_at || run->now - a.last_notified_at >= rule->repeat || escalated);
    enum alert_event ev = a.last_notified_at ? ALERT_EV_REPEAT : ALERT_EV_FIRING;
    int notify = due && !silenced;
    if (due && silenced)
        run->st->suppressed++;
    if (notify) {
        a.last_notified_at = run->now;
        a.notify_count++;
    }
    if (save(run, &a, !open, err) < 0)
        return -1;
    struct alert_row cur = a; /* the row's state with what this run saw */
    copy_observation(&cur, &seen);
    const char *kind = fired_now ? "firing" : escalated ? "escalated" : notify ? "repeat" : NULL;
    if (!kind)
        return 0;
    struct alert_example texts[5];
    int n = 0;
    if (record_event(run, rule, &cur, kind, 1, notify, texts, &n, err) < 0) {
        free_examples(texts, n);
        return -1;
    }
    if (notify)
        add_item(run, rule, &cur, ev, texts, n);
    else
        free_examples(texts, n);
    return 0;
}

/* The condition no longer holds: resolve the open alert. The row keeps its
 * spike; the resolution is an event with the newest bucket. */
static int on_clear(struct run *run, const struct alert_rule *rule, const struct alert_row *open,
                    const struct bucket_obs *newest, int silenced, struct fs_error *err)
{
    struct alert_row a = *open;
    int was_firing = !strcmp(a.state, "firing");
    str_copy(a.state, sizeof a.state, "resolved");
    a.resolved_at = run->now;
    run->st->resolved++;
    int notify = rule && was_firing && rule->notify_resolved && a.last_notified_at && !silenced;
    if (notify) {
        a.last_notified_at = run->now;
        a.notify_count++;
    }
    if (db_alert_update(run->db, &a, err) < 0)
        return -1;
    struct alert_row seen = a;
    if (newest && rule)
        observe(&seen, rule, newest);
    if (record_event(run, rule, &seen, "resolved", newest && rule, notify, NULL, NULL, err) < 0)
        return -1;
    if (notify)
        add_item(run, rule, &seen, ALERT_EV_RESOLVED, NULL, 0);
    return 0;
}

/* One rule on one topic or entity: its newest two buckets against the open alert. */
static int evaluate_pair(struct run *run, const struct alert_rule *rule, const struct target *t,
                         struct fs_error *err)
{
    int g = rule->granularity_seconds;
    int64_t from = run->now - 2 * (int64_t)g + 1;
    struct bucket_obs b[2];
    int nb = db_alerts_buckets(run->db, rule->granularity, g, t->topic, t->entity_id, from,
                               run->now, b, 2, err);
    if (nb < 0 || db_alerts_buckets_mark_evaluated(run->db, rule->granularity, t->topic,
                                                   t->entity_id, from, run->now, err) < 0)
        return -1;
    const struct bucket_obs *hit = NULL;
    for (int i = 0; i < nb && !hit; i++)
        if (condition_holds(rule, &b[i]))
            hit = &b[i];
    struct alert_row open;
    int has_open = db_alert_open_get(run->db, rule->name, t->topic, t->entity_id, &open, err);
    int silenced = db_silence_active(run->db, t->topic, t->entity_id, run->now, NULL, err);
    if (has_open < 0 || silenced < 0)
        return -1;
    run->st->evaluated++;
    if (hit)
        return on_condition(run, rule, t, hit, has_open ? &open : NULL, silenced, err);
    if (has_open)
        return on_clear(run, rule, &open, nb > 0 ? &b[0] : NULL, silenced, err);
    return 0;
}

/* 1 when rule r (index in run->rules) still watches the topic or entity of a. */
static int rule_watches(const struct run *run, int r, const struct alert_row *a)
{
    const struct alert_rule *rule = &run->rules[r];
    if (strcmp(rule->name, a->rule) != 0 || strcmp(rule->granularity, a->granularity) != 0)
        return 0;
    if (a->entity_id) {
        for (int e = 0; e < run->entities[r].n; e++)
            if (run->entities[r].v[e].entity_id == a->entity_id)
                return 1;
        return 0;
    }
    for (int t = 0; t < rule->n_topics; t++)
        if (rule->topics[t] == a->topic)
            return 1;
    return 0;
}

/* Open alerts of rules, topics, entities or granularities no longer configured
 * are resolved silently. */
static int resolve_orphans(struct run *run, struct fs_error *err)
{
    struct alert_row *rows;
    int n;
    if (db_alerts_list(run->db, 1, 0, &rows, &n, err) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int known = 0;
        for (int r = 0; r < run->n_rules && !known; r++)
            known = rule_watches(run, r, &rows[i]);
        if (!known)
            rc = on_clear(run, NULL, &rows[i], NULL, 1, err);
    }
    free(rows);
    return rc;
}

/* ---- grouping into outbox rows ---------------------------------------------------- */

/* What a desktop notification's default action opens: the report when [report]
 * path is set, else the most negative text with a web link. NULL when nothing. */
static char *desktop_link(const struct run *run, const struct alert_item *items, int n)
{
    if (run->report_path && *run->report_path) {
        char *abs = realpath(run->report_path, NULL);
        struct strbuf sb = STRBUF_INIT;
        sb_appendf(&sb, "file://%s", abs ? abs : run->report_path);
        free(abs);
        return sb_detach(&sb);
    }
    const struct alert_example *best = NULL;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < items[i].n_examples; k++) {
            const struct alert_example *ex = &items[i].examples[k];
            int web = ex->url && (str_starts_with_ci(ex->url, "http://") ||
                                  str_starts_with_ci(ex->url, "https://"));
            if (web && (!best || ex->score < best->score))
                best = ex;
        }
    return best ? xstrdup(best->url) : NULL;
}

/* Queues one outbox row for items[0..n-1] on channel (webhook: to webhook). */
static int queue_group(struct run *run, const char *channel, const struct webhook_config *webhook,
                       const struct alert_item *items, int n, int64_t not_before,
                       struct fs_error *err)
{
    struct alert_message m;
    alert_message_compose(items, n, &m);
    char *payload = webhook ? webhook_payload(webhook, items, n, m.subject, m.text) : NULL;
    struct strbuf ids = STRBUF_INIT;
    sb_append(&ids, "[");
    for (int i = 0; i < n; i++)
        sb_appendf(&ids, "%s%lld", i ? "," : "", (long long)items[i].alert.id);
    sb_append(&ids, "]");
    struct strbuf seed = STRBUF_INIT;
    sb_appendf(&seed, "%s|%s|%s|%s", channel, webhook ? webhook->name : "", ids.buf, m.subject);
    char mid[200];
    email_make_message_id(&run->smtp, seed.buf, run->now, mid, sizeof mid);
    int is_email = !strcmp(channel, "email");
    struct outbox_row r = {0};
    str_copy(r.channel, sizeof r.channel, channel);
    r.alert_ids = ids.buf;
    r.subject = m.subject;
    r.body_text = payload ? payload : is_email ? m.text : m.desktop_body;
    r.body_html = is_email ? m.html : NULL;
    char *open = !strcmp(channel, "desktop") ? desktop_link(run, items, n) : NULL;
    r.target = webhook ? (char *)webhook->name : open;
    str_copy(r.urgency, sizeof r.urgency, m.urgency);
    r.message_id = mid;
    r.created_at = run->now;
    r.next_attempt_at = not_before;
    int rc = db_outbox_insert(run->db, &r, err);
    if (rc == 0)
        run->st->queued++;
    sb_free(&ids);
    sb_free(&seed);
    free(payload);
    free(open);
    alert_message_free(&m);
    return rc;
}

/* One row per [webhook NAME] with every alert of rules that notify webhooks. */
static int queue_webhooks(struct run *run, struct alert_item *group, struct fs_error *err)
{
    int n = 0;
    for (int i = 0; i < run->n_items; i++)
        if (run->items[i].rule->notify & ALERT_CH_WEBHOOK)
            group[n++] = run->items[i];
    for (int w = 0; w < run->n_webhooks && n > 0; w++)
        if (queue_group(run, "webhook", &run->webhooks[w], group, n, run->now, err) < 0)
            return -1;
    return 0;
}

/* One email with every alert of email rules; desktop notifications grouped by the
 * time they may be shown (now, or the end of their rule's quiet hours). */
static int queue_notifications(struct run *run, struct fs_error *err)
{
    if (run->n_items == 0)
        return 0;
    struct alert_item *group = xcalloc((size_t)run->n_items, sizeof *group);
    int64_t *hold = xcalloc((size_t)run->n_items, sizeof *hold);
    int n = 0, rc = 0;
    for (int i = 0; i < run->n_items; i++)
        if (run->items[i].rule->notify & ALERT_CH_EMAIL)
            group[n++] = run->items[i];
    if (n > 0)
        rc = queue_group(run, "email", NULL, group, n, run->now, err);
    if (rc == 0)
        rc = queue_webhooks(run, group, err);
    for (int i = 0; i < run->n_items; i++) {
        int64_t until;
        hold[i] = alert_rule_quiet(run->items[i].rule, run->now, &until) ? until : run->now;
    }
    for (int i = 0; i < run->n_items && rc == 0; i++) {
        if (!(run->items[i].rule->notify & ALERT_CH_DESKTOP) || hold[i] < 0)
            continue;
        n = 0;
        int64_t h = hold[i];
        for (int k = i; k < run->n_items; k++) {
            if ((run->items[k].rule->notify & ALERT_CH_DESKTOP) && hold[k] == h) {
                group[n++] = run->items[k];
                hold[k] = -1; /* taken */
            }
        }
        rc = queue_group(run, "desktop", NULL, group, n, h, err);
    }
    free(group);
    free(hold);
    return rc;
}

/* ---- dry run ----------------------------------------------------------------------- */

static int preview(struct run *run, struct fs_error *err)
{
    struct outbox_row *rows;
    int n;
    if (db_outbox_due(run->db, run->now, &rows, &n, err) < 0)
        return -1;
    struct strbuf sb = STRBUF_INIT;
    if (n == 0)
        sb_append(&sb, "nothing would be sent\n");
    for (int i = 0; i < n; i++) {
        struct outbox_row *r = &rows[i];
        sb_appendf(&sb, "=== would send %s (%s, outbox #%lld%s%s)\n", r->channel, r->urgency,
                   (long long)r->id, r->attempts ? ", retry" : "",
                   r->created_at == run->now ? ", new" : "");
        sb_append(&sb, "Subject: ");
        text_append_clean(&sb, r->subject, 1, 0);
        sb_append(&sb, "\n");
        text_append_clean(&sb, r->body_text, 0, 0);
        sb_append(&sb, "\n");
    }
    sb_appendf(&sb,
               "(dry run: %d fired, %d repeated, %d resolved, %d suppressed by silences; "
               "nothing sent, nothing changed)\n",
               run->st->fired, run->st->repeated, run->st->resolved, run->st->suppressed);
    db_outbox_rows_free(rows, n);
    run->st->preview = sb_detach(&sb);
    return 0;
}

/* ---- entry points ------------------------------------------------------------------ */

int alerts_config_check(const struct config *cfg, struct fs_error *err)
{
    struct alert_rule *rules;
    int n;
    if (alert_rules_load(cfg, &rules, &n, err) < 0)
        return -1;
    free(rules);
    struct smtp_config sc;
    if (smtp_config_load(cfg, &sc, err) < 0)
        return -1;
    smtp_config_free(&sc);
    struct webhook_config *w;
    if (webhooks_load(cfg, &w, &n, 1, err) < 0)
        return -1;
    webhooks_free(w, n);
    return 0;
}

static void free_items(struct run *run)
{
    for (int i = 0; i < run->n_items; i++)
        for (int k = 0; k < run->items[i].n_examples; k++)
            db_alert_example_free(&run->items[i].examples[k]);
    free(run->items);
    run->items = NULL;
    run->n_items = 0;
}

/* ---- the entities of rules --------------------------------------------------------- */

struct resolve_ctx {
    struct run *run;
    struct rule_targets *out;
    struct fs_error *err;
};

/* One item of a rule's entities: its row of table entities, when a document has
 * mentioned it (an entity never mentioned has no series to watch yet). */
static int resolve_item(void *ctx, const char *item)
{
    struct resolve_ctx *c = ctx;
    struct entity_ref ref;
    if (entity_lookup(c->run->dir, item, &ref) < 0) {
        fs_error_set(c->err, "unknown entity '%s'", item);
        return -1;
    }
    int64_t id;
    int found = db_entity_find(c->run->db, ref.key, &id, c->err);
    if (found <= 0)
        return found;
    for (int i = 0; i < c->out->n; i++)
        if (c->out->v[i].entity_id == id)
            return 0;
    c->out->v = xgrow(c->out->v, (size_t)c->out->n, &c->out->cap, sizeof *c->out->v, 8);
    struct target *t = &c->out->v[c->out->n++];
    t->topic = ALERT_TOPIC_ENTITY;
    t->entity_id = id;
    str_copy(t->entity, sizeof t->entity, ref.name);
    return 0;
}

static int resolve_entities(struct run *run, struct fs_error *err)
{
    run->entities = xcalloc((size_t)run->n_rules + 1, sizeof *run->entities);
    if (!alert_rules_watch_entities(run->rules, run->n_rules))
        return 0;
    if (!run->dir)
        return fs_error_set(err, "alert rules name entities but no entity directory was loaded");
    for (int r = 0; r < run->n_rules; r++) {
        struct resolve_ctx c = {run, &run->entities[r], err};
        if (alert_rule_entities_each(&run->rules[r], resolve_item, &c))
            return -1;
    }
    return 0;
}

static void free_entities(struct run *run)
{
    for (int r = 0; run->entities && r < run->n_rules; r++)
        free(run->entities[r].v);
    free(run->entities);
    run->entities = NULL;
}

/* Evaluates every rule and queues notifications, in the caller's transaction. */
static int evaluate_all(struct run *run, struct fs_error *err)
{
    if (resolve_entities(run, err) < 0)
        return -1;
    /* first, so that a rule whose granularity changed starts a fresh episode */
    if (resolve_orphans(run, err) < 0)
        return -1;
    for (int r = 0; r < run->n_rules; r++) {
        const struct alert_rule *rule = &run->rules[r];
        for (int i = 0; i < rule->n_topics; i++) {
            struct target t = {.topic = rule->topics[i]};
            if (evaluate_pair(run, rule, &t, err) < 0)
                return -1;
        }
        for (int i = 0; i < run->entities[r].n; i++)
            if (evaluate_pair(run, rule, &run->entities[r].v[i], err) < 0)
                return -1;
    }
    return queue_notifications(run, err);
}

static int deliver(struct run *run, struct fs_error *err)
{
    struct outbox_result res;
    struct outbox_channels ch = {run->smtp_ok ? &run->smtp : NULL, run->webhooks,
                                 run->n_webhooks};
    if (outbox_deliver_due(run->db, &ch, run->now, &res, err) < 0)
        return -1;
    run->st->sent = res.sent;
    run->st->failed = res.failed;
    run->st->expired = res.expired;
    /* one line for the whole run, whichever channels failed */
    const char *email_why =
        res.email_error[0] && !run->smtp_ok ? run->smtp_err.msg : res.email_error;
    struct strbuf why = STRBUF_INIT;
    const char *parts[] = {res.desktop_error, email_why, res.webhook_error};
    for (size_t i = 0; i < FS_ARRAY_LEN(parts); i++)
        if (parts[i][0])
            sb_appendf(&why, "%s%s", why.len ? "; " : "", parts[i]);
    str_copy(run->st->warning, sizeof run->st->warning, why.buf);
    sb_free(&why);
    if (db_outbox_counts(run->db, &run->st->still_queued, err) < 0)
        return -1;
    return res.failed > 0 ? 1 : 0;
}

int alerts_run(sqlite3 *db, const struct config *cfg, const struct entity_dir *entities,
               int64_t now, int dry_run, struct alerts_stats *out, struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    struct run run = {.db = db, .now = now, .st = out, .dir = entities};
    run.command = alerts_command_prefix(db, cfg);
    run.report_path = config_get(cfg, "report", "path");
    if (alert_rules_load(cfg, &run.rules, &run.n_rules, err) < 0)
        return -1;
    if (webhooks_load(cfg, &run.webhooks, &run.n_webhooks, 1, err) < 0) {
        free(run.rules);
        free(run.command);
        return -1;
    }
    /* a broken [smtp] (say, an unset password variable) must not stop the state
     * machine: email stays queued and the reason is reported as a warning */
    run.smtp_ok = smtp_config_load(cfg, &run.smtp, &run.smtp_err) == 0;
    int rc = db_begin(db, err);
    if (rc == 0)
        rc = evaluate_all(&run, err);
    if (rc == 0 && dry_run)
        rc = preview(&run, err);
    if (rc == 0 && !dry_run)
        rc = db_commit(db, err);
    else
        db_rollback(db);
    free_items(&run);
    free_entities(&run);
    free(run.rules);
    if (rc == 0 && !dry_run)
        rc = deliver(&run, err);
    smtp_config_free(&run.smtp);
    webhooks_free(run.webhooks, run.n_webhooks);
    free(run.command);
    return rc;
}

/* An absolute path for path (as given when it cannot be resolved). */
static void append_path_word(struct strbuf *sb, const char *path)
{
    char *abs = realpath(path, NULL);
    text_append_shell_word(sb, abs ? abs : path);
    free(abs);
}

char *alerts_command_prefix(sqlite3 *db, const struct config *cfg)
{
    struct strbuf sb = STRBUF_INIT;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        text_append_shell_word(&sb, exe);
    } else {
        sb_append(&sb, "finsent");
    }
    const char *conf = cfg ? config_path(cfg) : NULL;
    if (conf && *conf && strcmp(conf, "(none)") != 0) {
        sb_append(&sb, " --config ");
        append_path_word(&sb, conf);
    }
    const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
    if (file && *file) {
        sb_append(&sb, " --db ");
        append_path_word(&sb, file);
    }
    return sb_detach(&sb);
}

void alerts_stats_free(struct alerts_stats *s)
{
    free(s->preview);
    s->preview = NULL;
}

/* ---- test, ack, silence ------------------------------------------------------------ */

static int test_channel(const struct config *cfg, unsigned channel, int64_t now,
                        struct strbuf *report)
{
    char when[32];
    time_format_iso8601(now, when, sizeof when);
    struct strbuf text = STRBUF_INIT;
    sb_appendf(&text,
               "This is a test notification from finsent, sent at %s.\n"
               "Alerts about negative sentiment spikes will arrive this way.\n",
               when);
    const char *subject = "[finsent] test notification";
    struct fs_error e = {""};
    int rc;
    if (channel == ALERT_CH_DESKTOP) {
        rc = desktop_notify(subject, text.buf, "normal", NULL, &e);
    } else {
        struct smtp_config sc;
        rc = smtp_config_load(cfg, &sc, &e);
        if (rc == 0) {
            char mid[200];
            email_make_message_id(&sc, "test", now, mid, sizeof mid);
            struct strbuf html = STRBUF_INIT;
            sb_append(&html, "<!DOCTYPE html>\n<html><body><p>");
            text_append_html(&html, text.buf, 1, 0);
            sb_append(&html, "</p></body></html>\n");
            struct email_msg m = {subject, text.buf, html.buf, mid, now};
            rc = email_send(&sc, &m, &e);
            sb_free(&html);
            smtp_config_free(&sc);
        }
    }
    const char *name = channel == ALERT_CH_DESKTOP ? "desktop" : "email";
    if (rc == 0)
        sb_appendf(report, "%s: sent\n", name);
    else
        sb_appendf(report, "%s: FAILED: %s\n", name,
                   strncmp(e.msg, name, strlen(name)) == 0 && e.msg[strlen(name)] == ':'
                       ? e.msg + strlen(name) + 2
                       : e.msg);
    sb_free(&text);
    return rc == 0 ? 0 : 1;
}

/* A test alert (rule "test", all topics, alert id 0) POSTed to every webhook, in
 * each one's format; one line per webhook in report. */
static int test_webhooks(const struct config *cfg, int64_t now, struct strbuf *report)
{
    struct webhook_config *w;
    int n, failed = 0;
    struct fs_error e = {""};
    if (webhooks_load(cfg, &w, &n, 1, &e) < 0) {
        sb_appendf(report, "webhook: FAILED: %s\n", e.msg);
        return 1;
    }
    static const struct alert_rule rule = {.name = "test", .z_threshold = NAN, .critical_z = NAN};
    struct alert_item it = {.rule = &rule, .event = ALERT_EV_FIRING};
    it.alert.topic = ALERT_TOPIC_OVERALL;
    it.alert.fired_at = it.alert.first_seen_at = now;
    it.alert.z_score = it.alert.baseline_share = it.alert.baseline_share_std = NAN;
    it.alert.baseline_count = it.alert.baseline_count_std = it.alert.negative_share = NAN;
    str_copy(it.alert.rule, sizeof it.alert.rule, "test");
    str_copy(it.alert.severity, sizeof it.alert.severity, "warning");
    str_copy(it.alert.granularity, sizeof it.alert.granularity, "hour");
    str_copy(it.alert.state, sizeof it.alert.state, "firing");
    const char *subject = "[finsent] test notification";
    const char *text = "This is a test notification from finsent; alerts about negative "
                       "sentiment spikes will arrive this way.\n";
    for (int i = 0; i < n; i++) {
        char *body = webhook_payload(&w[i], &it, 1, subject, text);
        char id[200];
        email_make_message_id(NULL, body, now, id, sizeof id);
        int rc = webhook_post(&w[i], body, id, &e);
        if (rc == 0)
            sb_appendf(report, "webhook %s: sent\n", w[i].name);
        else
            sb_appendf(report, "webhook %s: FAILED: %s\n", w[i].name, e.msg);
        failed |= rc != 0;
        free(body);
    }
    webhooks_free(w, n);
    return failed;
}

int alerts_test(const struct config *cfg, int64_t now, struct strbuf *report, struct fs_error *err)
{
    struct alert_rule *rules;
    int n;
    if (alerts_config_check(cfg, err) < 0 || alert_rules_load(cfg, &rules, &n, err) < 0)
        return -1;
    unsigned channels = 0;
    for (int i = 0; i < n; i++)
        channels |= rules[i].notify;
    free(rules);
    if (!config_get(cfg, "smtp", "url"))
        sb_append(report, "email: off ([smtp] url is not set)\n");
    if (!channels) {
        sb_append(report, "no channel to test\n");
        return 0;
    }
    int failed = 0;
    if (channels & ALERT_CH_DESKTOP)
        failed |= test_channel(cfg, ALERT_CH_DESKTOP, now, report);
    if (channels & ALERT_CH_EMAIL)
        failed |= test_channel(cfg, ALERT_CH_EMAIL, now, report);
    if (channels & ALERT_CH_WEBHOOK)
        failed |= test_webhooks(cfg, now, report);
    return failed;
}

int alerts_ack(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err)
{
    struct alert_row a;
    if (db_begin(db, err) < 0)
        return -1;
    int found = db_alert_get(db, id, &a, err);
    int rc = found;
    if (found == 1 && !a.acked_at) {
        struct alert_event_row e = {.alert_id = id, .at = now, .kind = "acked"};
        e.z_score = e.baseline_share = e.baseline_share_std = NAN;
        e.baseline_count = e.baseline_count_std = NAN;
        str_copy(e.severity, sizeof e.severity, a.severity);
        if (db_alert_ack(db, id, now, err) < 0 || db_alert_event_insert(db, &e, err) < 0)
            rc = -1;
    }
    if (rc < 0) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db, err) < 0 ? -1 : rc;
}

int alerts_silence(sqlite3 *db, int topic, int64_t entity_id, int64_t now, int64_t seconds,
                   const char *comment, int64_t *id, struct fs_error *err)
{
    struct silence_row s = {.topic = entity_id ? ALERT_TOPIC_ENTITY : topic,
                            .entity_id = entity_id,
                            .created_at = now,
                            .until = now + seconds};
    struct strbuf clean = STRBUF_INIT;
    text_append_clean(&clean, comment ? comment : "", 1, sizeof s.comment - 1);
    str_copy(s.comment, sizeof s.comment, clean.buf);
    sb_free(&clean);
    if (db_silence_add(db, &s, err) < 0)
        return -1;
    if (id)
        *id = s.id;
    return 0;
}

int alerts_unsilence(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err)
{
    return db_silence_lift(db, id, now, err);
}
