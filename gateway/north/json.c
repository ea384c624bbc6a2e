#include "gateway/north/json.h"

#include "common/round.h"
#include "common/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ef_buf_put(struct ef_buf *b, const char *s, size_t n)
{
    if (b->len + n < b->cap)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    if (b->len < b->cap)
        b->data[b->len] = '\0';
}

void ef_buf_puts(struct ef_buf *b, const char *s) { ef_buf_put(b, s, strlen(s)); }

/* Digits of V into the end of TMP; returns the first digit's position. */
static char *utoa_rev(char *end, uint64_t v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}

void ef_buf_uint(struct ef_buf *b, uint64_t v)
{
    char tmp[24];
    char *p = utoa_rev(tmp + sizeof tmp, v);
    ef_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

void ef_buf_int(struct ef_buf *b, int64_t v)
{
    if (v < 0) {
        ef_buf_put(b, "-", 1);
        ef_buf_uint(b, (uint64_t)0 - (uint64_t)v); /* safe for INT64_MIN */
    } else {
        ef_buf_uint(b, (uint64_t)v);
    }
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

/* Fast path for the common case of a value with few decimals (230.1,
 * -12.75): finds the fewest decimals K such that round(v * 10^K) / 10^K is
 * exactly V again, and prints that integer with a decimal point. Both the
 * division and strtod of the printed text are correctly rounded results of
 * the same exact quotient, so equality here means the text reads back as V.
 * Returns 0 when no such K <= 8 exists (the caller falls back to %g). */
static size_t fixed_short(char out[32], double v)
{
    double a = fabs(v);
    if (!(a < 1e9) || (a != 0 && a < 1e-4))
        return 0;
    for (int k = 0; k <= 8; k++) {
        double scaled = a * pow10_tab[k];
        double r = ef_round(scaled);
        if (r >= 9007199254740992.0) /* 2^53: integer no longer exact */
            return 0;
        if (r / pow10_tab[k] != a)
            continue;
        char tmp[32];
        char *end = tmp + sizeof tmp;
        char *p = utoa_rev(end, (uint64_t)r);
        size_t nd = (size_t)(end - p);
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        if (k == 0) {
            memcpy(out + n, p, nd);
            n += nd;
        } else if (nd > (size_t)k) {
            memcpy(out + n, p, nd - (size_t)k);
            n += nd - (size_t)k;
            out[n++] = '.';
            memcpy(out + n, p + nd - (size_t)k, (size_t)k);
            n += (size_t)k;
        } else {
            out[n++] = '0';
            out[n++] = '.';
            for (size_t z = nd; z < (size_t)k; z++)
                out[n++] = '0';
            memcpy(out + n, p, nd);
            n += nd;
        }
        out[n] = '\0';
        return n;
    }
    return 0;
}

size_t ef_format_double(char out[32], double v)
{
    if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    if (v == 0) { /* also -0.0: JSON readers treat "0" and "-0" alike */
        memcpy(out, signbit(v) ? "-0" : "0", signbit(v) ? 3 : 2);
        return signbit(v) ? 2 : 1;
    }
    size_t n = fixed_short(out, v);
    if (n)
        return n;
    /* DBL_DIG (15) significant digits always identify at most one double, so
     * the first precision from 15 up that reads back is the shortest. */
    for (int prec = 15; prec <= 17; prec++) {
        int len = snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return (size_t)len;
    }
    return (size_t)snprintf(out, 32, "%.17g", v);
}

size_t ef_format_float(char out[32], float v)
{
    if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    if (v == 0) {
        memcpy(out, signbit(v) ? "-0" : "0", signbit(v) ? 3 : 2);
        return signbit(v) ? 2 : 1;
    }
    /* Fast path, then one strtof to confirm: the fixed-point candidate is
     * computed in double, and a float rounding of it could differ from
     * strtof's in a halfway case. */
    char cand[32];
    double a = fabs((double)v);
    if (a < 1e7 && a >= 1e-4) {
        for (int k = 0; k <= 8; k++) {
            double r = ef_round(a * pow10_tab[k]);
            if ((float)(r / pow10_tab[k]) == fabsf(v)) {
                size_t n = fixed_short(cand, (v < 0 ? -r : r) / pow10_tab[k]);
                if (n && strtof(cand, NULL) == v) {
                    memcpy(out, cand, n + 1);
                    return n;
                }
                break;
            }
        }
    }
    /* FLT_DIG (6) digits identify at most one float: start there. */
    for (int prec = 6; prec <= 9; prec++) {
        int len = snprintf(out, 32, "%.*g", prec, (double)v);
        if (strtof(out, NULL) == v)
            return (size_t)len;
    }
    return (size_t)snprintf(out, 32, "%.9g", (double)v);
}

void ef_buf_json_string(struct ef_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    ef_buf_put(b, "\"", 1);
    size_t run = 0; /* bytes from i - run on that go out as they are */
    for (size_t i = 0; i < n;) {
        size_t k = ef_utf8_seq(u + i, n - i);
        if (k == 1 && u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
            run++;
            i++;
            continue;
        }
        if (k > 1) {
            run += k;
            i += k;
            continue;
        }
        ef_buf_put(b, s + i - run, run);
        run = 0;
        if (k == 0) {
            ef_buf_puts(b, EF_UTF8_REPLACEMENT);
        } else if (u[i] == '"' || u[i] == '\\') {
            char esc[2] = {'\\', (char)u[i]};
            ef_buf_put(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[u[i] >> 4], hex[u[i] & 15]};
            ef_buf_put(b, esc, 6);
        }
        i++;
    }
    ef_buf_put(b, s + n - run, run);
    ef_buf_put(b, "\"", 1);
}

void ef_buf_value(struct ef_buf *b, const struct ef_value *v)
{
    char tmp[32];
    switch (v->kind) {
    case EF_VAL_BOOL:
        ef_buf_puts(b, v->as.b ? "true" : "false");
        return;
    case EF_VAL_INT:
        ef_buf_int(b, v->as.i);
        return;
    case EF_VAL_UINT:
        ef_buf_uint(b, v->as.u);
        return;
    case EF_VAL_FLOAT:
        ef_buf_put(b, tmp, ef_format_float(tmp, v->as.f));
        return;
    case EF_VAL_DOUBLE:
        ef_buf_put(b, tmp, ef_format_double(tmp, v->as.d));
        return;
    case EF_VAL_STRING:
        ef_buf_json_string(b, v->as.s.p, v->as.s.len);
        return;
    }
    ef_buf_puts(b, "null");
}

/* One `"name":value` member written straight into the buffer, for the
 * common case that it surely fits: this is the gateway's hottest loop (one
 * pass per reading), and going through ef_buf_put costs a call, a memcpy
 * and a terminator per piece. Returns false, writing nothing, when the
 * member might not fit or is not an integer; the caller then takes the
 * general path, which also counts an overflow. */
static bool member_fast(struct ef_buf *b, bool comma, const char *name, size_t nlen,
                        const struct ef_value *v)
{
    uint64_t u;
    bool neg = false;
    if (v->kind == EF_VAL_UINT) {
        u = v->as.u;
    } else if (v->kind == EF_VAL_INT) {
        neg = v->as.i < 0;
        u = neg ? (uint64_t)0 - (uint64_t)v->as.i : (uint64_t)v->as.i;
    } else {
        return false;
    }
    /* comma, two quotes, colon, sign, 20 digits, terminator */
    if (b->len > b->cap || b->cap - b->len < nlen + 26)
        return false;
    char *p = b->data + b->len;
    if (comma)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = '"';
    *p++ = ':';
    if (neg)
        *p++ = '-';
    char tmp[24];
    char *d = utoa_rev(tmp + sizeof tmp, u);
    while (d < tmp + sizeof tmp)
        *p++ = *d++;
    *p = '\0';
    b->len = (size_t)(p - b->data);
    return true;
}

void ef_payload_telemetry(struct ef_buf *b, int64_t ts_ms, const struct ef_reading *r,
                          size_t n, const bool *include)
{
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, ts_ms);
    ef_buf_puts(b, ",\"values\":{");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (include && !include[i])
            continue;
        size_t nlen = strlen(r[i].name);
        if (!member_fast(b, !first, r[i].name, nlen, &r[i].value)) {
            if (!first)
                ef_buf_put(b, ",", 1);
            ef_buf_put(b, "\"", 1);
            ef_buf_put(b, r[i].name, nlen);
            ef_buf_put(b, "\":", 2);
            ef_buf_value(b, &r[i].value);
        }
        first = false;
    }
    ef_buf_puts(b, "}}");
}

