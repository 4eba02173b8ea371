/* alerts_view.c — printing alerts and their history (see alerts_view.h). */
#include "cli/alerts_view.h"

#include "alerts/message.h"
#include "alerts/rules.h"
#include "alerts/text.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db_alerts.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_TEXTS_MAX 5

/* ---- JSON -------------------------------------------------------------------------- */

static json_t *json_time(int64_t t)
{
    char buf[32];
    return t ? json_string(time_format_iso8601(t, buf, sizeof buf)) : json_null();
}

static json_t *json_num(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *json_str_or_null(const char *s)
{
    return s ? cli_json_text(s, strlen(s)) : json_null();
}

static json_t *observation_json(const char *granularity, int64_t start, int64_t end,
                                int64_t n_docs, int64_t n_negative, double b_share,
                                double b_share_std, double b_count, double b_count_std, double z)
{
    double share = n_docs > 0 ? (double)n_negative / (double)n_docs : NAN;
    return json_pack("{s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "granularity",
                     granularity, "window_start",
                     json_time(start), "window_end", json_time(end), "n_docs", (json_int_t)n_docs,
                     "n_negative", (json_int_t)n_negative, "negative_share", json_num(share),
                     "baseline_share", json_num(b_share), "baseline_share_std",
                     json_num(b_share_std), "baseline_count", json_num(b_count),
                     "baseline_count_std", json_num(b_count_std), "z_score", json_num(z));
}

/* "topic", "topic_id", "entity", "entity_id" of an alert or silence about a
 * topic (entity_id 0) or an entity (the topic fields null), added to o. */
static json_t *add_subject_json(json_t *o, int topic, const char *topic_name, int64_t entity_id,
                                const char *entity)
{
    json_object_set_new(o, "topic", entity_id ? json_null() : json_string(topic_name));
    json_object_set_new(o, "topic_id", entity_id ? json_null() : json_integer(topic));
    json_object_set_new(o, "entity", entity_id ? json_string(entity) : json_null());
    json_object_set_new(o, "entity_id", entity_id ? json_integer(entity_id) : json_null());
    return o;
}

/* silenced_by: the silence muting the alert's topic or entity now, 0 when none. */
static json_t *alert_json(const struct alert_row *a, int64_t silenced_by)
{
    char buf[32];
    json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)a->id, "rule", a->rule);
    add_subject_json(o, a->topic, alert_topic_name(a->topic, buf, sizeof buf), a->entity_id,
                     alert_subject_name(a, buf, sizeof buf));
    json_t *rest = json_pack(
        "{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "state", a->state, "severity",
        a->severity, "acked", a->acked_at != 0, "silenced_by",
        silenced_by ? json_integer(silenced_by) : json_null(), "first_seen_at",
        json_time(a->first_seen_at), "fired_at", json_time(a->fired_at), "resolved_at",
        json_time(a->resolved_at), "acked_at", json_time(a->acked_at), "last_notified_at",
        json_time(a->last_notified_at), "notify_count", (json_int_t)a->notify_count, "spike",
        observation_json(a->granularity, a->bucket_start, a->bucket_end, a->n_docs, a->n_negative,
                         a->baseline_share, a->baseline_share_std, a->baseline_count,
                         a->baseline_count_std, a->z_score));
    json_object_update(o, rest);
    json_decref(rest);
    return o;
}

static json_t *texts_json(const struct alert_example *ex, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:i, s:f, s:o, s:o, s:o, s:o, s:o}", "rank", i + 1, "score",
                           ex[i].score, "headline", json_str_or_null(ex[i].title), "url",
                           json_str_or_null(ex[i].url), "source", json_str_or_null(ex[i].source),
                           "attended", json_str_or_null(ex[i].attended), "document_id",
                           ex[i].document_id ? json_integer(ex[i].document_id) : json_null()));
    return arr;
}

