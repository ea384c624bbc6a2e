/* The serial sensor thread against the simulator on a real pty: exact values
 * per format, bad lines never delivered, queries at the configured rate,
 * timeouts, a vanished port reopened. Run one case: test_serial_sensor NAME. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/clock.h"
#include "drivers/serial/sensor.h"
#include "test_sensor_util.h"

#define NDEVICES 2 /* Modbus devices before the serials: source_index = 2 */
#define WAIT_MS 20000

struct rig {
    struct ef_config cfg;
    struct ef_serial ser;
    struct ef_dev_counters ctr[NDEVICES + 1];
    struct recorder rec;
    struct sim sim;
    struct ef_source *src;
};

static void rig_init(struct rig *r, enum ef_serial_format fmt, int interval_ms)
{
    memset(r, 0, sizeof *r);
    CHECK(sim_prepare(&r->sim) == 0);
    snprintf(r->ser.name, sizeof r->ser.name, "probe");
    snprintf(r->ser.path, sizeof r->ser.path, "%s", r->sim.link);
    r->ser.baud = 9600;
    r->ser.parity = 'N';
    r->ser.data_bits = 8;
    r->ser.stop_bits = 1;
    r->ser.format = fmt;
    r->ser.interval_ms = interval_ms;
    r->ser.timeout_ms = 1000;
    r->ser.offline_after = 3;
    r->cfg.ndevices = NDEVICES;
    r->cfg.serials = &r->ser;
    r->cfg.nserials = 1;
    recorder_init(&r->rec, NDEVICES);
}

static void rig_run(struct rig *r)
{
    r->src = ef_serial_sensor_new(&r->cfg, 0, &r->rec.sink, r->ctr);
    CHECK(r->src != NULL);
    CHECK(strcmp(r->src->name, "probe") == 0);
    CHECK(ef_source_start(r->src) == 0);
}

static uint64_t ctr(struct rig *r, atomic_uint_fast64_t *c)
{
    (void)r;
    return atomic_load(c);
}

static void rig_done(struct rig *r)
{
    if (r->src) {
        ef_source_stop(r->src);
        ef_source_destroy(r->src);
    }
    sim_stop(&r->sim);
    CHECK(r->rec.bad_index == 0);
    recorder_free(&r->rec);
}

static bool value_is(const struct rec_sample *s, const char *name, enum ef_value_kind kind,
                     double want)
{
    const struct rec_value *v = rec_find(s, name);
    return v && v->v.kind == kind && ef_value_as_double(&v->v) == want;
}

/* Every value in every sample must be one of the simulator's good values. */
static size_t check_nmea_samples(struct rig *r)
{
    size_t complete = 0, n = recorder_count(&r->rec);
    for (size_t i = 0; i < n; i++) {
        struct rec_sample s = recorder_get(&r->rec, i);
        CHECK(strcmp(s.device, "probe") == 0 && s.source_index == NDEVICES);
        static const struct {
            const char *name;
            enum ef_value_kind kind;
            double v;
        } want[] = {{"lat", EF_VAL_DOUBLE, 48.1173},    {"lon", EF_VAL_DOUBLE, 11.516666667},
                    {"alt", EF_VAL_DOUBLE, 545.4},      {"sats", EF_VAL_INT, 8},
                    {"fix", EF_VAL_INT, 1},             {"speed_kn", EF_VAL_DOUBLE, 22.4},
                    {"course", EF_VAL_DOUBLE, 84.4}};
        size_t ok = 0;
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
            if (!rec_find(&s, want[k].name))
                continue;
            CHECK_MSG(value_is(&s, want[k].name, want[k].kind, want[k].v), "sample %zu: %s", i,
                      want[k].name);
            ok++;
        }
        CHECK_MSG(ok == s.n, "sample %zu has %zu unexpected values", i, s.n - ok);
        if (ok == 7)
            complete++;
    }
    return complete;
}

