/* Jobs against a real loaded configuration: what is executed, what is
 * refused and why, and the exact result payloads (one per command). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gateway/command/cmd_json_read.h"
#include "gateway/command/command.h"

static const char *ini =
    "[gateway]\nid = gw\n"
    "[mqtt]\nuri = tcp://127.0.0.1:1883\ntopic_prefix = site/a\ncommand_max_age_ms = 10000\n"
    "[bus:b]\ntype = tcp\nhost = h\n"
    "[device:d]\nbus = b\nunit = 1\n"
    "[point:d.sp]\nregister = holding:10\ntype = int16\nscale = 0.1\nwritable = true\n"
    "write_min = 5\nwrite_max = 30\n"
    "[point:d.mode]\nregister = holding:11\nwritable = true\n"
    "[point:d.f]\nregister = holding:12\ntype = float32\norder = CDAB\nwritable = true\n"
    "[point:d.relay]\nregister = coil:3\nwritable = true\n"
    "[point:d.flag]\nregister = holding:20\nbit = 4\nwritable = true\n"
    "[point:d.ro]\nregister = holding:30\n"
    "[point:d.in]\nregister = input:1\n"
    "[device:s16]\nbus = b\nunit = 2\nwrite_single = fc16\n"
    "[point:s16.x]\nregister = holding:0\nwritable = true\n"
    "[serial:gps]\npath = /dev/ttyX\nformat = nmea\n";

static struct ef_config *cfg;
static struct ef_cmd_job job;

#define WALL 1764150000000LL
#define MONO 5000LL

static enum ef_cmd_prep prep_r(const char *topic, const char *payload, bool retained)
{
    return ef_cmd_prepare(&job, cfg, topic, strlen(topic), payload, strlen(payload), retained,
                          MONO, WALL);
}

static enum ef_cmd_prep prep(const char *topic, const char *payload)
{
    return prep_r(topic, payload, false);
}

/* The result must be valid JSON (read back by the strict reader). */
static const char *result(void)
{
    static char out[EF_CMD_RESULT_MAX];
    struct ef_buf b;
    ef_buf_init(&b, out, sizeof out);
    ef_cmd_result_json(&job, 1000, &b);
    EXPECT(ef_buf_ok(&b), "result fits");
    char err[EF_CMD_ERROR_MAX];
    struct ef_jr r = {(const unsigned char *)out, (const unsigned char *)out,
                      (const unsigned char *)out + b.len, err, sizeof err};
    EXPECT(ef_jr_value(&r, 0, NULL) == 0 && r.p == r.end, "result is JSON: %s (%s)", out, err);
    return out;
}

#define RESULT_IS(want)                                                                        \
    do {                                                                                       \
        const char *got_ = result();                                                           \
        EXPECT(strcmp(got_, want) == 0, "result\n  got  %s\n  want %s", got_, want);          \
    } while (0)

/* Refused with an error containing WANT, nothing to execute. */
#define REFUSED(topic, payload, want)                                                          \
    do {                                                                                       \
        enum ef_cmd_prep rc_ = prep(topic, payload);                                           \
        EXPECT(rc_ == EF_CMD_REFUSED && job.refused && strstr(job.error, want),                \
               "%s %s: rc %d error '%s', want '%s'", topic, payload, rc_, job.error, want);    \
        EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_REFUSED, "class refused");               \
        for (size_t i_ = 0; i_ < job.nwrites; i_++)                                            \
            EXPECT(job.writes[i_].outcome != EF_CMD_PENDING, "nothing left to execute");       \
        result();                                                                              \
    } while (0)

