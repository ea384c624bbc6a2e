/* The bus thread against the real simulator: over TCP, RTU on a socat pty
 * pair and RTU over TCP. Usage: test_modbus_bus SCENARIO SIM_PATH. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_harness.h"
#include "check.h"
#include "drivers/modbus/bus.h"
#include "drivers/modbus/plan.h"

static const char *sim_path;
static char tmpdir[64];
static char count_file[128];

#define H EF_REG_HOLDING
#define ABCD EF_ORDER_ABCD

static bool is_int(const struct ef_value *v, int64_t want)
{
    return v && v->kind == EF_VAL_INT && v->as.i == want;
}

static bool is_uint(const struct ef_value *v, uint64_t want)
{
    return v && v->kind == EF_VAL_UINT && v->as.u == want;
}

static bool is_bool(const struct ef_value *v, bool want)
{
    return v && v->kind == EF_VAL_BOOL && v->as.b == want;
}

/* Every requests-per-poll figure from poll FROM on equals WANT. */
static void check_requests_per_poll(struct rec *r, size_t dev, size_t from, uint64_t want)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->dev[dev].polls < REC_MAX_POLLS ? r->dev[dev].polls : REC_MAX_POLLS;
    CHECK(n > from + 1);
    for (size_t k = from + 1; k < n; k++) {
        uint64_t got = r->dev[dev].req_at_poll[k] - r->dev[dev].req_at_poll[k - 1];
        if (got != want)
            fprintf(stderr, "poll %zu: %llu requests, plan says %llu\n", k,
                    (unsigned long long)got, (unsigned long long)want);
        CHECK(got == want);
    }
    pthread_mutex_unlock(&r->lock);
}

static size_t all_types_points(struct ef_point *p)
{
    static const char *const on[] = {"abcd", "dcba", "badc", "cdab"};
    size_t n = 0;
    char name[64];
    p[n++] = mk_point("unit_id", H, 0, EF_T_UINT16, ABCD);
    p[n++] = mk_point("counter", H, 1, EF_T_UINT16, ABCD);
    p[n++] = mk_point("i16", H, 10, EF_T_INT16, ABCD);
    p[n++] = mk_point("u16", H, 11, EF_T_UINT16, ABCD);
    for (int b = 0; b < 3; b++) {
        snprintf(name, sizeof name, "bit%d", b == 2 ? 15 : b);
        p[n] = mk_point(name, H, 12, EF_T_BOOL, ABCD);
        p[n++].bit = b == 2 ? 15 : b;
    }
    for (int o = 0; o < 4; o++) {
        struct {
            const char *t;
            enum ef_value_type type;
            unsigned base, width;
        } ty[] = {{"i32", EF_T_INT32, 20, 2},   {"u32", EF_T_UINT32, 30, 2},
                  {"f32", EF_T_FLOAT32, 40, 2}, {"i64", EF_T_INT64, 50, 4},
                  {"u64", EF_T_UINT64, 70, 4},  {"f64", EF_T_FLOAT64, 90, 4}};
        for (size_t t = 0; t < 6; t++) {
            snprintf(name, sizeof name, "%s_%s", ty[t].t, on[o]);
            p[n++] = mk_point(name, H, ty[t].base + (unsigned)o * ty[t].width, ty[t].type,
                              (enum ef_order)o);
        }
    }
    p[n++] = mk_point("f32_low_word", H, 41, EF_T_UINT16, ABCD); /* inside f32_abcd */
    p[n] = mk_point("u16_scaled", H, 11, EF_T_UINT16, ABCD);
    p[n].scaled = true;
    p[n++].scale = 0.01;
    p[n++] = mk_point("coil0", EF_REG_COIL, 0, EF_T_BOOL, ABCD);
    p[n++] = mk_point("coil1", EF_REG_COIL, 1, EF_T_BOOL, ABCD);
    p[n++] = mk_point("coil3", EF_REG_COIL, 3, EF_T_BOOL, ABCD);
    p[n++] = mk_point("di0", EF_REG_DISCRETE, 0, EF_T_BOOL, ABCD);
    p[n++] = mk_point("di1", EF_REG_DISCRETE, 1, EF_T_BOOL, ABCD);
    p[n++] = mk_point("in_unit_id", EF_REG_INPUT, 0, EF_T_UINT16, ABCD);
    return n;
}

