#include "common/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int log_level = EF_LOG_INFO;

void ef_log_set_level(enum ef_log_level level) { atomic_store(&log_level, (int)level); }

enum ef_log_level ef_log_get_level(void) { return (enum ef_log_level)atomic_load(&log_level); }

int ef_log_level_parse(const char *s, enum ef_log_level *out)
{
    static const struct {
        const char *name;
        enum ef_log_level level;
    } names[] = {{"error", EF_LOG_ERROR},
                 {"warning", EF_LOG_WARNING},
                 {"info", EF_LOG_INFO},
                 {"debug", EF_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

void ef_vlog(enum ef_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "<%d>", (int)level);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: keep room for the newline */
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere to report a failing stderr */
}

void ef_log(enum ef_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ef_vlog(level, fmt, ap);
    va_end(ap);
}
