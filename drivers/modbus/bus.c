/* The bus thread: schedule (deadline order, skipped cycles), interruptible
 * waits, and the ef_source ops. Queued writes are served at the top of every
 * loop turn and before every request of a poll (bus_poll.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/thread.h"
#include "common/log.h"
#include "drivers/modbus/bus_priv.h"

/* The wake pipe says "look again": at the stopping flag or the write
 * queue, whose state is kept elsewhere, so its bytes are only drained. */
static bool wait_impl(struct ef_mb_bus *b, int64_t ms, bool for_writes)
{
    int64_t end = ef_mono_ms() + ms;
    for (;;) {
        ef_mb_alive(b);
        if (atomic_load(&b->stopping))
            return false;
        if (for_writes && atomic_load(&b->writes.pending) > 0)
            return true;
        int64_t left = end - ef_mono_ms();
        if (left <= 0)
            return true;
        struct pollfd pfd = {.fd = b->wake[0], .events = POLLIN};
        int slice = left > EF_MB_SLICE_MS ? EF_MB_SLICE_MS : (int)left;
        if (poll(&pfd, 1, slice) > 0) {
            char junk[16];
            while (read(b->wake[0], junk, sizeof junk) > 0)
                ;
        }
    }
}

bool ef_mb_wait_ms(struct ef_mb_bus *b, int64_t ms)
{
    return wait_impl(b, ms, false);
}

bool ef_mb_idle_ms(struct ef_mb_bus *b, int64_t ms)
{
    return wait_impl(b, ms, true);
}

/* RTU needs 3.5 character times of silence between frames; above 19200
 * baud the standard fixes it at 1.75 ms. */
static int64_t rtu_silence_us(const struct ef_bus *bus)
{
    if (bus->type != EF_BUS_RTU)
        return 0;
    if (bus->baud > 19200)
        return 1750;
    int bits = 1 + bus->data_bits + (bus->parity == 'N' ? 0 : 1) + bus->stop_bits;
    return (int64_t)bits * 3500000 / bus->baud;
}

/* After a poll: the next deadline, skipping whole cycles that have already
 * passed (a slow bus never builds a backlog of polls). */
static void schedule_next(struct ef_mb_bus *b, struct ef_mb_dev *d)
{
    int64_t interval = d->cfg->interval_ms > 0 ? d->cfg->interval_ms : 1000;
    int64_t now = ef_mono_ms();
    d->next_due_ms += interval;
    uint64_t skipped = 0;
    while (d->next_due_ms + interval <= now) {
        d->next_due_ms += interval;
        skipped++;
    }
    d->poll_no += 1 + skipped; /* slow points keep to the clock, not to the polls made */
    if (skipped) {
        atomic_fetch_add_explicit(&b->counters[d->index].skipped, skipped,
                                  memory_order_relaxed);
        ef_debug("bus %s: device %s: %llu cycle(s) skipped, bus too slow", b->bus->name,
                 d->cfg->name, (unsigned long long)skipped);
    }
}

static void *bus_thread(void *arg)
{
    struct ef_mb_bus *b = arg;
    ef_thread_name("ef-bus", b->bus->name);
    int64_t t0 = ef_mono_ms();
    for (size_t i = 0; i < b->ndevs; i++)
        b->devs[i].next_due_ms = t0;
    while (!atomic_load(&b->stopping)) {
        ef_mb_alive(b);
        ef_mb_serve_writes(b);
        if (b->ndevs == 0) {
            ef_mb_idle_ms(b, EF_MB_SLICE_MS);
            continue;
        }
        struct ef_mb_dev *next = &b->devs[0];
        for (size_t i = 1; i < b->ndevs; i++)
            if (b->devs[i].next_due_ms < next->next_due_ms)
                next = &b->devs[i];
        int64_t wait = next->next_due_ms - ef_mono_ms();
        if (wait > 0) {
            ef_mb_idle_ms(b, wait);
            continue;
        }
        ef_mb_poll_device(b, next);
        schedule_next(b, next);
    }
    ef_mb_writes_close(b);
    ef_mb_conn_close(b, false);
    return NULL;
}