static void nmea_exact_values_and_bad_checksums_never_delivered(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_NMEA, 300);
    const char *args[] = {"--mode", "nmea", "--period-ms", "100", "--bad-checksum",
                          "--missing-checksum", NULL};
    int64_t t0 = ef_wall_ms();
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 4, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    CHECK(check_nmea_samples(&r) >= 3);
    struct rec_sample s = recorder_get(&r.rec, 0);
    CHECK(s.ts_ms >= t0 && s.ts_ms <= ef_wall_ms());
    /* two bad sentences per 100 ms: the rejected counter moves with them */
    CHECK(ctr(&r, &r.ctr[NDEVICES].lines_rejected) >= 4);
    CHECK(ctr(&r, &r.ctr[NDEVICES].readings) >= 7 * 3);
    CHECK(ctr(&r, &r.ctr[0].readings) == 0); /* other sources' counters untouched */
    CHECK(atomic_load(&r.src->alive_ms) > 0);
    rig_done(&r);
}

static void nmea_without_fix_gives_no_position(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_NMEA, 300);
    const char *args[] = {"--mode", "nmea", "--period-ms", "100", "--nofix", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 3, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    for (size_t i = 0; i < recorder_count(&r.rec); i++) {
        struct rec_sample s = recorder_get(&r.rec, i);
        CHECK_MSG(s.n == 2, "sample %zu has %zu values", i, s.n);
        CHECK(value_is(&s, "fix", EF_VAL_INT, 0) && value_is(&s, "sats", EF_VAL_INT, 0));
        CHECK(!rec_find(&s, "lat") && !rec_find(&s, "lon") && !rec_find(&s, "alt"));
    }
    CHECK(atomic_load(&r.ctr[NDEVICES].lines_rejected) == 0);
    rig_done(&r);
}

static void check_kv_samples(struct rig *r, size_t from)
{
    size_t n = recorder_count(&r->rec);
    for (size_t i = from; i < n; i++) {
        struct rec_sample s = recorder_get(&r->rec, i);
        CHECK_MSG(s.n == 4, "sample %zu has %zu values", i, s.n);
        CHECK(value_is(&s, "T", EF_VAL_DOUBLE, 21.5));
        CHECK(value_is(&s, "H", EF_VAL_INT, 40));
        CHECK(value_is(&s, "ok", EF_VAL_BOOL, 1));
        CHECK(value_is(&s, "n", EF_VAL_INT, 7));
    }
}

static void kv_exact_values_survive_junk_and_overlong_lines(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_KV, 300);
    const char *args[] = {"--mode", "kv", "--period-ms", "100", "--junk", "--overlong", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 4, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    check_kv_samples(&r, 0);
    CHECK(ctr(&r, &r.ctr[NDEVICES].lines_overlong) >= 3);
    CHECK(ctr(&r, &r.ctr[NDEVICES].lines_rejected) >= 3); /* the NUL-damaged lines */
    rig_done(&r);
}

static void csv_exact_values_and_wrong_field_counts_rejected(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_CSV, 300);
    static char fields[4][EF_NAME_MAX + 1] = {"temp", "hum", "wind", "count"};
    r.ser.fields = fields;
    r.ser.nfields = 4;
    const char *args[] = {"--mode", "csv", "--period-ms", "100", "--wrong-count", "--junk", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 4, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    for (size_t i = 0; i < recorder_count(&r.rec); i++) {
        struct rec_sample s = recorder_get(&r.rec, i);
        CHECK_MSG(s.n == 3, "sample %zu has %zu values", i, s.n);
        CHECK(value_is(&s, "temp", EF_VAL_DOUBLE, 21.5));
        CHECK(value_is(&s, "hum", EF_VAL_DOUBLE, 40.2));
        CHECK(value_is(&s, "count", EF_VAL_INT, 7));
        CHECK(rec_find(&s, "wind") == NULL); /* empty field: absent, not zero */
    }
    CHECK(ctr(&r, &r.ctr[NDEVICES].lines_rejected) >= 6);
    rig_done(&r);
}

/* The simulator's --control sends 5 such lines per period (CONTROL_LINES). */
#define CONTROL_LINES 5

static void control_run(struct rig *r, enum ef_serial_format fmt, const char *mode)
{
    static char fields[4][EF_NAME_MAX + 1] = {"temp", "hum", "wind", "count"};
    rig_init(r, fmt, 300);
    if (fmt == EF_FMT_CSV) {
        r->ser.fields = fields;
        r->ser.nfields = 4;
    }
    const char *args[] = {"--mode", mode, "--period-ms", "100", "--control", NULL};
    CHECK(sim_start(&r->sim, args) == 0);
    rig_run(r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r->rec) >= 4, WAIT_MS);
    CHECK_MSG(ok, "%s: %zu samples", mode, recorder_count(&r->rec));
    ef_source_stop(r->src);
    /* Four samples took more than three of the 100 ms periods. */
    uint64_t rejected = ctr(r, &r->ctr[NDEVICES].lines_rejected);
    CHECK_MSG(rejected >= CONTROL_LINES * 3, "%s: %llu lines rejected", mode,
              (unsigned long long)rejected);
}

