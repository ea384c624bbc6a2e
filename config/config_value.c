/* Pure value parsers for the configuration loader; see config_value.h. */
#include "config/config_value.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int ef_cv_int(const char *s, long long min, long long max, long long *out, char *err,
              size_t errlen)
{
    /* strtoll skips leading blanks and accepts "0x"; neither is wanted here. */
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p)) {
        snprintf(err, errlen, "'%s' is not an integer", s);
        return -1;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0') {
        snprintf(err, errlen, "'%s' is not an integer", s);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        snprintf(err, errlen, "%s is out of range %lld..%lld", s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int ef_cv_double(const char *s, double min, double max, double *out, char *err,
                 size_t errlen)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    /* Only plain decimal notation: no nan, inf, hex floats or leading blanks. */
    if (!(isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) ||
        strpbrk(s, "xX") != NULL) {
        snprintf(err, errlen, "'%s' is not a number", s);
        return -1;
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (*end != '\0') {
        snprintf(err, errlen, "'%s' is not a number", s);
        return -1;
    }
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0)) {
        snprintf(err, errlen, "%s is too large", s);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s is out of range %g..%g", s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int ef_cv_bool(const char *s, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(err, errlen, "'%s' is not a boolean (use true or false)", s);
    return -1;
}

bool ef_cv_is_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '_' || c == '-'))
            return false;
    }
    return n >= 1 && n <= EF_NAME_MAX;
}

int ef_cv_register(const char *s, int *kind, unsigned *address, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        enum ef_reg_kind kind;
    } kinds[] = {{"coil", EF_REG_COIL},
                 {"discrete", EF_REG_DISCRETE},
                 {"input", EF_REG_INPUT},
                 {"holding", EF_REG_HOLDING}};
    const char *colon = strchr(s, ':');
    for (size_t i = 0; colon && i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].name);
        if ((size_t)(colon - s) != n || strncmp(s, kinds[i].name, n) != 0)
            continue;
        long long v;
        char why[128];
        if (ef_cv_int(colon + 1, 0, 65535, &v, why, sizeof why) != 0) {
            snprintf(err, errlen, "address %s", why);
            return -1;
        }
        *kind = (int)kinds[i].kind;
        *address = (unsigned)v;
        return 0;
    }
    snprintf(err, errlen, "'%s' is not KIND:ADDRESS with KIND coil, discrete, input or holding",
             s);
    return -1;
}

/* HOST:PORT at the start of S; returns a pointer past the port, or NULL. */
static const char *parse_host_port(const char *s, char *err, size_t errlen)
{
    const char *colon;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1 || close[1] != ':') {
            fail(err, errlen, "bad IPv6 address: use [ADDRESS]:PORT");
            return NULL;
        }
        colon = close + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == s || (colon == NULL && *s == '\0')) {
            fail(err, errlen, "the host is missing");
            return NULL;
        }
        for (const char *p = s; p < (colon ? colon : s + strlen(s)); p++) {
            if (*p == '/' || *p == '@' || isspace((unsigned char)*p) || iscntrl((unsigned char)*p)) {
                fail(err, errlen, "the host contains a character that is not allowed");
                return NULL;
            }
        }
        if (!colon) {
            fail(err, errlen, "the port is missing (HOST:PORT)");
            return NULL;
        }
    }
    char digits[8] = "";
    size_t n = strcspn(colon + 1, "/");
    if (n == 0 || n >= sizeof digits) {
        fail(err, errlen, "the port must be a number 1..65535");
        return NULL;
    }
    memcpy(digits, colon + 1, n);
    digits[n] = '\0';
    long long port;
    char why[64];
    if (ef_cv_int(digits, 1, 65535, &port, why, sizeof why) != 0 || digits[0] == '+' ||
        digits[0] == '-') {
        fail(err, errlen, "the port must be a number 1..65535");
        return NULL;
    }
    return colon + 1 + n;
}

