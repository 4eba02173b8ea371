/*
 * text.h — untrusted text (headlines, comments, attended words from crawled
 * documents) made safe for where a notification puts it.
 *
 * Output is always valid UTF-8 (invalid bytes become U+FFFD). "One line" text has
 * no control characters at all (CR, LF, TAB, C1...), so it cannot break out of a
 * protocol header; HTML text has & < > " ' escaped, so it cannot open a tag or
 * leave an attribute.
 */
#ifndef FINSENT_ALERTS_TEXT_H
#define FINSENT_ALERTS_TEXT_H

#include "common/strbuf.h"

#include <stddef.h>

/* Appends s to sb as valid UTF-8 (invalid bytes become U+FFFD). With one_line,
 * control characters (CR, LF, TAB, ...) become spaces and runs of spaces collapse.
 * At most max_bytes bytes of output, cut on a character boundary and ended by
 * "…" when cut (max_bytes 0 = no limit). */
void text_append_clean(struct strbuf *sb, const char *s, int one_line, size_t max_bytes);

/* Appends s HTML-escaped (& < > " ') as text_append_clean would clean it. */
void text_append_html(struct strbuf *sb, const char *s, int one_line, size_t max_bytes);

/* Appends the attended words (a JSON array of strings, or of objects with "word")
 * joined by ", "; nothing when json is NULL or not such an array. */
void text_append_attended(struct strbuf *sb, const char *json);

/* Appends s as one word a POSIX shell reads back unchanged: as it is when it is
 * made only of letters, digits and _ . / - + = : , @ %, else in single quotes
 * (a quote inside as '\''). Control characters are cleaned away first. */
void text_append_shell_word(struct strbuf *sb, const char *s);

#endif
