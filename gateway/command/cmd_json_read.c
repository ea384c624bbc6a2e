/* The pieces of a strict JSON reader (RFC 8259: UTF-8 checked, escapes
 * decoded, numbers by the grammar). Recursion only into containers, which
 * are limited to EF_CMD_DEPTH_MAX levels, so the stack use is bounded
 * whatever the input. */
#include "gateway/command/cmd_json_read.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ef_jr_fail(struct ef_jr *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int ef_jr_syntax(struct ef_jr *r, const char *what)
{
    return ef_jr_fail(r, "not JSON: %s at byte %zu", what, (size_t)(r->p - r->start));
}

void ef_jr_ws(struct ef_jr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

int ef_jr_peek(const struct ef_jr *r) { return r->p < r->end ? *r->p : -1; }

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

bool ef_cmd_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > EF_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

static bool word(struct ef_jr *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* Length of the well-formed UTF-8 sequence at P (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = end - p >= 4 ? 4 : (size_t)(end - p);
    unsigned lo = 0x80, hi = 0xbf;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

static int hex4(struct ef_jr *r, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++, r->p++) {
        int c = ef_jr_peek(r);
        unsigned d = is_digit(c) ? (unsigned)(c - '0')
                   : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                   : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10) : 16u;
        if (d == 16)
            return ef_jr_syntax(r, "\\u needs four hex digits");
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Appends N bytes to OUT (CAP bytes, NUL kept) or only counts them. */
static void put(char *out, size_t cap, size_t *len, const void *s, size_t n)
{
    if (out && *len + n < cap)
        memcpy(out + *len, s, n);
    *len += n;
}

static size_t utf8_encode(unsigned cp, unsigned char b[4])
{
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (unsigned char)(0xf0 | cp >> 18);
    b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    b[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

static int escape(struct ef_jr *r, unsigned *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int e = ef_jr_peek(r);
    const char *at = e > 0 ? strchr(from, e) : NULL;
    if (at && e != 0) {
        r->p++;
        *cp = (unsigned char)to[at - from];
        return 0;
    }
    if (e != 'u')
        return ef_jr_syntax(r, "unknown escape");
    r->p++;
    if (hex4(r, cp) != 0)
        return -1;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return ef_jr_syntax(r, "lone low surrogate");
    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        unsigned lo;
        if (!word(r, "\\u") || hex4(r, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
            return ef_jr_syntax(r, "high surrogate without its low half");
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return 0;
}

/* A string at r->p (the opening quote). Decoded into OUT (CAP bytes) when
 * OUT is not NULL; *LEN gets the decoded length even when it did not fit. */
int ef_jr_string(struct ef_jr *r, char *out, size_t cap, size_t *len)
{
    r->p++;
    *len = 0;
    for (;;) {
        int c = ef_jr_peek(r);
        if (c < 0)
            return ef_jr_syntax(r, "unterminated string");
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20)
            return ef_jr_syntax(r, "control character in a string");
        if (c == '\\') {
            r->p++;
            unsigned cp = 0;
            unsigned char b[4];
            if (escape(r, &cp) != 0)
                return -1;
            put(out, cap, len, b, utf8_encode(cp, b));
            continue;
        }
        size_t n = utf8_len(r->p, r->end);
        if (n == 0)
            return ef_jr_syntax(r, "invalid UTF-8");
        put(out, cap, len, r->p, n);
        r->p += n;
    }
    if (out)
        out[*len < cap ? *len : cap - 1] = '\0';
    return 0;
}

int ef_jr_number(struct ef_jr *r, struct ef_cmd_value *v)
{
    const unsigned char *s = r->p;
    bool integral = true;
    if (ef_jr_peek(r) == '-')
        r->p++;
    if (ef_jr_peek(r) == '0') {
        r->p++;
    } else if (is_digit(ef_jr_peek(r))) {
        while (is_digit(ef_jr_peek(r)))
            r->p++;
    } else {
        return ef_jr_syntax(r, "digit expected");
    }
    if (ef_jr_peek(r) == '.') {
        r->p++;
        integral = false;
        if (!is_digit(ef_jr_peek(r)))
            return ef_jr_syntax(r, "digit expected after '.'");
        while (is_digit(ef_jr_peek(r)))
            r->p++;
    }
    if (ef_jr_peek(r) == 'e' || ef_jr_peek(r) == 'E') {
        r->p++;
        integral = false;
        if (ef_jr_peek(r) == '+' || ef_jr_peek(r) == '-')
            r->p++;
        if (!is_digit(ef_jr_peek(r)))
            return ef_jr_syntax(r, "digit expected in the exponent");
        while (is_digit(ef_jr_peek(r)))
            r->p++;
    }
    size_t n = (size_t)(r->p - s);
    if (!v)
        return 0;
    if (n > EF_CMD_NUMBER_MAX)
        return ef_jr_fail(r, "number longer than %d characters", EF_CMD_NUMBER_MAX);
    memcpy(v->text, s, n);
    v->text[n] = '\0';
    errno = 0;
    double d = strtod(v->text, NULL);
    if (!isfinite(d) || (errno == ERANGE && fabs(d) >= 1))
        return ef_jr_fail(r, "number out of range: %s is beyond a double", v->text);
    /* A literal that underflowed to 0 is not 0 (1e-400 must not write 0);
     * subnormal results are kept: a float64 device may report one. */
    if (errno == ERANGE && d == 0)
        return ef_jr_fail(r, "number too small: %s underflows to 0", v->text);
    v->kind = EF_CMD_V_NUMBER;
    v->d = d == 0 ? 0.0 : d; /* -0 is 0 */
    v->integral_text = integral;
    return 0;
}

static int container(struct ef_jr *r, int depth);

/* Any JSON value at DEPTH; V (may be NULL) gets its kind and content. */
int ef_jr_value(struct ef_jr *r, int depth, struct ef_cmd_value *v)
{
    struct ef_cmd_value skip;
    if (!v)
        v = &skip;
    ef_jr_ws(r);
    int c = ef_jr_peek(r);
    size_t n;
    switch (c) {
    case '{':
    case '[':
        v->kind = EF_CMD_V_OTHER;
        return container(r, depth + 1);
    case '"':
        v->kind = EF_CMD_V_STRING;
        return ef_jr_string(r, NULL, 0, &n);
    case 't':
    case 'f':
        v->kind = EF_CMD_V_BOOL;
        v->b = c == 't';
        return word(r, c == 't' ? "true" : "false") ? 0 : ef_jr_syntax(r, "unknown word");
    case 'n':
        v->kind = EF_CMD_V_NULL;
        return word(r, "null") ? 0 : ef_jr_syntax(r, "unknown word");
    case -1:
        return ef_jr_syntax(r, "unexpected end");
    default:
        if (c == '-' || is_digit(c))
            return ef_jr_number(r, v == &skip ? NULL : v);
        return ef_jr_fail(r, "not JSON: unexpected byte 0x%02x at byte %zu", (unsigned)c,
                          (size_t)(r->p - r->start));
    }
}

int ef_jr_expect(struct ef_jr *r, int c, const char *what)
{
    ef_jr_ws(r);
    if (ef_jr_peek(r) != c)
        return ef_jr_syntax(r, what);
    r->p++;
    return 0;
}

/* An object or array at r->p, validated and thrown away. */
static int container(struct ef_jr *r, int depth)
{
    if (depth > EF_CMD_DEPTH_MAX)
        return ef_jr_fail(r, "nested deeper than %d levels", EF_CMD_DEPTH_MAX);
    bool object = *r->p == '{';
    int close = object ? '}' : ']';
    size_t n;
    r->p++;
    ef_jr_ws(r);
    if (ef_jr_peek(r) == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        if (object) {
            ef_jr_ws(r);
            if (ef_jr_peek(r) != '"')
                return ef_jr_syntax(r, "member name expected");
            if (ef_jr_string(r, NULL, 0, &n) != 0 || ef_jr_expect(r, ':', "':' expected") != 0)
                return -1;
        }
        if (ef_jr_value(r, depth, NULL) != 0)
            return -1;
        ef_jr_ws(r);
        if (ef_jr_peek(r) == ',') {
            r->p++;
            continue;
        }
        if (ef_jr_peek(r) == close) {
            r->p++;
            return 0;
        }
        return ef_jr_syntax(r, object ? "',' or '}' expected" : "',' or ']' expected");
    }
}

