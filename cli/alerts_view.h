/*
 * alerts_view.h — what `finsent alerts list` and `finsent alerts show` print:
 * alerts with the spike that fired them, and one alert's whole record (its
 * events and the texts kept with them), as a table or as JSON.
 *
 * JSON shapes (times ISO-8601 UTC, unknown numbers null):
 *
 *   alert:  {"id", "rule", "topic" (its name), "topic_id", "entity" (its name),
 *            "entity_id" (an entity's alert: the topic fields null; a topic's: the
 *            entity fields null), "state", "severity", "acked", "silenced_by" (the id
 *            of the silence muting its topic or entity now, or null),
 *            "first_seen_at", "fired_at", "resolved_at", "acked_at",
 *            "last_notified_at", "notify_count", "spike": observation}
 *   observation: {"granularity", "window_start", "window_end", "n_docs", "n_negative",
 *            "negative_share", "baseline_share", "baseline_share_std",
 *            "baseline_count", "baseline_count_std", "z_score"}
 *   show:   alert + {"events": [{"id", "at", "kind", "severity", "notified",
 *            "observed": observation or null, "texts": [{"rank", "score",
 *            "headline", "url", "source", "attended", "document_id"}]}]}
 *   silence: {"id", "topic" (its name; "every topic and entity" for all),
 *            "topic_id", "entity", "entity_id" (as in alert), "created_at", "until", "lifted_at",
 *            "comment", "state": "active" | "expired" | "lifted"}
 */
#ifndef FINSENT_CLI_ALERTS_VIEW_H
#define FINSENT_CLI_ALERTS_VIEW_H

#include "cli/cli.h"

#include <stdint.h>

/* `alerts list [--all] [--json]`: open alerts (all: the latest 200 of any state). */
int alerts_view_list(struct cli_ctx *ctx, int all, int json);

/* `alerts show ID [--json]`: one alert's record; exit 1 when there is no such alert. */
int alerts_view_show(struct cli_ctx *ctx, int64_t id, int json);

/* `alerts silences [--all] [--json]`: silences in force (all: every one). */
int alerts_view_silences(struct cli_ctx *ctx, int all, int json);

#endif
