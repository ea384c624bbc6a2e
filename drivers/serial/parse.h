/* What the serial line parsers (nmea, kv, csv) produce, and the helpers they
 * share. Everything here is pure: no I/O, no logging, no allocation, so the
 * parsers are table-tested and fuzzed directly.
 *
 * A parser takes one line without its terminator (as ef_framer delivers it)
 * and fills a struct ef_parsed owned by the caller. Names are copied into the
 * result, so it stays valid after the line buffer is reused. */
#ifndef EF_SERIAL_PARSE_H
#define EF_SERIAL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "drivers/source.h"

/* Most values one line can give; more are dropped and counted in skipped. */
#define EF_PARSED_MAX 64

/* Return codes shared by all parsers. */
enum ef_parse_rc {
    EF_PARSE_OK = 0,      /* a valid line; out->n may still be 0 (e.g. GPS without fix) */
    EF_PARSE_IGNORED = 1, /* a valid line that carries nothing for us (NMEA GSV, ...) */
    EF_PARSE_REJECT = -1, /* a corrupt line: bad checksum, wrong field count, ... */
};

struct ef_parsed_item {
    char name[EF_NAME_MAX + 1];
    struct ef_value value;
};

struct ef_parsed {
    size_t n;
    struct ef_parsed_item items[EF_PARSED_MAX];
    /* Parts of an accepted line that were left out: kv pairs that are not
     * name=value with a valid name and value, csv fields that are not
     * numbers, items beyond EF_PARSED_MAX. */
    unsigned skipped;
};

/* Empties a result (the parsers call it first). */
void ef_parsed_clear(struct ef_parsed *out);

/* Sets NAME to VALUE: replaces an earlier item of the same name (the later
 * value in a line wins), else appends. Returns false when full. */
bool ef_parsed_set(struct ef_parsed *out, const char *name, size_t name_len,
                   struct ef_value value);

/* The value of NAME, or NULL. */
const struct ef_value *ef_parsed_get(const struct ef_parsed *out, const char *name);

/* Parses exactly LEN bytes as a plain decimal number:
 * [+-]digits[.digits][(e|E)[+-]digits] with at least one digit before or after
 * the point. Without '.' and exponent it is an exact EF_VAL_INT (falling back
 * to EF_VAL_DOUBLE when it does not fit in int64); otherwise EF_VAL_DOUBLE.
 * No whitespace, hex, inf or nan, and no dependence on the locale.
 * Returns true and sets *out, or false. */
bool ef_parse_number(const char *s, size_t len, struct ef_value *out);

/* A number as above, or "true"/"false" (any case) as EF_VAL_BOOL. */
bool ef_parse_scalar(const char *s, size_t len, struct ef_value *out);

/* True when S[0..LEN) matches [A-Za-z0-9_-]{1,64}. */
bool ef_parse_valid_name(const char *s, size_t len);

#endif
