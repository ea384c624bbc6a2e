#include "drivers/serial/sensor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/thread.h"
#include "common/log.h"
#include "drivers/serial/csv.h"
#include "drivers/serial/framing.h"
#include "drivers/serial/kv.h"
#include "drivers/serial/nmea.h"
#include "drivers/serial/port.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
#define SLICE_MS 1000 /* longest sleep, so alive_ms stays fresh */

#define CTR_ADD(s, field, n) atomic_fetch_add_explicit(&(s)->ctr->field, (n), memory_order_relaxed)

struct serial_sensor {
    struct ef_source base; /* first: the gateway sees only this */
    const struct ef_serial *cfg;
    size_t index; /* source_index */
    struct ef_sink sink;
    struct ef_dev_counters *ctr;
    int wake[2]; /* self-pipe: stop() writes, the thread polls [0] */
    pthread_t thread;
    bool running;

    struct ef_port *port;
    bool opened_once;
    bool open_failing; /* the last open failed (log once, not every retry) */
    int64_t next_open_ms;
    int backoff_ms;

    struct ef_framer framer;
    struct ef_parsed line;  /* scratch: the current line's values */
    struct ef_parsed fresh; /* streaming: latest values of this interval */
    int64_t fresh_ts;
    bool valid_line; /* streaming: a valid line this interval */
    bool waiting;    /* queried: a query is out */
    int64_t answer_deadline;
    struct ef_reading readings[EF_PARSED_MAX];
};

static void publish(struct serial_sensor *s, const struct ef_parsed *vals, int64_t ts)
{
    if (vals->n == 0)
        return;
    for (size_t i = 0; i < vals->n; i++) {
        const struct ef_point *p = ef_serial_point(s->cfg, vals->items[i].name);
        struct ef_value v = vals->items[i].value;
        if (p && p->scaled) {
            double raw = ef_value_as_double(&v);
            v.kind = EF_VAL_DOUBLE;
            v.as.d = ef_value_scale(raw, p->scale, p->offset);
        }
        s->readings[i] = (struct ef_reading){.name = vals->items[i].name, .point = p, .value = v};
    }
    struct ef_sample sample = {.device = s->cfg->name,
                               .source_index = s->index,
                               .ts_ms = ts,
                               .readings = s->readings,
                               .nreadings = vals->n};
    CTR_ADD(s, readings, vals->n);
    s->sink.sample(s->sink.ctx, &sample);
}

static void poll_done(struct serial_sensor *s, bool answered)
{
    if (!answered)
        CTR_ADD(s, polls_failed, 1);
    s->sink.poll_result(s->sink.ctx, s->index, ef_wall_ms(), answered);
}

static int parse_line(const struct serial_sensor *s, const char *line, size_t len,
                      struct ef_parsed *out)
{
    switch (s->cfg->format) {
    case EF_FMT_NMEA:
        return ef_nmea_parse(line, len, out);
    case EF_FMT_KV:
        return ef_kv_parse(line, len, out);
    case EF_FMT_CSV:
        return ef_csv_parse(line, len, (const char(*)[EF_NAME_MAX + 1])s->cfg->fields,
                            s->cfg->nfields, out);
    }
    return EF_PARSE_REJECT;
}

static void on_line(struct serial_sensor *s, const char *line, size_t len)
{
    int rc = parse_line(s, line, len, &s->line);
    if (rc == EF_PARSE_REJECT) {
        CTR_ADD(s, lines_rejected, 1);
        ef_debug("serial %s: rejected line \"%.*s\"", s->cfg->name, (int)len, line);
        return;
    }
    if (s->line.skipped)
        CTR_ADD(s, errors, s->line.skipped);
    s->backoff_ms = BACKOFF_FIRST_MS; /* the port works: forget earlier failures */
    if (!s->cfg->has_query) {
        s->valid_line = true;
        if (s->line.n == 0)
            return;
        for (size_t i = 0; i < s->line.n; i++) {
            const struct ef_parsed_item *it = &s->line.items[i];
            if (!ef_parsed_set(&s->fresh, it->name, strlen(it->name), it->value))
                CTR_ADD(s, errors, 1);
        }
        s->fresh_ts = ef_wall_ms();
    } else if (s->waiting && rc == EF_PARSE_OK) {
        s->waiting = false;
        publish(s, &s->line, ef_wall_ms());
        poll_done(s, true);
    }
}

