/*
 * webhook.h — the webhook channel: alerts POSTed as JSON to an HTTP endpoint
 * (chat, incident tools, anything that takes Prometheus Alertmanager's webhook).
 *
 *   [webhook ops]
 *   url        = https://hooks.example.com/finsent   # http:// or https:// only
 *   format     = alertmanager                        # alertmanager (default) | slack
 *   token_env  = FINSENT_WEBHOOK_TOKEN               # or token_file = PATH (mode 0600):
 *                                                    # sent as "Authorization: Bearer ..."
 *   timeout    = 10s                                 # the whole request
 *   ca_file    = /path/ca.pem                        # optional: trust this CA
 *
 * A rule with notify = webhook sends to every [webhook NAME] section. The body is
 * built when the notification is queued (alerts/outbox.h), so every retry sends
 * the same bytes with the same "Idempotency-Key" header (the outbox row's
 * Message-ID): a receiver that answered too slowly, so that finsent retried, can
 * tell the copy.
 *
 * format = alertmanager: Alertmanager's webhook payload, version 4:
 *   {"version": "4", "groupKey": "finsent:{alert_ids=\"[1,2]\"}", "truncatedAlerts": 0,
 *    "status": "firing" | "resolved" (firing while any alert fires), "receiver": NAME,
 *    "groupLabels": {"alertname": ...}, "commonLabels": {...}, "commonAnnotations": {},
 *    "externalURL": "", "alerts": [{"status", "labels": {"alertname":
 *    "FinsentNegativeSentiment", "rule", "topic" (an entity's alert: "entity"),
 *    "severity", "granularity", "alert_id"}, "annotations": {"summary",
 *    "description", "ack"}, "startsAt", "endsAt" ("0001-01-01T00:00:00Z" while
 *    firing), "generatorURL" (the most negative text's link, or ""), "fingerprint"}]}
 * format = slack: {"text": "..."}, Slack's incoming-webhook message (& < > escaped).
 *
 * A 2xx answer is delivered. Any other answer, a timeout or a network error is
 * retried with the outbox's backoff, except 4xx answers other than 408 and 429:
 * the receiver refuses that payload, and sending it again cannot help
 * (WEBHOOK_REJECTED: the row is expired). Errors name the webhook and the url's
 * scheme://host:port only: a Slack url's path is itself a secret; the token never
 * appears anywhere but in the request header.
 */
#ifndef FINSENT_ALERTS_WEBHOOK_H
#define FINSENT_ALERTS_WEBHOOK_H

#include "alerts/message.h"
#include "common/common.h"
#include "common/config.h"

#include <stdint.h>

enum webhook_format { WEBHOOK_ALERTMANAGER = 0, WEBHOOK_SLACK = 1 };

struct webhook_config {
    char name[64];
    char *url;
    enum webhook_format format;
    char *token; /* bearer token (secret); NULL = none */
    int64_t timeout;
    char *ca_file; /* NULL = the system's CA store */
};

/* The keys of a [webhook NAME] section (NULL-terminated), for the schema. */
extern const char *const webhook_config_keys[];

/* Reads every [webhook NAME] section (none: *n = 0). With read_secret = 0 the
 * token is not read (only its keys checked): the variable or file may exist only
 * where the alerts run. Errors are "FILE:LINE: [webhook NAME] key: reason". Free
 * with webhooks_free(). */
int webhooks_load(const struct config *cfg, struct webhook_config **out, int *n, int read_secret,
                  struct fs_error *err);
void webhooks_free(struct webhook_config *w, int n);

/* The body to POST to w for items[0..n-1] (n >= 1); subject and text are the
 * grouped message's (alerts/message.h). Caller frees. */
char *webhook_payload(const struct webhook_config *w, const struct alert_item *items, int n,
                      const char *subject, const char *text);

enum { WEBHOOK_REJECTED = -3 }; /* not DESKTOP_NO_BUS */

/* POSTs body to w. Returns 0 on a 2xx answer, WEBHOOK_REJECTED (with err) on a
 * 4xx other than 408 and 429, -1 (with err) otherwise. */
int webhook_post(const struct webhook_config *w, const char *body, const char *delivery_id,
                 struct fs_error *err);

#endif