static void single_point_commands(void)
{
    EXPECT(prep("site/a/gw/set/d/sp", "21.5") == EF_CMD_EXECUTE, "21.5: %s", job.error);
    EXPECT(strcmp(job.result_topic, "site/a/gw/result/d/sp") == 0, "topic %s", job.result_topic);
    EXPECT(job.nwrites == 1 && job.device == 0 && !job.multi && job.arrived_ms == MONO, "job");
    const struct ef_write *w = &job.writes[0].w;
    EXPECT(w->fc == EF_FC_WRITE_REGISTER && w->address == 10 && w->regs[0] == 215, "write");
    EXPECT(strcmp(job.writes[0].point->name, "sp") == 0 && job.writes[0].point_index == 0, "pt");
    EXPECT(ef_cmd_job_fresh(&job, 0, 10000, MONO + 10000, WALL), "fresh at the limit");
    struct ef_value rb = {.kind = EF_VAL_DOUBLE, .as.d = 21.5};
    ef_cmd_job_written(&job, 0, &rb);
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_EXECUTED, "executed");
    RESULT_IS("{\"ts\":1000,\"ok\":true,\"value\":21.5,\"readback\":21.5}");

    EXPECT(prep("site/a/gw/set/d/sp",
                "{\"value\":21.5,\"id\":\"op-17\",\"ts\":1764149999000}") == EF_CMD_EXECUTE,
           "object form: %s", job.error);
    EXPECT(job.has_id && job.has_ts && job.ts_ms == 1764149999000, "id and ts");
    ef_cmd_job_written(&job, 0, NULL);
    RESULT_IS("{\"ts\":1000,\"id\":\"op-17\",\"ok\":true,\"value\":21.5,\"readback\":null}");

    EXPECT(prep("site/a/gw/set/d/relay", "true") == EF_CMD_EXECUTE, "coil");
    EXPECT(job.writes[0].w.fc == EF_FC_WRITE_COIL && job.writes[0].w.coil, "FC5");
    EXPECT(prep("site/a/gw/set/d/flag", "1") == EF_CMD_EXECUTE, "bit");
    EXPECT(job.writes[0].w.fc == EF_FC_MASK_WRITE && job.writes[0].w.or_mask == 0x10, "FC22");
    EXPECT(prep("site/a/gw/set/s16/x", "7") == EF_CMD_EXECUTE, "fc16 device");
    EXPECT(job.writes[0].w.fc == EF_FC_WRITE_REGISTERS && job.writes[0].w.count == 1, "FC16");
    EXPECT(prep("site/a/gw/set/d/f", "21.1") == EF_CMD_EXECUTE, "float");
    ef_cmd_job_failed(&job, 0, "Modbus exception: %s", "Illegal data address");
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_FAILED, "failed");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"Modbus exception: Illegal data address\"}");
    EXPECT(prep("site/a/gw/set/d/f", "21.1") == EF_CMD_EXECUTE, "float");
    ef_cmd_job_failed(&job, 0, "odd \"text\"\x01\n\xc3\xa9\\");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"odd \\\"text\\\"????\\\\\"}");
}

static void refusals(void)
{
    EXPECT(prep("site/a/other/set/d/sp", "1") == EF_CMD_NOT_OURS, "another gateway");
    EXPECT(prep("site/a/gw/set/d/sp/x", "1") == EF_CMD_NOT_OURS, "too deep");
    EXPECT(prep("site/a/gw/result/d/sp", "1") == EF_CMD_NOT_OURS, "a result topic");
    EXPECT(prep("site/gw/set/d/sp", "1") == EF_CMD_NOT_OURS, "a shorter prefix");
    EXPECT(prep("site/a/gw/set", "1") == EF_CMD_NOT_OURS, "no device level");
    EXPECT(prep_r("site/a/gw/set/d/sp", "{\"value\":21.5,\"id\":\"r1\"}", true) == EF_CMD_REFUSED,
           "retained");
    EXPECT(strstr(job.error, "retained command refused") && job.has_id, "%s", job.error);
    RESULT_IS("{\"ts\":1000,\"id\":\"r1\",\"ok\":false,\"error\":\"retained command refused: a "
              "retained message is never executed\"}");
    EXPECT(prep_r("site/a/gw/set/d/sp", "garbage", true) == EF_CMD_REFUSED &&
               strstr(job.error, "retained"), "a retained bad payload says retained");
    REFUSED("site/a/gw/set/nope/sp", "1", "unknown device 'nope'");
    REFUSED("site/a/gw/set/gps/lat", "1", "'gps' is a serial sensor: serial sensors are not writable");
    REFUSED("site/a/gw/set/d/nope", "1", "unknown point 'nope' of device 'd'");
    REFUSED("site/a/gw/set/d/ro", "1", "point 'ro' of device 'd' is not writable");
    REFUSED("site/a/gw/set/d/in", "1", "point 'in' of device 'd' is not writable");
    REFUSED("site/a/gw/set/d/sp", "31", "above write_max 30");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"above write_max 30\"}");
    REFUSED("site/a/gw/set/d/sp", "4", "below write_min 5");
    REFUSED("site/a/gw/set/d/sp", "21.55", "not an integer after scale and offset");
    REFUSED("site/a/gw/set/d/sp", "\"21.5\"", "value must be a number");
    REFUSED("site/a/gw/set/d/relay", "2", "value must be true or false");
    REFUSED("site/a/gw/set/d/mode", "65536", "out of range for uint16");
    REFUSED("site/a/gw/set/d/sp", "", "empty payload");
    REFUSED("site/a/gw/set/d/sp", "1e400", "beyond a double");
    REFUSED("site/a/gw/set/d/sp", "{\"value\":1,\"value\":2}", "duplicate member");
    REFUSED("site/a/gw/set/d/bad name", "1", "the point in the topic is not a name");
    REFUSED("site/a/gw/set//sp", "1", "the device in the topic is not a name");
    REFUSED("site/a/gw/set/d", "21.5", "must be an object {\"values\"");
    EXPECT(strcmp(job.result_topic, "site/a/gw/result/d") == 0, "device result topic");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"a command on a device topic must be an object "
              "{\\\"values\\\":{...}}\"}");
    /* the id is echoed safely, and only when it is valid */
    EXPECT(prep("site/a/gw/set/d/sp", "{\"value\":99,\"id\":\"a\\\"b\\\\c\"}") == EF_CMD_REFUSED,
           "escaped id");
    RESULT_IS("{\"ts\":1000,\"id\":\"a\\\"b\\\\c\",\"ok\":false,\"error\":\"above write_max 30\"}");
    REFUSED("site/a/gw/set/d/sp", "{\"value\":1,\"id\":\"a\\u0001\"}", "printable ASCII");
    EXPECT(!job.has_id, "an invalid id is not echoed");
    /* a topic level that cannot be echoed: no result topic, still refused */
    REFUSED("site/a/gw/set/d/s\xc3\xa9", "1", "the point in the topic is not a name");
    EXPECT(job.result_topic[0] == '\0', "no result topic for a non-ASCII level");
}

