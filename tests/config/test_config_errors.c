/* Every kind of bad input yields an error on the right line. BASE is lines
 * 1-4, so the first appended line is line 5. */
#include <string.h>

#include "test_config.h"

#define BUS "[bus:b]\ntype = tcp\nhost = h\n"                       /* lines 5-7 */
#define DEV BUS "[device:d]\nbus = b\nunit = 1\n"                   /* lines 8-10 */
#define PT DEV "[point:d.p]\n"                                     /* line 11 */
#define SER "[serial:s]\npath = /dev/s\nformat = kv\n"             /* lines 5-7 */

static const struct {
    const char *text;
    int line;
    const char *expect;
} cases[] = {
    /* syntax, from the line reader and inih */
    {BASE "key without equals\n", 5, "expected KEY = VALUE"},
    {BASE "[bus:b\n", 5, "closing ']'"},
    {BASE "[queue] junk\n", 5, "after the section header"},
    {"id = x\n" BASE, 1, "before the first [section]"},
    {BASE "[queue]\nflush_ms = 5\n  replay = fifo\n", 7, "multi-line"},
    {BASE "[queue]\n; a very long comment ............................................................................................................................................................................................\n",
     6, "longer than 198"},
    /* sections */
    {BASE "[devise:x]\n", 5, "did you mean 'device'"},
    {BASE "[gateway:x]\n", 5, "takes no name"},
    {BASE "[bus:bad name]\n", 5, "bad name"},
    {BASE "[point:d]\n", 5, "[point:OWNER.NAME]"},
    {BASE "[queue]\n[queue]\n", 6, "duplicate section [queue], first on line 5"},
    {BASE "[gateway]\n", 5, "duplicate section"},
    /* keys */
    {BASE "[queue]\nrelpay = fifo\n", 6, "unknown key 'relpay' (did you mean 'replay'"},
    {BASE "[queue]\nzzz = 1\n", 6, "unknown key 'zzz'"},
    {BASE "[queue]\nflush_ms = 1\nflush_ms = 2\n", 7, "duplicate key, first set on line 6"},
    {BASE BUS "port = 0\n", 8, "out of range 1..65535"},
    {BASE BUS "port = 65536\n", 8, "out of range"},
    {BASE BUS "port = 80x\n", 8, "not an integer"},
    {BASE BUS "port = 99999999999999999999\n", 8, "out of range"},
    {BASE BUS "port = 0x50\n", 8, "not an integer"},
    {BASE BUS "timeout_ms = \n", 8, "not an integer"},
    {BASE "[bus:b]\ntype = udp\n", 6, "not one of: rtu tcp rtu-over-tcp"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\nbaud = 14400\n", 8, "standard baud"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\nparity = X\n", 8, "N, E or O"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\ndata_bits = 9\n", 8, "5..8"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\nstop_bits = 3\n", 8, "1..2"},
    {BASE "[bus:r]\ntype = rtu\npath = dev/x\n", 7, "absolute path"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\nrs485 = maybe\n", 8, "not a boolean"},
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\nhost = h\n", 8, "does not apply"},
    {BASE BUS "baud = 9600\n", 8, "does not apply"},
    {BASE "[bus:r]\ntype = rtu\n", 5, "missing required key 'path'"},
    {BASE "[bus:r]\ntype = tcp\n", 5, "missing required key 'host'"},
    {BASE "[bus:r]\nhost = h\n", 5, "missing required key 'type'"},
    {BASE BUS "max_regs = 0\n", 8, "out of range"},
    {BASE DEV "unit = 248\n", 11, "duplicate key"},
    {BASE BUS "[device:d]\nbus = b\nunit = 248\n", 10, "0..247"},
    {BASE BUS "[device:d]\nbus = b\n", 8, "missing required key 'unit'"},
    {BASE BUS "[device:d]\nunit = 1\n", 8, "missing required key 'bus'"},
    {BASE BUS "[device:d]\nbus = bb\nunit = 1\n", 9, "no [bus:bb] in this file (did you mean 'b'"},
    {BASE DEV "template = T\n[point:d.x]\nregister = coil:1\n", 11, "no [template:T]"},
    {BASE DEV "\n", 8, "has no points"},
    {BASE DEV "[device:e]\nbus = b\nunit = 1\n[point:d.x]\nregister = coil:1\n[point:e.x]\nregister = coil:1\n",
     13, "already [device:d]"},
    {BASE DEV "interval_ms = 5\n[point:d.x]\nregister = coil:1\n", 11, "10..86400000"},
    /* unit 0 is the broadcast address wherever RTU frames carry it */
    {BASE "[bus:r]\ntype = rtu\npath = /dev/x\n[device:d]\nbus = r\nunit = 0\n"
          "[point:d.p]\nregister = coil:1\n", 10, "0 is the broadcast address on a rtu bus"},
    {BASE "[bus:r]\ntype = rtu-over-tcp\nhost = h\n[device:d]\nbus = r\nunit = 0\n"
          "[point:d.p]\nregister = coil:1\n", 10, "broadcast address on a rtu-over-tcp bus"},
    /* gateway and mqtt */
    {"[gateway]\nid = a.b\n[mqtt]\nuri = tcp://h:1\n", 2, "not a name"},
    {"[gateway]\nid = 01234567890123456789012345678901234567890123456789012345678901234\n[mqtt]\nuri = tcp://h:1\n",
     2, "not a name"},
    {"[gateway]\nlog_level = info\n[mqtt]\nuri = tcp://h:1\n", 1, "missing required key 'id'"},
    {"[gateway]\nid = g\nlog_level = loud\n[mqtt]\nuri = tcp://h:1\n", 3, "not one of: error"},
    {"[gateway]\nid = g\n[mqtt]\nuri = http://h:1\n", 4, "scheme"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h\n", 4, "port is missing"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:0\n", 4, "1..65535"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://:1883\n", 4, "host is missing"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1/x\n", 4, "only ws"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1\nversion = 4\n", 5, "not one of: 3.1.1 5"},
    /* several brokers: each checked, none twice, at most EF_MQTT_URIS_MAX */
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1 http://i:1\n", 4, "URI 2 (http://i:1): the scheme"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1 tcp://i\n", 4, "URI 2 (tcp://i): the port is missing"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1  tcp://h:1\n", 4, "URI 2 (tcp://h:1) is listed twice"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://a:1 tcp://b:1 tcp://c:1 tcp://d:1 tcp://e:1 tcp://f:1 "
     "tcp://g:1 tcp://h:1 tcp://i:1\n", 4, "more than 8 URIs"},
    {"[gateway]\nid = g\n[mqtt]\nuri = tcp://h:1 tcp://i:1\nca_file = /ca\n", 5, "needs a TLS uri"},
    {BASE "telemetry_qos = 3\n", 5, "0..2"},
    {BASE "alarm_qos = -1\n", 5, "0..2"},
    {BASE "topic_prefix = /a\n", 5, "start or end"},
    {BASE "topic_prefix = a/\n", 5, "start or end"},
    {BASE "topic_prefix = a//b\n", 5, "empty level"},
    {BASE "topic_prefix = a/+/b\n", 5, "wildcards"},
    {BASE "topic_prefix = a#\n", 5, "wildcards"},
    {BASE "ca_file = /ca\n", 5, "needs a TLS uri"},
    {"[gateway]\nid = g\n[mqtt]\nuri = ssl://h:1\ncert_file = /c\n", 5, "go together"},
    {BASE "keepalive_s = 0\n", 5, "1..3600"},
    {"[gateway]\nid = g\n", 0, "missing [mqtt]"},
    {"[mqtt]\nuri = tcp://h:1\n", 0, "missing [gateway]"},
    {"", 0, "missing [gateway]"},
    /* points */
    {BASE PT "type = int32\n", 11, "missing required key 'register'"},
    {BASE PT "register = coils:1\n", 12, "KIND:ADDRESS"},
    {BASE PT "register = holding:65536\n", 12, "0..65535"},
    {BASE PT "register = holding:-1\n", 12, "0..65535"},
    {BASE PT "register = holding:65535\ntype = int32\n", 12, "runs past 65535"},
    {BASE PT "register = input:65533\ntype = float64\n", 12, "runs past 65535"},
    {BASE PT "register = coil:1\ntype = int32\n", 13, "must be bool"},
    {BASE PT "register = discrete:1\ntype = float64\n", 13, "must be bool"},
    {BASE PT "register = coil:1\nbit = 2\n", 13, "only input and holding"},
    {BASE PT "register = holding:1\nbit = 16\n", 13, "0..15"},
    {BASE PT "register = holding:1\nbit = 1\ntype = uint16\n", 14, "must be bool"},
    {BASE PT "register = holding:1\ntype = bool\n", 13, "bool needs"},
    {BASE PT "register = holding:1\ntype = float\n", 13, "not one of"},
    {BASE PT "register = holding:1\norder = ABDC\n", 13, "not one of"},
    {BASE PT "register = holding:65534\ntype = int32\n[point:d.q]\nregister = holding:65532\ntype = uint64\n"
          "[point:d.r]\nregister = input:65536\n", 18, "0..65535"}, /* the first two fit exactly */
    {BASE PT "register = holding:1\nscale = nan\n", 13, "not a number"},
    {BASE PT "register = holding:1\nscale = inf\n", 13, "not a number"},
    {BASE PT "register = holding:1\nscale = 1.5x\n", 13, "not a number"},
    {BASE PT "register = holding:1\nscale = 1e999\n", 13, "too large"},
    {BASE PT "register = holding:1\noffset = 0x10\n", 13, "not a number"},
    {BASE PT "register = holding:1\ndeadband = -1\n", 13, "out of range"},
    {BASE PT "register = holding:1\nalarm_hysteresis = -0.1\n", 13, "out of range"},
    {BASE PT "register = holding:1\nalarm_high = 1\nalarm_low = 2\n", 14, "below alarm_high"},
    {BASE PT "register = holding:1\n[point:x.q]\nregister = coil:1\n", 13, "no device, template or serial"},
    /* device quirks: strings, per-point intervals, per-device coalescing */
    {BASE PT "register = holding:1\ntype = string\n", 11, "missing required key 'length'"},
    {BASE PT "register = holding:1\ntype = string\nlength = 126\n", 14, "1..125"},
    {BASE PT "register = holding:1\ntype = string\nlength = 0\n", 14, "1..125"},
    {BASE PT "register = holding:65530\ntype = string\nlength = 8\n", 12, "runs past 65535"},
    {BASE PT "register = coil:1\ntype = string\nlength = 2\n", 13, "must be bool"},
    {BASE PT "register = holding:1\nbit = 3\ntype = string\nlength = 2\n", 14, "must be bool"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\ndeadband = 1\n", 15,
     "deadband: does not apply to a string"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\nalarm_high = 1\n", 15,
     "alarm_high: does not apply to a string"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\nalarm_low = 1\n", 15,
     "alarm_low: does not apply to a string"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\nalarm_hysteresis = 1\n", 15,
     "does not apply to a string"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\nscale = 2\n", 15,
     "does not apply to a string"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\norder = CDAB\n", 15,
     "a string's order is AB (high byte first) or BA, not CDAB"},
    {BASE PT "register = holding:1\ntype = uint32\norder = BA\n", 14, "AB and BA are orders of strings"},
    {BASE PT "register = holding:1\nlength = 2\n", 13, "only string points have a length"},
    {BASE PT "register = holding:1\ntype = string\nlength = 2\nwritable = true\n", 15,
     "writable: strings are read-only"},
    {BASE PT "register = holding:1\ninterval_ms = 1500\n", 13,
     "1500 is not a multiple of the interval_ms of [device:d] (1000)"},
    {BASE PT "register = holding:1\ninterval_ms = 5\n", 13, "10..86400000"},
    {BASE BUS "[template:T]\n[point:T.x]\nregister = input:0\ninterval_ms = 3000\n"
          "[device:d]\nbus = b\nunit = 1\ntemplate = T\ninterval_ms = 2000\n", 11,
     "3000 is not a multiple of the interval_ms of [device:d] (2000)"},
    {BASE DEV "interval_ms = 10\n"
          "[point:d.a]\nregister = input:0\ninterval_ms = 20\n[point:d.b]\nregister = input:1\ninterval_ms = 30\n"
          "[point:d.c]\nregister = input:2\ninterval_ms = 50\n[point:d.e]\nregister = input:3\ninterval_ms = 70\n"
          "[point:d.f]\nregister = input:4\ninterval_ms = 110\n[point:d.g]\nregister = input:5\ninterval_ms = 130\n"
          "[point:d.h]\nregister = input:6\ninterval_ms = 170\n",
     8, "need more than 64 different poll plans"},
    {BASE DEV "max_regs = 0\n[point:d.x]\nregister = coil:1\n", 11, "1..2000"},
    {BASE DEV "max_gap = 2001\n[point:d.x]\nregister = coil:1\n", 11, "0..2000"},
    {BASE "[template:T]\nmax_regs = 3000\n", 6, "1..2000"},
    {BASE SER "[point:s.t]\ninterval_ms = 2000\n", 9, "only Modbus points"},
    {BASE SER "[point:s.t]\nlength = 2\n", 9, "only Modbus points"},
    {BASE PT "register = holding:1\n[point:d.p]\nregister = coil:1\n", 13, "duplicate section"},
    /* writable points and their limits */
    {BASE PT "register = input:1\nwritable = true\n", 13, "only holding registers (or a bit of one) and coils"},
    {BASE PT "register = discrete:1\nwritable = true\n", 13, "this point is discrete:1"},
    {BASE PT "register = input:1\nbit = 3\nwritable = true\n", 14, "this point is input:1"},
    {BASE PT "register = holding:1\nwritable = maybe\n", 13, "not a boolean"},
    {BASE PT "register = holding:1\nwrite_min = 1\n", 13, "write_min: needs writable = true"},
    {BASE PT "register = holding:1\nwritable = false\nwrite_max = 1\n", 14, "write_max: needs writable"},
    {BASE PT "register = holding:1\nwritable = true\nwrite_min = 5\nwrite_max = 4\n", 14,
     "must not be above write_max (4)"},
    {BASE PT "register = coil:1\nwritable = true\nwrite_max = 1\n", 14, "does not apply to a bool"},
    {BASE PT "register = holding:1\nbit = 0\nwritable = true\nwrite_min = 0\n", 15,
     "does not apply to a bool"},
    {BASE PT "register = holding:1\nwritable = true\nwrite_max = inf\n", 14, "not a number"},
    {BASE SER "[point:s.t]\nwritable = true\n", 9, "serial sensors are not writable"},
    {BASE DEV "write_single = fc5\n[point:d.x]\nregister = coil:1\n", 11, "not one of: fc6 fc16"},
    {BASE "[template:T]\nwrite_single = FC16\n", 6, "not one of: fc6 fc16"},
    {BASE "command_max_age_ms = 99\n", 5, "100..3600000"},
    {BASE "command_max_age_ms = 3600001\n", 5, "100..3600000"},
    /* serial sensors */
    {BASE "[serial:s]\nformat = kv\n", 5, "missing required key 'path'"},
    {BASE "[serial:s]\npath = /dev/s\n", 5, "missing required key 'format'"},
    {BASE "[serial:s]\npath = /dev/s\nformat = json\n", 7, "not one of: nmea kv csv"},
    {BASE "[serial:s]\npath = /dev/s\nformat = csv\n", 5, "missing required key 'fields'"},
    {BASE SER "fields = a\n", 8, "only csv"},
    {BASE "[serial:s]\npath = /dev/s\nformat = csv\nfields = a,,b\n", 8, "not a point name"},
    {BASE "[serial:s]\npath = /dev/s\nformat = csv\nfields = a,b,a\n", 8, "listed twice"},
    {BASE SER "query = R\\q\n", 8, "unknown escape '\\q'"},
    {BASE SER "query = \\x4\n", 8, "two hex digits"},
    {BASE SER "query = \\xZZ\n", 8, "two hex digits"},
    {BASE SER "query = abc\\\n", 8, "lone"},
    {BASE SER "[point:s.t]\nregister = input:1\n", 9, "only Modbus points"},
    {BASE SER "[point:s.t]\nbit = 1\n", 9, "only Modbus points"},
    {BASE "[serial:g]\npath = /dev/g\nformat = nmea\n[point:g.height]\n", 8, "an nmea sensor reports"},
    {BASE "[serial:c]\npath = /dev/g\nformat = csv\nfields = a\n[point:c.b]\n", 9, "not in the fields"},
    {BASE SER "[serial:t]\npath = /dev/s\nformat = kv\n", 9, "also the path of [serial:s]"},
    {BASE SER "[device:s]\nbus = b\nunit = 1\n", 8, "already used by [serial:s]"},
    {BASE SER "baud = 100\n", 8, "standard baud"},
    /* the gateway's own alarms are P/G/alarm/gateway/... */
    {BASE BUS "[device:gateway]\nbus = b\nunit = 1\n", 8, "'gateway' is reserved"},
    {BASE "[serial:gateway]\npath = /dev/s\nformat = kv\n", 5, "'gateway' is reserved"},
    {"[gateway]\nid = gw\nclock_unsynced = later\n[mqtt]\nuri = tcp://h:1\n", 3,
     "not one of: auto mark drop ignore"},
};

int test_bad_values(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ef_config *cfg = NULL;
        struct ef_config_errors *errs = NULL;
        int rc = ef_config_load_string("bad.ini", cases[i].text, &cfg, &errs);
        bool found = false;
        for (size_t e = 0; rc == -1 && errs && e < errs->count; e++)
            found = found || (errs->items[e].line == cases[i].line &&
                              strstr(errs->items[e].message, cases[i].expect));
        if (rc != -1 || cfg || !found) {
            fprintf(stderr, "case %zu: expected line %d '%s', got rc %d:\n", i, cases[i].line,
                    cases[i].expect, rc);
            ef_config_errors_print(errs, stderr);
            ef_test_failures++;
        }
        ef_config_free(cfg);
        ef_config_errors_free(errs);
    }
    return 0;
}