void ef_payload_alarm(struct ef_buf *b, int64_t ts_ms, bool active, bool high,
                      const struct ef_value *value, double limit)
{
    char tmp[32];
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, ts_ms);
    ef_buf_puts(b, active ? ",\"state\":\"active\"" : ",\"state\":\"cleared\"");
    ef_buf_puts(b, high ? ",\"kind\":\"high\",\"value\":" : ",\"kind\":\"low\",\"value\":");
    ef_buf_value(b, value);
    ef_buf_puts(b, ",\"limit\":");
    ef_buf_put(b, tmp, ef_format_double(tmp, limit));
    ef_buf_puts(b, "}");
}

void ef_payload_offline(struct ef_buf *b, int64_t ts_ms, bool active)
{
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, ts_ms);
    ef_buf_puts(b, active ? ",\"state\":\"active\",\"kind\":\"offline\"}"
                          : ",\"state\":\"cleared\",\"kind\":\"offline\"}");
}

void ef_payload_alarm_removed(struct ef_buf *b, int64_t ts_ms, const char *kind)
{
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, ts_ms);
    ef_buf_puts(b, ",\"state\":\"cleared\",\"kind\":\"");
    ef_buf_puts(b, kind);
    ef_buf_puts(b, "\",\"reason\":\"removed\"}");
}
