/* message.c — the subject and bodies of one grouped alert notification. */
#include "alerts/message.h"

#include "common/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pieces -------------------------------------------------------------------- */

const char *alert_subject_name(const struct alert_row *a, char *buf, size_t size)
{
    if (!a->entity_id)
        return alert_topic_name(a->topic, buf, size);
    if (a->entity[0])
        return a->entity;
    snprintf(buf, size, "entity %lld", (long long)a->entity_id);
    return buf;
}

static const char *topic_of(const struct alert_item *it, char *buf, size_t size)
{
    return alert_subject_name(&it->alert, buf, size);
}

/* "topic", "entity" or "topic or entity", as what n_firing items are about. */
static const char *kind_of(const struct alert_item *items, int n, int plural)
{
    int topics = 0, entities = 0;
    for (int i = 0; i < n; i++) {
        if (items[i].event == ALERT_EV_RESOLVED)
            continue;
        entities |= items[i].alert.entity_id != 0;
        topics |= items[i].alert.entity_id == 0;
    }
    if (topics && entities)
        return plural ? "topics and entities" : "topic or entity";
    if (entities)
        return plural ? "entities" : "entity";
    return plural ? "topics" : "topic";
}

static void format_utc(int64_t t, const char *fmt, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, size, fmt, &tm) == 0)
        str_copy(buf, size, "?");
}

/* "2026-03-01 14:00 – 15:00 UTC" or "2026-03-01 – 2026-03-02 UTC" for days. */
static void format_window(const struct alert_row *a, struct strbuf *sb)
{
    char s[32], e[32];
    format_utc(a->bucket_start, "%Y-%m-%d %H:%M", s, sizeof s);
    int same_day = a->bucket_end - a->bucket_start <= 3600;
    format_utc(a->bucket_end, same_day ? "%H:%M" : "%Y-%m-%d %H:%M", e, sizeof e);
    sb_appendf(sb, "%s \xE2\x80\x93 %s UTC (%s)", s, e, a->granularity);
}

static double share(const struct alert_row *a)
{
    return a->n_docs > 0 ? (double)a->n_negative / (double)a->n_docs : 0.0;
}

static void format_numbers(const struct alert_row *a, struct strbuf *sb)
{
    sb_appendf(sb, "%lld of %lld texts negative (%.1f%%)", (long long)a->n_negative,
               (long long)a->n_docs, 100.0 * share(a));
}

/* "20.0% ± 5.0% negative, 3.1 ± 1.8 negative texts per hour" (what is known of it). */
static void format_baseline(const struct alert_row *a, struct strbuf *sb)
{
    size_t start = sb->len;
    if (!isnan(a->baseline_share)) {
        sb_appendf(sb, "%.1f%%", 100.0 * a->baseline_share);
        if (!isnan(a->baseline_share_std))
            sb_appendf(sb, " \xC2\xB1 %.1f%%", 100.0 * a->baseline_share_std);
        sb_append(sb, " negative");
    }
    if (!isnan(a->baseline_count)) {
        sb_appendf(sb, "%s%.1f", sb->len > start ? ", " : "", a->baseline_count);
        if (!isnan(a->baseline_count_std))
            sb_appendf(sb, " \xC2\xB1 %.1f", a->baseline_count_std);
        sb_appendf(sb, " negative texts per %s", a->granularity);
    }
    if (sb->len == start)
        sb_append(sb, "not known yet");
}

static void format_z(const struct alert_item *it, struct strbuf *sb)
{
    if (isnan(it->alert.z_score))
        sb_append(sb, "n/a");
    else
        sb_appendf(sb, "%.2f", it->alert.z_score);
    sb_appendf(sb, " (fires at %.2f, critical from %.2f)", it->rule->z_threshold,
               it->rule->critical_z);
}

static const char *event_label(const struct alert_item *it)
{
    if (it->event == ALERT_EV_RESOLVED)
        return "RESOLVED";
    return strcmp(it->alert.severity, "critical") == 0 ? "CRITICAL" : "WARNING";
}

static const char *event_phrase(const struct alert_item *it)
{
    switch (it->event) {
    case ALERT_EV_FIRING:
        return "negative sentiment spike";
    case ALERT_EV_REPEAT:
        return "negative sentiment spike, still firing";
    default:
        return "back to normal";
    }
}

