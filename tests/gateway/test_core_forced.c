/* Report by exception and a write's read-back: a reading marked forced goes
 * out even inside its deadband (INTERFACE.md: the next telemetry after a
 * write carries the read-back), and becomes the value later readings are
 * compared with. The real core and queue, in a temporary state directory. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/core/core.h"
#include "gateway/queue/queue.h"

#include "expect.h"

static const char *ini =
    "[gateway]\nid = gw1\nstate_dir = %s\n"
    "[mqtt]\nuri = tcp://127.0.0.1:1883\n"
    "[bus:plc]\ntype = tcp\nhost = 127.0.0.1\n"
    "[device:dev]\nbus = plc\nunit = 1\n"
    "[point:dev.sp]\nregister = holding:300\ndeadband = 10\n";

static void feed(struct ef_core *c, const struct ef_config *cfg, double v, bool forced,
                 int64_t ts)
{
    struct ef_reading r = {.name = cfg->devices[0].points[0].name,
                           .point = &cfg->devices[0].points[0],
                           .value = {.kind = EF_VAL_DOUBLE, .as.d = v},
                           .forced = forced};
    struct ef_sample s = {.device = "dev", .source_index = 0, .ts_ms = ts, .readings = &r,
                          .nreadings = 1};
    const struct ef_sink *sink = ef_core_sink(c);
    sink->sample(sink->ctx, &s);
}

int main(void)
{
    char dir[] = "/tmp/ef-core-forced-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char text[1024], qdir[600];
    snprintf(text, sizeof text, ini, dir);
    snprintf(qdir, sizeof qdir, "%s/queue", dir);
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load_string("t.ini", text, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        return 1;
    }
    struct ef_queue *q = NULL;
    EXPECT(ef_queue_open(qdir, &cfg->queue, &q) == 0, "queue open");
    struct ef_core *c = ef_core_new(cfg, q, false);
    EXPECT(c != NULL, "core");
    feed(c, cfg, 20, false, 1000); /* first: sent */
    feed(c, cfg, 21, false, 2000); /* inside the deadband: suppressed */
    feed(c, cfg, 22, true, 3000);  /* the read-back of a write: sent anyway */
    feed(c, cfg, 30, false, 4000); /* 8 from 22 (not from 20): suppressed */
    struct ef_core_stats st;
    ef_core_get_stats(c, &st);
    EXPECT(st.messages == 2, "messages %llu, expected 2", (unsigned long long)st.messages);
    EXPECT(st.suppressed == 2, "suppressed %llu, expected 2", (unsigned long long)st.suppressed);
    struct ef_qmsg *m = NULL;
    int taken = 0;
    bool saw_22 = false;
    while (ef_queue_take(q, &m) == 0 && m) {
        taken++;
        saw_22 |= memmem(m->payload, m->payload_len, "\"sp\":22", 7) != NULL;
        ef_queue_ack(q, m);
        m = NULL;
    }
    EXPECT(taken == 2 && saw_22, "taken %d, read-back in a payload: %d", taken, saw_22);
    ef_core_free(c);
    ef_queue_close(q);
    ef_config_free(cfg);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    EXPECT(system(cmd) == 0, "cleanup");
    return failures ? 1 : 0;
}
