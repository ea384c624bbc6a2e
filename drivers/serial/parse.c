#include "drivers/serial/parse.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void ef_parsed_clear(struct ef_parsed *out)
{
    out->n = 0;
    out->skipped = 0;
}

bool ef_parsed_set(struct ef_parsed *out, const char *name, size_t name_len,
                   struct ef_value value)
{
    if (name_len > EF_NAME_MAX)
        return false;
    for (size_t i = 0; i < out->n; i++) {
        if (strncmp(out->items[i].name, name, name_len) == 0 &&
            out->items[i].name[name_len] == '\0') {
            out->items[i].value = value;
            return true;
        }
    }
    if (out->n >= EF_PARSED_MAX)
        return false;
    struct ef_parsed_item *it = &out->items[out->n++];
    memcpy(it->name, name, name_len);
    it->name[name_len] = '\0';
    it->value = value;
    return true;
}

const struct ef_value *ef_parsed_get(const struct ef_parsed *out, const char *name)
{
    for (size_t i = 0; i < out->n; i++) {
        if (strcmp(out->items[i].name, name) == 0)
            return &out->items[i].value;
    }
    return NULL;
}

/* strtod follows LC_NUMERIC; sensors always write '.', so convert in the C
 * locale whatever the process's locale is. Created once, kept for the
 * process's lifetime. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static size_t digits(const char *s, size_t i, size_t len)
{
    size_t start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i - start;
}

bool ef_parse_number(const char *s, size_t len, struct ef_value *out)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t int_digits = digits(s, i, len);
    i += int_digits;
    size_t frac_digits = 0;
    bool is_int = true;
    if (i < len && s[i] == '.') {
        is_int = false;
        i++;
        frac_digits = digits(s, i, len);
        i += frac_digits;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        is_int = false;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = digits(s, i, len);
        if (exp_digits == 0)
            return false;
        i += exp_digits;
    }
    if (i != len || len >= 64)
        return false; /* trailing junk, or longer than any sane reading */

    char buf[64];
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (is_int) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            out->kind = EF_VAL_INT;
            out->as.i = (int64_t)v;
            return true;
        }
    }
    pthread_once(&c_locale_once, make_c_locale);
    double d = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    if (!isfinite(d))
        return false; /* 1e999: no sensor means infinity */
    out->kind = EF_VAL_DOUBLE;
    out->as.d = d;
    return true;
}

bool ef_parse_scalar(const char *s, size_t len, struct ef_value *out)
{
    if (len == 4 && strncasecmp(s, "true", 4) == 0) {
        out->kind = EF_VAL_BOOL;
        out->as.b = true;
        return true;
    }
    if (len == 5 && strncasecmp(s, "false", 5) == 0) {
        out->kind = EF_VAL_BOOL;
        out->as.b = false;
        return true;
    }
    return ef_parse_number(s, len, out);
}

bool ef_parse_valid_name(const char *s, size_t len)
{
    if (len == 0 || len > EF_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}