static const char *headline_of(const struct alert_example *ex)
{
    return ex->title && *ex->title ? ex->title : ex->text;
}

static int is_web_link(const char *url)
{
    return url && (str_starts_with_ci(url, "http://") || str_starts_with_ci(url, "https://"));
}

static const char *command_of(const struct alert_item *it)
{
    return it->command && *it->command ? it->command : "finsent";
}

static void silence_command(const struct alert_item *it, struct strbuf *sb)
{
    char buf[32];
    sb_appendf(sb, "%s alerts silence ", command_of(it));
    text_append_shell_word(sb, topic_of(it, buf, sizeof buf));
    sb_append(sb, " --for 6h");
}

static const struct alert_item *first_firing(const struct alert_item *items, int n)
{
    for (int i = 0; i < n; i++)
        if (items[i].event != ALERT_EV_RESOLVED)
            return &items[i];
    return NULL;
}

/* ---- subject ------------------------------------------------------------------- */

static void compose_subject(const struct alert_item *items, int n, struct strbuf *sb)
{
    char buf[32];
    int n_resolved = 0, critical = 0;
    for (int i = 0; i < n; i++) {
        n_resolved += items[i].event == ALERT_EV_RESOLVED;
        critical |=
            items[i].event != ALERT_EV_RESOLVED && !strcmp(items[i].alert.severity, "critical");
    }
    int n_firing = n - n_resolved;
    sb_append(sb, "[finsent] ");
    if (n == 1) {
        const struct alert_item *it = &items[0];
        if (it->event == ALERT_EV_RESOLVED) {
            sb_appendf(sb, "resolved: %s back to normal", topic_of(it, buf, sizeof buf));
            return;
        }
        sb_appendf(sb, "%s: %s turning negative (z %.1f)", critical ? "CRITICAL" : "Warning",
                   topic_of(it, buf, sizeof buf),
                   isnan(it->alert.z_score) ? 0.0 : it->alert.z_score);
        if (it->n_examples > 0) {
            sb_append(sb, ": \xE2\x80\x9C");
            text_append_clean(sb, headline_of(&it->examples[0]), 1, 90);
            sb_append(sb, "\xE2\x80\x9D");
        }
        return;
    }
    if (n_firing > 0) {
        sb_appendf(sb, "%s: negative sentiment in %d %s: ", critical ? "CRITICAL" : "Warning",
                   n_firing, kind_of(items, n, n_firing != 1));
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (items[i].event == ALERT_EV_RESOLVED)
                continue;
            if (k++ == 4) {
                sb_append(sb, ", \xE2\x80\xA6");
                break;
            }
            sb_appendf(sb, "%s%s", k > 1 ? ", " : "", topic_of(&items[i], buf, sizeof buf));
        }
    }
    if (n_resolved > 0)
        sb_appendf(sb, "%s%d resolved", n_firing > 0 ? "; " : "", n_resolved);
}

/* ---- plain text ---------------------------------------------------------------- */

void alert_message_item_text(const struct alert_item *it, struct strbuf *sb)
{
    char buf[32];
    sb_appendf(sb, "%s  %s \xE2\x80\x94 %s\n", event_label(it), topic_of(it, buf, sizeof buf),
               event_phrase(it));
    sb_append(sb, "  Window:    ");
    format_window(&it->alert, sb);
    sb_append(sb, "\n  Observed:  ");
    format_numbers(&it->alert, sb);
    sb_append(sb, "\n  Usually:   ");
    format_baseline(&it->alert, sb);
    sb_append(sb, "\n  z-score:   ");
    format_z(it, sb);
    sb_appendf(sb, "\n  Rule:      %s (alert #%lld)\n", it->rule->name, (long long)it->alert.id);
    if (it->event == ALERT_EV_RESOLVED)
        return;
    sb_append(sb, "  Acknowledge: ");
    alert_message_ack_command(it, sb);
    sb_append(sb, "\n");
    if (it->n_examples == 0)
        return;
    sb_append(sb, "  Most negative texts:\n");
    for (int i = 0; i < it->n_examples; i++) {
        const struct alert_example *ex = &it->examples[i];
        sb_appendf(sb, "  %d. [%+.2f] ", i + 1, ex->score);
        text_append_clean(sb, headline_of(ex), 1, 300);
        sb_append(sb, "\n");
        if (ex->source) {
            sb_append(sb, "     source: ");
            text_append_clean(sb, ex->source, 1, 100);
            sb_append(sb, "\n");
        }
        if (ex->url) {
            sb_append(sb, "     ");
            text_append_clean(sb, ex->url, 1, 500);
            sb_append(sb, "\n");
        }
        struct strbuf words = STRBUF_INIT;
        text_append_attended(&words, ex->attended);
        if (words.len)
            sb_appendf(sb, "     attended to: %s\n", words.buf);
        sb_free(&words);
    }
}

