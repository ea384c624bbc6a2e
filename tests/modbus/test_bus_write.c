/* Writes through the bus thread (drivers/source.h write op) against the real
 * simulator, which records every write it receives: each function code and
 * its read-back (TCP and RTU on a pty), exceptions, a timeout that is never
 * sent twice, a reply from another unit refused, expiry and a full queue on a busy bus, immediate refusals of
 * an offline device and a disconnected bus, a write overtaking the rest of a
 * poll in progress, and every accepted write answered once on stop.
 * Usage: test_modbus_bus_write SCENARIO SIM_PATH. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus_harness.h"
#include "check.h"
#include "common/clock.h"
#include "drivers/modbus/bus.h"

static const char *sim_path;
static char count_file[64], log_file[64];

#define H EF_REG_HOLDING
#define ABCD EF_ORDER_ABCD
#define LONG_MS 60000 /* a deadline or interval no test reaches */

/* One write's answer: filled by the done callback. */
struct slot {
    int calls;
    struct ef_write_result r;
};
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cond = PTHREAD_COND_INITIALIZER;

static void on_done(void *ctx, const struct ef_write_result *r)
{
    struct slot *s = ctx;
    pthread_mutex_lock(&slot_lock);
    s->calls++;
    s->r = *r;
    pthread_cond_broadcast(&slot_cond);
    pthread_mutex_unlock(&slot_lock);
}

/* Waits for S's done call; false after 30 s (a hang, not a timing check). */
static bool wait_done(struct slot *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&slot_lock);
    int rc = 0;
    while (s->calls == 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&slot_cond, &slot_lock, &until);
    bool ok = s->calls > 0;
    pthread_mutex_unlock(&slot_lock);
    return ok;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static struct ef_write_req req(size_t dev, uint8_t fc, unsigned addr, const struct ef_point *p,
                               struct slot *s)
{
    struct ef_write_req w;
    memset(&w, 0, sizeof w);
    w.source_index = dev;
    w.fc = fc;
    w.address = (uint16_t)addr;
    w.count = 1;
    w.deadline_mono_ms = ef_mono_ms() + LONG_MS;
    w.point = p;
    w.done = on_done;
    w.ctx = s;
    return w;
}

/* Submits W and waits for its result; false when refused at once. */
static bool write_wait(struct ef_source *src, struct ef_write_req w)
{
    struct ef_write_result now;
    if (ef_source_write(src, &w, &now) != 0) {
        fprintf(stderr, "refused: %s\n", now.error);
        return false;
    }
    bool ok = wait_done(w.ctx);
    CHECK(ok);
    return ok;
}

/* The "write ..." lines of the count file, into LINES (up to MAX). */
static int sim_writes(char lines[][160], int max)
{
    FILE *f = fopen(count_file, "r");
    char line[160];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "write ", 6) && n < max) {
            line[strcspn(line, "\n")] = 0;
            snprintf(lines[n++], 160, "%s", line);
        }
    if (f)
        fclose(f);
    return n;
}

/* The simulator's request log, one line per entry. */
static int read_log(char lines[][160], int max)
{
    FILE *f = fopen(log_file, "r");
    char line[160];
    int n = 0;
    while (f && fgets(line, sizeof line, f) && n < max) {
        line[strcspn(line, "\n")] = 0;
        snprintf(lines[n++], 160, "%s", line);
    }
    if (f)
        fclose(f);
    return n;
}

static void sim_up(struct child *sim, const char *const *args)
{
    const char *all[24];
    size_t n = 0;
    for (; args[n] && n < 18; n++)
        all[n] = args[n];
    all[n++] = "--count-file";
    all[n++] = count_file;
    all[n++] = "--log";
    all[n++] = log_file;
    all[n] = NULL;
    CHECK(sim_start(sim, sim_path, all) == 0);
}

struct rig {
    struct ef_config cfg;
    struct ef_dev_counters counters[4];
    struct rec r;
    struct ef_source *src;
};

