/*
 * metrics_report.h — an evaluation as text for people and as JSON for programs.
 *
 * Text (metrics_report_text):
 *
 *   n 2388  accuracy 0.8412  macro-F1 0.7893
 *
 *   label                        precision  recall      f1  support
 *   negative                        0.7010  0.6340  0.6658      347
 *   ...
 *   macro avg                       0.7700  0.7500  0.7893     2388
 *
 *   confusion (rows = true, columns = predicted class id)
 *                                      0     1     2
 *     0 negative                     220   100    27
 *   ...
 *
 * Macro averages (and macro-F1) are over the classes seen in truth or predictions.
 *
 * JSON (metrics_report_json): one object
 *   {"n": 2388, "accuracy": 0.84, "macro_f1": 0.79,
 *    "labels": ["negative", "neutral", "positive"],
 *    "per_class": [{"label": "negative", "id": 0, "precision": .., "recall": ..,
 *                   "f1": .., "support": 347}, ...],
 *    "confusion": [[220, 100, 27], ...]}     rows = true label, columns = predicted
 */
#ifndef FINSENT_METRICS_REPORT_H
#define FINSENT_METRICS_REPORT_H

#include "classify/metrics.h"
#include "common/strbuf.h"

#include <jansson.h>

/* Appends the text report to sb. names[i] is class i's name (names may be NULL:
 * the ids are printed); long names are cut to fit the table. */
void metrics_report_text(struct strbuf *sb, const struct metrics *m, const char *const *names);

/* The JSON report as a new object (caller owns the reference: json_decref). */
json_t *metrics_report_json(const struct metrics *m, const char *const *names);

#endif
