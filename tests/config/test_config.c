/* Loader tests: valid files, defaults, templates, shipped examples, docs.
 * Run one group: test_config GROUP (see CMakeLists.txt). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_keys.h"
#include "config/config_value.h"
#include "test_config.h"

int ef_test_failures;

struct ef_config *load_ok(const char *text)
{
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load_string("test.ini", text, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        ef_config_errors_free(errs);
        ef_test_failures++;
        return NULL;
    }
    CHECK(errs == NULL);
    return cfg;
}

static const struct ef_device *find_device(const struct ef_config *c, const char *name)
{
    for (size_t i = 0; i < c->ndevices; i++)
        if (strcmp(c->devices[i].name, name) == 0)
            return &c->devices[i];
    return NULL;
}

static const struct ef_point *find_point(const struct ef_device *d, const char *name)
{
    for (size_t i = 0; d && i < d->npoints; i++)
        if (strcmp(d->points[i].name, name) == 0)
            return &d->points[i];
    return NULL;
}

static int full_example_loads_with_its_values(void)
{
    struct ef_config *c = load_ok(
        "; comment\n# another\n[gateway]\nid = gw-1\nstate_dir = /srv/q\nlog_level = debug\n"
        "stats_interval_s = 0\n"
        "[mqtt]\nuri = mqtts://[::1]:8883\nclient_id = me\nusername = u\npassword_file = /p\n"
        "ca_file = /ca\ncert_file = /c\nkey_file = /k\ntls_verify = no\nversion = 5\n"
        "topic_prefix = site/a\nkeepalive_s = 60\ntelemetry_qos = 1\nalarm_qos = 2\n"
        "retain_alarms = false ; inline comment\n"
        "[queue]\nmax_disk_mb = 8\nmemory_kb = 64\nflush_ms = 0\nreplay = fifo\n"
        "[point:m.v]\nregister = input:7\ntype = float64\norder = BADC\nscale = -2.5e-1\n"
        "offset = 3\nunit = V\ndeadband = 0.5\nalarm_high = 10\nalarm_low = -1\nalarm_hysteresis = .5\n"
        "[bus:b]\ntype = rtu\npath = /dev/ttyS1\nbaud = 115200\nparity = e\ndata_bits = 7\n"
        "stop_bits = 2\nrs485 = on\ntimeout_ms = 50\nretries = 0\nmax_gap = 0\nmax_regs = 2000\n"
        "delay_ms = 5\n"
        "[device:m]\nbus = b\nunit = 247\ninterval_ms = 250\noffline_after = 9\nheartbeat_s = 0\n"
        "[bus:t]\ntype = rtu-over-tcp\nhost = plc.local\nport = 4001\n"
        "[serial:s]\npath = /dev/ttyS2\nformat = csv\nfields = a, b,c\nquery = R\\r\\x41\\\\\n"
        "[point:s.b]\nscale = 2\n");
    if (!c)
        return 1;
    CHECK(strcmp(c->gateway.id, "gw-1") == 0 && strcmp(c->gateway.state_dir, "/srv/q") == 0);
    CHECK(c->gateway.log_level == 7 && c->gateway.stats_interval_s == 0);
    CHECK(strcmp(c->mqtt.uri, "mqtts://[::1]:8883") == 0 && strcmp(c->mqtt.client_id, "me") == 0);
    CHECK(!c->mqtt.tls_verify && c->mqtt.version == 5 && c->mqtt.keepalive_s == 60);
    CHECK(strcmp(c->mqtt.topic_prefix, "site/a") == 0 && c->mqtt.telemetry_qos == 1);
    CHECK(c->mqtt.alarm_qos == 2 && !c->mqtt.retain_alarms && strcmp(c->mqtt.key_file, "/k") == 0);
    CHECK(c->queue.max_disk_mb == 8 && c->queue.memory_kb == 64 && c->queue.flush_ms == 0);
    CHECK(c->queue.replay == EF_REPLAY_FIFO);
    CHECK(c->nbuses == 2 && c->buses[0].type == EF_BUS_RTU && c->buses[0].baud == 115200);
    CHECK(c->buses[0].parity == 'E' && c->buses[0].data_bits == 7 && c->buses[0].stop_bits == 2);
    CHECK(c->buses[0].rs485 && c->buses[0].timeout_ms == 50 && c->buses[0].retries == 0);
    CHECK(c->buses[0].max_gap == 0 && c->buses[0].max_regs == 2000 && c->buses[0].delay_ms == 5);
    CHECK(c->buses[1].type == EF_BUS_RTU_OVER_TCP && c->buses[1].port == 4001);
    CHECK(strcmp(c->buses[1].host, "plc.local") == 0 && c->buses[1].line == 58);
    const struct ef_device *d = find_device(c, "m");
    CHECK(d && d->bus == 0 && d->unit == 247 && d->interval_ms == 250 && d->offline_after == 9);
    CHECK(d && d->heartbeat_s == 0 && d->npoints == 1 && d->line == 52);
    const struct ef_point *p = find_point(d, "v");
    CHECK(p && p->has_register && p->kind == EF_REG_INPUT && p->address == 7 && p->line == 28);
    CHECK(p && p->type == EF_T_FLOAT64 && p->order == EF_ORDER_BADC && p->scale == -0.25);
    CHECK(p && p->offset == 3 && p->scaled && strcmp(p->unit, "V") == 0 && p->deadband == 0.5);
    CHECK(p && p->has_alarm_high && p->alarm_high == 10 && p->has_alarm_low && p->alarm_low == -1);
    CHECK(p && p->alarm_hysteresis == 0.5 && p->bit == -1 && ef_point_width(p) == 4);
    CHECK(c->nserials == 1 && c->serials[0].format == EF_FMT_CSV && c->serials[0].nfields == 3);
    CHECK(c->nserials == 1 && strcmp(c->serials[0].fields[1], "b") == 0);
    CHECK(c->serials[0].has_query && c->serials[0].query_len == 4);
    CHECK(memcmp(c->serials[0].query, "R\rA\\", 4) == 0);
    const struct ef_point *sp = ef_serial_point(&c->serials[0], "b");
    CHECK(sp && !sp->has_register && sp->scale == 2 && sp->scaled);
    CHECK(ef_serial_point(&c->serials[0], "a") == NULL);
    ef_config_free(c);
    return 0;
}

static int defaults_apply_when_keys_are_left_out(void)
{
    unsetenv("STATE_DIRECTORY");
    struct ef_config *c = load_ok(BASE "[bus:b]\ntype = tcp\nhost = h\n[device:d]\nbus = b\n"
                                       "unit = 0\n[point:d.x]\nregister = holding:1\n"
                                       "[point:d.c]\nregister = coil:1\n"
                                       "[serial:g]\npath = /dev/g\nformat = nmea\n");
    if (!c)
        return 1;
    CHECK(strcmp(c->gateway.state_dir, "/var/lib/edgeferry") == 0);
    CHECK(c->gateway.log_level == 6 && c->gateway.stats_interval_s == 60);
    CHECK(strcmp(c->mqtt.client_id, "edgeferry-gw") == 0 && c->mqtt.username[0] == '\0');
    CHECK(c->mqtt.tls_verify && c->mqtt.version == 4 && c->mqtt.keepalive_s == 30);
    CHECK(strcmp(c->mqtt.topic_prefix, "edgeferry") == 0 && c->mqtt.telemetry_qos == 0);
    CHECK(c->mqtt.alarm_qos == 1 && c->mqtt.retain_alarms);
    CHECK(c->queue.max_disk_mb == 64 && c->queue.memory_kb == 256 && c->queue.flush_ms == 1000);
    CHECK(c->queue.replay == EF_REPLAY_LIVE_FIRST);
    const struct ef_bus *b = &c->buses[0];
    CHECK(b->port == 502 && b->timeout_ms == 1000 && b->retries == 2 && b->max_gap == 10);
    CHECK(b->max_regs == 125 && b->delay_ms == 0 && b->baud == 9600 && b->parity == 'N');
    CHECK(b->data_bits == 8 && b->stop_bits == 1 && !b->rs485);
    const struct ef_device *d = &c->devices[0];
    CHECK(d->interval_ms == 1000 && d->offline_after == 3 && d->heartbeat_s == 300);
    CHECK(d->template_name[0] == '\0');
    const struct ef_point *x = find_point(d, "x"), *cl = find_point(d, "c");
    CHECK(x && x->type == EF_T_UINT16 && x->order == EF_ORDER_ABCD && x->scale == 1);
    CHECK(x && x->offset == 0 && !x->scaled && x->bit == -1 && x->deadband == 0);
    CHECK(x && !x->has_alarm_high && !x->has_alarm_low && x->alarm_hysteresis == 0);
    CHECK(cl && cl->type == EF_T_BOOL && cl->kind == EF_REG_COIL);
    const struct ef_serial *s = &c->serials[0];
    CHECK(s->baud == 9600 && s->interval_ms == 1000 && s->timeout_ms == 1000);
    CHECK(s->offline_after == 3 && s->heartbeat_s == 300 && !s->has_query && s->npoints == 0);
    ef_config_free(c);
    return 0;
}

static int several_brokers_load_and_a_tls_one_allows_the_tls_keys(void)
{
    struct ef_config *c = load_ok("[gateway]\nid = g\n[mqtt]\n"
                                  "uri = tcp://a:1883 mqtts://b:8883 ws://c:80/mqtt\n"
                                  "ca_file = /ca\n"
                                  "[serial:s]\npath = /dev/s\nformat = nmea\n");
    if (!c)
        return 1;
    CHECK(strcmp(c->mqtt.uri, "tcp://a:1883 mqtts://b:8883 ws://c:80/mqtt") == 0);
    CHECK(strcmp(c->mqtt.ca_file, "/ca") == 0);
    ef_config_free(c);
    size_t n = 0;
    bool tls = true;
    char err[128];
    CHECK(ef_cv_uri_list("  tcp://a:1  tcp://b:2 ", &n, &tls, err, sizeof err) == 0);
    CHECK(n == 2 && !tls);
    const char *s = " tcp://a:1  ws://b:2/x", *u;
    CHECK(ef_cv_uri_next(&s, &u) == 9 && strncmp(u, "tcp://a:1", 9) == 0);
    CHECK(ef_cv_uri_next(&s, &u) == 10 && strncmp(u, "ws://b:2/x", 10) == 0);
    CHECK(ef_cv_uri_next(&s, &u) == 0);
    return 0;
}

static int state_dir_default_follows_STATE_DIRECTORY(void)
{
    setenv("STATE_DIRECTORY", "/var/lib/private/edgeferry:/var/lib/other", 1);
    struct ef_config *c = load_ok(BASE);
    CHECK(c && strcmp(c->gateway.state_dir, "/var/lib/private/edgeferry") == 0);
    ef_config_free(c);
    setenv("STATE_DIRECTORY", "relative", 1); /* not usable: the fixed default */
    c = load_ok(BASE);
    CHECK(c && strcmp(c->gateway.state_dir, "/var/lib/edgeferry") == 0);
    ef_config_free(c);
    c = load_ok(BASE "[queue]\n");
    CHECK(c && c->queue.max_disk_mb == 64);
    ef_config_free(c);
    unsetenv("STATE_DIRECTORY");
    return 0;
}

