/* The bus thread against Modbus TCP devices that misbehave in ways real
 * ones do, played by the real simulator: connections closed after some idle
 * time or after every answer (tcp and rtu-over-tcp), replies carrying another
 * unit id, a bogus MBAP length, and a late reply that must not be taken for
 * the next request's. Usage: test_modbus_bus_tcp SCENARIO SIM_PATH. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_harness.h"
#include "check.h"
#include "drivers/modbus/bus.h"

static const char *sim_path;
static char count_file[64];

#define H EF_REG_HOLDING
#define ABCD EF_ORDER_ABCD

struct snap {
    size_t polls, answered, samples;
};

static struct snap snap(struct rec *r, size_t dev)
{
    pthread_mutex_lock(&r->lock);
    struct snap s = {r->dev[dev].polls, r->dev[dev].answered, r->dev[dev].samples};
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* "closed N" of the simulator's count file: connections it hung up. */
static long sim_closed(void)
{
    FILE *f = fopen(count_file, "r");
    char line[128];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "closed %ld", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static struct ef_source *start_bus(struct ef_config *cfg, size_t bus, struct rec *r,
                                   struct ef_dev_counters *counters)
{
    struct ef_sink sink = rec_sink(r);
    struct ef_source *src = ef_modbus_bus_new(cfg, bus, &sink, counters);
    CHECK(src && ef_source_start(src) == 0);
    return src;
}

/* The simulator with ARGS plus --count-file; its port is in SIM->port. */
static void sim_up(struct child *sim, const char *const *args)
{
    const char *all[24];
    size_t n = 0;
    for (; args[n] && n < 20; n++)
        all[n] = args[n];
    all[n++] = "--count-file";
    all[n++] = count_file;
    all[n] = NULL;
    CHECK(sim_start(sim, sim_path, all) == 0);
}

/* Every poll of a device that hangs up is answered: the closed connection
 * is reopened and the request sent again in the same poll, counted only in
 * reopens. RETRIES 0: no retry can hide a lost request. */
static void hangups_lose_no_poll(enum ef_bus_type type, const char *mode, const char *how,
                                 const char *n, int interval_ms, size_t polls)
{
    struct child sim;
    const char *args[] = {mode, "0", how, n, NULL};
    sim_up(&sim, args);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", type);
    bus.port = sim.port;
    bus.timeout_ms = 1000;
    bus.retries = 0;
    cfg_add_bus(&cfg, &bus);
    /* Two reads per poll: a device closing after every answer closes
     * between them too. */
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD),
                             mk_point("reg500", H, 500, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, interval_ms, pts, 2);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    rec_init(&r, counters);
    struct ef_source *src = start_bus(&cfg, 0, &r, counters);
    CHECK(rec_wait_polls(&r, 0, polls));
    ef_source_stop(src);
    struct snap s = snap(&r, 0);
    CHECK_EQ_U(s.answered, s.polls);
    CHECK_EQ_U(s.samples, s.polls);
    CHECK_EQ_U(atomic_load(&counters[0].polls_failed), 0);
    CHECK_EQ_U(atomic_load(&counters[0].errors), 0);
    CHECK_EQ_U(atomic_load(&counters[0].points_failed), 0);
    long closed = sim_closed();
    CHECK(closed >= 3); /* the simulator did hang up, more than once */
    /* Each hang-up found by a later request is one reopen; the last may
     * not have been found yet. */
    uint64_t reopens = atomic_load(&counters[0].reopens);
    CHECK(reopens + 1 >= (uint64_t)closed && reopens <= (uint64_t)closed);
    const struct ef_value *v = rec_value(&r, 0, "reg500");
    CHECK(v && v->kind == EF_VAL_UINT && v->as.u == 500);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

/* SIM_ARGS makes every reply unacceptable to a device with check_unit:
 * nothing is delivered, every attempt counts as an error, every poll fails. */
static void replies_rejected(const char *const *sim_args)
{
    struct child sim;
    sim_up(&sim, sim_args);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("gw", EF_BUS_TCP);
    bus.port = sim.port;
    bus.timeout_ms = 100;
    bus.retries = 1;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 50, pts, 1);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    rec_init(&r, counters);
    struct ef_source *src = start_bus(&cfg, 0, &r, counters);
    CHECK(rec_wait_polls(&r, 0, 4));
    ef_source_stop(src);
    struct snap s = snap(&r, 0);
    CHECK_EQ_U(s.samples, 0);
    CHECK_EQ_U(s.answered, 0);
    CHECK_EQ_U(atomic_load(&counters[0].polls_failed), s.polls);
    CHECK_EQ_U(atomic_load(&counters[0].readings), 0);
    /* One request and one retry per poll, each an error, none a timeout. */
    CHECK_EQ_U(atomic_load(&counters[0].errors), atomic_load(&counters[0].requests));
    CHECK(atomic_load(&counters[0].errors) >= 2 * s.polls);
    CHECK_EQ_U(atomic_load(&counters[0].timeouts), 0);
    CHECK_EQ_U(atomic_load(&counters[0].reopens), 0);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void wrong_unit_is_rejected(void)
{
    const char *args[] = {"--tcp", "0", "--unit", "1", "--reply-unit", "7", NULL};
    replies_rejected(args);
}

static void bad_mbap_length_is_rejected(void)
{
    const char *args[] = {"--tcp", "0", "--reply-mbap-length", "65535", NULL};
    replies_rejected(args);
}

/* check_unit = false: a device that answers with a fixed unit id (here 0)
 * is read; on the same simulator a device with the check still is not. */
static void fixed_unit_device_is_read_without_the_check(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--unit", "1", "--unit", "2", "--reply-unit", "0", NULL};
    sim_up(&sim, args);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("gw", EF_BUS_TCP);
    bus.port = sim.port;
    bus.timeout_ms = 100;
    bus.retries = 0;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "fixed", 0, 1, 50, pts, 1);
    cfg_add_device(&cfg, "checked", 0, 2, 50, pts, 1);
    cfg.devices[0].check_unit = false;
    static struct ef_dev_counters counters[2];
    static struct rec r;
    rec_init(&r, counters);
    struct ef_source *src = start_bus(&cfg, 0, &r, counters);
    CHECK(rec_wait_answered(&r, 0, 5));
    CHECK(rec_wait_polls(&r, 1, 5));
    ef_source_stop(src);
    struct snap fixed = snap(&r, 0), checked = snap(&r, 1);
    CHECK_EQ_U(fixed.answered, fixed.polls);
    CHECK_EQ_U(atomic_load(&counters[0].errors), 0);
    const struct ef_value *v = rec_value(&r, 0, "unit_id");
    CHECK(v && v->kind == EF_VAL_UINT && v->as.u == 1); /* unit 1's own map */
    CHECK_EQ_U(checked.samples, 0);
    CHECK(atomic_load(&counters[1].errors) >= checked.polls);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

/* unit_id (1) and reg200 (200): a late reply taken for the next request
 * would swap them. Our own TCP transaction ids must catch it. */
static bool late_sample_valid(const struct ef_sample *s)
{
    for (size_t i = 0; i < s->nreadings; i++) {
        uint64_t want = strcmp(s->readings[i].name, "unit_id") ? 200 : 1;
        if (s->readings[i].value.kind != EF_VAL_UINT || s->readings[i].value.as.u != want)
            return false;
    }
    return true;
}

static void late_reply_is_not_taken_for_the_next(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--late-ms", "150", "--late-every", "3", NULL};
    sim_up(&sim, args);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    bus.timeout_ms = 100;
    bus.retries = 2;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD),
                             mk_point("reg200", H, 200, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 2);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    rec_init(&r, counters);
    r.valid = late_sample_valid;
    struct ef_source *src = start_bus(&cfg, 0, &r, counters);
    CHECK(rec_wait_polls(&r, 0, 8));
    ef_source_stop(src);
    CHECK(atomic_load(&counters[0].timeouts) >= 2);
    CHECK_EQ_U(r.bad, 0);
    struct snap s = snap(&r, 0);
    CHECK(s.samples >= 8);
    CHECK_EQ_U(s.answered, s.polls);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    sim_path = argv[2];
    /* As the daemon does: a write to a socket the peer reset must be an
     * EPIPE error (rtu-over-tcp writes with libmodbus's write()). */
    signal(SIGPIPE, SIG_IGN);
    snprintf(count_file, sizeof count_file, "/tmp/ef-modbus-tcp.%d.count", (int)getpid());
    const char *s = argv[1];
    if (!strcmp(s, "idle_close"))
        hangups_lose_no_poll(EF_BUS_TCP, "--tcp", "--close-idle-ms", "150", 300, 8);
    else if (!strcmp(s, "close_every_answer"))
        hangups_lose_no_poll(EF_BUS_TCP, "--tcp", "--close-after", "1", 50, 20);
    else if (!strcmp(s, "rtu_over_tcp_close_every_answer"))
        hangups_lose_no_poll(EF_BUS_RTU_OVER_TCP, "--rtu-over-tcp", "--close-after", "1", 50,
                             20);
    else if (!strcmp(s, "wrong_unit"))
        wrong_unit_is_rejected();
    else if (!strcmp(s, "bad_mbap"))
        bad_mbap_length_is_rejected();
    else if (!strcmp(s, "fixed_unit"))
        fixed_unit_device_is_read_without_the_check();
    else if (!strcmp(s, "late"))
        late_reply_is_not_taken_for_the_next();
    else
        return 2;
    unlink(count_file);
    CHECK_DONE();
}
