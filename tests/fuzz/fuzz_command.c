/* Fuzz target: one MQTT command, topic and payload from the network, through
 * everything the gateway does with it short of the bus: ef_cmd_prepare
 * against a fixed configuration, a simulated execution, the result payload
 * and the id cache.
 *
 * Input: byte 0 flags (bit 0 retained, bit 1 the topic is in the input up to
 * the first '\n', bits 2..6 otherwise pick one of the fixed topics), byte 1
 * the write the simulated bus fails at (>= the count: none), then the
 * payload.
 *
 * Invariants: every command ends refused or executable, never half; what is
 * executable only writes writable points of the device, with the function
 * code and register count of the point, registers that decode (real
 * decoder) to the reported value, inside write_min/write_max; every result
 * is valid JSON within EF_CMD_RESULT_MAX; a stored result comes back
 * unchanged for its id. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/modbus/decode.h"
#include "gateway/command/cmd_json_read.h"
#include "gateway/command/command.h"
#include "gateway/command/dedup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *ini =
    "[gateway]\nid = gw\n[mqtt]\nuri = tcp://127.0.0.1:1883\ntopic_prefix = site\n"
    "[bus:b]\ntype = tcp\nhost = h\n[device:d]\nbus = b\nunit = 1\n"
    "[point:d.sp]\nregister = holding:10\ntype = int16\nscale = 0.1\nwritable = true\n"
    "write_min = -50\nwrite_max = 300\n"
    "[point:d.mode]\nregister = holding:11\nwritable = true\n"
    "[point:d.f]\nregister = holding:12\ntype = float32\norder = CDAB\nwritable = true\n"
    "write_max = 1e30\n"
    "[point:d.g]\nregister = holding:14\ntype = float64\norder = DCBA\nwritable = true\n"
    "[point:d.i32]\nregister = holding:18\ntype = int32\norder = BADC\nscale = 0.5\n"
    "offset = -7\nwritable = true\n"
    "[point:d.u64]\nregister = holding:20\ntype = uint64\norder = CDAB\nwritable = true\n"
    "[point:d.i64]\nregister = holding:24\ntype = int64\nwritable = true\n"
    "[point:d.relay]\nregister = coil:3\nwritable = true\n"
    "[point:d.flag]\nregister = holding:30\nbit = 15\nwritable = true\n"
    "[point:d.ro]\nregister = holding:31\n"
    "[point:d.in]\nregister = input:1\ntype = float32\n"
    "[device:e]\nbus = b\nunit = 2\nwrite_single = fc16\n"
    "[point:e.x]\nregister = holding:0\ntype = int16\nwritable = true\n"
    "[serial:gps]\npath = /dev/ttyX\nformat = nmea\n";

static const char *const topics[] = {
    "site/gw/set/d/sp",    "site/gw/set/d/mode",  "site/gw/set/d/f",   "site/gw/set/d/g",
    "site/gw/set/d/i32",   "site/gw/set/d/u64",   "site/gw/set/d/i64", "site/gw/set/d/relay",
    "site/gw/set/d/flag",  "site/gw/set/d/ro",    "site/gw/set/d/in",  "site/gw/set/d/nope",
    "site/gw/set/d",       "site/gw/set/e",       "site/gw/set/e/x",   "site/gw/set/gps/lat",
    "site/gw/set/gps",     "site/gw/set/x/y",     "site/gw/set/d/",    "site/gw/set//",
    "site/gw/set/d/a b",   "site/gw/set/d/sp/x",  "site/other/set/d/sp", "site/gw/set",
};

static struct ef_config *cfg;
static struct ef_dedup *cache;
static struct ef_cmd_job job;
static char out[EF_CMD_RESULT_MAX];

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static void value_text(const struct ef_value *v, char *buf, size_t cap)
{
    struct ef_buf b;
    ef_buf_init(&b, buf, cap);
    ef_buf_value(&b, v);
}

static void check_write(const struct ef_device *dev, const struct ef_cmd_write *cw)
{
    const struct ef_point *p = cw->point;
    const struct ef_write *w = &cw->w;
    check(p >= dev->points && p < dev->points + dev->npoints, "point of the device");
    check(p->writable && strcmp(p->name, cw->name) == 0, "a writable point, by its name");
    check(w->address == p->address, "address");
    struct ef_value v;
    if (p->kind == EF_REG_COIL) {
        check(w->fc == EF_FC_WRITE_COIL && w->value.kind == EF_VAL_BOOL, "coil: FC5");
        check(w->value.as.b == w->coil, "coil value");
        return;
    }
    if (p->bit >= 0) {
        unsigned mask = 1u << p->bit, and_mask = w->and_mask, or_mask = w->or_mask;
        check(w->fc == EF_FC_MASK_WRITE && and_mask == (0xffffu ^ mask), "bit: FC22");
        check(or_mask == (w->value.as.b ? mask : 0), "bit: or mask");
        return;
    }
    unsigned n = ef_point_width(p);
    check(w->count == n, "register count");
    check(n > 1 ? w->fc == EF_FC_WRITE_REGISTERS
                : w->fc == (dev->write_single == EF_WRITE_SINGLE_FC16 ? EF_FC_WRITE_REGISTERS
                                                                      : EF_FC_WRITE_REGISTER),
          "function code");
    char a[64], b[64];
    ef_decode_regs(w->regs, p, &v);
    value_text(&v, a, sizeof a);
    value_text(&w->value, b, sizeof b);
    check(v.kind == w->value.kind && strcmp(a, b) == 0, "registers decode to the value");
    double d = ef_value_as_double(&v), slack = 1e-6 * fabs(d) + 1e-9;
    check(isfinite(d), "finite value");
    check(!p->has_write_min || d >= p->write_min - slack, "write_min");
    check(!p->has_write_max || d <= p->write_max + slack, "write_max");
}

static size_t result(void)
{
    struct ef_buf b;
    char err[EF_CMD_ERROR_MAX];
    ef_buf_init(&b, out, sizeof out);
    ef_cmd_result_json(&job, 1764150000000, &b);
    check(ef_buf_ok(&b), "result fits EF_CMD_RESULT_MAX");
    struct ef_jr r = {(const unsigned char *)out, (const unsigned char *)out,
                      (const unsigned char *)out + b.len, err, sizeof err};
    check(ef_jr_value(&r, 0, NULL) == 0 && r.p == r.end, "result is JSON");
    check(strncmp(out, "{\"ts\":", 6) == 0, "result starts with ts");
    check(strncmp(out + 19, job.has_id ? ",\"id\":\"" : ",\"ok\":", 6) == 0,
          "id only when the command had one");
    return b.len;
}

static void execute(uint8_t fail_at)
{
    const struct ef_device *dev = &cfg->devices[job.device];
    check(!job.refused && !job.failed && job.nwrites >= 1, "executable job");
    for (size_t i = 0; i < job.nwrites; i++) {
        check(job.writes[i].outcome == EF_CMD_PENDING, "pending writes");
        check_write(dev, &job.writes[i]);
    }
    for (size_t i = 0; i < job.nwrites; i++) {
        if (!ef_cmd_job_fresh(&job, i, cfg->mqtt.command_max_age_ms, 0, 1764150000000))
            break;
        if (i == fail_at) {
            ef_cmd_job_failed(&job, i, "Modbus exception: %s", "Slave device or server failure");
            break;
        }
        ef_cmd_job_written(&job, i, i % 2 ? NULL : &job.writes[i].w.value);
    }
    enum ef_cmd_class c = ef_cmd_job_class(&job);
    check(c == (fail_at < job.nwrites ? EF_CMD_CLASS_FAILED : EF_CMD_CLASS_EXECUTED), "class");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg) {
        struct ef_config_errors *errs = NULL;
        check(ef_config_load_string("fuzz.ini", ini, &cfg, &errs) == 0, "config loads");
        cache = ef_dedup_new(64, 16384, EF_DEDUP_TTL_MS);
    }
    if (size < 2)
        return 0;
    bool retained = data[0] & 1;
    uint8_t fail_at = data[1];
    const char *topic = topics[(data[0] >> 2) % (sizeof topics / sizeof topics[0])];
    size_t tlen = strlen(topic);
    const uint8_t *payload = data + 2;
    size_t plen = size - 2;
    if (data[0] & 2) { /* the topic comes from the input */
        const uint8_t *nl = memchr(payload, '\n', plen);
        if (!nl)
            return 0;
        topic = (const char *)payload;
        tlen = (size_t)(nl - payload);
        plen -= tlen + 1;
        payload = nl + 1;
    }
    enum ef_cmd_prep rc = ef_cmd_prepare(&job, cfg, topic, tlen, payload, plen, retained, 0,
                                         1764150000000);
    check(rc == EF_CMD_EXECUTE ? !job.refused : job.refused && job.error[0], "refused or not");
    check(!retained || rc != EF_CMD_EXECUTE, "a retained command is never executed");
    if (rc == EF_CMD_NOT_OURS)
        return 0;
    for (size_t i = 0; rc == EF_CMD_REFUSED && i < job.nwrites; i++)
        check(job.writes[i].outcome == EF_CMD_FAILED || job.writes[i].outcome == EF_CMD_SKIPPED,
              "a refused job has nothing to execute");
    if (rc == EF_CMD_EXECUTE)
        execute(fail_at);
    size_t len = result();
    if (job.has_id && rc == EF_CMD_EXECUTE) {
        static int64_t now;
        struct ef_dedup_result first;
        now += 1000;
        if (ef_dedup_check(cache, job.id, now, &first) == EF_DEDUP_NEW) {
            ef_dedup_complete(cache, job.id, job.result_topic, out, len, now);
            check(ef_dedup_check(cache, job.id, now, &first) == EF_DEDUP_DONE, "stored");
            check(first.len == len && memcmp(first.payload, out, len) == 0, "same result");
        }
    }
    return 0;
}