int ef_cv_uri(const char *s, bool *tls, char *err, size_t errlen)
{
    static const struct {
        const char *scheme;
        bool tls;
        bool path;
    } schemes[] = {{"tcp", false, false}, {"mqtt", false, false}, {"ssl", true, false},
                   {"mqtts", true, false}, {"ws", false, true},   {"wss", true, true}};
    const char *sep = strstr(s, "://");
    for (size_t i = 0; sep && i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if ((size_t)(sep - s) != n || strncmp(s, schemes[i].scheme, n) != 0)
            continue;
        const char *rest = parse_host_port(sep + 3, err, errlen);
        if (!rest)
            return -1;
        if (*rest != '\0' && !schemes[i].path)
            return fail(err, errlen, "only ws:// and wss:// URIs may have a path");
        for (const char *p = rest; *p; p++)
            if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
                return fail(err, errlen, "the path contains blanks or control characters");
        *tls = schemes[i].tls;
        return 0;
    }
    return fail(err, errlen,
                "the scheme must be tcp://, mqtt://, ssl://, mqtts://, ws:// or wss://");
}

size_t ef_cv_uri_next(const char **s, const char **start)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    *start = p;
    size_t n = strcspn(p, " \t");
    *s = p + n;
    return n;
}

int ef_cv_uri_list(const char *s, size_t *count, bool *any_tls, char *err, size_t errlen)
{
    const char *seen[EF_MQTT_URIS_MAX];
    size_t seen_len[EF_MQTT_URIS_MAX];
    size_t n = 0, len;
    const char *u;
    *any_tls = false;
    while ((len = ef_cv_uri_next(&s, &u)) > 0) {
        if (n == EF_MQTT_URIS_MAX) {
            snprintf(err, errlen, "more than %d URIs", EF_MQTT_URIS_MAX);
            return -1;
        }
        char one[EF_STR_MAX];
        char why[160];
        bool tls;
        snprintf(one, sizeof one, "%.*s", (int)len, u);
        if (ef_cv_uri(one, &tls, why, sizeof why) != 0) {
            if (n == 0 && *s == '\0')
                return fail(err, errlen, why); /* one URI: the message as it always was */
            snprintf(err, errlen, "URI %zu (%s): %s", n + 1, one, why);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (seen_len[i] == len && strncmp(seen[i], u, len) == 0) {
                snprintf(err, errlen, "URI %zu (%s) is listed twice", n + 1, one);
                return -1;
            }
        seen[n] = u;
        seen_len[n++] = len;
        *any_tls = *any_tls || tls;
    }
    if (n == 0)
        return fail(err, errlen, "no URI given");
    if (count)
        *count = n;
    return 0;
}

int ef_cv_topic_prefix(const char *s, char *err, size_t errlen)
{
    if (*s == '\0')
        return fail(err, errlen, "must not be empty");
    if (s[0] == '/' || s[strlen(s) - 1] == '/')
        return fail(err, errlen, "must not start or end with '/'");
    if (strstr(s, "//"))
        return fail(err, errlen, "must not contain an empty level ('//')");
    if (strpbrk(s, "+#"))
        return fail(err, errlen, "must not contain the wildcards '+' or '#'");
    for (const char *p = s; *p; p++)
        if (iscntrl((unsigned char)*p))
            return fail(err, errlen, "must not contain control characters");
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

int ef_cv_unescape(const char *s, unsigned char *out, size_t cap, size_t *len, char *err,
                   size_t errlen)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '\\': c = '\\'; break;
            case 'x': {
                int hi = p[1] ? hexval(p[1]) : -1;
                int lo = hi >= 0 && p[2] ? hexval(p[2]) : -1;
                if (lo < 0)
                    return fail(err, errlen, "\\x must be followed by two hex digits");
                c = (unsigned char)(hi * 16 + lo);
                p += 2;
                break;
            }
            case '\0':
                return fail(err, errlen, "a lone '\\' ends the text (write \\\\ for a backslash)");
            default:
                snprintf(err, errlen, "unknown escape '\\%c' (use \\r \\n \\t \\\\ or \\xHH)", *p);
                return -1;
            }
        }
        if (n >= cap) {
            snprintf(err, errlen, "longer than %zu bytes", cap);
            return -1;
        }
        out[n++] = c;
    }
    if (n == 0)
        return fail(err, errlen, "must not be empty");
    *len = n;
    return 0;
}

unsigned ef_cv_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    unsigned row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            unsigned best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