/* Noise before, inside or after an otherwise valid line (NUL, SOH, ESC,
 * DEL) rejects the whole line in every format; the good lines still pass. */
static void control_bytes_reject_the_line_in_every_format(void)
{
    struct rig r;
    control_run(&r, EF_FMT_KV, "kv");
    check_kv_samples(&r, 0); /* exactly T, H, ok, n: never Z1..Z4 */
    rig_done(&r);

    control_run(&r, EF_FMT_CSV, "csv");
    for (size_t i = 0; i < recorder_count(&r.rec); i++) {
        struct rec_sample s = recorder_get(&r.rec, i);
        CHECK_MSG(s.n == 3 && rec_find(&s, "wind") == NULL, "csv sample %zu: %zu values", i, s.n);
        CHECK(value_is(&s, "temp", EF_VAL_DOUBLE, 21.5) && value_is(&s, "count", EF_VAL_INT, 7));
    }
    rig_done(&r);

    control_run(&r, EF_FMT_NMEA, "nmea");
    CHECK(check_nmea_samples(&r) >= 3); /* never alt 777.7 or 666.6 */
    rig_done(&r);
}

static void query_sent_once_per_interval_and_answers_published(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_CSV, 200);
    static char fields[4][EF_NAME_MAX + 1] = {"temp", "hum", "wind", "count"};
    r.ser.fields = fields;
    r.ser.nfields = 4;
    r.ser.has_query = true;
    memcpy(r.ser.query, "\x05R\r", 3);
    r.ser.query_len = 3;
    r.ser.timeout_ms = 150;
    const char *args[] = {"--mode", "csv", "--query", "\\x05R\\r", "--junk", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    int64_t t0 = ef_mono_ms();
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 6, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    int64_t elapsed = ef_mono_ms() - t0;
    struct ef_dev_counters *c = &r.ctr[NDEVICES];
    uint64_t requests = atomic_load(&c->requests);
    /* The simulator counted exactly the queries the sensor says it sent. */
    WAIT_FOR(ok, sim_stat(&r.sim, "queries") == (long)requests, WAIT_MS);
    CHECK_MSG(ok, "sim saw %ld queries, sensor sent %llu", sim_stat(&r.sim, "queries"),
              (unsigned long long)requests);
    /* Never more than one query per interval (the first goes out at once). */
    CHECK_MSG((int64_t)requests <= elapsed / 200 + 1, "%llu queries in %lld ms",
              (unsigned long long)requests, (long long)elapsed);
    CHECK(atomic_load(&c->polls) == requests);
    size_t n = recorder_count(&r.rec);
    /* Each query was answered or timed out, except one still out at stop(). */
    uint64_t settled = n + atomic_load(&c->timeouts);
    CHECK_MSG(settled == requests || settled + 1 == requests, "%llu settled of %llu",
              (unsigned long long)settled, (unsigned long long)requests);
    for (size_t i = 0; i < n; i++) {
        struct rec_sample s = recorder_get(&r.rec, i);
        CHECK(s.n == 3 && value_is(&s, "temp", EF_VAL_DOUBLE, 21.5) &&
              value_is(&s, "count", EF_VAL_INT, 7));
    }
    rig_done(&r);
}

