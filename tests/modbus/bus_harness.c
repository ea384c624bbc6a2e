#include "bus_harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int sim_start(struct child *c, const char *sim_path, const char *const *args)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    const char *argv[32] = {sim_path};
    int n = 1;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    c->port = 0;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(sim_path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[128];
    int rc = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "port %d", &c->port) == 1)
            continue;
        if (!strcmp(line, "ready\n")) {
            rc = 0;
            break;
        }
    }
    /* Keep reading its stdout in the child's lifetime? Not needed: the
     * simulator prints only at exit, which a closed pipe would SIGPIPE;
     * it ignores SIGPIPE. */
    if (f)
        fclose(f);
    return rc;
}

int socat_start(struct child *c, const char *dir)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "pty,raw,echo=0,link=%s/a", dir);
    snprintf(b, sizeof b, "pty,raw,echo=0,link=%s/b", dir);
    c->port = 0;
    c->pid = fork();
    if (c->pid == 0) {
        execlp("socat", "socat", a, b, (char *)NULL);
        _exit(127);
    }
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    for (int i = 0; i < 1000; i++) {
        struct stat st;
        if (stat(a, &st) == 0 && stat(b, &st) == 0)
            return 0;
        pause_ms(10);
    }
    return -1;
}

void child_stop(struct child *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGTERM);
    waitpid(c->pid, NULL, 0);
    c->pid = 0;
}

long sim_count(const char *path, int unit)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[128];
    long total = -1;
    while (fgets(line, sizeof line, f)) {
        int u;
        long v;
        if (unit < 0 && sscanf(line, "total %ld", &v) == 1)
            total = v;
        if (unit >= 0 && sscanf(line, "unit %d %ld", &u, &v) == 2 && u == unit)
            total = v;
    }
    fclose(f);
    return total;
}

struct ef_point mk_point(const char *name, enum ef_reg_kind k, unsigned addr,
                         enum ef_value_type t, enum ef_order o)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.has_register = true;
    p.kind = k;
    p.address = (uint16_t)addr;
    p.type = t;
    p.order = o;
    p.bit = -1;
    p.scale = 1;
    return p;
}

struct ef_bus mk_bus(const char *name, enum ef_bus_type type)
{
    struct ef_bus b;
    memset(&b, 0, sizeof b);
    snprintf(b.name, sizeof b.name, "%s", name);
    b.type = type;
    b.baud = 115200;
    b.parity = 'N';
    b.data_bits = 8;
    b.stop_bits = 1;
    snprintf(b.host, sizeof b.host, "127.0.0.1");
    b.port = 502;
    b.timeout_ms = 1000;
    b.retries = 2;
    b.max_gap = 10;
    b.max_regs = 125;
    return b;
}

size_t cfg_add_bus(struct ef_config *cfg, const struct ef_bus *bus)
{
    cfg->buses = realloc(cfg->buses, (cfg->nbuses + 1) * sizeof *cfg->buses);
    cfg->buses[cfg->nbuses] = *bus;
    return cfg->nbuses++;
}

size_t cfg_add_device(struct ef_config *cfg, const char *name, size_t bus, int unit,
                      int interval_ms, const struct ef_point *points, size_t n)
{
    cfg->devices = realloc(cfg->devices, (cfg->ndevices + 1) * sizeof *cfg->devices);
    struct ef_device *d = &cfg->devices[cfg->ndevices];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->bus = bus;
    d->unit = unit;
    d->interval_ms = interval_ms;
    d->offline_after = 3;
    d->check_unit = true; /* the configuration's default */
    d->points = malloc(n * sizeof *points);
    memcpy(d->points, points, n * sizeof *points);
    d->npoints = n;
    return cfg->ndevices++;
}

void cfg_free(struct ef_config *cfg)
{
    for (size_t i = 0; i < cfg->ndevices; i++)
        free(cfg->devices[i].points);
    free(cfg->devices);
    free(cfg->buses);
    memset(cfg, 0, sizeof *cfg);
}

static void rec_sample(void *ctx, const struct ef_sample *s)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    struct rec_dev *d = &r->dev[s->source_index];
    d->samples++;
    if (r->valid && !r->valid(s))
        r->bad++;
    d->nvalues = 0;
    bool forced = false;
    for (size_t i = 0; i < s->nreadings && i < REC_MAX_POINTS; i++) {
        snprintf(d->names[i], sizeof d->names[i], "%s", s->readings[i].name);
        d->values[i] = s->readings[i].value;
        d->forced[i] = s->readings[i].forced;
        forced |= s->readings[i].forced;
        d->nvalues++;
    }
    d->forced_samples += forced;
    pthread_mutex_unlock(&r->lock);
}

static void rec_poll(void *ctx, size_t idx, int64_t ts, bool answered)
{
    (void)ts;
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    struct rec_dev *d = &r->dev[idx];
    if (d->polls < REC_MAX_POLLS)
        d->req_at_poll[d->polls] = atomic_load(&r->counters[idx].requests);
    d->polls++;
    d->answered += answered;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void rec_init(struct rec *r, struct ef_dev_counters *counters)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->counters = counters;
}

struct ef_sink rec_sink(struct rec *r)
{
    return (struct ef_sink){.sample = rec_sample, .poll_result = rec_poll, .ctx = r};
}

static bool rec_wait(struct rec *r, size_t dev, size_t n, bool answered)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    size_t *have = answered ? &r->dev[dev].answered : &r->dev[dev].polls;
    while (*have < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
    bool ok = *have >= n;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

bool rec_wait_polls(struct rec *r, size_t dev, size_t n)
{
    return rec_wait(r, dev, n, false);
}

bool rec_wait_answered(struct rec *r, size_t dev, size_t n)
{
    return rec_wait(r, dev, n, true);
}

const struct ef_value *rec_value(struct rec *r, size_t dev, const char *name)
{
    for (size_t i = 0; i < r->dev[dev].nvalues; i++)
        if (!strcmp(r->dev[dev].names[i], name))
            return &r->dev[dev].values[i];
    return NULL;
}
