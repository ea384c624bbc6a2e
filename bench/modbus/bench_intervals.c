/* Requests and bus time per round of polls for a device map with per-point
 * intervals (default: bench/modbus/mixed.ini), against the same map with
 * every point read at its device's period. Computed from the plans over one
 * full cycle of every device's phases (deterministic, no device needed):
 * a request costs its RTU frames (request 8 bytes, reply 5 + 2N or
 * 5 + ceil(N/8)), two 3.5-character silences and TURNAROUND_MS of device
 * reaction time, each character 1 + data + parity + stop bits at the bus's
 * baud. A round is one second of the bus's schedule.
 * Usage: bench_modbus_intervals [FILE.ini [TURNAROUND_MS]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "drivers/modbus/plan_set.h"

static double request_ms(const struct ef_bus *bus, const struct ef_plan_read *r, double turn)
{
    int bits = 1 + bus->data_bits + (bus->parity == 'N' ? 0 : 1) + bus->stop_bits;
    double ch = 1000.0 * bits / bus->baud;
    bool b = r->kind == EF_REG_COIL || r->kind == EF_REG_DISCRETE;
    int reply = 5 + (b ? (r->count + 7) / 8 : 2 * r->count);
    return (8 + reply + 7) * ch + turn;
}

/* Requests and wire ms of POLLS polls of D (its plans per period). */
static void device_cost(const struct ef_device *d, const struct ef_bus *bus, uint64_t polls,
                        double turn, double *req, double *ms)
{
    struct ef_plan_set set;
    if (ef_plan_set_build(&set, d, bus) != 0)
        exit(1);
    for (uint64_t n = 0; n < polls; n++) {
        const struct ef_plan *p = ef_plan_set_for(&set, n);
        for (size_t i = 0; p && i < p->nreads; i++) {
            *req += 1;
            *ms += request_ms(bus, &p->reads[i], turn);
        }
    }
    ef_plan_set_free(&set);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : EF_MIXED_INI;
    double turn = argc > 2 ? atof(argv[2]) : 5.0;
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load(path, &cfg, &errs) < 0) {
        ef_config_errors_print(errs, stderr);
        ef_config_errors_free(errs);
        return 2;
    }
    const double secs = 3600; /* the longest point interval of the demo map */
    double req[2] = {0, 0}, ms[2] = {0, 0};
    for (size_t i = 0; i < cfg->ndevices; i++) {
        struct ef_device d = cfg->devices[i];
        uint64_t polls = (uint64_t)(secs * 1000 / d.interval_ms);
        const struct ef_bus *bus = &cfg->buses[d.bus];
        double r0 = req[0], m0 = ms[0];
        device_cost(&d, bus, polls, turn, &req[0], &ms[0]);
        struct ef_point *flat = malloc(d.npoints * sizeof *flat);
        memcpy(flat, d.points, d.npoints * sizeof *flat);
        for (size_t p = 0; p < d.npoints; p++)
            flat[p].interval_ms = 0;
        d.points = flat;
        double r1 = req[1], m1 = ms[1];
        device_cost(&d, bus, polls, turn, &req[1], &ms[1]);
        free(flat);
        printf("intervals: device %-8s %2zu points: %5.2f requests %6.1f ms per second with "
               "intervals, %5.2f requests %6.1f ms without\n", d.name, d.npoints,
               (req[0] - r0) / secs, (ms[0] - m0) / secs, (req[1] - r1) / secs,
               (ms[1] - m1) / secs);
    }
    printf("intervals: %s (turnaround %.1f ms): %.2f requests and %.1f ms of bus time per "
           "1 s round with per-point intervals, %.2f requests and %.1f ms without "
           "(%.0f%% less bus time)\n",
           path, turn, req[0] / secs, ms[0] / secs, req[1] / secs, ms[1] / secs,
           ms[1] > 0 ? 100.0 * (ms[1] - ms[0]) / ms[1] : 0.0);
    ef_config_free(cfg);
    return 0;
}