static json_t *event_json(const struct alert_row *a, const struct alert_event_row *e,
                          const struct alert_example *ex, int n)
{
    json_t *obs = e->bucket_start
                      ? observation_json(a->granularity, e->bucket_start, e->bucket_end, e->n_docs,
                                         e->n_negative, e->baseline_share, e->baseline_share_std,
                                         e->baseline_count, e->baseline_count_std, e->z_score)
                      : json_null();
    return json_pack("{s:I, s:o, s:s, s:o, s:b, s:o, s:o}", "id", (json_int_t)e->id, "at",
                     json_time(e->at), "kind", e->kind, "severity",
                     e->severity[0] ? json_string(e->severity) : json_null(), "notified",
                     e->notified, "observed", obs, "texts", texts_json(ex, n));
}

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (s)
        puts(s);
    free(s);
    json_decref(v);
}

/* ---- text -------------------------------------------------------------------------- */

static void format_minute(int64_t t, char *buf, size_t size)
{
    time_format_iso8601(t, buf, size);
    if (strlen(buf) > 16)
        buf[16] = '\0'; /* YYYY-MM-DDTHH:MM */
}

static void print_list_row(const struct alert_row *a, int64_t silenced_by)
{
    char topic_buf[32], when[32], neg[32], silenced[24] = "-";
    format_minute(a->bucket_start, when, sizeof when);
    snprintf(neg, sizeof neg, "%lld/%lld", (long long)a->n_negative, (long long)a->n_docs);
    if (silenced_by)
        snprintf(silenced, sizeof silenced, "#%lld", (long long)silenced_by);
    printf("%-5lld %-8s %-8s %-5s %-8s %-14s %-28s %-20s %6.2f %8s\n", (long long)a->id, a->state,
           a->severity, a->acked_at ? "yes" : "no", silenced, a->rule,
           alert_subject_name(a, topic_buf, sizeof topic_buf), when,
           isnan(a->z_score) ? 0.0 : a->z_score, neg);
}

static void print_observation(const char *indent, const char *label, int64_t start, int64_t end,
                              int64_t n_docs, int64_t n_negative, double b_share, double b_count,
                              double z)
{
    char s[32], e[32];
    format_minute(start, s, sizeof s);
    format_minute(end, e, sizeof e);
    printf("%s%-10s %s - %s UTC: %lld of %lld texts negative", indent, label, s, e,
           (long long)n_negative, (long long)n_docs);
    if (!isnan(b_share) && !isnan(b_count))
        printf(" (usually %.1f%%, %.1f texts)", 100.0 * b_share, b_count);
    else if (!isnan(b_share))
        printf(" (usually %.1f%%)", 100.0 * b_share);
    if (!isnan(z))
        printf(", z %.2f", z);
    printf("\n");
}

static void print_texts(const struct alert_example *ex, int n)
{
    for (int i = 0; i < n; i++) {
        struct strbuf line = STRBUF_INIT;
        text_append_clean(&line, ex[i].title ? ex[i].title : "", 1, 200);
        printf("      %d. [%+.2f] %s\n", i + 1, ex[i].score, line.buf);
        sb_reset(&line);
        if (ex[i].source || ex[i].url) {
            text_append_clean(&line, ex[i].source ? ex[i].source : "", 1, 100);
            sb_append(&line, ex[i].source && ex[i].url ? "  " : "");
            text_append_clean(&line, ex[i].url ? ex[i].url : "", 1, 500);
            printf("         %s\n", line.buf);
            sb_reset(&line);
        }
        text_append_attended(&line, ex[i].attended);
        if (line.len)
            printf("         attended to: %s\n", line.buf);
        sb_free(&line);
    }
}

