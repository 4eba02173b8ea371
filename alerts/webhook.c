/* webhook.c — [webhook NAME] configuration, payloads, and the POST (webhook.h). */
#include "alerts/webhook.h"

#include "alerts/secret.h"
#include "alerts/text.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef FINSENT_VERSION /* set by the Makefile */
#define FINSENT_VERSION "dev"
#endif

#define ALERTNAME "FinsentNegativeSentiment"

/* ---- configuration ------------------------------------------------------------- */

void webhooks_free(struct webhook_config *w, int n)
{
    for (int i = 0; w && i < n; i++) {
        free(w[i].url);
        free(w[i].ca_file);
        secret_free(w[i].token);
    }
    free(w);
}

const char *const webhook_config_keys[] = {"url",     "format",  "token_env", "token_file",
                                          "timeout", "ca_file", NULL};

static int load_url(const struct config *cfg, const char *sec, struct webhook_config *w,
                    struct fs_error *err)
{
    const char *url = config_get(cfg, sec, "url");
    if (!url || !*url)
        return config_error(cfg, sec, "url", err, "a webhook needs a url");
    if (!str_starts_with_ci(url, "http://") && !str_starts_with_ci(url, "https://"))
        return config_error(cfg, sec, "url", err, "must start with http:// or https://");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F)
            return config_error(cfg, sec, "url", err, "contains a space or control character");
    w->url = xstrdup(url);
    return 0;
}

static int load_one(const struct config *cfg, const char *sec, struct webhook_config *w,
                    int read_secret, struct fs_error *err)
{
    memset(w, 0, sizeof *w);
    const char *name = sec + strlen("webhook ");
    if (strlen(name) >= sizeof w->name)
        return config_error(cfg, sec, "url", err, "webhook name longer than %zu bytes",
                            sizeof w->name - 1);
    str_copy(w->name, sizeof w->name, name);
    if (load_url(cfg, sec, w, err) < 0)
        return -1;
    const char *format = config_get(cfg, sec, "format");
    if (format && !strcasecmp(format, "slack"))
        w->format = WEBHOOK_SLACK;
    else if (format && strcasecmp(format, "alertmanager") != 0)
        return config_error(cfg, sec, "format", err, "'%s' is not alertmanager or slack", format);
    const char *ca = config_get(cfg, sec, "ca_file");
    if (ca && access(ca, R_OK) != 0)
        return config_error(cfg, sec, "ca_file", err, "%s: %s", ca, strerror(errno));
    w->ca_file = ca ? xstrdup(ca) : NULL;
    if (config_get_duration(cfg, sec, "timeout", 10, &w->timeout, err) < 0)
        return -1;
    if (w->timeout <= 0)
        w->timeout = 10;
    if (config_get(cfg, sec, "token_env") && config_get(cfg, sec, "token_file"))
        return config_error(cfg, sec, "token_file", err, "give token_env or token_file, not both");
    if (read_secret && secret_load(cfg, sec, "token_env", "token_file", &w->token, err) < 0)
        return -1;
    if (w->token && strpbrk(w->token, "\r\n"))
        return config_error(cfg, sec, "token_env", err, "the token contains a line break");
    return 0;
}

int webhooks_load(const struct config *cfg, struct webhook_config **out, int *n, int read_secret,
                  struct fs_error *err)
{
    int count = config_section_count(cfg, "webhook ");
    struct webhook_config *w = xcalloc((size_t)count + 1, sizeof *w);
    for (int i = 0; i < count; i++) {
        if (load_one(cfg, config_section_at(cfg, "webhook ", i), &w[i], read_secret, err) < 0) {
            webhooks_free(w, i + 1);
            return -1;
        }
    }
    *out = w;
    *n = count;
    return 0;
}

/* ---- payloads ------------------------------------------------------------------ */

static json_t *json_clean(const char *s, int one_line)
{
    struct strbuf sb = STRBUF_INIT;
    text_append_clean(&sb, s ? s : "", one_line, 0);
    json_t *v = json_stringn(sb.buf, sb.len);
    sb_free(&sb);
    return v ? v : json_string("");
}

static json_t *json_time_rfc3339(int64_t t)
{
    char buf[32];
    return json_string(t ? time_format_iso8601(t, buf, sizeof buf) : "0001-01-01T00:00:00Z");
}

static const char *first_link(const struct alert_item *it)
{
    for (int i = 0; i < it->n_examples; i++) {
        const char *u = it->examples[i].url;
        if (u && (str_starts_with_ci(u, "http://") || str_starts_with_ci(u, "https://")))
            return u;
    }
    return "";
}

/* An entity's alert is labelled "entity" where a topic's is labelled "topic". */
static json_t *am_labels(const struct alert_item *it)
{
    char buf[32], id[24];
    snprintf(id, sizeof id, "%lld", (long long)it->alert.id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "alertname", ALERTNAME, "rule",
                          it->rule->name, "severity", it->alert.severity, "granularity",
                          it->alert.granularity, "alert_id", id);
    json_object_set_new(o, it->alert.entity_id ? "entity" : "topic",
                        json_clean(alert_subject_name(&it->alert, buf, sizeof buf), 1));
    return o;
}

