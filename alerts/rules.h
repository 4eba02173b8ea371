/*
 * rules.h — alert rules read from the configuration, and topic names.
 *
 * A rule is one "[alert NAME]" section:
 *
 *   [alert energy]
 *   topics             = Energy | Oil, Macro, 1   # names, unique prefixes ("energy"),
 *                                                 # ids; "all" (each topic on its own);
 *                                                 # "overall" watches all topics together
 *   entities           = Tesla, $NVDA             # companies, each on its own (below)
 *   watchlist          = portfolio                # ... and every entity of [watchlist W]
 *   granularity        = hour                     # hour | day
 *   z_threshold        = 3                        # fire when z_score >= this
 *   min_docs           = 10                       # ... and the bucket holds >= this many texts
 *   min_negative_share = 0.3                      # ... and n_negative / n_docs >= this
 *   critical_z         = 5                        # z >= this is "critical", else "warning"
 *   for                = 0                        # condition must hold this long (pending) first
 *   repeat             = 6h                       # re-notify a still-firing alert after this
 *   quiet_hours        = 22-07                    # local hours; desktop held back until the end
 *   notify             = desktop,email,webhook    # email only once [smtp] url is set;
 *                                                 # webhook: every [webhook NAME] (webhook.h)
 *   resolved           = no                       # also notify when the spike is over
 *   examples           = 5                        # most negative texts quoted (3..5)
 *
 * The condition is the trends stage's spike test (trends/spike.h) with the rule's
 * thresholds: the series has [trends] warmup buckets of history, and z_score,
 * n_docs and the negative share reach the rule's z_threshold, min_docs and
 * min_negative_share, which default to the [trends] values (so a rule without them
 * fires exactly on the buckets trends marks spike = 1; a rule may be stricter or
 * looser, e.g. a daily digest at z 2.5). The z-score already carries the trends
 * stage's noise floors. notify = email is ignored while [smtp] url is not set.
 *
 * Entities: a rule with `entities` or `watchlist` also watches each of those
 * entities' series (trends/trends.h: table entity_buckets) under the same
 * thresholds, states, grouping, repeats, silences and acks as a topic; such a
 * rule watches no topic unless it names `topics` too. Items are what a
 * watchlist takes (entities/lookup.h): names, aliases, [entity] sections,
 * $TICKERs. alert_rules_load() checks only that the watchlist exists (it has no
 * directory); alert_rules_check_entities() checks each name against the
 * directory, and the command layer runs it before the rules are used.
 *
 * With no [alert ...] section at all, one built-in rule "default" applies (all topics,
 * hourly, the defaults above; notify = desktop, plus email when [smtp] url is set).
 * Every bad value fails with "FILE:LINE: [section] key: reason".
 */
#ifndef FINSENT_ALERTS_RULES_H
#define FINSENT_ALERTS_RULES_H

#include "classify/dataset.h"
#include "common/common.h"
#include "common/config.h"
#include "entities/directory.h"

#include <stdint.h>

enum { ALERT_N_TOPICS = N_TOPICS, ALERT_TOPIC_OVERALL = -1 };

enum alert_channel { ALERT_CH_DESKTOP = 1, ALERT_CH_EMAIL = 2, ALERT_CH_WEBHOOK = 4 };

struct alert_rule {
    char name[64];
    int topics[ALERT_N_TOPICS + 1]; /* topic ids, ALERT_TOPIC_OVERALL for the aggregate */
    int n_topics;
    int granularity_seconds; /* 3600 or 86400 */
    const char *granularity; /* "hour" or "day" (static) */
    double z_threshold;
    int64_t min_docs;
    double min_negative_share;
    int64_t warmup; /* [trends] warmup: buckets of history a series needs */
    double critical_z;
    int64_t pending_for;        /* seconds the condition must hold before firing */
    int64_t repeat;             /* seconds between repeats of a firing alert */
    int quiet_start, quiet_end; /* local hours [start, end); -1 when no quiet hours */
    unsigned notify;            /* ALERT_CH_* bits */
    int notify_resolved;
    int examples;
    /* the entities watched, as written (borrowed from the configuration, which
     * must outlive the rule; NULL when none): the rule's `entities` and the
     * `entities` of its [watchlist W] */
    const char *entities;
    const char *watchlist_entities;
};

/* The keys of [alert NAME] (NULL-terminated), for the configuration's schema. */
extern const char *const alert_rule_config_keys[];

/* Reads every [alert NAME] section (or the built-in default). On success *out is an
 * array of *n rules the caller frees with free(). */
int alert_rules_load(const struct config *cfg, struct alert_rule **out, int *n,
                     struct fs_error *err);

/* Calls fn(ctx, item) for each entity rule watches (its `entities`, then its
 * watchlist's), as written. Returns what fn returned first when non-zero, else 0. */
int alert_rule_entities_each(const struct alert_rule *rule, int (*fn)(void *ctx, const char *item),
                             void *ctx);

/* 1 when one of the n rules watches entities (and needs the directory). */
int alert_rules_watch_entities(const struct alert_rule *rules, int n);

/* Checks every [alert NAME] `entities` item against the directory d: returns 0,
 * or -1 with "FILE:LINE: [alert NAME] entities: unknown entity 'X' ..." in err.
 * (A watchlist's items are checked with the watchlist: cli_entity_dir().) */
int alert_rules_check_entities(const struct config *cfg, const struct entity_dir *d,
                               struct fs_error *err);

/* 1 when the local hour of `now` is inside the rule's quiet hours; then *until is
 * set to the end of the quiet period (seconds since the epoch). */
int alert_rule_quiet(const struct alert_rule *rule, int64_t now, int64_t *until);

/* "Energy | Oil", ..., "All topics" for ALERT_TOPIC_OVERALL, "topic 42" otherwise
 * (static storage, or buf for unknown ids). */
const char *alert_topic_name(int topic, char *buf, size_t size);

/* Parses a topic given as id (0..19), name or unique prefix (any case;
 * classify/dataset.h topic_lookup()) or "overall"/"-1". Returns the id,
 * ALERT_TOPIC_OVERALL, or -2 when unknown or ambiguous. */
int alert_topic_parse(const char *s);

#endif