static int templates_resolve_into_device_points(void)
{
    struct ef_config *c = load_ok(
        BASE "[point:a.own]\nregister = input:50\n"
             "[point:T.x]\nregister = input:0\n[point:T.y]\nregister = input:1\ntype = int16\n"
             "[bus:b]\ntype = tcp\nhost = h\n[template:T]\ninterval_ms = 5000\n"
             "[device:a]\nbus = b\nunit = 1\ntemplate = T\n"
             "[point:a.x]\nregister = holding:9\ntype = float32\n"
             "[device:b2]\nbus = b\nunit = 2\ntemplate = T\ninterval_ms = 100\n"
             "[template:E]\n[device:c]\nbus = b\nunit = 3\ntemplate = E\n[point:c.z]\nregister = coil:0\n");
    if (!c)
        return 1;
    const struct ef_device *a = find_device(c, "a"), *b2 = find_device(c, "b2"), *dc = find_device(c, "c");
    CHECK(a && a->npoints == 3 && b2 && b2->npoints == 2 && dc && dc->npoints == 1);
    /* template points first in file order, the override in place, then own points */
    CHECK(a && strcmp(a->points[0].name, "x") == 0 && a->points[0].kind == EF_REG_HOLDING);
    CHECK(a && a->points[0].type == EF_T_FLOAT32 && a->points[0].address == 9);
    CHECK(a && strcmp(a->points[1].name, "y") == 0 && a->points[1].type == EF_T_INT16);
    CHECK(a && strcmp(a->points[2].name, "own") == 0);
    CHECK(b2 && b2->points[0].kind == EF_REG_INPUT && b2->points[0].address == 0);
    CHECK(a && a->interval_ms == 5000 && b2 && b2->interval_ms == 100);
    CHECK(dc && dc->interval_ms == 1000 && strcmp(dc->template_name, "E") == 0);
    CHECK(a && strcmp(a->template_name, "T") == 0);
    ef_config_free(c);
    return 0;
}