static void print_event(const struct alert_event_row *e, const struct alert_example *ex, int n)
{
    char at[32];
    time_format_iso8601(e->at, at, sizeof at);
    printf("  %s  %-9s%s%s\n", at, e->kind, e->severity[0] ? " " : "", e->severity);
    if (e->bucket_start)
        print_observation("    ", "observed", e->bucket_start, e->bucket_end, e->n_docs, e->n_negative,
                          e->baseline_share, e->baseline_count, e->z_score);
    if (e->notified)
        printf("    notification queued\n");
    print_texts(ex, n);
}

static void print_times(const struct alert_row *a)
{
    static const char *const labels[] = {"first seen", "fired", "notified", "acked",
                                         "resolved"};
    const int64_t times[] = {a->first_seen_at, a->fired_at, a->last_notified_at, a->acked_at,
                             a->resolved_at};
    for (size_t i = 0; i < FS_ARRAY_LEN(labels); i++) {
        char buf[32];
        if (!times[i])
            continue;
        printf("  %-10s %s", labels[i], time_format_iso8601(times[i], buf, sizeof buf));
        if (i == 2)
            printf(" (%lld notification%s)", (long long)a->notify_count,
                   a->notify_count == 1 ? "" : "s");
        printf("\n");
    }
}

static void print_alert(const struct alert_row *a)
{
    char topic_buf[32];
    printf("alert %lld: %s, rule %s (%s), %s, %s%s\n", (long long)a->id,
           alert_subject_name(a, topic_buf, sizeof topic_buf), a->rule, a->granularity, a->state,
           a->severity, a->acked_at ? ", acknowledged" : "");
    print_observation("  ", "spike", a->bucket_start, a->bucket_end, a->n_docs, a->n_negative,
                      a->baseline_share, a->baseline_count, a->z_score);
    print_times(a);
}

/* ---- commands ---------------------------------------------------------------------- */

