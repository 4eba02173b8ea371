/* outbox.c — delivering queued notifications with retry and backoff. */
#include "alerts/outbox.h"

#include "alerts/desktop.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db_alerts.h"

#include <string.h>

int64_t outbox_backoff(int64_t attempts)
{
    int64_t delay = 60;
    for (int64_t i = 1; i < attempts && delay < 3600; i++)
        delay *= 2;
    return delay < 3600 ? delay : 3600;
}

static int deliver_email(const struct smtp_config *smtp, const struct outbox_row *r,
                         struct fs_error *err)
{
    if (!smtp || !smtp->url)
        return fs_error_set(err, "email: no [smtp] url configured; message kept in the outbox");
    struct email_msg m = {r->subject, r->body_text, r->body_html, r->message_id, r->created_at};
    return email_send(smtp, &m, err);
}

static int deliver_webhook(const struct outbox_channels *ch, const struct outbox_row *r,
                           struct fs_error *err)
{
    for (int i = 0; ch && i < ch->n_webhooks; i++)
        if (r->target && !strcmp(ch->webhooks[i].name, r->target))
            return webhook_post(&ch->webhooks[i], r->body_text, r->message_id, err);
    fs_error_set(err, "webhook %s: no [webhook %s] section any more; notification dropped",
                 r->target ? r->target : "?", r->target ? r->target : "?");
    return WEBHOOK_REJECTED;
}

/* A failed attempt: expired when retrying cannot help, else retried after backoff. */
static int record_failure(sqlite3 *db, const struct outbox_row *r, int rc, int64_t now,
                          const struct fs_error *derr, struct outbox_result *res,
                          struct fs_error *err)
{
    res->failed++;
    char *first = !strcmp(r->channel, "desktop") ? res->desktop_error
                  : !strcmp(r->channel, "email") ? res->email_error
                                                 : res->webhook_error;
    if (!first[0])
        str_copy(first, FS_ERROR_MAX, derr->msg);
    int give_up = rc == DESKTOP_NO_BUS || rc == WEBHOOK_REJECTED;
    if (give_up) {
        /* no bus in this environment (cron without DBUS_SESSION_BUS_ADDRESS), or a
         * receiver that refuses this payload: say it once rather than every run */
        res->expired++;
        return db_outbox_mark_failed(db, r->id, now, derr->msg, 1, err);
    }
    return db_outbox_mark_failed(db, r->id, now + outbox_backoff(r->attempts + 1), derr->msg, 0,
                                 err);
}

static int deliver_one(sqlite3 *db, const struct outbox_channels *ch, const struct outbox_row *r,
                       int64_t now, struct outbox_result *res, struct fs_error *err)
{
    struct fs_error derr = {""};
    int is_desktop = strcmp(r->channel, "desktop") == 0;
    if (is_desktop && now - r->created_at > OUTBOX_DESKTOP_MAX_AGE) {
        res->expired++;
        return db_outbox_mark_failed(db, r->id, r->next_attempt_at,
                                     r->last_error ? r->last_error : "expired before delivery", 1,
                                     err);
    }
    int claimed = db_outbox_claim(db, r->id, now, now + OUTBOX_LEASE, err);
    if (claimed <= 0)
        return claimed; /* -1 error, 0 another process has it */
    int rc = is_desktop                         ? desktop_notify(r->subject, r->body_text,
                                                                     r->urgency, r->target, &derr)
             : !strcmp(r->channel, "webhook") ? deliver_webhook(ch, r, &derr)
                                               : deliver_email(ch ? ch->smtp : NULL, r, &derr);
    if (rc == 0) {
        res->sent++;
        return db_outbox_mark_sent(db, r->id, now, err);
    }
    return record_failure(db, r, rc, now, &derr, res, err);
}

int outbox_deliver_due(sqlite3 *db, const struct outbox_channels *ch, int64_t now,
                       struct outbox_result *res, struct fs_error *err)
{
    memset(res, 0, sizeof *res);
    struct outbox_row *rows;
    int n;
    if (db_outbox_due(db, now, &rows, &n, err) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = deliver_one(db, ch, &rows[i], now, res, err);
    db_outbox_rows_free(rows, n);
    return rc;
}
