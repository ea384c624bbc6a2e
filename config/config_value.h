/* Pure parsers for single ini values (no I/O, no allocation).
 *
 * Every function returns 0 on success and -1 on a bad value, in which case
 * it writes a short human-readable reason (no trailing period, no key name)
 * into ERR (ERRLEN bytes). The key table (config_keys.c) wraps these. */
#ifndef EF_CONFIG_VALUE_H
#define EF_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>

/* Decimal integer in [MIN, MAX]; rejects empty text, junk, overflow. */
int ef_cv_int(const char *s, long long min, long long max, long long *out, char *err,
              size_t errlen);

/* Finite decimal number in [MIN, MAX]; rejects junk, nan, inf and hex. */
int ef_cv_double(const char *s, double min, double max, double *out, char *err,
                 size_t errlen);

/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int ef_cv_bool(const char *s, bool *out, char *err, size_t errlen);

/* True when S matches [A-Za-z0-9_-]{1,64}. */
bool ef_cv_is_name(const char *s);

/* "coil:N", "discrete:N", "input:N" or "holding:N", N in 0..65535.
 * KIND receives an enum ef_reg_kind value. */
int ef_cv_register(const char *s, int *kind, unsigned *address, char *err, size_t errlen);

/* MQTT broker URI: tcp|mqtt|ssl|mqtts://HOST:PORT, ws|wss://HOST:PORT[/PATH].
 * HOST may be a bracketed IPv6 literal. *TLS tells whether the scheme uses TLS. */
int ef_cv_uri(const char *s, bool *tls, char *err, size_t errlen);
/* [mqtt] uri: one or more URIs separated by blanks, each checked as by
 * ef_cv_uri, at most EF_MQTT_URIS_MAX, none twice. COUNT (if given) gets
 * how many; ANY_TLS whether one of them is a TLS URI. */
int ef_cv_uri_list(const char *s, size_t *count, bool *any_tls, char *err, size_t errlen);
/* The next URI of the list at *S: sets *START, returns its length (0 at
 * the end) and moves *S past it. */
size_t ef_cv_uri_next(const char **s, const char **start);

/* Topic prefix: non-empty, no leading/trailing '/', no empty level, no '+'
 * or '#', no control characters. */
int ef_cv_topic_prefix(const char *s, char *err, size_t errlen);

/* Decodes \r \n \t \\ and \xHH into OUT (CAP bytes); *LEN gets the length. */
int ef_cv_unescape(const char *s, unsigned char *out, size_t cap, size_t *len, char *err,
                   size_t errlen);

/* Edit distance between two short strings (for "did you mean" hints);
 * strings longer than 64 characters count as far apart. */
unsigned ef_cv_distance(const char *a, const char *b);

#endif
