/* log.c — leveled stderr logging. */
#include "common/log.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level log_get_level(void)
{
    return current_level;
}

void log_clean(char *s)
{
    str_strip_controls(s);
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) /* C1 controls, e.g. U+009B CSI */
            p[0] = p[1] = ' ';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > current_level)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_clean(line);
    fprintf(stderr, "finsent: %s: %s\n", names[level], line);
}
