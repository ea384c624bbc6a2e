/* JSON payloads of the MQTT topics (INTERFACE.md "Topics and payloads").
 * Pure functions: they write into a caller's buffer and never allocate. */
#ifndef EF_NORTH_JSON_H
#define EF_NORTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/source.h"

/* A growable-by-nobody output buffer: writes past the end are counted, not
 * done, so one check at the end tells whether the payload fitted. */
struct ef_buf {
    char *data;
    size_t cap;
    size_t len; /* may exceed cap: then the content is truncated */
};

static inline void ef_buf_init(struct ef_buf *b, char *data, size_t cap)
{
    b->data = data;
    b->cap = cap;
    b->len = 0;
}

static inline bool ef_buf_ok(const struct ef_buf *b) { return b->len < b->cap; }

void ef_buf_put(struct ef_buf *b, const char *s, size_t n);
void ef_buf_puts(struct ef_buf *b, const char *s);
void ef_buf_int(struct ef_buf *b, int64_t v);
void ef_buf_uint(struct ef_buf *b, uint64_t v);

/* Writes a number so that it parses back to the same value: integers
 * exactly, a float32 in the shortest form that reads back as the same
 * float32, a double in the shortest form that reads back as the same double.
 * Non-finite values (JSON has none) are written as null. Returns the length
 * written into OUT (at most 31 characters plus the terminating NUL). */
size_t ef_format_double(char out[32], double v);
size_t ef_format_float(char out[32], float v);

/* Appends the N bytes at S as a JSON string: quotes and backslashes
 * escaped, control characters as \u00XX (NUL too), and every byte that is
 * not well-formed UTF-8 replaced by U+FFFD, so the payload is always valid
 * JSON in UTF-8. */
void ef_buf_json_string(struct ef_buf *b, const char *s, size_t n);

/* Appends a value as JSON (true/false, integer, number, string or null). */
void ef_buf_value(struct ef_buf *b, const struct ef_value *v);

/* {"ts":TS,"values":{"name":value,...}} for the readings whose INCLUDE flag
 * is set (all of them when INCLUDE is NULL). Names are point names, which
 * the configuration restricts to [A-Za-z0-9_-], so no escaping is needed. */
void ef_payload_telemetry(struct ef_buf *b, int64_t ts_ms, const struct ef_reading *r,
                          size_t n, const bool *include);

/* Alarm on a point: {"ts":..,"state":"active","kind":"high","value":..,"limit":..} */
void ef_payload_alarm(struct ef_buf *b, int64_t ts_ms, bool active, bool high,
                      const struct ef_value *value, double limit);

/* Device communication alarm: {"ts":..,"state":"active","kind":"offline"} */
void ef_payload_offline(struct ef_buf *b, int64_t ts_ms, bool active);

/* An alarm cleared because the configuration no longer has it (its device,
 * point or limit was removed, or its topic moved): there is no reading, so
 * no value or limit, only {"ts":..,"state":"cleared","kind":KIND,
 * "reason":"removed"}. KIND is "high", "low" or "offline". */
void ef_payload_alarm_removed(struct ef_buf *b, int64_t ts_ms, const char *kind);

#endif