/* check_unit: true unless said otherwise; a device's own value beats its
 * template's; false makes sense only on a tcp bus. */
static int check_unit_defaults_to_true_and_follows_the_template(void)
{
    struct ef_config *c = load_ok(
        BASE "[bus:b]\ntype = tcp\nhost = h\n[bus:r]\ntype = rtu\npath = /dev/x\n"
             "[template:F]\ncheck_unit = false\n[point:F.x]\nregister = input:0\n"
             "[template:T]\n[point:T.x]\nregister = input:0\n"
             "[device:plain]\nbus = b\nunit = 1\ntemplate = T\n"
             "[device:fixed]\nbus = b\nunit = 2\ncheck_unit = false\ntemplate = T\n"
             "[device:inherits]\nbus = b\nunit = 3\ntemplate = F\n"
             "[device:overrides]\nbus = b\nunit = 4\ntemplate = F\ncheck_unit = true\n"
             "[device:line]\nbus = r\nunit = 1\ntemplate = F\n");
    if (!c)
        return 1;
    const struct ef_device *plain = find_device(c, "plain"), *fixed = find_device(c, "fixed"),
                           *inh = find_device(c, "inherits"), *ovr = find_device(c, "overrides");
    CHECK(plain && plain->check_unit && fixed && !fixed->check_unit);
    CHECK(inh && !inh->check_unit && ovr && ovr->check_unit);
    ef_config_free(c);
    /* Set on an RTU device it would do nothing: said, with its line (7). */
    struct ef_config *bad = NULL;
    struct ef_config_errors *errs = NULL;
    int rc = ef_config_load_string("t.ini",
                                   BASE "[bus:r]\ntype = rtu\npath = /dev/x\n[device:d]\n"
                                        "bus = r\nunit = 1\ncheck_unit = false\n"
                                        "[point:d.x]\nregister = input:0\n",
                                   &bad, &errs);
    CHECK(rc < 0 && errs && errs->count == 1);
    CHECK(errs && errs->count && errs->items[0].line == 11 &&
          strstr(errs->items[0].message, "tcp buses only"));
    ef_config_errors_free(errs);
    ef_config_free(bad);
    return 0;
}

