/*
 * outbox.h — delivering what the alert state machine queued in table outbox.
 *
 * A notification is written to the outbox in the same transaction as the alert
 * change that caused it, then delivered here. After a successful delivery the row
 * is marked sent in its own transaction at once; a failed delivery stays queued
 * with attempts + 1 and next_attempt_at = now + backoff, and a later run retries it.
 *
 * Before an attempt the row is claimed (OUTBOX_LEASE), so two finsent processes
 * running at once never both send it.
 *
 * Crash window: a crash (or a failing disk) after the server accepted a message and
 * before "sent" is committed makes the next run send it again. That window is a
 * single SQLite UPDATE long; the resent email keeps its Message-ID (and Date), so a
 * mail client can tell it is the same message. Nothing is ever lost, and outside
 * that window nothing is sent twice.
 *
 * Webhooks: the JSON body is stored in the row, so a retry POSTs the same bytes
 * with the same Idempotency-Key (the row's message_id). A receiver that took the
 * POST but answered after the timeout gets it again: it can drop the copy by that
 * key.
 *
 * Desktop notifications that no daemon answered are retried like email until they
 * are DESKTOP_MAX_AGE old, then marked expired: a pop-up about yesterday's spike
 * helps nobody, and the email carries the record. With no session bus at all (cron
 * without DBUS_SESSION_BUS_ADDRESS) a desktop notification is expired at once: one
 * warning in that run instead of one in every run for hours.
 */
#ifndef FINSENT_ALERTS_OUTBOX_H
#define FINSENT_ALERTS_OUTBOX_H

#include "alerts/email.h"
#include "alerts/webhook.h"
#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

#define OUTBOX_DESKTOP_MAX_AGE (12 * 3600)

/* A row being delivered is leased for this long: a concurrent finsent skips it,
 * and a process that dies mid-delivery leaves it to be retried after the lease. */
#define OUTBOX_LEASE (15 * 60)

struct outbox_result {
    int sent, failed, expired;
    char desktop_error[FS_ERROR_MAX]; /* first desktop failure of this call, "" if none */
    char email_error[FS_ERROR_MAX];   /* first email failure of this call, "" if none */
    char webhook_error[FS_ERROR_MAX]; /* first webhook failure of this call, "" if none */
};

/* What the channels are configured with. */
struct outbox_channels {
    const struct smtp_config *smtp; /* NULL or no url: email rows fail and stay queued */
    const struct webhook_config *webhooks;
    int n_webhooks;
};

/* Seconds to wait after the attempts-th failed attempt (1, 2, ...): 1 min doubling
 * up to 1 hour. */
int64_t outbox_backoff(int64_t attempts);

/* Delivers every queued row that is due at now through ch (NULL: nothing
 * configured). Email rows without a usable [smtp] fail with a clear error and stay
 * queued; a webhook row whose [webhook NAME] is gone, or whose receiver refused
 * the payload (a 4xx other than 408/429), is expired: retrying cannot help.
 * Returns 0 (delivery failures are counted in res, not errors) or -1 on a database
 * error. */
int outbox_deliver_due(sqlite3 *db, const struct outbox_channels *ch, int64_t now,
                       struct outbox_result *res, struct fs_error *err);

#endif
