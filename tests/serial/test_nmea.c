/* NMEA: checksums enforced, GGA/RMC from any talker, signed decimal degrees,
 * empty fields give no value, RMC 'V' and GGA without fix give no position. */
#include "drivers/serial/nmea.h"
#include "drivers/serial/framing.h"
#include "expect.h"

static const struct {
    const char *line;
    int rc;
    struct expect want[EXPECT_MAX];
} cases[] = {
    {"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
     EF_PARSE_OK,
     {XD("lat", 48.1173), XD("lon", 11.516666667), XD("alt", 545.4), XI("sats", 8),
      XI("fix", 1)}},
    /* lowercase checksum digits, surrounding blanks */
    {"  $GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47 ",
     EF_PARSE_OK,
     {XD("lat", 48.1173), XD("lon", 11.516666667), XD("alt", 545.4), XI("sats", 8),
      XI("fix", 1)}},
    /* southern hemisphere, another talker, negative altitude */
    {"$GNGGA,123519,3352.128,S,15112.558,E,2,12,0.8,-12.5,M,20.1,M,,*5E",
     EF_PARSE_OK,
     {XD("lat", -33.8688), XD("lon", 151.2093), XD("alt", -12.5), XI("sats", 12),
      XI("fix", 2)}},
    {"$gngga,123519,3352.128,S,15112.558,E,2,12,0.8,-12.5,M,20.1,M,,*5e", EF_PARSE_REJECT, {{0}}},
    /* no fix yet: empty fields give nothing, not zeros */
    {"$GPGGA,123519,,,,,0,00,,,M,,M,,*6B", EF_PARSE_OK, {XI("fix", 0), XI("sats", 0)}},
    /* fix 0 with a stale position: the position is not a reading */
    {"$GPGGA,123519,4807.038,N,01131.000,E,0,03,,545.4,M,,M,,*7F",
     EF_PARSE_OK,
     {XI("fix", 0), XI("sats", 3)}},
    {"$GPRMC,123519,A,4807.038,N,01131.000,W,022.4,084.4,230394,003.1,W*78",
     EF_PARSE_OK,
     {XD("lat", 48.1173), XD("lon", -11.516666667), XD("speed_kn", 22.4), XD("course", 84.4)}},
    {"$GPRMC,123519,V,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*7D", EF_PARSE_OK, {{0}}},
    {"$GNRMC,123519,A,4807.038,N,01131.000,E,,,230394,,,A*6E",
     EF_PARSE_OK,
     {XD("lat", 48.1173), XD("lon", 11.516666667)}},
    /* other sentences: valid but nothing for us */
    {"$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74", EF_PARSE_IGNORED,
     {{0}}},
    /* malformed coordinates: no position, the rest stays */
    {"$GPGGA,123519,48x7.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*0F",
     EF_PARSE_OK,
     {XD("alt", 545.4), XI("sats", 8), XI("fix", 1)}},
    {"$GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*51",
     EF_PARSE_OK,
     {XD("alt", 545.4), XI("sats", 8), XI("fix", 1)}},
    {"$GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*41",
     EF_PARSE_OK,
     {XD("alt", 545.4), XI("sats", 8), XI("fix", 1)}},
    /* checksum wrong, missing, garbled, or not a sentence at all */
    {"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48", EF_PARSE_REJECT, {{0}}},
    {"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", EF_PARSE_REJECT, {{0}}},
    {"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*4", EF_PARSE_REJECT, {{0}}},
    {"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*G7", EF_PARSE_REJECT, {{0}}},
    {"GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", EF_PARSE_REJECT, {{0}}},
    {"$*00", EF_PARSE_IGNORED, {{0}}},
    {"", EF_PARSE_REJECT, {{0}}},
    {"T=21.5", EF_PARSE_REJECT, {{0}}},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ef_parsed out;
        char what[32];
        snprintf(what, sizeof what, "case %zu", i);
        int rc = ef_nmea_parse(cases[i].line, strlen(cases[i].line), &out);
        CHECK_MSG(rc == cases[i].rc, "%s: rc %d want %d", what, rc, cases[i].rc);
        expect_values(what, &out, cases[i].want);
    }
}

/* Every talker is accepted: the same GGA body under GN, GL, GA, BD, GB, QZ. */
static void test_talkers(void)
{
    static const char *talkers[] = {"GP", "GN", "GL", "GA", "BD", "GB", "QZ"};
    for (size_t t = 0; t < sizeof talkers / sizeof talkers[0]; t++) {
        char body[128], line[140];
        snprintf(body, sizeof body, "%sGGA,000001,4807.038,N,01131.000,E,1,05,1.0,10.0,M,,M,,",
                 talkers[t]);
        snprintf(line, sizeof line, "$%s*%02X", body, ef_nmea_checksum(body, strlen(body)));
        struct ef_parsed out;
        CHECK_MSG(ef_nmea_parse(line, strlen(line), &out) == EF_PARSE_OK, "%s", line);
        struct expect want[EXPECT_MAX] = {XD("lat", 48.1173), XD("lon", 11.516666667),
                                          XD("alt", 10.0), XI("sats", 5), XI("fix", 1)};
        expect_values(talkers[t], &out, want);
    }
}

/* A control byte rejects a sentence even when the checksum, recomputed
 * over the damaged body, agrees: before '$', inside the body, after the sum. */
static void test_control_bytes(void)
{
    static const char body[] = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,";
    for (int c = 0; c < 256; c++) {
        if (ef_line_byte_ok((unsigned char)c) || c == '*' || c == '$')
            continue;
        static const size_t at[] = {0, 6, 13, sizeof body - 1};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            char damaged[96], line[112];
            size_t n = with_byte(damaged, body, sizeof body - 1, at[k], (unsigned char)c);
            line[0] = '$'; /* memcpy, not %s: the byte may be a NUL */
            memcpy(line + 1, damaged, n);
            int len = 1 + (int)n + snprintf(line + 1 + n, sizeof line - 1 - n, "*%02X",
                                            ef_nmea_checksum(damaged, n));
            struct ef_parsed out;
            int rc = ef_nmea_parse(line, (size_t)len, &out);
            CHECK_MSG(rc == EF_PARSE_REJECT && out.n == 0, "byte 0x%02x at %zu: rc %d", c,
                      at[k], rc);
        }
        /* before the '$' and after the checksum */
        char line[112];
        int len = snprintf(line, sizeof line, "x$%s*%02X", body,
                           ef_nmea_checksum(body, sizeof body - 1));
        line[0] = (char)c;
        struct ef_parsed out;
        CHECK_MSG(ef_nmea_parse(line, (size_t)len, &out) == EF_PARSE_REJECT, "0x%02x first", c);
        line[len] = (char)c;
        CHECK_MSG(ef_nmea_parse(line + 1, (size_t)len, &out) == EF_PARSE_REJECT, "0x%02x last", c);
    }
}

int main(void)
{
    test_table();
    test_control_bytes();
    test_talkers();
    return CHECK_DONE();
}
