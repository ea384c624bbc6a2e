#include "drivers/serial/csv.h"
#include "drivers/serial/framing.h"

#include <string.h>

static size_t count_fields(const char *line, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == ',')
            n++;
    }
    return n;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

int ef_csv_parse(const char *line, size_t len, const char (*fields)[EF_NAME_MAX + 1],
                 size_t nfields, struct ef_parsed *out)
{
    ef_parsed_clear(out);
    if (nfields == 0 || !ef_line_clean(line, len) || count_fields(line, len) != nfields)
        return EF_PARSE_REJECT;
    size_t start = 0, idx = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ',')
            continue;
        const char *f = line + start;
        size_t flen = i - start;
        start = i + 1;
        trim(&f, &flen);
        const char *name = fields[idx++];
        struct ef_value v;
        if (flen == 0)
            continue;
        if (!ef_parse_scalar(f, flen, &v) || !ef_parsed_set(out, name, strlen(name), v))
            out->skipped++;
    }
    return EF_PARSE_OK;
}
