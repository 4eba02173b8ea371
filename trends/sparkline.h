/*
 * sparkline.h — one-line charts for the terminal.
 *
 * A value in [0, 1] becomes one of eight levels: the Unicode block elements
 * U+2581..U+2588 ("▁▂▃▄▅▆▇█") on a terminal, or the ASCII ramp "_.-=+*#@" when
 * output goes to a file or pipe (so that logs and tests stay plain ASCII). A
 * missing value (NaN: a bucket without documents) is a blank.
 */
#ifndef FINSENT_SPARKLINE_H
#define FINSENT_SPARKLINE_H

#include "common/strbuf.h"

#include <stddef.h>

/* Appends the level character of v (clamped to [0, 1]; NaN = ' '). */
void sparkline_append_value(struct strbuf *sb, double v, int unicode);

/* Appends n values. When marks is not NULL, marks[i] != 0 draws value i in bold
 * red (ANSI colour, only when colour is non-zero). */
void sparkline_append(struct strbuf *sb, const double *v, const unsigned char *marks, size_t n,
                      int unicode, int colour);

#endif