int test_all_errors(void)
{
    const char *text = "[point:d.p]\n"          /* 1: owner defined later: fine */
                       "register = holding:1\n" /* 2 */
                       "scale = abc\n"          /* 3 */
                       "[gateway]\n"            /* 4 */
                       "id = g\n"               /* 5 */
                       "idd = x\n"              /* 6 */
                       "[mqtt]\n"               /* 7 */
                       "uri = tcp://h:1\n"      /* 8 */
                       "alarm_qos = 7\n"        /* 9 */
                       "[device:d]\n"           /* 10 */
                       "bus = nope\n"           /* 11 */
                       "unit = 1\n"             /* 12 */
                       "[wat]\n";               /* 13 */
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    CHECK(ef_config_load_string("many.ini", text, &cfg, &errs) == -1 && cfg == NULL);
    static const int lines[] = {3, 6, 9, 11, 13};
    CHECK(errs && errs->count == 5);
    for (size_t i = 0; errs && i < errs->count && i < 5; i++)
        CHECK(errs->items[i].line == lines[i]);
    char buf[2048] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ef_config_errors_print(errs, f);
    fclose(f);
    CHECK(strstr(buf, "many.ini:3: [point:d.p] scale: 'abc' is not a number\n") != NULL);
    CHECK(strstr(buf, "many.ini:13: unknown section [wat]\n") != NULL);
    ef_config_errors_free(errs);
    return 0;
}

