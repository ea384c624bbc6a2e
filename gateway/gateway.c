#include "gateway/gateway.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "drivers/modbus/bus.h"
#include "drivers/serial/sensor.h"
#include "gateway/core/clockwatch.h"
#include "gateway/core/core.h"
#include "gateway/core/gwalarm.h"
#include "gateway/commands.h"
#include "gateway/discovery.h"
#include "gateway/mqtt/publisher.h"
#include "gateway/queue/queue.h"
#include "gateway/service.h"
#include "gateway/sparkplug/sp_node.h"
#include "gateway/sparkplug_glue.h"
#include "gateway/statedir.h"
#include "gateway/stats.h"
#include "gateway/web_feed.h"

#define STATS_PAYLOAD_MAX 65536

/* What a configuration brings to life: replaced as a whole on reload. */
struct generation {
    struct ef_config *cfg;
    struct ef_core *core;
    struct ef_source **sources;
    size_t nsources;
    struct ef_dev_counters *counters; /* by source_index */
};

struct gateway {
    const char *path;
    struct ef_queue *queue;
    struct ef_publisher *pub;
    struct ef_sp_node *sp; /* [sparkplug] enabled: lives with the publisher */
    struct ef_sparkplug_writer sp_writer; /* its DCMD go to the commands path */
    struct ef_web *web; /* NULL without [http] */
    struct generation gen;
    struct ef_clock_watch clock; /* the whole process: jumps count across reloads */
    struct ef_gw_alarms gwa;
    /* What replaced cores and publishers counted: stats count from the
     * process start, across reloads. */
    struct ef_core_stats core_before;
    struct ef_pub_stats pub_before;
    int64_t started_mono;
    char stats_topic[EF_STR_MAX + EF_NAME_MAX + 16];
    char *stats_buf;
    struct ef_ha_set ha; /* discovery messages handed to the publisher */
    struct ef_commands *commands; /* the downlink; lives across reloads */
};

static void generation_stop(struct generation *g)
{
    for (size_t i = 0; i < g->nsources; i++)
        ef_source_stop(g->sources[i]);
}

static void generation_free(struct generation *g)
{
    for (size_t i = 0; i < g->nsources; i++)
        ef_source_destroy(g->sources[i]);
    free(g->sources);
    free(g->counters);
    ef_core_free(g->core);
    ef_config_free(g->cfg);
    memset(g, 0, sizeof *g);
}

/* Builds core and sources for CFG (taking ownership) and starts them.
 * RELOAD: it replaces a running generation. */
static int generation_start(struct generation *g, struct ef_config *cfg, struct ef_queue *q,
                            struct ef_sp_node *sp, struct ef_clock_watch *clock,
                            bool reload)
{
    memset(g, 0, sizeof *g);
    g->cfg = cfg;
    size_t ndev = cfg->ndevices + cfg->nserials;
    g->counters = calloc(ndev ? ndev : 1, sizeof *g->counters);
    g->sources = calloc(cfg->nbuses + cfg->nserials + 1, sizeof *g->sources);
    g->core = ef_core_new(cfg, q, reload);
    if (!g->counters || !g->sources || !g->core) {
        ef_err("out of memory");
        return -1;
    }
    ef_core_set_clock(g->core, clock);
    if (sp)
        ef_core_set_sparkplug(g->core, sp);
    const struct ef_sink *sink = ef_core_sink(g->core);
    for (size_t b = 0; b < cfg->nbuses; b++) {
        struct ef_source *s = ef_modbus_bus_new(cfg, b, sink, g->counters);
        if (!s)
            return -1;
        g->sources[g->nsources++] = s;
    }
    for (size_t i = 0; i < cfg->nserials; i++) {
        struct ef_source *s = ef_serial_sensor_new(cfg, i, sink, g->counters);
        if (!s)
            return -1;
        g->sources[g->nsources++] = s;
    }
    for (size_t i = 0; i < g->nsources; i++)
        if (ef_source_start(g->sources[i]) != 0)
            return -1;
    return 0;
}

