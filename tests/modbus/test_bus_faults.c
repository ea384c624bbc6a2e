/* The bus thread under faults, against the real simulator: a TCP server
 * that goes away and comes back, a serial line that vanishes (socat killed,
 * as a pulled USB adapter) and returns, exceptions, and a device slower than
 * its interval. Usage: test_modbus_bus_faults SCENARIO SIM_PATH. */
#include <stdlib.h>
#include <string.h>

#include "bus_harness.h"
#include "check.h"
#include "drivers/modbus/bus.h"

static const char *sim_path;
static char tmpdir[64];

#define H EF_REG_HOLDING
#define ABCD EF_ORDER_ABCD

static size_t answered(struct rec *r, size_t dev)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->dev[dev].answered;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static size_t polls(struct rec *r, size_t dev)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->dev[dev].polls;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static struct ef_source *start_bus(struct ef_config *cfg, struct rec *r,
                                   struct ef_dev_counters *counters)
{
    rec_init(r, counters);
    struct ef_sink sink = rec_sink(r);
    struct ef_source *src = ef_modbus_bus_new(cfg, 0, &sink, counters);
    CHECK(src && ef_source_start(src) == 0);
    return src;
}

static void tcp_server_restart_reconnects(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    char port[16];
    snprintf(port, sizeof port, "%d", sim.port);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    bus.timeout_ms = 200;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("i16", H, 10, EF_T_INT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 1);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters);
    CHECK(rec_wait_answered(&r, 0, 3));
    child_stop(&sim);
    size_t before = answered(&r, 0);
    CHECK(rec_wait_polls(&r, 0, polls(&r, 0) + 3));
    CHECK_EQ_U(answered(&r, 0), before); /* nothing answers while it is down */
    CHECK(atomic_load(&counters[0].polls_failed) >= 3);
    const char *again[] = {"--tcp", port, NULL};
    CHECK(sim_start(&sim, sim_path, again) == 0);
    CHECK(rec_wait_answered(&r, 0, before + 3));
    ef_source_stop(src);
    CHECK(atomic_load(&counters[0].reopens) >= 1);
    const struct ef_value *v = rec_value(&r, 0, "i16");
    CHECK(v && v->kind == EF_VAL_INT && v->as.i == -12345);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void rtu_line_vanishes_and_returns(void)
{
    struct child socat, sim;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    const char *args[] = {"--rtu", a, NULL};
    CHECK(socat_start(&socat, tmpdir) == 0);
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", b);
    bus.timeout_ms = 100;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 1);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters);
    CHECK(rec_wait_answered(&r, 0, 3));
    child_stop(&sim);
    child_stop(&socat); /* the pty disappears, like a pulled USB adapter */
    size_t before = answered(&r, 0);
    CHECK(rec_wait_polls(&r, 0, polls(&r, 0) + 3));
    CHECK(socat_start(&socat, tmpdir) == 0);
    CHECK(sim_start(&sim, sim_path, args) == 0);
    CHECK(rec_wait_answered(&r, 0, before + 3));
    ef_source_stop(src);
    CHECK(atomic_load(&counters[0].reopens) >= 1);
    CHECK(atomic_load(&counters[0].polls_failed) >= 3);
    child_stop(&sim);
    child_stop(&socat);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void rs485_refused_by_pty_still_polls(void)
{
    struct child socat, sim;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    const char *args[] = {"--rtu", a, NULL};
    CHECK(socat_start(&socat, tmpdir) == 0);
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", b);
    bus.rs485 = true; /* a pty refuses TIOCSRS485: warned, not fatal */
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 1);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters);
    CHECK(rec_wait_answered(&r, 0, 3));
    ef_source_stop(src);
    const struct ef_value *v = rec_value(&r, 0, "unit_id");
    CHECK(v && v->kind == EF_VAL_UINT && v->as.u == 1);
    CHECK_EQ_U(atomic_load(&counters[0].reopens), 0);
    child_stop(&sim);
    child_stop(&socat);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void exception_leaves_points_out_after_retries(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--exception-at", "11", NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    bus.retries = 2;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("i16", H, 10, EF_T_INT16, ABCD),
                             mk_point("u16", H, 11, EF_T_UINT16, ABCD),
                             mk_point("u32", H, 30, EF_T_UINT32, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 3);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters);
    CHECK(rec_wait_polls(&r, 0, 4));
    ef_source_stop(src);
    pthread_mutex_lock(&r.lock);
    /* Read 10..11: 1 + 2 retries, all refused; read 30..31: 1. */
    for (size_t k = 1; k < r.dev[0].polls && k < REC_MAX_POLLS; k++)
        CHECK_EQ_U(r.dev[0].req_at_poll[k] - r.dev[0].req_at_poll[k - 1], 4);
    CHECK_EQ_U(r.dev[0].nvalues, 1);
    const struct ef_value *v = rec_value(&r, 0, "u32");
    CHECK(v && v->kind == EF_VAL_UINT && v->as.u == 3000000000u);
    CHECK(rec_value(&r, 0, "i16") == NULL);
    CHECK_EQ_U(r.dev[0].answered, r.dev[0].polls);
    size_t n = r.dev[0].polls;
    pthread_mutex_unlock(&r.lock);
    CHECK(atomic_load(&counters[0].errors) >= 3 * n);
    CHECK(atomic_load(&counters[0].points_failed) >= 2 * n);
    CHECK_EQ_U(atomic_load(&counters[0].timeouts), 0);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