static int bus_start(struct ef_source *src)
{
    struct ef_mb_bus *b = (struct ef_mb_bus *)src;
    if (b->running)
        return 0;
    atomic_store(&b->stopping, false);
    ef_mb_alive(b);
    ef_mb_writes_open(b);
    int rc = pthread_create(&b->thread, NULL, bus_thread, b);
    if (rc != 0) {
        ef_mb_writes_close(b);
        ef_err("bus %s: cannot start its thread: %s", b->bus->name, strerror(rc));
        return -1;
    }
    b->running = true;
    return 0;
}

static void bus_stop(struct ef_source *src)
{
    struct ef_mb_bus *b = (struct ef_mb_bus *)src;
    if (!b->running)
        return;
    atomic_store(&b->stopping, true);
    char one = 1;
    ssize_t w = write(b->wake[1], &one, 1);
    (void)w; /* a full pipe already wakes the thread */
    pthread_join(b->thread, NULL);
    b->running = false;
    /* Leave the pipe empty for a later start. */
    char junk[16];
    while (read(b->wake[0], junk, sizeof junk) > 0)
        ;
}

static void bus_destroy(struct ef_source *src)
{
    struct ef_mb_bus *b = (struct ef_mb_bus *)src;
    if (!b)
        return;
    bus_stop(src);
    ef_mb_conn_close(b, false);
    for (size_t i = 0; i < b->ndevs; i++) {
        ef_plan_set_free(&b->devs[i].plans);
        free(b->devs[i].text);
        free(b->devs[i].text_at);
        free(b->devs[i].have);
        free(b->devs[i].values);
        free(b->devs[i].readings);
    }
    free(b->devs);
    if (b->wake[0] >= 0)
        close(b->wake[0]);
    if (b->wake[1] >= 0)
        close(b->wake[1]);
    pthread_mutex_destroy(&b->writes.lock);
    free(b);
}

static const struct ef_source_ops bus_ops = {
    .start = bus_start,
    .stop = bus_stop,
    .destroy = bus_destroy,
    .write = ef_mb_write,
};

static int init_dev(struct ef_mb_dev *d, const struct ef_config *cfg, size_t index)
{
    const struct ef_device *dev = &cfg->devices[index];
    d->cfg = dev;
    d->index = index;
    size_t n = dev->npoints ? dev->npoints : 1;
    d->have = calloc(n, sizeof *d->have);
    d->values = calloc(n, sizeof *d->values);
    d->readings = calloc(n, sizeof *d->readings);
    d->text_at = calloc(n, sizeof *d->text_at);
    size_t text = 0;
    for (size_t i = 0; d->text_at && i < dev->npoints; i++) {
        d->text_at[i] = text;
        text += dev->points[i].type == EF_T_STRING ? EF_TEXT_MAX : 0;
    }
    d->text = malloc(text ? text : 1);
    if (!d->have || !d->values || !d->readings || !d->text_at || !d->text)
        return -1;
    return ef_plan_set_build(&d->plans, dev, &cfg->buses[dev->bus]);
}

struct ef_source *ef_modbus_bus_new(const struct ef_config *cfg, size_t bus_index,
                                    const struct ef_sink *sink,
                                    struct ef_dev_counters *counters)
{
    struct ef_mb_bus *b = calloc(1, sizeof *b);
    if (!b)
        goto oom;
    b->src.ops = &bus_ops;
    b->cfg = cfg;
    b->bus = &cfg->buses[bus_index];
    snprintf(b->src.name, sizeof b->src.name, "%s", b->bus->name);
    b->sink = *sink;
    b->counters = counters;
    b->sock = -1;
    b->wake[0] = b->wake[1] = -1;
    b->backoff_ms = EF_MB_BACKOFF_MIN_MS;
    b->silence_us = rtu_silence_us(b->bus);
    pthread_mutex_init(&b->writes.lock, NULL);
    if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        goto oom;
    for (size_t i = 0; i < cfg->ndevices; i++)
        if (cfg->devices[i].bus == bus_index)
            b->ndevs++;
    b->devs = calloc(b->ndevs ? b->ndevs : 1, sizeof *b->devs);
    if (!b->devs) {
        b->ndevs = 0;
        goto oom;
    }
    size_t k = 0;
    for (size_t i = 0; i < cfg->ndevices; i++)
        if (cfg->devices[i].bus == bus_index && init_dev(&b->devs[k++], cfg, i) < 0)
            goto oom;
    return &b->src;
oom:
    ef_err("bus %s: out of memory", cfg->buses[bus_index].name);
    if (b)
        bus_destroy(&b->src);
    return NULL;
}