static void ts_and_age(void)
{
    char payload[128];
    snprintf(payload, sizeof payload, "{\"value\":21.5,\"ts\":%lld}", WALL - 10001);
    REFUSED("site/a/gw/set/d/sp", payload, "expired: ts is 10001 ms old (command_max_age_ms 10000)");
    snprintf(payload, sizeof payload, "{\"value\":21.5,\"ts\":%lld}", WALL + 10001);
    REFUSED("site/a/gw/set/d/sp", payload, "expired: ts is 10001 ms ahead");
    snprintf(payload, sizeof payload, "{\"value\":21.5,\"ts\":%lld}", WALL - 10000);
    EXPECT(prep("site/a/gw/set/d/sp", payload) == EF_CMD_EXECUTE, "ts at the limit");
    /* the ts ages while the job waits for the bus */
    EXPECT(!ef_cmd_job_fresh(&job, 0, 10000, MONO + 1, WALL + 1), "ts too old by then");
    EXPECT(job.refused && strstr(job.error, "expired: ts is 10001 ms old"), "%s", job.error);
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_REFUSED, "an expired job was not executed");
    /* arrival age */
    EXPECT(prep("site/a/gw/set/d/sp", "21.5") == EF_CMD_EXECUTE, "no ts");
    EXPECT(!ef_cmd_job_fresh(&job, 0, 10000, MONO + 10001, WALL), "expired by arrival");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"expired: not executed within 10000 ms of its "
              "arrival (command_max_age_ms)\"}");
    EXPECT(!ef_cmd_job_fresh(&job, 0, 10000, MONO, WALL), "never fresh again");
}

static void device_commands(void)
{
    EXPECT(prep("site/a/gw/set/d", "{\"values\":{\"mode\":2,\"sp\":21.5},\"id\":\"op-18\"}") ==
               EF_CMD_EXECUTE, "multi: %s", job.error);
    EXPECT(job.multi && job.nwrites == 2 && strcmp(job.writes[0].name, "mode") == 0, "order");
    EXPECT(job.writes[0].w.regs[0] == 2 && job.writes[1].w.regs[0] == 215, "values");
    struct ef_value two = {.kind = EF_VAL_UINT, .as.u = 2};
    struct ef_value sp = {.kind = EF_VAL_DOUBLE, .as.d = 21.5};
    EXPECT(ef_cmd_job_fresh(&job, 0, 10000, MONO, WALL), "fresh");
    ef_cmd_job_written(&job, 0, &two);
    EXPECT(ef_cmd_job_fresh(&job, 1, 10000, MONO, WALL), "fresh");
    ef_cmd_job_written(&job, 1, &sp);
    RESULT_IS("{\"ts\":1000,\"id\":\"op-18\",\"ok\":true,\"results\":{\"mode\":{\"ok\":true,"
              "\"value\":2,\"readback\":2},\"sp\":{\"ok\":true,\"value\":21.5,\"readback\":21.5}}}");
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_EXECUTED, "executed");

    /* one bad value refuses the whole command before anything is written */
    REFUSED("site/a/gw/set/d", "{\"values\":{\"mode\":2,\"sp\":31,\"relay\":true}}", "sp: above write_max 30");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"sp: above write_max 30\",\"results\":{"
              "\"mode\":{\"ok\":false,\"error\":\"not written: 'sp' was refused\"},"
              "\"sp\":{\"ok\":false,\"error\":\"above write_max 30\"},"
              "\"relay\":{\"ok\":false,\"error\":\"not written: 'sp' was refused\"}}}");
    REFUSED("site/a/gw/set/d", "{\"values\":{\"mode\":2,\"ro\":1}}", "point 'ro' of device 'd' is not writable");
    EXPECT(strncmp(job.error, "point 'ro'", 10) == 0, "a self-naming error is not prefixed: %s",
           job.error);

    /* the first failure stops the rest */
    EXPECT(prep("site/a/gw/set/d", "{\"values\":{\"mode\":2,\"sp\":21.5,\"relay\":false}}") ==
               EF_CMD_EXECUTE, "multi 3");
    ef_cmd_job_written(&job, 0, &two);
    ef_cmd_job_failed(&job, 1, "timeout");
    EXPECT(!ef_cmd_job_fresh(&job, 2, 10000, MONO, WALL), "no more writes after a failure");
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_FAILED, "failed");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"sp: timeout\",\"results\":{"
              "\"mode\":{\"ok\":true,\"value\":2,\"readback\":2},"
              "\"sp\":{\"ok\":false,\"error\":\"timeout\"},"
              "\"relay\":{\"ok\":false,\"error\":\"not written: 'sp' failed\"}}}");

    /* expiry in the middle: what was written stays reported */
    EXPECT(prep("site/a/gw/set/d", "{\"values\":{\"mode\":2,\"sp\":21.5}}") == EF_CMD_EXECUTE, "m");
    ef_cmd_job_written(&job, 0, &two);
    EXPECT(!ef_cmd_job_fresh(&job, 1, 10000, MONO + 20000, WALL), "expired before the second");
    EXPECT(ef_cmd_job_class(&job) == EF_CMD_CLASS_FAILED && !job.refused, "partly executed");
    RESULT_IS("{\"ts\":1000,\"ok\":false,\"error\":\"expired: not executed within 10000 ms of its "
              "arrival (command_max_age_ms)\",\"results\":{\"mode\":{\"ok\":true,\"value\":2,"
              "\"readback\":2},\"sp\":{\"ok\":false,\"error\":\"expired: not executed within 10000 "
              "ms of its arrival (command_max_age_ms)\"}}}");
}

