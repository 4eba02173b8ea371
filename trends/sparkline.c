/* sparkline.c — eight-level block-character charts. */
#include "trends/sparkline.h"

#include <math.h>

static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                      "\u2585", "\u2586", "\u2587", "\u2588"};
static const char ascii_ramp[] = "_.-=+*#@";

void sparkline_append_value(struct strbuf *sb, double v, int unicode)
{
    if (isnan(v)) {
        sb_append_char(sb, ' ');
        return;
    }
    if (v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    int level = (int)(v * 7.999);
    if (unicode)
        sb_append(sb, blocks[level]);
    else
        sb_append_char(sb, ascii_ramp[level]);
}

void sparkline_append(struct strbuf *sb, const double *v, const unsigned char *marks, size_t n,
                      int unicode, int colour)
{
    for (size_t i = 0; i < n; i++) {
        int mark = marks && marks[i] && colour;
        if (mark)
            sb_append(sb, "\033[1;31m");
        sparkline_append_value(sb, v[i], unicode);
        if (mark)
            sb_append(sb, "\033[0m");
    }
}
