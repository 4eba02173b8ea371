/*
 * classify.h — the classification stage: every stored document without a
 * classification gets one (topic, sentiment, both probability vectors, score,
 * model id, most attended words), in batches committed one at a time, so a
 * killed run keeps what it stored and the next run finishes the rest. A
 * document longer than the model's window is read in overlapping windows
 * (classify/windows.h). Each entity a document mentions (table mentions) gets
 * its sentiment in the same transaction: the document's, or that of the
 * sentences that mention it (classify/entity_sentiment.h, table
 * entity_sentiments).
 *
 * Configuration, section [classify]:
 *   entity_sentiment = sentences   each entity of a document that speaks of
 *                                  several things is read from the sentences
 *                                  that mention it (costs one more, shorter
 *                                  reading per such entity);
 *                    = document    every entity takes its document's sentiment
 *                                  (no extra cost).
 *
 * Entities queued by a rescan (entities/scan.h: their mentions changed in a
 * document already classified) are read after the new documents, from their
 * sentences, when entity_sentiment is sentences; otherwise they stay queued
 * with the document's sentiment.
 */
#ifndef FINSENT_CLASSIFY_H
#define FINSENT_CLASSIFY_H

#include "classify/infer.h"
#include "common/common.h"
#include "common/config.h"

#include <sqlite3.h>
#include <stdint.h>

/* The keys of [classify] (NULL-terminated), for the configuration's schema. */
extern const char *const classify_config_keys[];

struct classify_settings {
    int batch;            /* documents per transaction (0: 256) */
    int entity_sentences; /* entity_sentiment = sentences (1, the default) or document (0) */
};

/* Reads [classify] into s (defaults for absent keys; cfg may be NULL). -1 with
 * "file:line: ..." on an unknown value. */
int classify_config_load(const struct config *cfg, struct classify_settings *s,
                         struct fs_error *err);

struct classify_stats {
    int64_t classified;   /* documents */
    int64_t entity_reads; /* entities read from their own sentences */
    int64_t reread;       /* documents whose queued entities were read */
    double seconds;
};

/* Classifies every pending document of db with c, stamping classified_at = now,
 * then reads the entities a rescan queued. Returns 0 or -1 (what was committed
 * before the failure stays). */
int classify_pending(sqlite3 *db, struct classifier *c, int64_t now,
                     const struct classify_settings *s, struct classify_stats *stats,
                     struct fs_error *err);

/* JSON helpers for the stored columns: an array of n probabilities (4 decimals),
 * an array of strings. Caller frees. */
char *classify_json_probs(const float *p, int n);
char *classify_json_words(char *const *words, int n);

#endif