static void query_unanswered_counts_timeouts_and_failed_polls(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_KV, 200);
    r.ser.has_query = true;
    memcpy(r.ser.query, "?\n", 2);
    r.ser.query_len = 2;
    r.ser.timeout_ms = 100;
    const char *args[] = {"--mode", "kv", "--query", "?\\n", "--silent", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    struct ef_dev_counters *c = &r.ctr[NDEVICES];
    bool ok;
    WAIT_FOR(ok, atomic_load(&c->timeouts) >= 3, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    CHECK(recorder_count(&r.rec) == 0);
    CHECK(recorder_failed(&r.rec) >= 3);
    CHECK(atomic_load(&c->polls_failed) == atomic_load(&c->timeouts));
    WAIT_FOR(ok, sim_stat(&r.sim, "queries") == (long)atomic_load(&c->requests), WAIT_MS);
    CHECK(ok);
    CHECK(sim_stat(&r.sim, "answers") == 0);
    rig_done(&r);
}

static void vanished_port_reopened_and_data_resumes(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_KV, 200);
    const char *args[] = {"--mode", "kv", "--period-ms", "50", "--vanish-after-ms", "1000",
                          "--vanish-for-ms", "1500", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 2, WAIT_MS);
    CHECK(ok);
    CHECK(sim_expect(&r.sim, "gone", WAIT_MS) == 0);
    size_t failed_before = recorder_failed(&r.rec);
    CHECK(sim_expect(&r.sim, "back", WAIT_MS) == 0);
    /* while the port was away, intervals failed: the sensor went offline */
    CHECK(recorder_failed(&r.rec) > failed_before);
    struct ef_dev_counters *c = &r.ctr[NDEVICES];
    WAIT_FOR(ok, atomic_load(&c->reopens) >= 1, WAIT_MS);
    CHECK(ok);
    size_t n = recorder_count(&r.rec);
    WAIT_FOR(ok, recorder_count(&r.rec) >= n + 3, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    check_kv_samples(&r, 0);
    CHECK(atomic_load(&c->errors) >= 1); /* the loss */
    rig_done(&r);
}

static void missing_port_retried_until_it_appears(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_KV, 200);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_failed(&r.rec) >= 2, WAIT_MS);
    CHECK(ok);
    const char *args[] = {"--mode", "kv", "--period-ms", "50", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    WAIT_FOR(ok, recorder_count(&r.rec) >= 2, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    check_kv_samples(&r, 0);
    rig_done(&r);
}

static void scaled_points_become_doubles(void)
{
    struct rig r;
    rig_init(&r, EF_FMT_KV, 200);
    static struct ef_point pts[3];
    memset(pts, 0, sizeof pts);
    snprintf(pts[0].name, sizeof pts[0].name, "T");
    pts[0].scale = 2;
    pts[0].offset = 1;
    pts[0].scaled = true;
    snprintf(pts[1].name, sizeof pts[1].name, "H");
    pts[1].scale = 0.5;
    pts[1].scaled = true;
    snprintf(pts[2].name, sizeof pts[2].name, "n");
    pts[2].scale = 1;
    r.ser.points = pts;
    r.ser.npoints = 3;
    const char *args[] = {"--mode", "kv", "--period-ms", "50", NULL};
    CHECK(sim_start(&r.sim, args) == 0);
    rig_run(&r);
    bool ok;
    WAIT_FOR(ok, recorder_count(&r.rec) >= 2, WAIT_MS);
    CHECK(ok);
    ef_source_stop(r.src);
    for (size_t i = 0; i < recorder_count(&r.rec); i++) {
        struct rec_sample s = recorder_get(&r.rec, i);
        CHECK(value_is(&s, "T", EF_VAL_DOUBLE, 44.0));
        CHECK(value_is(&s, "H", EF_VAL_DOUBLE, 20.0));
        CHECK(value_is(&s, "n", EF_VAL_INT, 7)); /* configured, not scaled: stays exact */
        CHECK(value_is(&s, "ok", EF_VAL_BOOL, 1));
        CHECK(rec_find(&s, "T")->point == &pts[0]);
        CHECK(rec_find(&s, "n")->point == &pts[2]);
        CHECK(rec_find(&s, "ok")->point == NULL);
    }
    rig_done(&r);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(x) {#x, x}
    T(nmea_exact_values_and_bad_checksums_never_delivered),
    T(nmea_without_fix_gives_no_position),
    T(kv_exact_values_survive_junk_and_overlong_lines),
    T(csv_exact_values_and_wrong_field_counts_rejected),
    T(control_bytes_reject_the_line_in_every_format),
    T(query_sent_once_per_interval_and_answers_published),
    T(query_unanswered_counts_timeouts_and_failed_polls),
    T(vanished_port_reopened_and_data_resumes),
    T(missing_port_retried_until_it_appears),
    T(scaled_points_become_doubles),
#undef T
};

int main(int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        fprintf(stderr, "== %s\n", tests[i].name);
        tests[i].fn();
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "unknown test %s\n", argv[1]);
        return 2;
    }
    return CHECK_DONE();
}