static void compose_text(const struct alert_item *items, int n, struct strbuf *sb)
{
    sb_appendf(sb, "finsent found %d alert%s.\n\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        alert_message_item_text(&items[i], sb);
        sb_append(sb, "\n");
    }
    const struct alert_item *firing = first_firing(items, n);
    if (!firing)
        return;
    sb_appendf(sb,
               "Acknowledge an alert (no more repeats) with the command under it; silence "
               "its %s for 6 hours with:\n  ",
               firing->alert.entity_id ? "entity" : "topic");
    silence_command(firing, sb);
    sb_append(sb, "\n");
}

/* ---- HTML ---------------------------------------------------------------------- */

static void compose_html_item(const struct alert_item *it, struct strbuf *sb)
{
    char buf[32];
    struct strbuf t = STRBUF_INIT;
    const char *colour = it->event == ALERT_EV_RESOLVED            ? "#2e7d32"
                         : !strcmp(it->alert.severity, "critical") ? "#c62828"
                                                                   : "#ef6c00";
    sb_appendf(sb, "<h2 style=\"color:%s\">%s &mdash; ", colour, event_label(it));
    text_append_html(sb, topic_of(it, buf, sizeof buf), 1, 0);
    sb_appendf(sb, " &mdash; %s</h2>\n<table>\n", event_phrase(it));
    format_window(&it->alert, &t);
    sb_append(sb, "<tr><th align=\"left\">Window</th><td>");
    text_append_html(sb, t.buf, 1, 0);
    sb_reset(&t);
    format_numbers(&it->alert, &t);
    sb_append(sb, "</td></tr>\n<tr><th align=\"left\">Observed</th><td>");
    text_append_html(sb, t.buf, 1, 0);
    sb_reset(&t);
    format_baseline(&it->alert, &t);
    sb_append(sb, "</td></tr>\n<tr><th align=\"left\">Usually</th><td>");
    text_append_html(sb, t.buf, 1, 0);
    sb_reset(&t);
    format_z(it, &t);
    sb_append(sb, "</td></tr>\n<tr><th align=\"left\">z-score</th><td>");
    text_append_html(sb, t.buf, 1, 0);
    sb_append(sb, "</td></tr>\n<tr><th align=\"left\">Rule</th><td>");
    text_append_html(sb, it->rule->name, 1, 0);
    sb_appendf(sb, " (alert #%lld)</td></tr>\n", (long long)it->alert.id);
    if (it->event != ALERT_EV_RESOLVED) {
        sb_reset(&t);
        alert_message_ack_command(it, &t);
        sb_append(sb, "<tr><th align=\"left\">Acknowledge</th><td><code>");
        text_append_html(sb, t.buf, 1, 0);
        sb_append(sb, "</code></td></tr>\n");
    }
    sb_append(sb, "</table>\n");
    sb_free(&t);
    if (it->n_examples == 0 || it->event == ALERT_EV_RESOLVED)
        return;
    sb_append(sb, "<p>Most negative texts:</p>\n<ol>\n");
    for (int i = 0; i < it->n_examples; i++) {
        const struct alert_example *ex = &it->examples[i];
        sb_appendf(sb, "<li>[%+.2f] ", ex->score);
        if (is_web_link(ex->url)) {
            sb_append(sb, "<a href=\"");
            text_append_html(sb, ex->url, 1, 0);
            sb_append(sb, "\">");
            text_append_html(sb, headline_of(ex), 1, 300);
            sb_append(sb, "</a>");
        } else {
            text_append_html(sb, headline_of(ex), 1, 300);
        }
        if (ex->source) {
            sb_append(sb, " <small>(");
            text_append_html(sb, ex->source, 1, 100);
            sb_append(sb, ")</small>");
        }
        struct strbuf words = STRBUF_INIT;
        text_append_attended(&words, ex->attended);
        if (words.len) {
            sb_append(sb, "<br><small>attended to: ");
            text_append_html(sb, words.buf, 1, 0);
            sb_append(sb, "</small>");
        }
        sb_free(&words);
        sb_append(sb, "</li>\n");
    }
    sb_append(sb, "</ol>\n");
}

