/* Stage one of loading: the ini text split into sections and keys, each
 * with its line number, before any key is interpreted. Also the error list
 * shared by all stages.
 *
 * Why not take line numbers from inih: Debian's libinih is built without
 * INI_HANDLER_LINENO, never reports empty sections, and cuts section names
 * at 49 characters ([point:OWNER.NAME] can be 135). So config_read.c feeds
 * inih through its own line reader: it hands inih one physical line per call,
 * counts lines, and reads section headers itself; inih still splits every
 * KEY = VALUE line (inline comments, blanks), and its handler runs before the
 * next line is read, so the reader's count is the handler's line. */
#ifndef EF_CONFIG_RAW_H
#define EF_CONFIG_RAW_H

#include <stddef.h>

#include "config/config.h"

struct ef_raw_key {
    char *name;
    char *value;
    int line;
};

struct ef_raw_section {
    char *name; /* full text between the brackets */
    int line;
    struct ef_raw_key *keys;
    size_t nkeys, cap;
};

struct ef_raw {
    struct ef_raw_section *secs;
    size_t n, cap;
};

/* Splits TEXT (LEN bytes) into RAW, adding syntax errors to ERRS.
 * Returns 0, or -1 when out of memory. */
int ef_raw_parse(const char *text, size_t len, struct ef_raw *raw, struct ef_config_errors *errs);
void ef_raw_free(struct ef_raw *raw);

/* The key NAME of a section, or NULL when absent (first occurrence). */
const struct ef_raw_key *ef_raw_find(const struct ef_raw_section *sec, const char *name);

/* Appends an error; silently drops it when out of memory (the load still
 * fails on the out-of-memory path that caused it). */
void ef_cfgerr_add(struct ef_config_errors *errs, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sorts the errors by line, keeping the order of errors on one line. */
void ef_cfgerr_sort(struct ef_config_errors *errs);
/* True when some error is on LINE. */
int ef_cfgerr_on_line(const struct ef_config_errors *errs, int line);

#endif