static json_t *am_annotations(const struct alert_item *it)
{
    struct strbuf summary = STRBUF_INIT, text = STRBUF_INIT, ack = STRBUF_INIT;
    alert_message_item_summary(it, &summary);
    alert_message_item_text(it, &text);
    alert_message_ack_command(it, &ack);
    json_t *o = json_pack("{s:o, s:o, s:o}", "summary", json_clean(summary.buf, 1),
                          "description", json_clean(text.buf, 0), "ack", json_clean(ack.buf, 1));
    sb_free(&summary);
    sb_free(&text);
    sb_free(&ack);
    return o;
}

static json_t *am_alert(const struct alert_item *it)
{
    int resolved = it->event == ALERT_EV_RESOLVED;
    char fp[33], seed[160];
    snprintf(seed, sizeof seed, "%s|%d|%lld", it->rule->name, it->alert.topic,
             (long long)it->alert.id);
    hash128_hex(seed, strlen(seed), fp);
    fp[16] = '\0';
    int64_t starts = it->alert.fired_at ? it->alert.fired_at : it->alert.first_seen_at;
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "status",
                     resolved ? "resolved" : "firing", "labels", am_labels(it), "annotations",
                     am_annotations(it), "startsAt", json_time_rfc3339(starts), "endsAt",
                     json_time_rfc3339(resolved ? it->alert.resolved_at : 0), "generatorURL",
                     json_clean(first_link(it), 1), "fingerprint", fp);
}

static char *alertmanager_payload(const struct webhook_config *w, const struct alert_item *items,
                                  int n)
{
    json_t *alerts = json_array();
    struct strbuf ids = STRBUF_INIT;
    int firing = 0;
    for (int i = 0; i < n; i++) {
        json_array_append_new(alerts, am_alert(&items[i]));
        sb_appendf(&ids, "%s%lld", i ? "," : "", (long long)items[i].alert.id);
        firing |= items[i].event != ALERT_EV_RESOLVED;
    }
    struct strbuf key = STRBUF_INIT;
    sb_appendf(&key, "finsent:{alert_ids=\"[%s]\"}", ids.buf);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s}, s:{s:s}, s:{}, s:s, s:o}",
                          "version", "4", "groupKey", key.buf, "truncatedAlerts", 0, "status",
                          firing ? "firing" : "resolved", "receiver", w->name, "groupLabels",
                          "alertname", ALERTNAME, "commonLabels", "alertname", ALERTNAME,
                          "commonAnnotations", "externalURL", "", "alerts", alerts);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    sb_free(&ids);
    sb_free(&key);
    return s;
}

/* Slack's escaping for message text: & < > only. */
static void slack_escape(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            sb_append(sb, "&amp;");
        else if (*s == '<')
            sb_append(sb, "&lt;");
        else if (*s == '>')
            sb_append(sb, "&gt;");
        else
            sb_append_char(sb, *s);
    }
}

static char *slack_payload(const char *subject, const char *text)
{
    struct strbuf raw = STRBUF_INIT, esc = STRBUF_INIT;
    text_append_clean(&raw, subject, 1, 0);
    sb_append(&raw, "\n\n");
    text_append_clean(&raw, text, 0, 0);
    slack_escape(&esc, raw.buf);
    json_t *o = json_pack("{s:s%}", "text", esc.buf, esc.len);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    sb_free(&raw);
    sb_free(&esc);
    return s;
}

char *webhook_payload(const struct webhook_config *w, const struct alert_item *items, int n,
                      const char *subject, const char *text)
{
    char *s = w->format == WEBHOOK_SLACK ? slack_payload(subject, text)
                                         : alertmanager_payload(w, items, n);
    return s ? s : xstrdup("{}");
}

/* ---- delivery ------------------------------------------------------------------ */

/* scheme://host[:port] of url, for messages: the rest may hold a secret. */
static void url_origin(const char *url, char *buf, size_t size)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t n = (size_t)(host - url) + strcspn(host, "/?#");
    if (n >= size)
        n = size - 1;
    memcpy(buf, url, n);
    buf[n] = '\0';
}

static size_t discard_body(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

static struct curl_slist *request_headers(const struct webhook_config *w, const char *delivery_id)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: finsent/" FINSENT_VERSION);
    struct strbuf line = STRBUF_INIT;
    if (delivery_id && *delivery_id) {
        sb_append(&line, "Idempotency-Key: ");
        text_append_clean(&line, delivery_id, 1, 200);
        h = curl_slist_append(h, line.buf);
    }
    if (w->token) {
        sb_reset(&line);
        sb_appendf(&line, "Authorization: Bearer %s", w->token);
        h = curl_slist_append(h, line.buf);
        explicit_bzero(line.buf, line.len);
    }
    sb_free(&line);
    return h;
}

int webhook_post(const struct webhook_config *w, const char *body, const char *delivery_id,
                 struct fs_error *err)
{
    CURL *c = curl_easy_init();
    if (!c)
        return fs_error_set(err, "webhook %s: cannot initialise libcurl", w->name);
    struct curl_slist *headers = request_headers(w, delivery_id);
    char errbuf[CURL_ERROR_SIZE] = "", origin[256];
    url_origin(w->url, origin, sizeof origin);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)w->timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(w->timeout < 10 ? w->timeout : 10));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (w->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        str_strip_controls(errbuf);
        return fs_error_set(err, "webhook %s: %s: %s", w->name, origin,
                            errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    if (status >= 200 && status < 300)
        return 0;
    fs_error_set(err, "webhook %s: %s answered HTTP %ld", w->name, origin, status);
    int rejected = status >= 400 && status < 500 && status != 408 && status != 429;
    return rejected ? WEBHOOK_REJECTED : -1;
}