static void check_all_types(struct rec *r, size_t dev, int unit)
{
    static const char *const on[] = {"abcd", "dcba", "badc", "cdab"};
    char name[64];
    pthread_mutex_lock(&r->lock);
    CHECK(is_uint(rec_value(r, dev, "unit_id"), (uint64_t)unit));
    const struct ef_value *c = rec_value(r, dev, "counter");
    CHECK(c && c->kind == EF_VAL_UINT && c->as.u > 0);
    CHECK(is_int(rec_value(r, dev, "i16"), -12345));
    CHECK(is_uint(rec_value(r, dev, "u16"), 54321));
    CHECK(is_bool(rec_value(r, dev, "bit0"), true));
    CHECK(is_bool(rec_value(r, dev, "bit1"), false));
    CHECK(is_bool(rec_value(r, dev, "bit15"), true));
    for (int o = 0; o < 4; o++) {
        snprintf(name, sizeof name, "i32_%s", on[o]);
        CHECK(is_int(rec_value(r, dev, name), -123456789));
        snprintf(name, sizeof name, "u32_%s", on[o]);
        CHECK(is_uint(rec_value(r, dev, name), 3000000000u));
        snprintf(name, sizeof name, "f32_%s", on[o]);
        const struct ef_value *f = rec_value(r, dev, name);
        CHECK(f && f->kind == EF_VAL_FLOAT && f->as.f == 3.14159274f);
        snprintf(name, sizeof name, "i64_%s", on[o]);
        CHECK(is_int(rec_value(r, dev, name), -1234567890123456789ll));
        snprintf(name, sizeof name, "u64_%s", on[o]);
        CHECK(is_uint(rec_value(r, dev, name), 17375808098319191535ull));
        snprintf(name, sizeof name, "f64_%s", on[o]);
        const struct ef_value *d = rec_value(r, dev, name);
        CHECK(d && d->kind == EF_VAL_DOUBLE && d->as.d == -2.718281828459045);
    }
    CHECK(is_uint(rec_value(r, dev, "f32_low_word"), 0x0FDB));
    const struct ef_value *s = rec_value(r, dev, "u16_scaled");
    CHECK(s && s->kind == EF_VAL_DOUBLE && s->as.d == 54321 * 0.01);
    CHECK(is_bool(rec_value(r, dev, "coil0"), true));
    CHECK(is_bool(rec_value(r, dev, "coil1"), false));
    CHECK(is_bool(rec_value(r, dev, "coil3"), true));
    CHECK(is_bool(rec_value(r, dev, "di0"), false));
    CHECK(is_bool(rec_value(r, dev, "di1"), true));
    CHECK(is_uint(rec_value(r, dev, "in_unit_id"), (uint64_t)unit));
    pthread_mutex_unlock(&r->lock);
}

static struct ef_source *start_bus(struct ef_config *cfg, struct rec *r,
                                   struct ef_dev_counters *counters, size_t bus)
{
    rec_init(r, counters);
    struct ef_sink sink = rec_sink(r);
    struct ef_source *src = ef_modbus_bus_new(cfg, bus, &sink, counters);
    CHECK(src != NULL);
    if (src)
        CHECK(ef_source_start(src) == 0);
    return src;
}

static void tcp_every_type_and_order_exact(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--unit", "7", "--count-file", count_file, NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[64];
    size_t n = all_types_points(pts);
    cfg_add_device(&cfg, "meter", 0, 7, 20, pts, n);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters, 0);
    CHECK(rec_wait_polls(&r, 0, 6));
    ef_source_stop(src);
    check_all_types(&r, 0, 7);
    CHECK_EQ_U(r.dev[0].nvalues, n);
    /* Requests per poll: the plan's (one holding, coil, discrete and input read). */
    struct ef_plan plan;
    ef_plan_build_device(&plan, &cfg.devices[0], &cfg.buses[0]);
    CHECK_EQ_U(ef_plan_requests(&plan), 4);
    check_requests_per_poll(&r, 0, 0, ef_plan_requests(&plan));
    ef_plan_free(&plan);
    /* Every request the bus counted reached the simulator, and no more. */
    child_stop(&sim);
    CHECK_EQ_U(sim_count(count_file, -1), atomic_load(&counters[0].requests));
    CHECK_EQ_U(atomic_load(&counters[0].errors) + atomic_load(&counters[0].timeouts), 0);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