/* writable, write_min/max, write_single (device over template over fc6)
 * and command_max_age_ms, with their defaults. */
static int write_keys_load_and_inherit(void)
{
    struct ef_config *c = load_ok(
        BASE "command_max_age_ms = 2500\n"
             "[bus:b]\ntype = tcp\nhost = h\n[template:T]\nwrite_single = fc16\n"
             "[point:T.sp]\nregister = holding:3\ntype = int16\nscale = 0.1\nwritable = yes\n"
             "write_min = -5\nwrite_max = 30\n"
             "[device:a]\nbus = b\nunit = 1\ntemplate = T\n"
             "[device:e]\nbus = b\nunit = 2\ntemplate = T\nwrite_single = fc6\n"
             "[device:n]\nbus = b\nunit = 3\n[point:n.c]\nregister = coil:4\nwritable = true\n"
             "[point:n.bit]\nregister = holding:7\nbit = 15\nwritable = true\n"
             "[point:n.eq]\nregister = holding:8\ntype = float64\nwritable = true\n"
             "write_min = 2\nwrite_max = 2\n[point:n.ro]\nregister = holding:9\n");
    if (!c)
        return 1;
    CHECK(c->mqtt.command_max_age_ms == 2500);
    const struct ef_device *a = find_device(c, "a"), *e = find_device(c, "e"), *n = find_device(c, "n");
    CHECK(a && a->write_single == EF_WRITE_SINGLE_FC16);
    CHECK(e && e->write_single == EF_WRITE_SINGLE_FC6);
    CHECK(n && n->write_single == EF_WRITE_SINGLE_FC6);
    const struct ef_point *sp = find_point(a, "sp");
    CHECK(sp && sp->writable && sp->has_write_min && sp->write_min == -5);
    CHECK(sp && sp->has_write_max && sp->write_max == 30);
    const struct ef_point *cl = find_point(n, "c"), *bit = find_point(n, "bit");
    const struct ef_point *eq = find_point(n, "eq"), *ro = find_point(n, "ro");
    CHECK(cl && cl->writable && !cl->has_write_min && !cl->has_write_max);
    CHECK(bit && bit->writable && bit->type == EF_T_BOOL && bit->bit == 15);
    CHECK(eq && eq->writable && eq->write_min == 2 && eq->write_max == 2);
    CHECK(ro && !ro->writable && !ro->has_write_min && !ro->has_write_max);
    ef_config_free(c);
    c = load_ok(BASE);
    CHECK(c && c->mqtt.command_max_age_ms == 10000);
    ef_config_free(c);
    return 0;
}