/* Counts the errors whose message contains WHAT; checks they are in line order. */
static size_t errors_with(const struct ef_config_errors *errs, const char *what)
{
    size_t n = 0;
    for (size_t e = 0; errs && e < errs->count; e++) {
        n += strstr(errs->items[e].message, what) != NULL;
        if (e > 0 && errs->items[e - 1].line > errs->items[e].line) {
            fprintf(stderr, "errors out of line order at %zu\n", e);
            ef_test_failures++;
        }
    }
    return n;
}

int test_unit_zero(void)
{
    /* Modbus TCP devices (and gateways to them) often answer unit 0. */
    struct ef_config *cfg = load_ok(BASE BUS "[device:d]\nbus = b\nunit = 0\n"
                                             "[point:d.p]\nregister = coil:1\n");
    CHECK(cfg && cfg->ndevices == 1 && cfg->devices[0].unit == 0);
    ef_config_free(cfg);
    /* On RTU exactly one error, on the unit's line. */
    struct ef_config_errors *errs = NULL;
    CHECK(ef_config_load_string("u.ini", BASE "[bus:r]\ntype = rtu\npath = /dev/x\n"
                                "[device:d]\nbus = r\nunit = 0\n[point:d.p]\nregister = coil:1\n",
                                &cfg, &errs) == -1);
    CHECK(errs && errs->count == 1 && errs->items[0].line == 10);
    ef_config_errors_free(errs);
    return 0;
}