static void frame_event(void *ctx, enum ef_frame_kind kind, const char *line, size_t len)
{
    struct serial_sensor *s = ctx;
    if (kind == EF_FRAME_OVERLONG) {
        CTR_ADD(s, lines_overlong, 1);
    } else if (kind == EF_FRAME_JUNK) {
        CTR_ADD(s, lines_rejected, 1);
        ef_debug("serial %s: rejected a line holding control or non-ASCII bytes", s->cfg->name);
    } else {
        on_line(s, line, len);
    }
}

static void port_lost(struct serial_sensor *s, const char *why)
{
    ef_warn("serial %s: port %s lost (%s); reopening in %d ms", s->cfg->name, s->cfg->path,
            why, s->backoff_ms);
    CTR_ADD(s, errors, 1);
    ef_port_close(s->port);
    s->port = NULL;
    s->next_open_ms = ef_mono_ms() + s->backoff_ms;
}

static void try_open(struct serial_sensor *s, int64_t now)
{
    char err[512];
    if (ef_port_open(s->cfg, &s->port, err, sizeof err) != 0) {
        if (!s->open_failing)
            ef_warn("serial %s: cannot open: %s; retrying with back-off", s->cfg->name, err);
        else
            ef_debug("serial %s: cannot open: %s", s->cfg->name, err);
        s->open_failing = true;
        s->port = NULL;
        s->next_open_ms = now + s->backoff_ms;
        s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
        return;
    }
    ef_info("serial %s: %s %s (%s)", s->cfg->name, s->opened_once ? "reopened" : "opened",
            s->cfg->path, ef_port_backend_name(ef_port_backend(s->port)));
    if (s->opened_once)
        CTR_ADD(s, reopens, 1);
    s->opened_once = true;
    s->open_failing = false;
    /* The next loss waits a little longer unless a valid line proves the port good. */
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
    ef_framer_reset(&s->framer);
}

/* Reads what is available, at most DRAIN_READS buffers so that a flooding
 * port cannot starve the schedule or a stop request. DISCARD drops the bytes
 * (stale input before a query). */
#define DRAIN_READS 64

static void drain(struct serial_sensor *s, bool discard)
{
    unsigned char buf[512];
    for (int i = 0; i < DRAIN_READS; i++) {
        ssize_t n = ef_port_read(s->port, buf, sizeof buf);
        if (n == 0)
            return;
        if (n < 0) {
            port_lost(s, strerror(errno));
            return;
        }
        if (!discard)
            ef_framer_push(&s->framer, buf, (size_t)n, frame_event, s);
    }
}

static void stream_tick(struct serial_sensor *s)
{
    CTR_ADD(s, polls, 1);
    if (s->valid_line) {
        publish(s, &s->fresh, s->fresh_ts);
        poll_done(s, true);
    } else {
        poll_done(s, false);
    }
    ef_parsed_clear(&s->fresh);
    s->valid_line = false;
}

static void query_tick(struct serial_sensor *s, int64_t now)
{
    if (s->waiting) {
        CTR_ADD(s, skipped, 1); /* still waiting for the previous answer */
        return;
    }
    CTR_ADD(s, polls, 1);
    if (!s->port) {
        poll_done(s, false);
        return;
    }
    drain(s, true);
    ef_framer_reset(&s->framer);
    if (!s->port) {
        poll_done(s, false);
        return;
    }
    CTR_ADD(s, requests, 1);
    int wait_ms = s->cfg->timeout_ms < SLICE_MS ? s->cfg->timeout_ms : SLICE_MS;
    if (ef_port_write(s->port, s->cfg->query, s->cfg->query_len, wait_ms) != 0) {
        port_lost(s, strerror(errno));
        poll_done(s, false);
        return;
    }
    s->waiting = true;
    s->answer_deadline = now + s->cfg->timeout_ms;
}

