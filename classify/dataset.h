/*
 * dataset.h — labeled text sets (CSV with a header "text,label") and the label
 * names of finsent's two tasks.
 *
 * Sentiment labels inside finsent are 0 negative, 1 neutral, 2 positive. A CSV may
 * give the bundled data's integer ids (0 Bearish, 1 Bullish, 2 Neutral — mapped to
 * negative, positive, neutral) or names: negative/neutral/positive or
 * Bearish/Neutral/Bullish (any case). Topic labels are the 20 ids 0..19 of the
 * bundled topic set or their names ("Fed | Central Banks", ...).
 */
#ifndef FINSENT_DATASET_H
#define FINSENT_DATASET_H

#include "common/common.h"

#include <stddef.h>

enum task { TASK_TOPIC = 0, TASK_SENTIMENT = 1, TASK_COUNT = 2 };

enum { SENT_NEGATIVE = 0, SENT_NEUTRAL = 1, SENT_POSITIVE = 2, N_SENTIMENTS = 3 };
enum { N_TOPICS = 20 };

struct example {
    char *text;
    int label; /* finsent's id for the task */
    enum task task;
};

struct dataset {
    struct example *ex;
    size_t n;
};

/* Loads path as a text,label CSV for task (RFC 4180: quoted fields may hold commas
 * and newlines; the header names the columns, in either order, other columns are
 * ignored; without a "label" column, the column named after the task is the
 * label, so one text,sentiment,topic file serves both tasks). A row with an unknown label or too few fields fails with
 * "path:line: ..." (the line where the record starts); a missing header with
 * "path:1: ...". On success out holds the rows in file order (free with
 * dataset_free); on failure out is empty. Returns 0 or -1. */
int dataset_load_csv(const char *path, enum task task, struct dataset *out, struct fs_error *err);

/* Appends all examples of src to dst (taking ownership of their texts). */
void dataset_append(struct dataset *dst, struct dataset *src);

/* Appends times - 1 more copies of every row of task with this label (times
 * <= 1: nothing): the class weighs times as much in training. */
void dataset_repeat(struct dataset *ds, enum task task, int label, int times);

void dataset_free(struct dataset *ds);

/* "topic" / "sentiment" <-> enum task. Returns -1 for an unknown name. */
int task_from_name(const char *name);
const char *task_name(enum task task);

int task_n_labels(enum task task);
/* The task's label names indexed by finsent's id (static, task_n_labels() of
 * them), or NULL for an unknown task. */
const char *const *task_label_names(enum task task);
/* Label name for finsent's id ("negative", "Fed | Central Banks", ...); "?" when
 * label is out of range. */
const char *task_label_name(enum task task, int label);
/* Parses a label given as bundled id or name (names in any case, surrounding
 * blanks ignored); -1 when unknown. */
int task_label_parse(enum task task, const char *s);

/* A topic by name, as rules, silences and --topic take it: the exact name (any
 * case), else the one topic whose name or one of its " | " parts starts with s
 * (any case): "energy" and "oil" are "Energy | Oil". Returns the id, -1 when
 * nothing matches, -2 when several do (then, when matches is not NULL, their
 * names as "'A', 'B'" cut to size). Ids are the caller's business. */
int topic_lookup(const char *s, char *matches, size_t size);

/* Why topic_lookup() found no single topic for s, for a message: "unknown topic
 * 'x' (see 'finsent topics')" or "'stock' could be 'Stock Commentary', 'Stock
 * Movement'". */
void topic_lookup_error(const char *s, char *buf, size_t size);

#endif