/* The counters since the process start, for the stats topic and the web view. */
static void gather_stats(struct gateway *gw, struct ef_stats_input *in_)
{
    struct ef_stats_input in = {0};
    in.ts_ms = ef_wall_ms();
    in.uptime_s = (ef_mono_ms() - gw->started_mono) / 1000;
    in.clock_jumps = ef_clock_watch_jumps(&gw->clock);
    in.clock_unsynced = gw->clock.sync == EF_CLOCK_UNSYNCED;
    in.disk_fault = gw->gwa.disk_active;
    ef_core_get_stats(gw->gen.core, &in.core);
    ef_stats_add_core(&in.core, &gw->core_before);
    ef_queue_get_stats(gw->queue, &in.queue);
    ef_pub_get_stats(gw->pub, &in.pub);
    ef_stats_add_pub(&in.pub, &gw->pub_before);
    ef_commands_get_stats(gw->commands, &in.commands);
    if (gw->sp) {
        in.has_sparkplug = true;
        ef_sp_node_get_stats(gw->sp, &in.sparkplug);
    }
    in.names = gw->gen.core;
    in.devices = gw->gen.counters;
    in.ndevices = ef_core_ndevices(gw->gen.core);
    *in_ = in;
}

static void publish_stats(struct gateway *gw)
{
    struct ef_stats_input in;
    gather_stats(gw, &in);
    struct ef_buf b;
    ef_buf_init(&b, gw->stats_buf, STATS_PAYLOAD_MAX);
    ef_stats_encode(&b, &in);
    if (ef_buf_ok(&b))
        ef_pub_send_direct(gw->pub, gw->stats_topic, b.data, b.len);
}

/* True while every thread that must make progress does. */
static bool threads_alive(struct gateway *gw, int64_t now)
{
    const int64_t limit = 10000; /* threads refresh at least every second */
    if (now - ef_pub_alive_ms(gw->pub) > limit)
        return false;
    for (size_t i = 0; i < gw->gen.nsources; i++)
        if (now - atomic_load(&gw->gen.sources[i]->alive_ms) > limit)
            return false;
    return true;
}

/* The publisher and its Sparkplug node for CFG. Returns false (logged). */
static bool publisher_new(struct gateway *gw, const struct ef_config *cfg)
{
    gw->sp = NULL;
    if (cfg->sparkplug.enabled && !(gw->sp = ef_sp_node_new(cfg)))
        return false;
    gw->pub = ef_pub_new(cfg, gw->queue);
    ef_sparkplug_writer_init(&gw->sp_writer, cfg, gw->commands);
    if (gw->pub && gw->sp && ef_sparkplug_attach(gw->sp, gw->pub, &gw->sp_writer) != 0) {
        ef_err("sparkplug: cannot subscribe to its topics");
        ef_pub_free(gw->pub);
        gw->pub = NULL;
    }
    if (!gw->pub) {
        ef_sp_node_free(gw->sp);
        gw->sp = NULL;
    }
    return gw->pub != NULL;
}

static void publisher_free(struct gateway *gw)
{
    ef_pub_free(gw->pub);
    ef_sp_node_free(gw->sp);
    gw->pub = NULL;
    gw->sp = NULL;
}

/* The publisher's subscriptions are set before it starts: a change of
 * [homeassistant] (its status topic) rebuilds it too. */
static bool mqtt_equal(const struct ef_config *a, const struct ef_config *b)
{
    /* Sparkplug changes the will and the subscriptions: a new connection. */
    return memcmp(&a->mqtt, &b->mqtt, sizeof a->mqtt) == 0 &&
           memcmp(&a->sparkplug, &b->sparkplug, sizeof a->sparkplug) == 0 &&
           ef_commands_wanted(a) == ef_commands_wanted(b) &&
           strcmp(a->gateway.id, b->gateway.id) == 0 &&
           a->homeassistant.enabled == b->homeassistant.enabled &&
           strcmp(a->homeassistant.discovery_prefix, b->homeassistant.discovery_prefix) == 0;
}

/* The device counters of a stopped generation, by name, for the devices
 * of the same name in the next one; removed devices' counts go away. */
struct dev_carry {
    size_t n;
    char (*names)[EF_NAME_MAX + 1];
    struct ef_dev_counters *counters;
};

static void carry_take(struct dev_carry *k, struct generation *g)
{
    k->n = g->core ? ef_core_ndevices(g->core) : 0;
    k->counters = g->counters;
    g->counters = NULL; /* its sources are stopped: nothing writes it any more */
    k->names = calloc(k->n ? k->n : 1, sizeof *k->names);
    if (!k->names)
        k->n = 0;
    for (size_t i = 0; i < k->n; i++)
        snprintf(k->names[i], sizeof k->names[i], "%s", ef_core_device_name(g->core, i));
}

