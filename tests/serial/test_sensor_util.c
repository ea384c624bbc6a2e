#include "test_sensor_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"

static void rec_sample_cb(void *ctx, const struct ef_sample *s)
{
    struct recorder *r = ctx;
    pthread_mutex_lock(&r->lock);
    if (r->nsamples < REC_SAMPLES) {
        struct rec_sample *d = &r->samples[r->nsamples++];
        snprintf(d->device, sizeof d->device, "%s", s->device);
        d->source_index = s->source_index;
        d->ts_ms = s->ts_ms;
        d->n = s->nreadings < REC_VALUES ? s->nreadings : REC_VALUES;
        for (size_t i = 0; i < d->n; i++) {
            snprintf(d->values[i].name, sizeof d->values[i].name, "%s", s->readings[i].name);
            d->values[i].v = s->readings[i].value;
            d->values[i].point = s->readings[i].point;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static void rec_poll_cb(void *ctx, size_t source_index, int64_t ts_ms, bool answered)
{
    struct recorder *r = ctx;
    (void)ts_ms;
    pthread_mutex_lock(&r->lock);
    if (source_index != r->want_index)
        r->bad_index++;
    if (answered)
        r->answered++;
    else
        r->failed++;
    pthread_mutex_unlock(&r->lock);
}

void recorder_init(struct recorder *r, size_t want_index)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->samples = calloc(REC_SAMPLES, sizeof *r->samples);
    r->want_index = want_index;
    r->sink = (struct ef_sink){.sample = rec_sample_cb, .poll_result = rec_poll_cb, .ctx = r};
}

void recorder_free(struct recorder *r)
{
    free(r->samples);
    pthread_mutex_destroy(&r->lock);
}

size_t recorder_count(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->nsamples;
    pthread_mutex_unlock(&r->lock);
    return n;
}

size_t recorder_failed(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->failed;
    pthread_mutex_unlock(&r->lock);
    return n;
}

struct rec_sample recorder_get(struct recorder *r, size_t i)
{
    pthread_mutex_lock(&r->lock);
    struct rec_sample s = r->samples[i];
    pthread_mutex_unlock(&r->lock);
    return s;
}

const struct rec_value *rec_find(const struct rec_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->values[i].name, name) == 0)
            return &s->values[i];
    }
    return NULL;
}

int sim_prepare(struct sim *s)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->out_fd = -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/ef-serial-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->link, sizeof s->link, "%s/tty", s->dir);
    snprintf(s->stats, sizeof s->stats, "%s/stats", s->dir);
    return 0;
}

int sim_start(struct sim *s, const char *const *args)
{
    const char *argv[32] = {EF_PYTHON3, EF_SERIAL_SIM, "--link", s->link, "--stats", s->stats};
    size_t n = 6;
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    s->pid = pid;
    s->out_fd = fds[0];
    return sim_expect(s, "ready", 10000);
}

int sim_expect(struct sim *s, const char *want, int timeout_ms)
{
    char line[256];
    size_t len = 0;
    int64_t deadline = ef_mono_ms() + timeout_ms;
    while (ef_mono_ms() < deadline) {
        struct pollfd pfd = {.fd = s->out_fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        char c;
        if (read(s->out_fd, &c, 1) != 1)
            return -1; /* the simulator died */
        if (c != '\n') {
            if (len < sizeof line - 1)
                line[len++] = c;
            continue;
        }
        line[len] = '\0';
        if (strcmp(line, want) == 0)
            return 0;
        len = 0;
    }
    fprintf(stderr, "simulator did not say \"%s\"\n", want);
    return -1;
}

long sim_stat(const struct sim *s, const char *name)
{
    FILE *f = fopen(s->stats, "r");
    if (!f)
        return -1;
    char key[64];
    long v, found = -1;
    while (fscanf(f, " %63[^=]=%ld", key, &v) == 2) {
        if (strcmp(key, name) == 0)
            found = v;
    }
    fclose(f);
    return found;
}

void sim_stop(struct sim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
        }
        s->pid = -1;
    }
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    char tmp[160];
    unlink(s->link);
    unlink(s->stats);
    snprintf(tmp, sizeof tmp, "%s.tmp", s->stats);
    unlink(tmp);
    snprintf(tmp, sizeof tmp, "%s.tmp", s->link);
    unlink(tmp);
    rmdir(s->dir);
}
