#include "drivers/serial/kv.h"
#include "drivers/serial/framing.h"

#include <string.h>

static bool is_sep(char c) { return c == ' ' || c == '\t' || c == ',' || c == ';'; }

/* Returns true when the pair was well formed. */
static bool parse_pair(const char *s, size_t len, struct ef_parsed *out)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return false;
    size_t name_len = (size_t)(eq - s);
    const char *val = eq + 1;
    size_t val_len = len - name_len - 1;
    if (!ef_parse_valid_name(s, name_len))
        return false;
    if (val_len == 0)
        return true; /* reported without a value: absent, not zero */
    struct ef_value v;
    if (!ef_parse_scalar(val, val_len, &v))
        return false;
    if (!ef_parsed_set(out, s, name_len, v))
        out->skipped++; /* well formed, but the result is full */
    return true;
}

int ef_kv_parse(const char *line, size_t len, struct ef_parsed *out)
{
    ef_parsed_clear(out);
    if (!ef_line_clean(line, len))
        return EF_PARSE_REJECT; /* noise could pass for a pair: take nothing */
    size_t good = 0, i = 0;
    while (i < len) {
        while (i < len && is_sep(line[i]))
            i++;
        size_t start = i;
        while (i < len && !is_sep(line[i]))
            i++;
        if (i == start)
            break;
        if (parse_pair(line + start, i - start, out))
            good++;
        else
            out->skipped++;
    }
    return good > 0 ? EF_PARSE_OK : EF_PARSE_REJECT;
}