static void carry_give(struct dev_carry *k, struct generation *g)
{
    size_t n = g->core && g->counters ? ef_core_ndevices(g->core) : 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k->n; j++)
            if (strcmp(k->names[j], ef_core_device_name(g->core, i)) == 0) {
                ef_stats_add_device(&g->counters[i], &k->counters[j]);
                break;
            }
    free(k->names);
    free(k->counters);
}

static void reload(struct gateway *gw)
{
    ef_service_reloading();
    ef_info("SIGHUP: reloading %s", gw->path);
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load(gw->path, &cfg, &errs) != 0) {
        for (size_t i = 0; i < errs->count; i++)
            ef_err("%s:%d: %s", errs->file, errs->items[i].line, errs->items[i].message);
        ef_err("reload refused: %zu error%s; the running configuration stays", errs->count,
               errs->count == 1 ? "" : "s");
        ef_config_errors_free(errs);
        ef_service_ready();
        return;
    }
    if (strcmp(cfg->gateway.state_dir, gw->gen.cfg->gateway.state_dir) != 0 ||
        memcmp(&cfg->queue, &gw->gen.cfg->queue, sizeof cfg->queue) != 0)
        ef_warn("reload: [queue] and state_dir changes take effect at the next restart");
    /* The lock and the queue stay where they are, and so must the alarm
     * state file: a new state_dir may be another gateway's. */
    memcpy(cfg->gateway.state_dir, gw->gen.cfg->gateway.state_dir, sizeof cfg->gateway.state_dir);
    bool new_mqtt = !mqtt_equal(cfg, gw->gen.cfg);
    /* Commands that arrive from here to the new generation's start are
     * refused ("reloading"); the sources' stop answers those in progress. */
    ef_commands_set(gw->commands, NULL, NULL, 0, gw->pub);
    generation_stop(&gw->gen);
    if (gw->gen.core) {
        struct ef_core_stats cs;
        ef_core_get_stats(gw->gen.core, &cs);
        ef_stats_add_core(&gw->core_before, &cs);
    }
    struct dev_carry carry;
    carry_take(&carry, &gw->gen);
    size_t navail = 0;
    char **avail = gw->gen.core ? ef_core_availability_topics(gw->gen.core, &navail) : NULL;
    if (new_mqtt) {
        ef_info("reload: [mqtt] changed, reconnecting");
        ef_pub_stop(gw->pub, 2000);
        struct ef_pub_stats ps;
        ef_pub_get_stats(gw->pub, &ps);
        ef_stats_add_pub(&gw->pub_before, &ps);
        ef_commands_set(gw->commands, NULL, NULL, 0, NULL);
        publisher_free(gw);
        publisher_new(gw, cfg);
        if (gw->pub) {
            ef_discovery_attach(cfg, gw->pub);
            ef_commands_attach(gw->commands, cfg, gw->pub);
        }
    }
    generation_free(&gw->gen);
    if (!new_mqtt && gw->sp)
        ef_sp_node_configure(gw->sp, cfg);
    ef_log_set_level((enum ef_log_level)cfg->gateway.log_level);
    snprintf(gw->stats_topic, sizeof gw->stats_topic, "%s/%s/stats", cfg->mqtt.topic_prefix,
             cfg->gateway.id);
    ef_gw_alarms_config(&gw->gwa, cfg);
    if (gw->clock.mode != cfg->gateway.clock_unsynced) {
        gw->clock.mode = cfg->gateway.clock_unsynced;
        gw->clock.sync = EF_CLOCK_UNKNOWN; /* the next tick decides the marking anew */
        gw->clock.next_sync_check = 0;
        ef_clock_watch_tick(&gw->clock);
    }
    if (generation_start(&gw->gen, cfg, gw->queue, gw->sp, &gw->clock, true) != 0)
        ef_err("reload: some sources could not be started");
    carry_give(&carry, &gw->gen);
    if (gw->gen.core)
        ef_core_retire_availability(gw->gen.core, avail, navail);
    ef_core_topics_free(avail, navail);
    if (gw->pub)
        ef_discovery_update(&gw->ha, cfg, gw->pub);
    ef_commands_set(gw->commands, cfg, gw->gen.sources, gw->gen.nsources, gw->pub);
    ef_web_feed_apply(&gw->web, &cfg->http);
    if (new_mqtt && gw->pub)
        ef_pub_start(gw->pub);
    ef_info("reload: %zu Modbus devices, %zu serial sensors", cfg->ndevices, cfg->nserials);
    ef_service_ready();
}

