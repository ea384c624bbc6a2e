/* The error list of a failed load: append, sort by line, print, free. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_raw.h"

void ef_cfgerr_add(struct ef_config_errors *errs, int line, const char *fmt, ...)
{
    /* Doubles: a file of thousands of mistakes must not copy the list each time. */
    if (errs->count == errs->cap) {
        size_t cap = errs->cap ? errs->cap * 2 : 16;
        struct ef_config_error *items = realloc(errs->items, cap * sizeof *items);
        if (!items)
            return;
        errs->items = items;
        errs->cap = cap;
    }
    struct ef_config_error *e = &errs->items[errs->count++];
    e->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Bottom-up merge sort: stable, so errors found on one line keep their
 * order, and n log n however the checks interleaved their lines. */
void ef_cfgerr_sort(struct ef_config_errors *errs)
{
    size_t n = errs->count;
    struct ef_config_error *tmp = n > 1 ? malloc(n * sizeof *tmp) : NULL;
    if (!tmp)
        return; /* out of memory: unsorted, but nothing lost */
    struct ef_config_error *src = errs->items, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = src[b].line < src[a].line ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        struct ef_config_error *t = src;
        src = dst;
        dst = t;
    }
    if (src != errs->items)
        memcpy(errs->items, src, n * sizeof *src);
    free(tmp);
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