static void compose_html(const struct alert_item *items, int n, const char *subject,
                         struct strbuf *sb)
{
    sb_append(sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    text_append_html(sb, subject, 1, 0);
    sb_append(sb, "</title></head>\n<body style=\"font-family:sans-serif\">\n");
    for (int i = 0; i < n; i++)
        compose_html_item(&items[i], sb);
    const struct alert_item *firing = first_firing(items, n);
    if (firing) {
        struct strbuf cmd = STRBUF_INIT;
        silence_command(firing, &cmd);
        sb_appendf(sb, "<p><small>Silence %s for 6 hours with <code>",
                   firing->alert.entity_id ? "an entity" : "a topic");
        text_append_html(sb, cmd.buf, 1, 0);
        sb_append(sb, "</code>.</small></p>\n");
        sb_free(&cmd);
    }
    sb_append(sb, "</body></html>\n");
}

/* ---- desktop ------------------------------------------------------------------- */

static void compose_desktop(const struct alert_item *items, int n, struct strbuf *sb)
{
    char buf[32];
    for (int i = 0; i < n && i < 5; i++) {
        const struct alert_item *it = &items[i];
        if (i)
            sb_append(sb, "\n");
        if (it->event == ALERT_EV_RESOLVED) {
            sb_appendf(sb, "%s: back to normal (%.0f%% negative)", topic_of(it, buf, sizeof buf),
                       100.0 * share(&it->alert));
            continue;
        }
        sb_appendf(sb, "%s: %.0f%% negative (%lld/%lld), z %.1f", topic_of(it, buf, sizeof buf),
                   100.0 * share(&it->alert), (long long)it->alert.n_negative,
                   (long long)it->alert.n_docs, isnan(it->alert.z_score) ? 0.0 : it->alert.z_score);
        if (it->n_examples > 0) {
            sb_append(sb, "\n\xE2\x80\x9C");
            text_append_clean(sb, headline_of(&it->examples[0]), 1, 120);
            sb_append(sb, "\xE2\x80\x9D");
        }
    }
    if (n > 5)
        sb_appendf(sb, "\n\xE2\x80\xA6 and %d more", n - 5);
}

void alert_message_compose(const struct alert_item *items, int n, struct alert_message *out)
{
    struct strbuf sb = STRBUF_INIT;
    compose_subject(items, n, &sb);
    out->subject = sb_detach(&sb);
    compose_text(items, n, &sb);
    out->text = sb_detach(&sb);
    compose_html(items, n, out->subject, &sb);
    out->html = sb_detach(&sb);
    compose_desktop(items, n, &sb);
    out->desktop_body = sb_detach(&sb);
    out->urgency = "low";
    for (int i = 0; i < n; i++) {
        if (items[i].event == ALERT_EV_RESOLVED)
            continue;
        if (!strcmp(items[i].alert.severity, "critical")) {
            out->urgency = "critical";
            break;
        }
        out->urgency = "normal";
    }
}

void alert_message_free(struct alert_message *m)
{
    free(m->subject);
    free(m->text);
    free(m->html);
    free(m->desktop_body);
    memset(m, 0, sizeof *m);
}

void alert_message_item_summary(const struct alert_item *it, struct strbuf *sb)
{
    char buf[32];
    sb_appendf(sb, "%s: ", topic_of(it, buf, sizeof buf));
    if (it->event == ALERT_EV_RESOLVED) {
        sb_append(sb, "back to normal");
        return;
    }
    format_numbers(&it->alert, sb);
    if (!isnan(it->alert.z_score))
        sb_appendf(sb, ", z %.2f", it->alert.z_score);
}

void alert_message_ack_command(const struct alert_item *it, struct strbuf *sb)
{
    sb_appendf(sb, "%s alerts ack %lld", command_of(it), (long long)it->alert.id);
}
