/*
 * windows.h — long documents in overlapping windows.
 *
 * A document longer than the model's window (title + body) is read as several
 * windows, each the title, a newline and a run of whole body words, packed to
 * at most `window` tokens; consecutive windows overlap by a quarter of their
 * words, so a sentence cut at one window's edge is whole in the next. At most
 * WINDOWS_MAX windows per document (about 3,000 words at 256 tokens); the rest
 * of a longer body is not read.
 *
 * The windows' predictions are combined into one per document: each head's
 * probabilities are the mean over windows weighted by that window's confidence
 * (its largest probability), so a clearly negative paragraph counts for more
 * than boilerplate; the attended words are those of the window that gives the
 * document's sentiment its highest probability (the window that decides it).
 */
#ifndef FINSENT_WINDOWS_H
#define FINSENT_WINDOWS_H

#include "classify/infer.h"
#include "common/common.h"

#include <stddef.h>

enum {
    WINDOWS_MAX = 16,
    WINDOWS_TOKENS = 256 /* per window, [CLS]/[SEP] included; at most the model's positions */
};

/* One window's text (title "\n" words), owned by the caller. */
struct window {
    char *text;
    size_t len;
};

/* Cuts title + body into windows of at most window_tokens tokens of tok.
 * Returns their number (>= 1) and *out (free with windows_free). */
size_t windows_cut(const struct text_tok *tok, int window_tokens, const char *title,
                   const char *body, struct window **out);
void windows_free(struct window *w, size_t n);

/* The window size for classifier c: WINDOWS_TOKENS, at most the model's positions. */
int windows_tokens(const struct classifier *c);

/* Classifies n documents (titles[i] may be NULL or ""), each read in windows
 * (all windows of all documents predicted together, in length batches) and
 * combined as above into out[i] (free each with prediction_free). Returns 0
 * or -1. */
int classifier_predict_documents(struct classifier *c, const char *const *titles,
                                 const char *const *bodies, size_t n,
                                 const struct infer_options *opt, struct prediction *out,
                                 struct fs_error *err);

#endif
