/* Logging for the whole daemon: one place, with levels.
 *
 * Every line goes to stderr prefixed with its syslog priority ("<3>", "<4>",
 * "<6>", "<7>"), which journald turns into the entry's priority. Pure modules
 * (decoders, parsers, queue format) do not log; they return error codes. */
#ifndef EF_LOG_H
#define EF_LOG_H

#include <stdarg.h>

enum ef_log_level {
    EF_LOG_ERROR = 3,   /* syslog LOG_ERR */
    EF_LOG_WARNING = 4, /* LOG_WARNING */
    EF_LOG_INFO = 6,    /* LOG_INFO */
    EF_LOG_DEBUG = 7,   /* LOG_DEBUG */
};

/* Lines above this level are dropped. Thread-safe; default EF_LOG_INFO. */
void ef_log_set_level(enum ef_log_level level);
enum ef_log_level ef_log_get_level(void);

/* Parses "error", "warning", "info", "debug". Returns 0, or -1 if unknown. */
int ef_log_level_parse(const char *s, enum ef_log_level *out);

/* Writes one line (a newline is added). Safe from any thread; a single
 * write(2) per line so lines from different threads never interleave. */
void ef_log(enum ef_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ef_vlog(enum ef_log_level level, const char *fmt, va_list ap);

#define ef_err(...) ef_log(EF_LOG_ERROR, __VA_ARGS__)
#define ef_warn(...) ef_log(EF_LOG_WARNING, __VA_ARGS__)
#define ef_info(...) ef_log(EF_LOG_INFO, __VA_ARGS__)
#define ef_debug(...) ef_log(EF_LOG_DEBUG, __VA_ARGS__)

#endif