static void rig_start(struct rig *g)
{
    rec_init(&g->r, g->counters);
    struct ef_sink sink = rec_sink(&g->r);
    g->src = ef_modbus_bus_new(&g->cfg, 0, &sink, g->counters);
    CHECK(g->src && ef_source_start(g->src) == 0);
}

static void rig_end(struct rig *g)
{
    ef_source_stop(g->src);
    ef_source_destroy(g->src);
    cfg_free(&g->cfg);
}

static const struct ef_point *pt(struct rig *g, size_t dev, const char *name)
{
    for (size_t i = 0; i < g->cfg.devices[dev].npoints; i++)
        if (!strcmp(g->cfg.devices[dev].points[i].name, name))
            return &g->cfg.devices[dev].points[i];
    return NULL;
}

static size_t forced_samples(struct rig *g)
{
    pthread_mutex_lock(&g->r.lock);
    size_t n = g->r.dev[0].forced_samples;
    pthread_mutex_unlock(&g->r.lock);
    return n;
}

/* Each function code, with its read-back and forced reading. The device is
 * polled once a minute: every result arriving proves the idle bus thread
 * woke for the write. */
static void each_fc(struct ef_bus bus)
{
    struct rig g = {0};
    bus.retries = 0;
    cfg_add_bus(&g.cfg, &bus);
    struct ef_point pts[] = {mk_point("c3", EF_REG_COIL, 3, EF_T_BOOL, ABCD),
                             mk_point("r300", H, 300, EF_T_UINT16, ABCD),
                             mk_point("r301", H, 301, EF_T_UINT16, ABCD),
                             mk_point("f310", H, 310, EF_T_FLOAT32, ABCD),
                             mk_point("b12", H, 12, EF_T_BOOL, ABCD),
                             mk_point("r12", H, 12, EF_T_UINT16, ABCD)};
    pts[4].bit = 1;
    cfg_add_device(&g.cfg, "dev", 0, 1, LONG_MS, pts, 6);
    rig_start(&g);
    CHECK(rec_wait_answered(&g.r, 0, 1));
    struct slot s[6] = {{0}};

    struct ef_write_req w = req(0, EF_WRITE_FC_COIL, 3, pt(&g, 0, "c3"), &s[0]);
    w.coil = false; /* coil 3 starts on */
    if (write_wait(g.src, w)) {
        CHECK_EQ_U(s[0].r.status, EF_WRITE_OK);
        CHECK(s[0].r.has_readback && s[0].r.readback.kind == EF_VAL_BOOL &&
              !s[0].r.readback.as.b);
    }
    w = req(0, EF_WRITE_FC_REGISTER, 300, pt(&g, 0, "r300"), &s[1]);
    w.regs[0] = 7;
    if (write_wait(g.src, w))
        CHECK(s[1].r.status == EF_WRITE_OK && s[1].r.has_readback &&
              s[1].r.readback.kind == EF_VAL_UINT && s[1].r.readback.as.u == 7);
    w = req(0, EF_WRITE_FC_REGISTERS, 301, pt(&g, 0, "r301"), &s[2]); /* write_single = fc16 */
    w.regs[0] = 9;
    if (write_wait(g.src, w))
        CHECK(s[2].r.status == EF_WRITE_OK && s[2].r.readback.as.u == 9);
    w = req(0, EF_WRITE_FC_REGISTERS, 310, pt(&g, 0, "f310"), &s[3]);
    w.count = 2;
    w.regs[0] = 0x41AC; /* 21.5f */
    w.regs[1] = 0x0000;
    if (write_wait(g.src, w))
        CHECK(s[3].r.status == EF_WRITE_OK && s[3].r.readback.kind == EF_VAL_FLOAT &&
              s[3].r.readback.as.f == 21.5f);
    w = req(0, EF_WRITE_FC_MASK, 12, pt(&g, 0, "b12"), &s[4]);
    w.and_mask = 0xFFFD; /* bit 1 of 0xA5A5 is off: set it, keep the others */
    w.or_mask = 0x0002;
    if (write_wait(g.src, w))
        CHECK(s[4].r.status == EF_WRITE_OK && s[4].r.readback.kind == EF_VAL_BOOL &&
              s[4].r.readback.as.b);
    /* A mask that changes nothing, read back as the whole register. */
    w = req(0, EF_WRITE_FC_MASK, 12, pt(&g, 0, "r12"), &s[5]);
    w.and_mask = 0xFFFF;
    w.or_mask = 0;
    if (write_wait(g.src, w))
        CHECK(s[5].r.status == EF_WRITE_OK && s[5].r.readback.as.u == 0xA5A7);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_U(s[i].calls, 1);
    CHECK_EQ_U(forced_samples(&g), 6);
    const struct ef_value *v = rec_value(&g.r, 0, "r12"); /* the last forced sample */
    CHECK(v && v->as.u == 0xA5A7 && g.r.dev[0].nvalues == 1 && g.r.dev[0].forced[0]);

    char lines[16][160];
    int n = sim_writes(lines, 16);
    const char *want[] = {"write fc=5 unit=1 addr=3 coil=0",
                          "write fc=6 unit=1 addr=300 regs=0x0007",
                          "write fc=16 unit=1 addr=301 regs=0x0009",
                          "write fc=16 unit=1 addr=310 regs=0x41ac,0x0000",
                          "write fc=22 unit=1 addr=12 and=0xfffd or=0x0002",
                          "write fc=22 unit=1 addr=12 and=0xffff or=0x0000"};
    CHECK_EQ_U(n, 6);
    for (int i = 0; i < n && i < 6; i++)
        if (strcmp(lines[i], want[i])) {
            fprintf(stderr, "write %d: %s, expected %s\n", i, lines[i], want[i]);
            CHECK(0);
        }
    rig_end(&g);
}