int test_duplicates_once(void)
{
    /* Three devices share unit 5 on bus b, a fourth has it on another bus:
     * one error for each of the two repeats, both naming the first. */
    const char *text = BASE BUS                                      /* 5-7 */
        "[bus:c]\ntype = tcp\nhost = h2\n"                          /* 8-10 */
        "[device:d0]\nbus = b\nunit = 5\n[point:d0.p]\nregister = coil:1\n" /* 11-15 */
        "[device:d1]\nbus = b\nunit = 5\n[point:d1.p]\nregister = coil:1\n" /* 16-20 */
        "[device:d2]\nbus = b\nunit = 5\n[point:d2.p]\nregister = coil:1\n" /* 21-25 */
        "[device:d3]\nbus = c\nunit = 5\n[point:d3.p]\nregister = coil:1\n" /* 26-30 */
        "[serial:s0]\npath = /dev/s\nformat = kv\n"                 /* 31-33 */
        "[serial:s1]\npath = /dev/s\nformat = kv\n"                 /* 34-36 */
        "[serial:s2]\npath = /dev/s\nformat = kv\n";                /* 37-39 */
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    CHECK(ef_config_load_string("dup.ini", text, &cfg, &errs) == -1 && !cfg);
    if (!errs)
        return 0;
    CHECK(errs->count == 4);
    CHECK(errors_with(errs, "unit 5 on bus b is already [device:d0] (line 11)") == 2);
    CHECK(errors_with(errs, "/dev/s is also the path of [serial:s0]") == 2);
    static const int lines[] = {18, 23, 35, 38};
    for (size_t i = 0; i < errs->count && i < 4; i++)
        CHECK(errs->items[i].line == lines[i]);
    if (ef_test_failures)
        ef_config_errors_print(errs, stderr);
    ef_config_errors_free(errs);
    return 0;
}