/* unit_id (1) and reg200 (200): a stale answer taken for the next request
 * would swap them. */
static bool late_sample_valid(const struct ef_sample *s)
{
    for (size_t i = 0; i < s->nreadings; i++) {
        uint64_t want = strcmp(s->readings[i].name, "unit_id") ? 200 : 1;
        if (s->readings[i].value.kind != EF_VAL_UINT || s->readings[i].value.as.u != want)
            return false;
    }
    return true;
}

static void late_answer_is_flushed_not_taken_for_the_next(void)
{
    struct child socat, sim;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    const char *args[] = {"--rtu", a, "--late-ms", "150", "--late-every", "3", NULL};
    CHECK(socat_start(&socat, tmpdir) == 0);
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", b);
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
    struct ef_sink sink = rec_sink(&r);
    struct ef_source *src = ef_modbus_bus_new(&cfg, 0, &sink, counters);
    CHECK(src && ef_source_start(src) == 0);
    CHECK(rec_wait_polls(&r, 0, 8));
    ef_source_stop(src);
    CHECK(atomic_load(&counters[0].timeouts) >= 2);
    CHECK_EQ_U(r.bad, 0);
    pthread_mutex_lock(&r.lock);
    CHECK(r.dev[0].samples >= 8);
    CHECK_EQ_U(r.dev[0].answered, r.dev[0].polls); /* the retries got through */
    pthread_mutex_unlock(&r.lock);
    child_stop(&sim);
    child_stop(&socat);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void slow_device_skips_cycles_instead_of_queueing(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--late-ms", "60", NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("i16", H, 10, EF_T_INT16, ABCD)};
    cfg_add_device(&cfg, "meter", 0, 1, 10, pts, 1);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters);
    CHECK(rec_wait_polls(&r, 0, 5));
    ef_source_stop(src);
    /* Each poll lasts at least 60 ms, six 10 ms cycles: at least the four
     * whose whole window has passed are skipped after each poll. */
    size_t n = polls(&r, 0);
    CHECK(atomic_load(&counters[0].skipped) >= 4 * (n - 1));
    CHECK_EQ_U(answered(&r, 0), n);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    sim_path = argv[2];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ef-modbus-faults.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const char *s = argv[1];
    if (!strcmp(s, "tcp_restart"))
        tcp_server_restart_reconnects();
    else if (!strcmp(s, "rtu_vanish"))
        rtu_line_vanishes_and_returns();
    else if (!strcmp(s, "rs485"))
        rs485_refused_by_pty_still_polls();
    else if (!strcmp(s, "exception"))
        exception_leaves_points_out_after_retries();
    else if (!strcmp(s, "late"))
        late_answer_is_flushed_not_taken_for_the_next();
    else if (!strcmp(s, "skip"))
        slow_device_skips_cycles_instead_of_queueing();
    else
        return 2;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    CHECK_DONE();
}
