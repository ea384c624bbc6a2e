#include "gateway/selftest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "drivers/modbus/bus_once.h"
#include "drivers/serial/sensor.h"
#include "gateway/north/json.h"

#define ROW_FMT "%-20s %-20s %-16s %-8s %s\n"

static void value_text(char *out, size_t cap, const struct ef_value *v)
{
    struct ef_buf b;
    ef_buf_init(&b, out, cap);
    ef_buf_value(&b, v);
    if (!ef_buf_ok(&b))
        snprintf(out, cap, "?");
}

static void modbus_row(void *ctx, const struct ef_mb_once_row *r)
{
    FILE *out = ctx;
    if (!r->point) {
        if (!r->ok)
            fprintf(out, ROW_FMT, r->dev->name, "-", "-", "-", "device did not answer");
        return;
    }
    char val[64] = "-", raw[64] = "";
    if (r->ok) {
        value_text(val, sizeof val, &r->value);
        size_t n = 0;
        for (unsigned i = 0; i < r->nraw && n < sizeof raw; i++)
            n += (size_t)snprintf(raw + n, sizeof raw - n, "%s0x%04X", i ? " " : "", r->raw[i]);
    }
    fprintf(out, ROW_FMT, r->dev->name, r->point->name, val, r->point->unit[0] ? r->point->unit : "-",
            r->ok ? raw : r->error);
}

/* ---- serial sensors: their own thread, stopped after the first poll ---- */

#define SERIAL_MAX_VALUES 64

struct serial_result {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, answered;
    size_t n;
    char names[SERIAL_MAX_VALUES][EF_NAME_MAX + 1];
    struct ef_value values[SERIAL_MAX_VALUES];
    const struct ef_point *points[SERIAL_MAX_VALUES];
};

static void on_sample(void *ctx, const struct ef_sample *s)
{
    struct serial_result *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (!r->done) {
        r->n = s->nreadings < SERIAL_MAX_VALUES ? s->nreadings : SERIAL_MAX_VALUES;
        for (size_t i = 0; i < r->n; i++) {
            snprintf(r->names[i], sizeof r->names[i], "%s", s->readings[i].name);
            r->values[i] = s->readings[i].value;
            r->points[i] = s->readings[i].point;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static void on_poll(void *ctx, size_t index, int64_t ts_ms, bool answered)
{
    (void)index;
    (void)ts_ms;
    struct serial_result *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (!r->done) {
        r->done = true;
        r->answered = answered;
        pthread_cond_signal(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
}

static bool serial_once(const struct ef_config *cfg, size_t i, FILE *out)
{
    const struct ef_serial *sc = &cfg->serials[i];
    struct serial_result *r = calloc(1, sizeof *r);
    struct ef_dev_counters *counters = calloc(cfg->ndevices + cfg->nserials, sizeof *counters);
    if (!r || !counters) {
        free(r);
        free(counters);
        return false;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    struct ef_sink sink = {.sample = on_sample, .poll_result = on_poll, .ctx = r};
    struct ef_source *src = ef_serial_sensor_new(cfg, i, &sink, counters);
    if (src && ef_source_start(src) == 0) {
        /* One interval, the answer's timeout, and slack for opening the port. */
        int64_t wait_ms = (int64_t)sc->interval_ms + sc->timeout_ms + 2000;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(wait_ms / 1000);
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&r->lock);
        while (!r->done && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
            ;
        r->done = true; /* later sink calls change nothing */
        pthread_mutex_unlock(&r->lock);
        ef_source_stop(src);
    }
    ef_source_destroy(src);
    const struct ef_dev_counters *c = &counters[cfg->ndevices + i];
    for (size_t k = 0; r->answered && k < r->n; k++) {
        char val[64];
        value_text(val, sizeof val, &r->values[k]);
        const char *unit = r->points[k] && r->points[k]->unit[0] ? r->points[k]->unit : "-";
        fprintf(out, ROW_FMT, sc->name, r->names[k], val, unit, "-");
    }
    if (!r->answered) {
        char why[160];
        snprintf(why, sizeof why, "no valid line (timeouts %llu, lines rejected %llu, errors %llu)",
                 (unsigned long long)atomic_load(&c->timeouts),
                 (unsigned long long)atomic_load(&c->lines_rejected),
                 (unsigned long long)atomic_load(&c->errors));
        fprintf(out, ROW_FMT, sc->name, "-", "-", "-", why);
    }
    bool ok = r->answered;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
    free(counters);
    return ok;
}

int ef_selftest_run(const struct ef_config *cfg, FILE *out)
{
    fprintf(out, ROW_FMT, "DEVICE", "POINT", "VALUE", "UNIT", "RAW / ERROR");
    int silent = 0;
    for (size_t b = 0; b < cfg->nbuses; b++)
        silent += ef_modbus_poll_once(cfg, b, modbus_row, out);
    for (size_t i = 0; i < cfg->nserials; i++)
        silent += !serial_once(cfg, i, out);
    size_t total = cfg->ndevices + cfg->nserials;
    fprintf(out, "%zu of %zu device%s answered\n", total - (size_t)silent, total,
            total == 1 ? "" : "s");
    return silent ? 1 : 0;
}