static void tcp_fcs(void)
{
    struct child sim;
    const char *args[] = {"--tcp", "0", NULL};
    sim_up(&sim, args);
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    each_fc(bus);
    child_stop(&sim);
}

static void rtu_fcs(void)
{
    char dir[] = "/tmp/ef-wr-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct child socat, sim;
    CHECK(socat_start(&socat, dir) == 0);
    char a[64], b[64];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    const char *args[] = {"--rtu", b, NULL};
    sim_up(&sim, args);
    struct ef_bus bus = mk_bus("line", EF_BUS_RTU);
    snprintf(bus.path, sizeof bus.path, "%s", a);
    each_fc(bus);
    child_stop(&sim);
    child_stop(&socat);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* A device on a TCP simulator started with SIM_ARGS; retries 2, so a write
 * sent twice would show. */
static void one_device(struct rig *g, struct child *sim, const char *const *sim_args,
                       int timeout_ms, int interval_ms)
{
    sim_up(sim, sim_args);
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim->port;
    bus.timeout_ms = timeout_ms;
    bus.retries = 2;
    cfg_add_bus(&g->cfg, &bus);
    struct ef_point pts[] = {mk_point("r300", H, 300, EF_T_UINT16, ABCD)};
    cfg_add_device(&g->cfg, "dev", 0, 1, interval_ms, pts, 1);
    rig_start(g);
}

static void tcp_exception(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--write-exception", "300:3", NULL};
    one_device(&g, &sim, args, 1000, LONG_MS);
    CHECK(rec_wait_answered(&g.r, 0, 1));
    struct slot s = {0};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, pt(&g, 0, "r300"), &s);
    w.regs[0] = 5;
    if (write_wait(g.src, w)) {
        CHECK_EQ_U(s.r.status, EF_WRITE_EXCEPTION);
        CHECK_EQ_U(s.r.exception, 3);
        CHECK(strstr(s.r.error, "exception 3") && strstr(s.r.error, "dev"));
        CHECK(!s.r.has_readback);
    }
    char lines[4][160];
    CHECK_EQ_U(sim_writes(lines, 4), 1); /* an exception is an answer: never retried */
    CHECK_EQ_U(forced_samples(&g), 0);
    rig_end(&g);
    child_stop(&sim);
}

