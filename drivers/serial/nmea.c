#include "drivers/serial/nmea.h"
#include "drivers/serial/framing.h"

#include "common/round.h"

#include <math.h>
#include <string.h>

#define NMEA_FIELDS_MAX 24

struct field {
    const char *s;
    size_t len;
};

unsigned ef_nmea_checksum(const char *body, size_t len)
{
    unsigned x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= (unsigned char)body[i];
    return x;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Finds the body between '$' and '*' and checks the checksum. */
static bool sentence_body(const char *line, size_t len, const char **body, size_t *body_len)
{
    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len < 4 || line[0] != '$' || line[len - 3] != '*')
        return false;
    int hi = hexval(line[len - 2]), lo = hexval(line[len - 1]);
    if (hi < 0 || lo < 0)
        return false;
    *body = line + 1;
    *body_len = len - 4;
    if (memchr(*body, '*', *body_len) || memchr(*body, '$', *body_len))
        return false;
    return ef_nmea_checksum(*body, *body_len) == (unsigned)(hi * 16 + lo);
}

static size_t split(const char *s, size_t len, struct field *f, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || s[i] == ',') {
            f[n].s = s + start;
            f[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static bool field_number(struct field f, double *out)
{
    struct ef_value v;
    if (f.len == 0 || !ef_parse_number(f.s, f.len, &v))
        return false;
    *out = ef_value_as_double(&v);
    return true;
}

static bool field_int(struct field f, int64_t *out)
{
    struct ef_value v;
    if (f.len == 0 || !ef_parse_number(f.s, f.len, &v) || v.kind != EF_VAL_INT)
        return false;
    *out = v.as.i;
    return true;
}

/* ddmm.mmmm (or dddmm.mmmm) plus hemisphere -> signed degrees. Degrees and
 * minutes are split in the text, so no binary rounding creeps into them. */
static bool coordinate(struct field num, struct field hemi, bool is_lat, double *out)
{
    if (num.len == 0 || hemi.len != 1)
        return false;
    const char *dot = memchr(num.s, '.', num.len);
    size_t int_len = dot ? (size_t)(dot - num.s) : num.len;
    size_t deg_len = is_lat ? 2 : 3;
    if (int_len != deg_len + 2)
        return false;
    int deg = 0;
    for (size_t i = 0; i < deg_len; i++) {
        if (num.s[i] < '0' || num.s[i] > '9')
            return false;
        deg = deg * 10 + (num.s[i] - '0');
    }
    struct field mins = {num.s + deg_len, num.len - deg_len};
    double min;
    if (mins.s[0] < '0' || mins.s[0] > '9' || !field_number(mins, &min))
        return false;
    if (min >= 60.0 || deg > (is_lat ? 90 : 180))
        return false;
    char h = hemi.s[0];
    if (is_lat ? (h != 'N' && h != 'S') : (h != 'E' && h != 'W'))
        return false;
    double d = ef_round((deg + min / 60.0) * 1e9) / 1e9;
    *out = (h == 'S' || h == 'W') ? -d : d;
    return true;
}

static void put_double(struct ef_parsed *out, const char *name, double d)
{
    struct ef_value v = {.kind = EF_VAL_DOUBLE, .as.d = d};
    if (!ef_parsed_set(out, name, strlen(name), v))
        out->skipped++;
}

static void put_int(struct ef_parsed *out, const char *name, int64_t i)
{
    struct ef_value v = {.kind = EF_VAL_INT, .as.i = i};
    if (!ef_parsed_set(out, name, strlen(name), v))
        out->skipped++;
}

static void put_position(struct ef_parsed *out, const struct field *f)
{
    double lat, lon;
    if (coordinate(f[0], f[1], true, &lat) && coordinate(f[2], f[3], false, &lon)) {
        put_double(out, "lat", lat);
        put_double(out, "lon", lon);
    }
}

/* $--GGA,time,lat,N,lon,E,fix,sats,hdop,alt,M,geoid,M,age,station */
static void parse_gga(const struct field *f, size_t n, struct ef_parsed *out)
{
    if (n < 10)
        return;
    int64_t fix = 0, sats;
    bool has_fix = field_int(f[6], &fix);
    if (has_fix)
        put_int(out, "fix", fix);
    if (field_int(f[7], &sats))
        put_int(out, "sats", sats);
    if (!has_fix || fix <= 0)
        return; /* a receiver without fix may repeat its last position: not a reading */
    put_position(out, &f[2]);
    double alt;
    if (field_number(f[9], &alt))
        put_double(out, "alt", alt);
}

/* $--RMC,time,status,lat,N,lon,E,speed,course,date,magvar,E[,mode[,nav]] */
static void parse_rmc(const struct field *f, size_t n, struct ef_parsed *out)
{
    if (n < 9 || f[2].len != 1 || f[2].s[0] != 'A')
        return;
    put_position(out, &f[3]);
    double d;
    if (field_number(f[7], &d))
        put_double(out, "speed_kn", d);
    if (field_number(f[8], &d))
        put_double(out, "course", d);
}

int ef_nmea_parse(const char *line, size_t len, struct ef_parsed *out)
{
    ef_parsed_clear(out);
    const char *body;
    size_t body_len;
    /* A control byte inside a sentence is damage even when the checksum,
     * which covers it, agrees. */
    if (!ef_line_clean(line, len) || !sentence_body(line, len, &body, &body_len))
        return EF_PARSE_REJECT;
    struct field f[NMEA_FIELDS_MAX];
    size_t n = split(body, body_len, f, NMEA_FIELDS_MAX);
    if (f[0].len != 5)
        return EF_PARSE_IGNORED; /* proprietary ($PXXX) or odd addresses */
    for (size_t i = 0; i < 2; i++) {
        if (f[0].s[i] < 'A' || f[0].s[i] > 'Z')
            return EF_PARSE_IGNORED;
    }
    if (memcmp(f[0].s + 2, "GGA", 3) == 0) {
        parse_gga(f, n, out);
        return EF_PARSE_OK;
    }
    if (memcmp(f[0].s + 2, "RMC", 3) == 0) {
        parse_rmc(f, n, out);
        return EF_PARSE_OK;
    }
    return EF_PARSE_IGNORED;
}
