/*
 * alerts.h — the alerting stage: from trend buckets to desktop and email
 * notifications, with state kept in SQLite.
 *
 * For each rule (alerts/rules.h) and each of its topics and entities,
 * alerts_run() looks at the newest two buckets of the rule's granularity (the
 * current one and the one before, bucket_start in (now - 2 * granularity, now]).
 * The condition holds when one of them passes the trends stage's spike test with
 * the rule's thresholds: history >= [trends] warmup, n_docs >= min_docs,
 * n_negative / n_docs >= min_negative_share and z_score >= z_threshold
 * (trends/spike.h: positive = more negative than the series' own baseline). Those buckets are marked evaluated in the same
 * transaction (trends/trends.h). An entity's series is its own (table
 * entity_buckets, kept by trends/ exactly as a topic's), and its alert quotes the
 * texts that mention it with the entity's own sentiment and attended words.
 * Then, per rule and topic or entity, in table alerts:
 *
 *   (none)   --condition-->  pending (when the rule has `for`) or firing
 *   pending  --held for `for`-->  firing
 *   firing   --condition gone-->  resolved   (optional "resolved" notification)
 *   pending  --condition gone-->  resolved   (silently: it never fired)
 *
 * A firing alert is notified when it starts firing, again after `repeat` while it
 * keeps firing (not once acknowledged), and at once when it escalates from warning
 * to critical. A silenced topic's (or entity's) alerts change state but notify
 * nobody; when the silence ends an alert still firing and never notified is
 * notified then.
 *
 * Every notification of one run is grouped: one email with all alerts of rules
 * that notify by email, one desktop notification with those that notify the
 * desktop. During a rule's quiet hours its desktop notifications are held in the
 * outbox until the quiet hours end (email goes at once): mail waits in an inbox,
 * a pop-up at 3 a.m. wakes nobody who should be asleep.
 *
 * History: an alert row is one episode and keeps the spike that fired it (while
 * pending, the latest bucket it saw). Everything after that is an event in table
 * alert_events with the bucket it observed: "pending", "firing" (with the
 * window's most negative texts, kept in alert_texts), "repeat" (a notification
 * again, with its texts), "escalated" (warning -> critical), "resolved" (the
 * bucket that ended it), "acked". Nothing recorded is overwritten.
 *
 * State changes and the outbox rows they cause are committed in one transaction,
 * then the outbox is delivered (alerts/outbox.h), so a restart neither re-sends
 * nor forgets.
 */
#ifndef FINSENT_ALERTS_H
#define FINSENT_ALERTS_H

#include "common/common.h"
#include "common/config.h"
#include "common/strbuf.h"
#include "entities/directory.h"

#include <sqlite3.h>
#include <stdint.h>

struct alerts_stats {
    int evaluated;              /* rule x topic pairs looked at */
    int fired;                  /* alerts that started firing this run */
    int repeated;               /* repeat notifications of alerts still firing */
    int resolved;               /* alerts resolved this run */
    int pending;                /* alerts waiting for their rule's `for` */
    int suppressed;             /* notifications withheld by a silence */
    int queued;                 /* outbox rows written this run */
    int sent, failed, expired;  /* deliveries attempted this run */
    int64_t still_queued;       /* outbox rows left for a later run */
    char warning[FS_ERROR_MAX]; /* the first delivery problem, "" when none */
    char *preview;              /* dry run only: what would be sent (owned) */
};

/* Validates the [alert ...] and [smtp] sections without touching anything.
 * Returns 0, or -1 with "FILE:LINE: ..." in err. */
int alerts_config_check(const struct config *cfg, struct fs_error *err);

/* One alerting cycle at time now: evaluates every rule, records state changes and
 * queues notifications (one transaction), then delivers what is due in the outbox.
 * With dry_run, nothing is sent and nothing changes in the database; out->preview
 * holds what would be sent. Returns 0 when everything due was delivered, 1 when
 * some delivery failed (it stays queued; out->warning says why), -1 on a
 * configuration or database error (err). Free out with alerts_stats_free().
 * entities resolves the entity names of rules (entities/lookup.h); it may be
 * NULL when no rule watches entities (alert_rules_watch_entities()), and its
 * names should have passed alert_rules_check_entities(). */
int alerts_run(sqlite3 *db, const struct config *cfg, const struct entity_dir *entities,
               int64_t now, int dry_run, struct alerts_stats *out, struct fs_error *err);

void alerts_stats_free(struct alerts_stats *s);

/* The command that runs this finsent on db with cfg, shell-quoted and with
 * absolute paths, for the messages to quote ("/usr/local/bin/finsent --config
 * /home/me/.config/finsent/finsent.conf --db /home/me/.local/share/finsent/finsent.db").
 * Caller frees. */
char *alerts_command_prefix(sqlite3 *db, const struct config *cfg);

/* Sends a test notification through every channel some rule uses (desktop, email,
 * each webhook).
 * One line per channel is appended to report ("desktop: sent", "email: FAILED: ...").
 * Returns 0 when all went through, 1 when one failed, -1 on a configuration error. */
int alerts_test(const struct config *cfg, int64_t now, struct strbuf *report, struct fs_error *err);

/* Acknowledges alert id (no more repeats; an "acked" event the first time). Returns 1, 0 when there is no such
 * alert, -1 on error. */
int alerts_ack(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err);

/* Silences topic (an id, ALERT_TOPIC_OVERALL, or SILENCE_EVERY_TOPIC for every
 * topic, the overall one and every entity) or, when entity_id is not 0, that
 * entity (a row of table entities; topic is then ignored) from now until now +
 * seconds, with an optional comment (NULL or ""; cleaned to one line). Each
 * call adds a silence object: *id gets its number (for `alerts unsilence ID`).
 * It ends by itself at now + seconds; while it lasts the alerts of the topic or
 * entity change state but notify nobody. */
int alerts_silence(sqlite3 *db, int topic, int64_t entity_id, int64_t now, int64_t seconds,
                   const char *comment, int64_t *id, struct fs_error *err);

/* Lifts silence id at now. Returns 1, 0 when there is no such active silence, -1. */
int alerts_unsilence(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err);

#endif