/* A write acknowledged by another unit (a TCP-to-RTU gateway mixing up its
 * devices) is not taken as done: the reply's unit id is checked as for
 * reads, and the write is not sent again. */
static void tcp_wrong_unit(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--reply-unit", "5", NULL};
    one_device(&g, &sim, args, 300, LONG_MS);
    CHECK(rec_wait_polls(&g.r, 0, 1)); /* one failed poll: not offline yet */
    struct slot s = {0};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, pt(&g, 0, "r300"), &s);
    w.regs[0] = 5;
    if (write_wait(g.src, w)) {
        CHECK_EQ_U(s.r.status, EF_WRITE_FAILED);
        CHECK(strstr(s.r.error, "bad reply") && strstr(s.r.error, "may or may not"));
    }
    char lines[4][160];
    CHECK_EQ_U(sim_writes(lines, 4), 1);
    rig_end(&g);
    child_stop(&sim);
}

/* Not answered: reported as uncertain, never sent again, although the bus
 * retries reads twice and keeps polling. */
static void tcp_timeout(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--write-silent", "300", NULL};
    one_device(&g, &sim, args, 300, 100);
    CHECK(rec_wait_answered(&g.r, 0, 1));
    struct slot s = {0};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, pt(&g, 0, "r300"), &s);
    w.regs[0] = 5;
    if (write_wait(g.src, w)) {
        CHECK_EQ_U(s.r.status, EF_WRITE_TIMEOUT);
        CHECK(strstr(s.r.error, "may or may not"));
    }
    size_t polls = g.r.dev[0].polls;
    CHECK(rec_wait_answered(&g.r, 0, polls + 3)); /* the bus goes on polling */
    char lines[4][160];
    CHECK_EQ_U(sim_writes(lines, 4), 1);
    rig_end(&g);
    child_stop(&sim);
}

/* Waits until the simulator has received a new request (a read now under
 * way, answered SLOW ms after it arrived). */
static void wait_new_request(void)
{
    long t0 = sim_count(count_file, -1);
    while (sim_count(count_file, -1) == t0)
        pause_ms(5);
}

/* Reads take 3 s: a write with a short deadline expires behind the read in
 * progress without touching the bus; the queue takes 8 and refuses the 9th
 * at once. */
static void expiry_and_full(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--slow-reads-ms", "3000", NULL};
    one_device(&g, &sim, args, 8000, 100);
    wait_new_request();
    struct slot s[9] = {{0}};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &s[0]);
    w.deadline_mono_ms = ef_mono_ms() + 100;
    struct ef_write_result now;
    CHECK(ef_source_write(g.src, &w, &now) == 0);
    for (int i = 1; i < 9; i++) {
        w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &s[i]);
        w.regs[0] = (uint16_t)i;
        int rc = ef_source_write(g.src, &w, &now);
        if (i < 8) {
            CHECK(rc == 0);
        } else {
            CHECK(rc == -1 && now.status == EF_WRITE_BUSY && strstr(now.error, "busy"));
        }
    }
    for (int i = 0; i < 8; i++)
        CHECK(wait_done(&s[i]));
    CHECK_EQ_U(s[0].r.status, EF_WRITE_EXPIRED);
    CHECK(strstr(s[0].r.error, "expired"));
    for (int i = 1; i < 8; i++)
        CHECK_EQ_U(s[i].r.status, EF_WRITE_OK);
    CHECK_EQ_U(s[8].calls, 0);
    char lines[16][160];
    int n = sim_writes(lines, 16);
    CHECK_EQ_U(n, 7); /* the expired one never reached the device */
    CHECK(n > 0 && !strcmp(lines[0], "write fc=6 unit=1 addr=300 regs=0x0001"));
    /* A deadline already past is refused at once. */
    struct slot late = {0};
    w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &late);
    w.deadline_mono_ms = ef_mono_ms() - 1;
    CHECK(ef_source_write(g.src, &w, &now) == -1 && now.status == EF_WRITE_EXPIRED);
    rig_end(&g);
    child_stop(&sim);
}