int alerts_view_list(struct cli_ctx *ctx, int all, int json)
{
    struct alert_row *rows;
    int n;
    struct fs_error err;
    if (db_alerts_list(ctx->db, !all, all ? 200 : 0, &rows, &n, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    int64_t *silenced = xcalloc((size_t)n + 1, sizeof *silenced);
    for (int i = 0; i < n; i++) {
        if (db_silence_active(ctx->db, rows[i].topic, rows[i].entity_id, ctx->now, &silenced[i],
                              &err) < 0) {
            free(rows);
            free(silenced);
            return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
        }
    }
    json_t *arr = json ? json_array() : NULL;
    if (!json && n == 0)
        printf("no %salerts\n", all ? "" : "open ");
    else if (!json)
        printf("%-5s %-8s %-8s %-5s %-8s %-14s %-28s %-20s %6s %8s\n", "ID", "STATE", "SEVERITY",
               "ACKED", "SILENCED", "RULE", "TOPIC / ENTITY", "SPIKE (UTC)", "Z", "NEGATIVE");
    for (int i = 0; i < n; i++) {
        if (json)
            json_array_append_new(arr, alert_json(&rows[i], silenced[i]));
        else
            print_list_row(&rows[i], silenced[i]);
    }
    free(rows);
    free(silenced);
    if (json) {
        print_json(arr);
        return FS_EXIT_OK;
    }
    int64_t queued;
    if (db_outbox_counts(ctx->db, &queued, &err) == 0 && queued > 0)
        printf("%lld notification%s waiting in the outbox\n", (long long)queued,
               queued == 1 ? "" : "s");
    return FS_EXIT_OK;
}

/* Prints (or adds to json) every event of alert a with its texts. */
static int show_events(sqlite3 *db, const struct alert_row *a, json_t *json, struct fs_error *err)
{
    struct alert_event_row *ev;
    int n;
    if (db_alert_events(db, a->id, &ev, &n, err) < 0)
        return -1;
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf(n ? "events:\n" : "no events recorded (an alert from before finsent kept them)\n");
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct alert_example ex[SHOW_TEXTS_MAX];
        int k = db_alert_texts(db, ev[i].id, ex, SHOW_TEXTS_MAX, err);
        if (k < 0) {
            rc = -1;
            break;
        }
        if (json)
            json_array_append_new(arr, event_json(a, &ev[i], ex, k));
        else
            print_event(&ev[i], ex, k);
        for (int j = 0; j < k; j++)
            db_alert_example_free(&ex[j]);
    }
    if (json)
        json_object_set_new(json, "events", arr);
    free(ev);
    return rc;
}

int alerts_view_show(struct cli_ctx *ctx, int64_t id, int json)
{
    struct alert_row a;
    struct fs_error err;
    int found = db_alert_get(ctx->db, id, &a, &err);
    if (found < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    if (found == 0)
        return cli_fail(FS_EXIT_FAILURE, "alerts show: no alert %lld (see 'finsent alerts list "
                                         "--all')",
                        (long long)id);
    int64_t silenced = 0;
    if (db_silence_active(ctx->db, a.topic, a.entity_id, ctx->now, &silenced, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    json_t *o = json ? alert_json(&a, silenced) : NULL;
    if (!json && silenced)
        printf("(its %s is silenced now: silence %lld)\n", a.entity_id ? "entity" : "topic",
               (long long)silenced);
    if (!json)
        print_alert(&a);
    if (show_events(ctx->db, &a, o, &err) < 0) {
        json_decref(o);
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    }
    if (json)
        print_json(o);
    return FS_EXIT_OK;
}

/* ---- silences ---------------------------------------------------------------------- */

static const char *silence_state(const struct silence_row *s, int64_t now)
{
    if (s->lifted_at)
        return "lifted";
    return s->until <= now ? "expired" : s->created_at > now ? "future" : "active";
}

static const char *silence_topic(const struct silence_row *s, char *buf, size_t size)
{
    if (s->entity_id)
        return s->entity[0] ? s->entity : "(unknown entity)";
    return s->topic == SILENCE_EVERY_TOPIC ? "every topic and entity"
                                           : alert_topic_name(s->topic, buf, size);
}

static json_t *silence_json(const struct silence_row *s, int64_t now)
{
    char buf[32];
    json_t *o = json_pack("{s:I}", "id", (json_int_t)s->id);
    add_subject_json(o, s->topic, silence_topic(s, buf, sizeof buf), s->entity_id,
                     silence_topic(s, buf, sizeof buf));
    json_t *rest = json_pack("{s:o, s:o, s:o, s:o, s:s}", "created_at", json_time(s->created_at),
                             "until", json_time(s->until), "lifted_at", json_time(s->lifted_at),
                             "comment", s->comment[0] ? json_string(s->comment) : json_null(),
                             "state", silence_state(s, now));
    json_object_update(o, rest);
    json_decref(rest);
    return o;
}

static void print_silence(const struct silence_row *s, int64_t now)
{
    char topic[32], from[32], until[32];
    format_minute(s->created_at, from, sizeof from);
    format_minute(s->lifted_at ? s->lifted_at : s->until, until, sizeof until);
    printf("%-5lld %-8s %-28s %-17s %-17s %s\n", (long long)s->id, silence_state(s, now),
           silence_topic(s, topic, sizeof topic), from, until, s->comment);
}

int alerts_view_silences(struct cli_ctx *ctx, int all, int json)
{
    struct silence_row *rows;
    int n;
    struct fs_error err;
    if (db_silences_list(ctx->db, ctx->now, all, &rows, &n, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, silence_json(&rows[i], ctx->now));
        print_json(arr);
    } else if (n == 0) {
        printf("no %ssilences\n", all ? "" : "active ");
    } else {
        printf("%-5s %-8s %-28s %-17s %-17s %s\n", "ID", "STATE", "TOPIC / ENTITY", "FROM (UTC)",
               "UNTIL (UTC)", "COMMENT");
        for (int i = 0; i < n; i++)
            print_silence(&rows[i], ctx->now);
    }
    free(rows);
    return FS_EXIT_OK;
}
