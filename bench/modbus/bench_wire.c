/* Poll cycle time on a 9600 baud 8N1 RTU line versus the wire-time lower
 * bound. The simulator paces its answers as the line would (request,
 * 3.5-character gap, response) on a socat pty pair; a device with 60 uint16
 * points in 3 blocks of 20 is polled back to back.
 *   lower bound per read = (8 + 5 + 2n) chars + 2 × 3.5 chars (the silence
 *   after the request and after the response), 10 bits per char at 9600.
 * Usage: bench_modbus_wire SIM_PATH [POLLS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_harness.h"
#include "common/clock.h"
#include "drivers/modbus/bus.h"
#include "drivers/modbus/plan.h"

#define BAUD 9600
#define BLOCKS 3
#define PER_BLOCK 20

static int64_t poll_end_us[1024];
static size_t npolls;
static size_t samples_full;

static void on_sample(void *ctx, const struct ef_sample *s)
{
    (void)ctx;
    if (s->nreadings == BLOCKS * PER_BLOCK)
        samples_full++;
}

static void on_poll(void *ctx, size_t idx, int64_t ts, bool answered)
{
    (void)ctx, (void)idx, (void)ts, (void)answered;
    if (npolls < 1024)
        poll_end_us[npolls] = ef_mono_us();
    npolls++;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    size_t want = argc > 2 ? (size_t)atoi(argv[2]) : 12;
    char dir[] = "/tmp/ef-bench-wire.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    struct child socat, sim;
    if (socat_start(&socat, dir) < 0)
        return 1;
    const char *args[] = {"--rtu", a, "--baud-pace", "9600", NULL};
    if (sim_start(&sim, argv[1], args) < 0)
        return 1;

    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", b);
    bus.baud = BAUD;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[BLOCKS * PER_BLOCK];
    for (int k = 0; k < BLOCKS; k++)
        for (int i = 0; i < PER_BLOCK; i++) {
            char name[32];
            snprintf(name, sizeof name, "p%d_%d", k, i);
            pts[k * PER_BLOCK + i] = mk_point(name, EF_REG_HOLDING, (unsigned)(200 + 100 * k + i),
                                              EF_T_UINT16, EF_ORDER_ABCD);
        }
    cfg_add_device(&cfg, "dev60", 0, 1, 1, pts, BLOCKS * PER_BLOCK); /* back to back */

    struct ef_plan plan;
    ef_plan_build_device(&plan, &cfg.devices[0], &cfg.buses[0]);
    double char_ms = 10.0 * 1000.0 / BAUD;
    double bound_ms = 0;
    for (size_t i = 0; i < plan.nreads; i++)
        bound_ms += (8 + 5 + 2 * plan.reads[i].count + 2 * 3.5) * char_ms;

    static struct ef_dev_counters counters[1];
    struct ef_sink sink = {.sample = on_sample, .poll_result = on_poll};
    struct ef_source *src = ef_modbus_bus_new(&cfg, 0, &sink, counters);
    ef_source_start(src);
    while (npolls < want + 1)
        ef_sleep_ms(20);
    ef_source_stop(src);
    /* Cycle = time between consecutive poll ends (the first poll is left
     * out: it includes opening the line). */
    double cycle_ms = (double)(poll_end_us[want] - poll_end_us[1]) / 1000.0 / (double)(want - 1);
    printf("wire: 60 points in %zu reads of %u+%u+%u regs at %d 8N1 over a pty\n", plan.nreads,
           plan.reads[0].count, plan.reads[1].count, plan.reads[2].count, BAUD);
    printf("wire: poll cycle %.1f ms, wire-time lower bound %.1f ms, ratio %.3f "
           "(%zu polls, %zu complete samples, %llu timeouts)\n",
           cycle_ms, bound_ms, cycle_ms / bound_ms, want, samples_full,
           (unsigned long long)atomic_load(&counters[0].timeouts));
    ef_source_destroy(src);
    ef_plan_free(&plan);
    cfg_free(&cfg);
    child_stop(&sim);
    child_stop(&socat);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