/* Refused at once: a device whose last offline_after polls failed, and
 * every device of a bus whose line is down. */
static void offline(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--unit", "1", "--dead-unit", "2", NULL};
    sim_up(&sim, args);
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    bus.timeout_ms = 200;
    bus.retries = 0;
    cfg_add_bus(&g.cfg, &bus);
    struct ef_point pts[] = {mk_point("r300", H, 300, EF_T_UINT16, ABCD)};
    cfg_add_device(&g.cfg, "live", 0, 1, 100, pts, 1);
    cfg_add_device(&g.cfg, "dead", 0, 2, 100, pts, 1);
    g.cfg.devices[1].offline_after = 2;
    rig_start(&g);
    CHECK(rec_wait_polls(&g.r, 1, 2));
    struct slot s[2] = {{0}};
    struct ef_write_req w = req(1, EF_WRITE_FC_REGISTER, 300, NULL, &s[0]);
    struct ef_write_result now;
    CHECK(ef_source_write(g.src, &w, &now) == -1);
    CHECK_EQ_U(now.status, EF_WRITE_OFFLINE);
    CHECK(!strcmp(now.error, "device dead is offline"));
    CHECK(write_wait(g.src, req(0, EF_WRITE_FC_REGISTER, 300, NULL, &s[1])));
    CHECK_EQ_U(s[1].r.status, EF_WRITE_OK);
    CHECK_EQ_U(s[0].calls, 0);
    /* Another device index than this bus's: invalid. */
    w = req(7, EF_WRITE_FC_REGISTER, 300, NULL, &s[0]);
    CHECK(ef_source_write(g.src, &w, &now) == -1 && now.status == EF_WRITE_INVALID);
    rig_end(&g);

    /* The line down: nothing listens on the simulator's port any more. */
    child_stop(&sim);
    struct rig d = {0};
    cfg_add_bus(&d.cfg, &bus);
    cfg_add_device(&d.cfg, "meter", 0, 1, 100, pts, 1);
    d.cfg.devices[0].offline_after = 1000;
    rig_start(&d);
    CHECK(rec_wait_polls(&d.r, 0, 1));
    w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &s[0]);
    CHECK(ef_source_write(d.src, &w, &now) == -1);
    CHECK_EQ_U(now.status, EF_WRITE_DISCONNECTED);
    CHECK(!strcmp(now.error, "bus plc is disconnected"));
    rig_end(&d);
}

static bool starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* A busy bus: five reads per poll, each answered 100 ms late. A write
 * submitted while the poll's first read is under way is sent after that
 * read, ahead of the other four: at most one request (one the bus may have
 * been sending as the write was queued) comes between the log as it was
 * when write() returned and the write. */
