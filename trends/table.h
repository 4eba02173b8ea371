/*
 * table.h — the terminal table of `finsent trends`: one line per topic with its
 * totals, a sparkline of the negative share over the range, and its spikes.
 *
 *   topic                         docs   neg%  score  negative share     spikes
 *   all                            842   24.1  +0.04  ▂▂▃▂▂▂▂▆▂▂▂▂▂         1  last 2026-03-06
 *   Earnings                       120   30.0  -0.10  ▁▁▁▁▁█▁▁▁▁▁▁▁         1  last 2026-03-06
 *                                                          ^
 *
 * A range longer than max_cols buckets is drawn with several buckets per column
 * (their negatives over their documents); a column holding a spike is marked by
 * a '^' on the line below (and drawn red on a colour terminal).
 */
#ifndef FINSENT_TABLE_H
#define FINSENT_TABLE_H

#include "common/strbuf.h"
#include "db/db_trends.h"

#include <stddef.h>
#include <stdint.h>

struct table_opts {
    int granularity;
    int64_t since, until; /* the range shown, bucket-aligned: [since, until) */
    int max_cols;         /* sparkline width at most; 0 = 60 */
    int unicode;          /* block characters (a terminal) or ASCII */
    int colour;           /* ANSI colour for spikes */
    int only_topic_set;   /* show only this topic (even without documents) */
    int only_topic;
};

/* Appends the table for rows (sorted by topic, then time; as db_trends_query()
 * returns them) to sb. */
void trends_table_append(struct strbuf *sb, const struct trend_row *rows, size_t n,
                         const struct table_opts *o);

#endif
