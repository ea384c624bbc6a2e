/* The error list of a failed load: append, sort by line, print, free. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_raw.h"

void ef_cfgerr_add(struct ef_config_errors *errs, int line, const char *fmt, ...)
{
    /* Grows one at a time: error lists are short and this path is cold. */
    struct ef_config_error *items = realloc(errs->items, (errs->count + 1) * sizeof *items);
    if (!items)
        return;
    errs->items = items;
    struct ef_config_error *e = &items[errs->count++];
    e->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void ef_cfgerr_sort(struct ef_config_errors *errs)
{
    /* Insertion sort: stable, so errors found on one line keep their order. */
    for (size_t i = 1; i < errs->count; i++) {
        struct ef_config_error e = errs->items[i];
        size_t j = i;
        while (j > 0 && errs->items[j - 1].line > e.line) {
            errs->items[j] = errs->items[j - 1];
            j--;
        }
        errs->items[j] = e;
    }
}

int ef_cfgerr_on_line(const struct ef_config_errors *errs, int line)
{
    for (size_t i = 0; i < errs->count; i++)
        if (errs->items[i].line == line)
            return 1;
    return 0;
}

void ef_config_errors_free(struct ef_config_errors *errs)
{
    if (!errs)
        return;
    free(errs->items);
    free(errs);
}

void ef_config_errors_print(const struct ef_config_errors *errs, FILE *stream)
{
    for (size_t i = 0; errs && i < errs->count; i++)
        fprintf(stream, "%s:%d: %s\n", errs->file, errs->items[i].line, errs->items[i].message);
}