static void busy_order(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--slow-reads-ms", "100", NULL};
    sim_up(&sim, args);
    struct ef_bus bus = mk_bus("plc", EF_BUS_TCP);
    bus.port = sim.port;
    bus.max_gap = 0;
    cfg_add_bus(&g.cfg, &bus);
    struct ef_point pts[5];
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", 200 + 100 * i);
        pts[i] = mk_point(name, H, (unsigned)(200 + 100 * i), EF_T_UINT16, ABCD);
    }
    cfg_add_device(&g.cfg, "dev", 0, 1, 100, pts, 5);
    rig_start(&g);
    CHECK(rec_wait_answered(&g.r, 0, 1));
    static char lines[4096][160];
    int n = 0;
    for (int tries = 0; tries < 6000; tries++) { /* a poll's first read is under way */
        n = read_log(lines, 4096);
        if (n > 0 && starts(lines[n - 1], "read fc=3 unit=1 addr=200 "))
            break;
        pause_ms(2);
    }
    struct slot s = {0};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 700, NULL, &s);
    w.regs[0] = 77;
    struct ef_write_result now;
    CHECK(ef_source_write(g.src, &w, &now) == 0);
    int logged = read_log(lines, 4096);
    CHECK(wait_done(&s) && s.r.status == EF_WRITE_OK);
    n = read_log(lines, 4096);
    int at = -1;
    for (int i = 0; i < n; i++)
        if (starts(lines[i], "write "))
            at = i;
    CHECK(at >= 0 && !strcmp(lines[at], "write fc=6 unit=1 addr=700 regs=0x004d"));
    if (at > logged + 1)
        fprintf(stderr, "write at log line %d, log had %d lines when it was queued\n", at,
                logged);
    CHECK(at <= logged + 1);
    rig_end(&g);
    child_stop(&sim);
}

/* Stopping with writes queued behind a slow read: each gets exactly one
 * done call, "stopping"; after the stop, writes are refused at once. */
static void stop_pending(void)
{
    struct rig g = {0};
    struct child sim;
    const char *args[] = {"--tcp", "0", "--slow-reads-ms", "2000", NULL};
    one_device(&g, &sim, args, 8000, 100);
    wait_new_request();
    struct slot s[3] = {{0}};
    struct ef_write_result now;
    for (int i = 0; i < 3; i++) {
        struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &s[i]);
        CHECK(ef_source_write(g.src, &w, &now) == 0);
    }
    ef_source_stop(g.src);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_U(s[i].calls, 1);
        CHECK_EQ_U(s[i].r.status, EF_WRITE_STOPPING);
    }
    struct slot after = {0};
    struct ef_write_req w = req(0, EF_WRITE_FC_REGISTER, 300, NULL, &after);
    CHECK(ef_source_write(g.src, &w, &now) == -1 && now.status == EF_WRITE_STOPPING);
    char lines[4][160];
    CHECK_EQ_U(sim_writes(lines, 4), 0);
    ef_source_destroy(g.src);
    cfg_free(&g.cfg);
    child_stop(&sim);
}

/* A source without a write op (a serial sensor) says so at once. */
static void no_write_op(void)
{
    static const struct ef_source_ops ops = {0};
    struct ef_source src = {.ops = &ops, .name = "gps"};
    struct ef_write_req w;
    memset(&w, 0, sizeof w);
    struct ef_write_result now;
    CHECK(ef_source_write(&src, &w, &now) == -1);
    CHECK_EQ_U(now.status, EF_WRITE_INVALID);
    CHECK(!strcmp(now.error, "gps cannot be written to"));
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    sim_path = argv[2];
    snprintf(count_file, sizeof count_file, "/tmp/ef-wr-count-%d", (int)getpid());
    snprintf(log_file, sizeof log_file, "/tmp/ef-wr-log-%d", (int)getpid());
    const char *sc = argv[1];
    if (!strcmp(sc, "tcp_fcs"))
        tcp_fcs();
    else if (!strcmp(sc, "rtu_fcs"))
        rtu_fcs();
    else if (!strcmp(sc, "exception"))
        tcp_exception();
    else if (!strcmp(sc, "wrong_unit"))
        tcp_wrong_unit();
    else if (!strcmp(sc, "timeout"))
        tcp_timeout();
    else if (!strcmp(sc, "expiry_and_full"))
        expiry_and_full();
    else if (!strcmp(sc, "offline"))
        offline();
    else if (!strcmp(sc, "busy_order"))
        busy_order();
    else if (!strcmp(sc, "stop_pending"))
        stop_pending();
    else if (!strcmp(sc, "no_write_op"))
        no_write_op();
    else
        return 2;
    unlink(count_file);
    unlink(log_file);
    CHECK_DONE();
}
