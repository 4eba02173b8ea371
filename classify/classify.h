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
 */
#ifndef FINSENT_CLASSIFY_H
#define FINSENT_CLASSIFY_H

#include "classify/infer.h"
#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

struct classify_stats {
    int64_t classified;
    double seconds;
};

/* Classifies every pending document of db with c, stamping classified_at = now.
 * batch: documents per transaction (0: 256). Returns 0 or -1 (what was
 * committed before the failure stays). */
int classify_pending(sqlite3 *db, struct classifier *c, int64_t now, int batch,
                     struct classify_stats *stats, struct fs_error *err);

/* JSON helpers for the stored columns: an array of n probabilities (4 decimals),
 * an array of strings. Caller frees. */
char *classify_json_probs(const float *p, int n);
char *classify_json_words(char *const *words, int n);

#endif
