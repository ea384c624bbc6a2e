/* Prints how fast the pure serial code runs on this machine: framing plus
 * parsing per line for each format. A figure, not a test: nothing asserts. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "drivers/serial/csv.h"
#include "drivers/serial/framing.h"
#include "drivers/serial/kv.h"
#include "drivers/serial/nmea.h"

static const char fields[4][EF_NAME_MAX + 1] = {"temp", "hum", "wind", "count"};

struct ctx {
    int format;
    size_t values;
};

static void on_line(void *p, enum ef_frame_kind kind, const char *line, size_t len)
{
    struct ctx *c = p;
    struct ef_parsed out;
    if (kind != EF_FRAME_LINE)
        return;
    if (c->format == 0)
        ef_nmea_parse(line, len, &out);
    else if (c->format == 1)
        ef_kv_parse(line, len, &out);
    else
        ef_csv_parse(line, len, fields, 4, &out);
    c->values += out.n;
}

int main(void)
{
    static const char *names[] = {"nmea GGA", "kv", "csv"};
    static const char *lines[] = {
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n",
        "T=21.5 H=40;ok=true,n=7\n", "21.5,40.2,,7\r"};
    const int n = 1000000;
    for (int f = 0; f < 3; f++) {
        struct ef_framer fr;
        struct ctx c = {.format = f};
        ef_framer_reset(&fr);
        size_t len = strlen(lines[f]);
        int64_t t0 = ef_mono_us();
        for (int i = 0; i < n; i++)
            ef_framer_push(&fr, lines[f], len, on_line, &c);
        int64_t us = ef_mono_us() - t0;
        printf("%-9s %8.0f ns/line  %6.1f MB/s  (%zu values)\n", names[f], us * 1000.0 / n,
               (double)len * n / (double)us, c.values);
    }
    return 0;
}