static int load_file_ok(const char *path)
{
    struct ef_config *c = NULL;
    struct ef_config_errors *e = NULL;
    if (ef_config_load(path, &c, &e) != 0) {
        fprintf(stderr, "%s failed to load:\n", path);
        ef_config_errors_print(e, stderr);
        ef_config_errors_free(e);
        return 1;
    }
    CHECK(c->ndevices > 0 && c->nserials > 0 && strcmp(c->path, path) == 0);
    ef_config_free(c);
    return 0;
}

static int shipped_example_files_are_valid(void)
{
    int rc = load_file_ok(EF_SOURCE_DIR "/config/edgeferry.example.ini");
    rc |= load_file_ok(EF_SOURCE_DIR "/config/demo.ini");
    struct ef_config *c = NULL;
    struct ef_config_errors *e = NULL;
    CHECK(ef_config_load(EF_SOURCE_DIR "/config/no-such-file.ini", &c, &e) == -1 && c == NULL);
    CHECK(e && e->count == 1 && e->items[0].line == 0 && strstr(e->items[0].message, "cannot read"));
    ef_config_errors_free(e);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf)
        (void)fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* The reference and the full example must mention every key of the tables. */
static int device_quirks_resolve_strings_intervals_and_limits(void)
{
    struct ef_config *c = load_ok(
        BASE "[bus:b]\ntype = tcp\nhost = h\nmax_regs = 100\nmax_gap = 4\n"
             "[template:T]\nmax_regs = 20\n[point:T.sn]\nregister = holding:10\ntype = string\n"
             "length = 5\ninterval_ms = 6000\n[point:T.fw]\nregister = holding:20\ntype = string\n"
             "length = 1\norder = BA\n"
             "[device:plain]\nbus = b\nunit = 1\ninterval_ms = 2000\ntemplate = T\n"
             "[device:own]\nbus = b\nunit = 2\ntemplate = T\nmax_regs = 10\nmax_gap = 0\n"
             "interval_ms = 3000\n"
             "[device:bare]\nbus = b\nunit = 3\n[point:bare.v]\nregister = input:0\n");
    if (!c)
        return 1;
    const struct ef_device *plain = find_device(c, "plain"), *own = find_device(c, "own"),
                           *bare = find_device(c, "bare");
    CHECK(plain && plain->max_regs == 20 && plain->max_gap == 4);
    CHECK(own && own->max_regs == 10 && own->max_gap == 0);
    CHECK(bare && bare->max_regs == 100 && bare->max_gap == 4);
    if (plain && own) {
        const struct ef_point *sn = &plain->points[0], *fw = &plain->points[1];
        CHECK(sn->type == EF_T_STRING && sn->length == 5 && sn->order == EF_ORDER_AB);
        CHECK(ef_point_width(sn) == 5 && sn->interval_ms == 6000);
        CHECK(fw->type == EF_T_STRING && fw->order == EF_ORDER_BA && fw->interval_ms == 0);
        CHECK(ef_point_every(plain, sn) == 3 && ef_point_every(own, sn) == 2);
        CHECK(ef_point_every(plain, fw) == 1);
        uint64_t ph[EF_PHASES_MAX];
        CHECK(ef_device_phases(plain, ph, EF_PHASES_MAX) == 2 && ph[0] == 1 && ph[1] == 3);
    }
    ef_config_free(c);
    /* The lcms of 2, 3 and 4 polls: 1 (nothing slow due), 2, 3, 4, 6, 12. */
    struct ef_device d = {.interval_ms = 100};
    struct ef_point pts[4] = {{.interval_ms = 200}, {.interval_ms = 300}, {.interval_ms = 400},
                              {.interval_ms = 0}};
    d.points = pts;
    d.npoints = 4;
    uint64_t ph[8];
    static const uint64_t want[] = {1, 2, 3, 4, 6, 12};
    CHECK(ef_device_phases(&d, ph, 8) == 6);
    for (size_t i = 0; i < 6; i++)
        CHECK(ph[i] == want[i]);
    CHECK(ef_device_phases(&d, ph, 5) == 6); /* over the cap: cap + 1 */
    return 0;
}

