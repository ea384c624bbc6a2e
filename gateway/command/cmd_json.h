/* The payload of a command (P/G/set/D/X or P/G/set/D) read into a struct:
 * a small strict JSON reader for exactly the shapes a command may take.
 * Pure: no I/O, no allocation, bounded recursion.
 *
 *   point topic  P/G/set/D/X   21.5 | 7 | true | false
 *                              {"value":21.5, "id":"op-17", "ts":1764150000123}
 *   device topic P/G/set/D     {"values":{"mode":2,"setpoint":21.5}, "id":"op-18", "ts":...}
 *
 * "id" and "ts" are optional; "value"/"values" are required in the object
 * forms. Rules beyond JSON itself (each breach is an error, with a text
 * saying which):
 *   - the payload is 1..EF_CMD_PAYLOAD_MAX bytes of UTF-8 JSON, one value,
 *     nothing but blanks after it; containers nest at most EF_CMD_DEPTH_MAX;
 *   - unknown members and duplicate members are refused (a misspelt "id"
 *     must not silently turn off the duplicate check);
 *   - "id": a string of 1..EF_CMD_ID_MAX printable ASCII characters (after
 *     JSON escapes are decoded), so it can be logged and sent back safely;
 *   - "ts": an integer 0..2^53-1, milliseconds since the epoch;
 *   - "values": an object of 1..EF_CMD_VALUES_MAX members whose names are
 *     point names ([A-Za-z0-9_-]{1,64}), each at most once;
 *   - a number literal has at most EF_CMD_NUMBER_MAX characters and must be
 *     finite double that is not 0 by underflow (1e400 and 1e-400 are
 *     refused); -0 reads as 0.
 * A value's kind is kept as sent (string, null, object...): whether it fits
 * the point is decided later (cmd_encode.h), so that the error can say
 * "value must be a number" or "value must be true or false". */
#ifndef EF_CMD_JSON_H
#define EF_CMD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define EF_CMD_PAYLOAD_MAX 4096
#define EF_CMD_DEPTH_MAX 8
#define EF_CMD_ID_MAX 64
#define EF_CMD_VALUES_MAX 32
#define EF_CMD_NUMBER_MAX 64
#define EF_CMD_ERROR_MAX 160 /* room for any error text of this module */

enum ef_cmd_vkind {
    EF_CMD_V_NUMBER,
    EF_CMD_V_BOOL,
    EF_CMD_V_STRING,
    EF_CMD_V_NULL,
    EF_CMD_V_OTHER, /* an object or an array */
};

struct ef_cmd_value {
    enum ef_cmd_vkind kind;
    bool b;             /* BOOL */
    double d;           /* NUMBER: the literal read by strtod; finite, -0 made 0 */
    bool integral_text; /* NUMBER: the literal has no fraction and no exponent */
    char text[EF_CMD_NUMBER_MAX + 1]; /* NUMBER: the literal as sent, for exact
                                       * 64-bit integers (strtoll/strtoull) */
};

struct ef_cmd_item {
    char name[EF_NAME_MAX + 1]; /* point name; "" for the point topic's one value */
    struct ef_cmd_value value;
};

struct ef_cmd_msg {
    bool multi; /* read as a device-topic command */
    bool has_id;
    char id[EF_CMD_ID_MAX + 1];
    bool has_ts;
    int64_t ts_ms;
    size_t nitems; /* 1 for a point topic; 1..EF_CMD_VALUES_MAX for a device topic */
    struct ef_cmd_item items[EF_CMD_VALUES_MAX];
};

/* True when the N bytes at S are a name: [A-Za-z0-9_-]{1,64}. */
bool ef_cmd_name_ok(const char *s, size_t n);

/* Reads PAYLOAD (LEN bytes, not NUL-terminated) as the command of a device
 * topic (MULTI) or of a point topic. Returns 0, or -1 with the reason in ERR
 * (ERRLEN bytes, EF_CMD_ERROR_MAX is enough). Even on -1, OUT->has_id/id are
 * set when a valid "id" was read before the error, so the refusal can carry
 * it; everything else in OUT is then unspecified. */
int ef_cmd_parse(const char *payload, size_t len, bool multi, struct ef_cmd_msg *out, char *err,
                 size_t errlen);

#endif