/* The plan the bus should end with: reads touching [LO, HI] split until
 * they no longer do, unsplittable ones marked as holes. */
static size_t split_plan_requests(struct ef_plan *plan, unsigned lo, unsigned hi)
{
    for (size_t i = 0; i < plan->nreads; i++) {
        struct ef_plan_read *rd = &plan->reads[i];
        if (rd->hole || rd->start > hi || rd->start + rd->count - 1u < lo)
            continue;
        if (ef_plan_split(plan, i) == 1)
            i--;
        else
            plan->reads[i].hole = true;
    }
    return ef_plan_requests(plan);
}

static void tcp_hole_split_and_remembered(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", "--hole", "13-19", "--count-file", count_file, NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {
        mk_point("i16", H, 10, EF_T_INT16, ABCD),    mk_point("u16", H, 11, EF_T_UINT16, ABCD),
        mk_point("bits", H, 12, EF_T_UINT16, ABCD),  mk_point("ghost", H, 15, EF_T_UINT16, ABCD),
        mk_point("i32", H, 20, EF_T_INT32, ABCD),    mk_point("i32b", H, 22, EF_T_INT32, EF_ORDER_DCBA),
    };
    cfg_add_device(&cfg, "meter", 0, 1, 20, pts, 6);
    struct ef_plan plan;
    ef_plan_build_device(&plan, &cfg.devices[0], &cfg.buses[0]);
    CHECK_EQ_U(plan.nreads, 1); /* merged across the hole at first */
    size_t want = split_plan_requests(&plan, 13, 19);
    CHECK_EQ_U(want, 2);
    ef_plan_free(&plan);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters, 0);
    CHECK(rec_wait_polls(&r, 0, 1));
    pthread_mutex_lock(&r.lock);
    CHECK_EQ_U(r.dev[0].samples, 1); /* the existing points arrived in the first poll */
    CHECK_EQ_U(r.dev[0].nvalues, 5);
    CHECK(rec_value(&r, 0, "ghost") == NULL);
    pthread_mutex_unlock(&r.lock);
    CHECK(rec_wait_polls(&r, 0, 6));
    ef_source_stop(src);
    check_requests_per_poll(&r, 0, 0, want);
    CHECK(is_int(rec_value(&r, 0, "i16"), -12345));
    CHECK(is_uint(rec_value(&r, 0, "u16"), 54321));
    CHECK(is_int(rec_value(&r, 0, "i32"), -123456789));
    CHECK(is_int(rec_value(&r, 0, "i32b"), -123456789));
    CHECK(rec_value(&r, 0, "ghost") == NULL);
    CHECK(atomic_load(&counters[0].points_failed) >= r.dev[0].polls);
    CHECK_EQ_U(r.dev[0].answered, r.dev[0].polls);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void rtu_two_units_and_dead_unit(void)
{
    struct child socat, sim;
    CHECK(socat_start(&socat, tmpdir) == 0);
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    const char *args[] = {"--rtu", a, "--unit", "1", "--unit", "2", "--dead-unit", "3",
                          "--count-file", count_file, NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", b);
    bus.timeout_ms = 100;
    bus.retries = 1;
    cfg_add_bus(&cfg, &bus);
    struct ef_point p1[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD),
                            mk_point("f32", H, 40, EF_T_FLOAT32, ABCD),
                            mk_point("u64", H, 70, EF_T_UINT64, ABCD)};
    struct ef_point p2[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD),
                            mk_point("i16", H, 10, EF_T_INT16, ABCD),
                            mk_point("coil0", EF_REG_COIL, 0, EF_T_BOOL, ABCD)};
    cfg_add_device(&cfg, "one", 0, 1, 50, p1, 3);
    cfg_add_device(&cfg, "two", 0, 2, 50, p2, 3);
    cfg_add_device(&cfg, "dead", 0, 3, 50, p1, 1);
    static struct ef_dev_counters counters[3];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters, 0);
    CHECK(rec_wait_polls(&r, 2, 3));
    CHECK(rec_wait_polls(&r, 0, 4));
    CHECK(rec_wait_polls(&r, 1, 4));
    ef_source_stop(src);
    pthread_mutex_lock(&r.lock);
    CHECK(is_uint(rec_value(&r, 0, "unit_id"), 1));
    CHECK(is_uint(rec_value(&r, 0, "u64"), 17375808098319191535ull));
    const struct ef_value *f = rec_value(&r, 0, "f32");
    CHECK(f && f->kind == EF_VAL_FLOAT && f->as.f == 3.14159274f);
    CHECK(is_uint(rec_value(&r, 1, "unit_id"), 2));
    CHECK(is_int(rec_value(&r, 1, "i16"), -12345));
    CHECK(is_bool(rec_value(&r, 1, "coil0"), true));
    CHECK_EQ_U(r.dev[0].answered, r.dev[0].polls);
    CHECK_EQ_U(r.dev[1].answered, r.dev[1].polls);
    /* The dead unit: every poll failed, each one (retries + 1) timeouts. */
    CHECK_EQ_U(r.dev[2].samples, 0);
    CHECK_EQ_U(r.dev[2].answered, 0);
    uint64_t polls = r.dev[2].polls;
    pthread_mutex_unlock(&r.lock);
    CHECK(atomic_load(&counters[2].timeouts) >= 2 * polls);
    CHECK(atomic_load(&counters[2].polls_failed) >= polls);
    CHECK(atomic_load(&counters[2].points_failed) >= polls);
    CHECK_EQ_U(atomic_load(&counters[0].timeouts) + atomic_load(&counters[1].timeouts), 0);
    child_stop(&sim);
    child_stop(&socat);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