static int64_t wait_budget(const struct serial_sensor *s, int64_t now, int64_t next_tick)
{
    int64_t until = next_tick;
    if (s->waiting && s->answer_deadline < until)
        until = s->answer_deadline;
    if (!s->port && s->next_open_ms < until)
        until = s->next_open_ms;
    int64_t ms = until - now;
    return ms < 0 ? 0 : ms > SLICE_MS ? SLICE_MS : ms;
}

/* Waits for input, the stop request or the budget. Returns false on stop. */
static bool wait_once(struct serial_sensor *s, int64_t budget)
{
    if (s->port) {
        int ev = ef_port_wait(s->port, s->wake[0], (int)budget);
        if (ev == EF_PORT_WOKEN)
            return false;
        if (ev == EF_PORT_READABLE)
            drain(s, false);
        return true;
    }
    struct pollfd pfd = {.fd = s->wake[0], .events = POLLIN};
    return poll(&pfd, 1, (int)budget) <= 0;
}

static void *sensor_main(void *arg)
{
    struct serial_sensor *s = arg;
    ef_thread_name("ef-ser", s->cfg->name);
    int64_t interval = s->cfg->interval_ms > 0 ? s->cfg->interval_ms : 1000;
    int64_t next_tick = ef_mono_ms() + (s->cfg->has_query ? 0 : interval);
    for (;;) {
        int64_t now = ef_mono_ms();
        atomic_store_explicit(&s->base.alive_ms, now, memory_order_relaxed);
        if (!s->port && now >= s->next_open_ms)
            try_open(s, now);
        if (s->waiting && now >= s->answer_deadline) {
            s->waiting = false;
            CTR_ADD(s, timeouts, 1);
            poll_done(s, false);
        }
        if (now >= next_tick) {
            if (s->cfg->has_query)
                query_tick(s, now);
            else
                stream_tick(s);
            next_tick += interval;
            if (next_tick <= now) { /* stalled for whole intervals: skip, no backlog */
                CTR_ADD(s, skipped, (uint_fast64_t)((now - next_tick) / interval + 1));
                next_tick = now + interval;
            }
        }
        if (!wait_once(s, wait_budget(s, ef_mono_ms(), next_tick)))
            break;
    }
    ef_port_close(s->port);
    s->port = NULL;
    return NULL;
}

static int sensor_start(struct ef_source *src)
{
    struct serial_sensor *s = (struct serial_sensor *)src;
    atomic_store(&s->base.alive_ms, ef_mono_ms());
    int rc = pthread_create(&s->thread, NULL, sensor_main, s);
    if (rc != 0) {
        ef_err("serial %s: cannot start thread: %s", s->cfg->name, strerror(rc));
        return -1;
    }
    s->running = true;
    return 0;
}

static void sensor_stop(struct ef_source *src)
{
    struct serial_sensor *s = (struct serial_sensor *)src;
    if (!s->running)
        return;
    ssize_t w = write(s->wake[1], "x", 1);
    (void)w; /* a full pipe already holds a wake-up */
    pthread_join(s->thread, NULL);
    s->running = false;
}

static void sensor_destroy(struct ef_source *src)
{
    struct serial_sensor *s = (struct serial_sensor *)src;
    if (!s)
        return;
    sensor_stop(src);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
}

static const struct ef_source_ops sensor_ops = {
    .start = sensor_start,
    .stop = sensor_stop,
    .destroy = sensor_destroy,
};

struct ef_source *ef_serial_sensor_new(const struct ef_config *cfg, size_t serial_index,
                                       const struct ef_sink *sink,
                                       struct ef_dev_counters *counters)
{
    if (serial_index >= cfg->nserials)
        return NULL;
    struct serial_sensor *s = calloc(1, sizeof *s);
    if (!s) {
        ef_err("serial: out of memory");
        return NULL;
    }
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        ef_err("serial %s: pipe: %s", cfg->serials[serial_index].name, strerror(errno));
        free(s);
        return NULL;
    }
    s->base.ops = &sensor_ops;
    s->cfg = &cfg->serials[serial_index];
    snprintf(s->base.name, sizeof s->base.name, "%s", s->cfg->name);
    s->index = cfg->ndevices + serial_index;
    s->sink = *sink;
    s->ctr = &counters[s->index];
    s->backoff_ms = BACKOFF_FIRST_MS;
    return &s->base;
}
