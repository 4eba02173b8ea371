/*
 * evaluate.h — precision and recall of the recogniser on a labelled CSV.
 *
 * The CSV has a header "text,entities"; entities holds the display names of the
 * entities the text mentions, separated by ';' (empty: none). Each text counts
 * as a set of entities: a predicted entity in the gold set is a true positive,
 * one outside it a false positive, a gold entity not predicted a false
 * negative (names compared case-insensitively).
 */
#ifndef FINSENT_ENTITY_EVALUATE_H
#define FINSENT_ENTITY_EVALUATE_H

#include "common/common.h"
#include "entities/directory.h"

#include <stddef.h>

struct entity_eval {
    size_t n_texts;
    size_t tp, fp, fn;
    double precision, recall, f1;
    double seconds; /* recognition time alone */
};

/* Called for every text whose prediction differs from its labels: predicted
 * and gold as ';'-joined names. May be NULL. */
typedef void (*entity_eval_miss_fn)(void *ctx, const char *text, const char *predicted,
                                    const char *gold);

/* Scores d on csv (len bytes). Returns 0, or -1 on a malformed CSV. */
int entities_evaluate(const struct entity_dir *d, const char *csv, size_t len,
                      struct entity_eval *out, entity_eval_miss_fn miss, void *ctx,
                      struct fs_error *err);

#endif