static void rtu_over_tcp_frames(void)
{
    struct child sim;
    const char *args[] = {"--rtu-over-tcp", "0", "--unit", "5", NULL};
    CHECK(sim_start(&sim, sim_path, args) == 0);
    struct ef_config cfg = {0};
    struct ef_bus bus = mk_bus("gw", EF_BUS_RTU_OVER_TCP);
    bus.port = sim.port;
    cfg_add_bus(&cfg, &bus);
    struct ef_point pts[] = {mk_point("unit_id", H, 0, EF_T_UINT16, ABCD),
                             mk_point("i64", H, 62, EF_T_INT64, EF_ORDER_CDAB),
                             mk_point("di1", EF_REG_DISCRETE, 1, EF_T_BOOL, ABCD)};
    cfg_add_device(&cfg, "remote", 0, 5, 20, pts, 3);
    static struct ef_dev_counters counters[1];
    static struct rec r;
    struct ef_source *src = start_bus(&cfg, &r, counters, 0);
    CHECK(rec_wait_polls(&r, 0, 3));
    ef_source_stop(src);
    CHECK(is_uint(rec_value(&r, 0, "unit_id"), 5));
    CHECK(is_int(rec_value(&r, 0, "i64"), -1234567890123456789ll));
    CHECK(is_bool(rec_value(&r, 0, "di1"), true));
    CHECK_EQ_U(r.dev[0].answered, r.dev[0].polls);
    child_stop(&sim);
    ef_source_destroy(src);
    cfg_free(&cfg);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SCENARIO SIM_PATH\n", argv[0]);
        return 2;
    }
    sim_path = argv[2];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ef-modbus-test.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(count_file, sizeof count_file, "%s/count", tmpdir);
    const char *s = argv[1];
    if (!strcmp(s, "tcp_types"))
        tcp_every_type_and_order_exact();
    else if (!strcmp(s, "tcp_hole"))
        tcp_hole_split_and_remembered();
    else if (!strcmp(s, "rtu_units"))
        rtu_two_units_and_dead_unit();
    else if (!strcmp(s, "rtu_over_tcp"))
        rtu_over_tcp_frames();
    else
        return 2;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    CHECK_DONE();
}