static int docs_and_example_cover_every_key(void)
{
    char *doc = slurp(EF_SOURCE_DIR "/docs/configuration.md");
    char *ini = slurp(EF_SOURCE_DIR "/config/edgeferry.example.ini");
    CHECK(doc && ini);
    for (int s = 0; doc && ini && s < EF_SEC_COUNT; s++) {
        const struct ef_section_type *t = &ef_section_types[s];
        for (size_t k = 0; k < t->nkeys; k++) {
            char pat[80];
            snprintf(pat, sizeof pat, "`%s`", t->keys[k].name);
            if (!strstr(doc, pat)) {
                fprintf(stderr, "docs/configuration.md lacks %s of [%s]\n", pat, t->prefix);
                ef_test_failures++;
            }
            snprintf(pat, sizeof pat, "\n%s = ", t->keys[k].name);
            if (!strstr(ini, pat)) {
                fprintf(stderr, "edgeferry.example.ini lacks '%s' of [%s]\n", t->keys[k].name, t->prefix);
                ef_test_failures++;
            }
        }
    }
    free(doc);
    free(ini);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } groups[] = {
        {"full_example_loads_with_its_values", full_example_loads_with_its_values},
        {"defaults_apply_when_keys_are_left_out", defaults_apply_when_keys_are_left_out},
        {"state_dir_default_follows_STATE_DIRECTORY", state_dir_default_follows_STATE_DIRECTORY},
        {"several_brokers_load_and_a_tls_one_allows_the_tls_keys",
         several_brokers_load_and_a_tls_one_allows_the_tls_keys},
        {"templates_resolve_into_device_points", templates_resolve_into_device_points},
        {"check_unit_defaults_to_true_and_follows_the_template",
         check_unit_defaults_to_true_and_follows_the_template},
        {"write_keys_load_and_inherit", write_keys_load_and_inherit},
        {"bad_values_name_their_line", test_bad_values},
        {"all_errors_are_reported_in_line_order", test_all_errors},
        {"unit_0_is_refused_on_rtu_and_allowed_on_tcp", test_unit_zero},
        {"a_repeated_unit_or_path_is_one_error_naming_the_first", test_duplicates_once},
        {"shipped_example_files_are_valid", shipped_example_files_are_valid},
        {"docs_and_example_cover_every_key", docs_and_example_cover_every_key},
        {"device_quirks_resolve_strings_intervals_and_limits",
         device_quirks_resolve_strings_intervals_and_limits},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (argc > 1 && strcmp(argv[1], groups[i].name) != 0)
            continue;
        ran++;
        if (groups[i].fn() != 0)
            ef_test_failures++;
    }
    if (ran == 0) {
        fprintf(stderr, "unknown test group\n");
        return 2;
    }
    if (ef_test_failures)
        fprintf(stderr, "%d failure(s)\n", ef_test_failures);
    return ef_test_failures ? 1 : 0;
}
