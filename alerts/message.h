/*
 * message.h — composing the words of one notification that groups every alert of
 * a run: a subject, a plain-text body, an HTML body and a short desktop body.
 *
 * Every alert says why: topic or entity, window (UTC), observed negative share and count
 * against the baseline, z-score, and the most negative texts of the window with
 * their source, their links and the words the model attended to; and how to
 * act on it: the complete command that acknowledges it (with the --config and
 * --db it needs) and one that silences its topic or entity, ready to paste into
 * a shell. An entity's texts are those that mention it, with the entity's own
 * sentiment and attended words (db_alerts_examples()).
 *
 * Text coming from crawled documents is untrusted: it is made valid UTF-8, control
 * characters are removed from one-line fields (the subject is CR/LF-free), and
 * everything placed into HTML (or desktop markup) is escaped.
 */
#ifndef FINSENT_ALERTS_MESSAGE_H
#define FINSENT_ALERTS_MESSAGE_H

#include "alerts/rules.h"
#include "alerts/text.h"
#include "common/strbuf.h"
#include "db/db_alerts.h"

enum alert_event { ALERT_EV_FIRING = 0, ALERT_EV_REPEAT = 1, ALERT_EV_RESOLVED = 2 };

/* One alert to report; the caller owns everything pointed to. */
struct alert_item {
    const struct alert_rule *rule;
    struct alert_row alert; /* observed values, state, severity */
    enum alert_event event;
    struct alert_example examples[5];
    int n_examples;
    /* how to run finsent on this alert's database, shell-quoted, e.g.
     * "/usr/local/bin/finsent --config /home/me/f.conf --db /home/me/f.db";
     * NULL = "finsent" (alerts_command_prefix() in alerts.h builds it) */
    const char *command;
};

struct alert_message {
    char *subject;       /* one line, UTF-8, no control characters */
    char *text;          /* text/plain body, UTF-8, LF line ends */
    char *html;          /* text/html body, UTF-8, escaped */
    char *desktop_body;  /* a few lines for a desktop notification (plain text) */
    const char *urgency; /* "critical", "normal" or "low" (static) */
};

/* What alert a is about: the entity's name for an entity's alert, else the
 * topic's (alert_topic_name(): "Energy | Oil", "All topics"). Static storage,
 * a's own, or buf (size bytes) for unknown ones. */
const char *alert_subject_name(const struct alert_row *a, char *buf, size_t size);

/* Composes the grouped message for items[0..n-1] (n >= 1). Free with
 * alert_message_free(). */
void alert_message_compose(const struct alert_item *items, int n, struct alert_message *out);
void alert_message_free(struct alert_message *m);

/* Appends the plain-text block of one alert (what the email says about it: the
 * window, the numbers, the usual level, the z-score, the most negative texts). */
void alert_message_item_text(const struct alert_item *it, struct strbuf *sb);

/* Appends a one-line summary of one alert ("Energy | Oil: 15 of 20 texts negative
 * (75.0%), z 6.50" or "Energy | Oil: back to normal"). */
void alert_message_item_summary(const struct alert_item *it, struct strbuf *sb);

/* Appends the command that acknowledges the alert (it->command + " alerts ack 12"). */
void alert_message_ack_command(const struct alert_item *it, struct strbuf *sb);

#endif