/* The largest result there can be still fits EF_CMD_RESULT_MAX. */
static void largest_result_fits(void)
{
    memset(&job, 0, sizeof job);
    job.multi = job.has_id = job.failed = true;
    memset(job.id, '"', EF_CMD_ID_MAX); /* every character escaped */
    memset(job.error, '\\', sizeof job.error - 1);
    job.nwrites = EF_CMD_VALUES_MAX;
    for (size_t i = 0; i < job.nwrites; i++) {
        struct ef_cmd_write *w = &job.writes[i];
        memset(w->name, 'n', EF_NAME_MAX);
        w->outcome = i % 2 ? EF_CMD_FAILED : EF_CMD_WRITTEN;
        memset(w->error, '"', sizeof w->error - 1); /* two bytes each, escaped */
        w->w.value.kind = w->readback.kind = EF_VAL_DOUBLE;
        w->w.value.as.d = w->readback.as.d = -1.2345678901234567e-300;
        w->has_readback = true;
    }
    static char out[EF_CMD_RESULT_MAX * 2];
    struct ef_buf b;
    ef_buf_init(&b, out, sizeof out);
    ef_cmd_result_json(&job, INT64_MIN, &b);
    EXPECT(b.len < EF_CMD_RESULT_MAX, "worst case %zu bytes", b.len);
    for (size_t i = 0; i < job.nwrites; i++)
        job.writes[i].outcome = EF_CMD_FAILED;
    ef_buf_init(&b, out, sizeof out);
    ef_cmd_result_json(&job, INT64_MIN, &b);
    EXPECT(b.len < EF_CMD_RESULT_MAX, "all failed: %zu bytes", b.len);
}

static void subscriptions(void)
{
    char dev[EF_CMD_TOPIC_MAX], pt[EF_CMD_TOPIC_MAX];
    ef_cmd_subscriptions(cfg, dev, pt);
    EXPECT(strcmp(dev, "site/a/gw/set/+") == 0 && strcmp(pt, "site/a/gw/set/+/+") == 0, "%s %s",
           dev, pt);
    EXPECT(ef_cmd_any_writable(cfg), "writable points");
    struct ef_config *plain = NULL;
    struct ef_config_errors *errs = NULL;
    EXPECT(ef_config_load_string("p.ini", "[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1\n", &plain,
                                 &errs) == 0, "plain config");
    EXPECT(plain && !ef_cmd_any_writable(plain), "no writable points: no subscription");
    ef_config_free(plain);
}

int main(void)
{
    struct ef_config_errors *errs = NULL;
    if (ef_config_load_string("cmd.ini", ini, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        return 1;
    }
    single_point_commands();
    refusals();
    ts_and_age();
    device_commands();
    subscriptions();
    largest_result_fits();
    ef_config_free(cfg);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