static int run_loop(struct gateway *gw, const sigset_t *sigs)
{
    uint64_t wd_us = ef_service_watchdog_interval_us();
    int64_t next_stats = ef_mono_ms() + (int64_t)gw->gen.cfg->gateway.stats_interval_s * 1000;
    int64_t next_wd = 0, next_web = 0;
    for (;;) {
        struct timespec tick = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            ef_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return 0;
        }
        if (sig == SIGHUP) {
            reload(gw);
            if (!gw->pub)
                return -1;
        }
        int64_t now = ef_mono_ms();
        ef_queue_tick(gw->queue, now);
        ef_clock_watch_tick(&gw->clock);
        ef_gw_alarms_tick(&gw->gwa, gw->queue, &gw->clock);
        int stats_s = gw->gen.cfg->gateway.stats_interval_s;
        if (stats_s > 0 && now >= next_stats) {
            publish_stats(gw);
            next_stats = now + (int64_t)stats_s * 1000;
        }
        if (gw->web && now >= next_web) {
            struct ef_stats_input in;
            gather_stats(gw, &in);
            ef_web_feed(gw->web, gw->gen.cfg, gw->gen.core, &in);
            next_web = now + 1000;
        }
        if (wd_us && now >= next_wd && threads_alive(gw, now)) {
            ef_service_watchdog_ping();
            next_wd = now + (int64_t)(wd_us / 1000);
        }
    }
}

int ef_gateway_run(struct ef_config *cfg, const char *path)
{
    struct gateway gw = {.path = path, .started_mono = ef_mono_ms()};
    int rc = -1;

    /* Signals are taken synchronously by the main loop; every thread created
     * from here on inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char qdir[EF_STR_MAX + 16];
    snprintf(qdir, sizeof qdir, "%s/queue", cfg->gateway.state_dir);
    gw.stats_buf = malloc(STATS_PAYLOAD_MAX);
    snprintf(gw.stats_topic, sizeof gw.stats_topic, "%s/%s/stats", cfg->mqtt.topic_prefix,
             cfg->gateway.id);
    int err, lock = -1;
    ef_clock_watch_init(&gw.clock, cfg->gateway.clock_unsynced);
    ef_clock_watch_tick(&gw.clock);
    ef_gw_alarms_config(&gw.gwa, cfg);
    gw.commands = ef_commands_new();
    if (!gw.stats_buf || !gw.commands) {
        ef_err("out of memory");
        ef_config_free(cfg);
    } else if ((lock = ef_statedir_lock(cfg->gateway.state_dir)) == -1) {
        ef_config_free(cfg);
    } else if ((err = ef_queue_open(qdir, &cfg->queue, &gw.queue)) != 0) {
        ef_err("cannot open the queue in %s: %s", qdir, ef_file_strerror(err));
        ef_config_free(cfg);
    } else if (!publisher_new(&gw, cfg)) {
        ef_config_free(cfg);
    } else if (generation_start(&gw.gen, cfg, gw.queue, gw.sp, &gw.clock, false) != 0 ||
               ef_discovery_attach(cfg, gw.pub) != 0 ||
               ef_discovery_update(&gw.ha, cfg, gw.pub) != 0 ||
               ef_commands_attach(gw.commands, cfg, gw.pub) != 0 ||
               (ef_commands_set(gw.commands, cfg, gw.gen.sources, gw.gen.nsources, gw.pub),
                ef_pub_start(gw.pub) != 0)) {
        ef_err("start-up failed");
    } else {
        ef_info("edgeferry %s started: %zu Modbus devices on %zu buses, %zu serial sensors",
                EF_VERSION, cfg->ndevices, cfg->nbuses, cfg->nserials);
        ef_web_feed_apply(&gw.web, &cfg->http);
        ef_service_ready();
        rc = run_loop(&gw, &sigs);
    }

    ef_service_stopping();
    if (gw.commands)
        ef_commands_set(gw.commands, NULL, NULL, 0, gw.pub);
    ef_web_stop(gw.web);
    generation_stop(&gw.gen);
    if (gw.commands)
        ef_commands_set(gw.commands, NULL, NULL, 0, NULL);
    if (gw.pub) {
        ef_pub_stop(gw.pub, 2000);
        publisher_free(&gw);
    }
    generation_free(&gw.gen);
    if (gw.queue && (err = ef_queue_close(gw.queue)) != 0) {
        ef_err("queue could not be saved completely: %s", strerror(-err));
        rc = -1;
    }
    free(gw.stats_buf);
    ef_commands_free(gw.commands);
    ef_ha_set_free(&gw.ha);
    ef_statedir_unlock(lock);
    return rc;
}
