/*
 * log.h — leveled log lines on stderr, for the command layer and long-running
 * stages. Format: "finsent: LEVEL: message". One line per event; callers never
 * include a trailing newline. Secrets must never be passed here.
 *
 * The level is process-wide (set once by main from --quiet / --verbose).
 */
#ifndef FINSENT_LOG_H
#define FINSENT_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Prints one line. Messages carry untrusted text (URLs and errors from crawled
 * feeds), so control characters (C0, DEL, UTF-8 C1) become spaces: no data can
 * add a line or send a terminal escape sequence. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What log_msg does to a message: control characters become spaces. In place. */
void log_clean(char *s);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
