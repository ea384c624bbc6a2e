/* Command payloads: the shapes and limits of cmd_json.h over the reader
 * of cmd_json_read.c. */
#include "gateway/command/cmd_json.h"

#include <string.h>

#include "gateway/command/cmd_json_read.h"

/* Object members: ON_MEMBER is called with r->p after the ':'. */
typedef int (*member_fn)(struct ef_jr *r, const char *name, size_t len, struct ef_cmd_msg *out,
                         unsigned *seen);

static int members(struct ef_jr *r, member_fn on_member, struct ef_cmd_msg *out, unsigned *seen)
{
    char name[EF_NAME_MAX + 1];
    size_t n;
    r->p++;
    ef_jr_ws(r);
    if (ef_jr_peek(r) == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        ef_jr_ws(r);
        if (ef_jr_peek(r) != '"')
            return ef_jr_syntax(r, "member name expected");
        if (ef_jr_string(r, name, sizeof name, &n) != 0 || ef_jr_expect(r, ':', "':' expected") != 0)
            return -1;
        if (on_member(r, name, n, out, seen) != 0)
            return -1;
        ef_jr_ws(r);
        if (ef_jr_peek(r) == ',') {
            r->p++;
            continue;
        }
        if (ef_jr_peek(r) == '}') {
            r->p++;
            return 0;
        }
        return ef_jr_syntax(r, "',' or '}' expected");
    }
}

static int values_member(struct ef_jr *r, const char *name, size_t n, struct ef_cmd_msg *out,
                         unsigned *seen)
{
    (void)seen;
    if (n != strlen(name) || !ef_cmd_name_ok(name, n))
        return ef_jr_fail(r, "a name in values is not a point name ([A-Za-z0-9_-], 1 to %d characters)",
                    EF_NAME_MAX);
    for (size_t i = 0; i < out->nitems; i++)
        if (strcmp(out->items[i].name, name) == 0)
            return ef_jr_fail(r, "point '%s' appears twice in values", name);
    if (out->nitems == EF_CMD_VALUES_MAX)
        return ef_jr_fail(r, "more than %d values", EF_CMD_VALUES_MAX);
    struct ef_cmd_item *it = &out->items[out->nitems++];
    memcpy(it->name, name, n + 1);
    return ef_jr_value(r, 2, &it->value);
}

static int id_member(struct ef_jr *r, struct ef_cmd_msg *out)
{
    size_t n;
    char id[EF_CMD_ID_MAX + 1];
    ef_jr_ws(r);
    if (ef_jr_peek(r) != '"')
        return ef_jr_fail(r, "id must be a string");
    if (ef_jr_string(r, id, sizeof id, &n) != 0)
        return -1;
    bool ok = n >= 1 && n <= EF_CMD_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = id[i] >= 0x20 && id[i] <= 0x7e;
    if (!ok)
        return ef_jr_fail(r, "id must be 1 to %d printable ASCII characters", EF_CMD_ID_MAX);
    memcpy(out->id, id, n + 1);
    out->has_id = true;
    return 0;
}

static int ts_member(struct ef_jr *r, struct ef_cmd_msg *out)
{
    struct ef_cmd_value v;
    ef_jr_ws(r);
    int c = ef_jr_peek(r);
    if (c != '-' && (c < '0' || c > '9'))
        return ef_jr_fail(r, "ts must be an integer (ms since the epoch)");
    if (ef_jr_number(r, &v) != 0)
        return -1;
    /* Whole and below 2^53, so the double is the literal itself (a larger
     * literal may have been rounded to a neighbour). */
    if (v.d < 0 || v.d >= 9007199254740992.0 || v.d != (double)(int64_t)v.d)
        return ef_jr_fail(r, "ts must be an integer (ms since the epoch)");
    out->ts_ms = (int64_t)v.d;
    out->has_ts = true;
    return 0;
}

enum { SEEN_VALUE = 1, SEEN_VALUES = 2, SEEN_ID = 4, SEEN_TS = 8 };

static int top_member(struct ef_jr *r, const char *name, size_t n, struct ef_cmd_msg *out,
                      unsigned *seen)
{
    static const char *const names[] = {"value", "values", "id", "ts"};
    unsigned which = 0;
    for (unsigned i = 0; i < 4; i++)
        if (n == strlen(names[i]) && strcmp(name, names[i]) == 0)
            which = 1u << i;
    if (!which) {
        bool printable = n == strlen(name) && ef_cmd_name_ok(name, n);
        return printable ? ef_jr_fail(r, "unknown member '%s'", name) : ef_jr_fail(r, "unknown member");
    }
    if (*seen & which)
        return ef_jr_fail(r, "duplicate member '%s'", name);
    *seen |= which;
    switch (which) {
    case SEEN_VALUE:
        if (out->multi)
            return ef_jr_fail(r, "\"value\" is for a point topic (P/G/set/D/X); a device topic takes "
                           "\"values\":{...}");
        out->nitems = 1;
        out->items[0].name[0] = '\0';
        return ef_jr_value(r, 1, &out->items[0].value);
    case SEEN_VALUES:
        if (!out->multi)
            return ef_jr_fail(r, "\"values\" is for a device topic (P/G/set/D); a point topic takes "
                           "\"value\"");
        ef_jr_ws(r);
        if (ef_jr_peek(r) != '{')
            return ef_jr_fail(r, "values must be an object of point names and values");
        if (members(r, values_member, out, seen) != 0)
            return -1;
        return out->nitems ? 0 : ef_jr_fail(r, "values is empty");
    case SEEN_ID:
        return id_member(r, out);
    default:
        return ts_member(r, out);
    }
}

int ef_cmd_parse(const char *payload, size_t len, bool multi, struct ef_cmd_msg *out, char *err,
                 size_t errlen)
{
    struct ef_jr r = {(const unsigned char *)payload, (const unsigned char *)payload,
                   (const unsigned char *)payload + len, err, errlen};
    out->multi = multi;
    out->has_id = out->has_ts = false;
    out->nitems = 0;
    if (len == 0)
        return ef_jr_fail(&r, "empty payload");
    if (len > EF_CMD_PAYLOAD_MAX)
        return ef_jr_fail(&r, "payload larger than %d bytes", EF_CMD_PAYLOAD_MAX);
    ef_jr_ws(&r);
    if (ef_jr_peek(&r) == '{') {
        unsigned seen = 0;
        if (members(&r, top_member, out, &seen) != 0)
            return -1;
        if (!(seen & (multi ? SEEN_VALUES : SEEN_VALUE)))
            return ef_jr_fail(&r, multi ? "missing member \"values\"" : "missing member \"value\"");
    } else if (multi) {
        return ef_jr_fail(&r, "a command on a device topic must be an object {\"values\":{...}}");
    } else {
        out->nitems = 1;
        out->items[0].name[0] = '\0';
        if (ef_jr_value(&r, 0, &out->items[0].value) != 0)
            return -1;
    }
    ef_jr_ws(&r);
    if (r.p != r.end)
        return ef_jr_syntax(&r, "trailing characters after the value");
    return 0;
}
