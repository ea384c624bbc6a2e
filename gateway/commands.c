/* Commands in the running gateway (commands.h draws the path). The rules
 * (what may be written, how, when a command is refused) are the pure part's,
 * gateway/command/; this file only carries a command from the publisher to
 * the bus that owns the device and its result back. */
#include "gateway/commands.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/command/command.h"
#include "gateway/command/dedup.h"

/* Lock order: gen_lock, then out_lock; a source's own lock may come after
 * gen_lock, and out_lock after it (done callbacks), never the reverse. */
struct ef_commands {
    pthread_mutex_t gen_lock; /* the generation: held while a command is dispatched */
    const struct ef_config *cfg;
    struct ef_source *const *sources;
    size_t nsources;
    /* While no generation is set (a reload, the stop), commands are refused
     * against a configuration that has the names but no device. */
    struct ef_config idle;

    pthread_mutex_t out_lock; /* results: the publisher, the id cache, the counters */
    struct ef_publisher *pub;
    struct ef_dedup *dedup;
    struct ef_cmd_stats stats;
};

/* One command on its way: the job and where its result goes. */
struct cmd_run {
    struct ef_commands *c;
    struct ef_source *src;
    int max_age_ms;
    size_t i;         /* the write in progress */
    bool cached;      /* its id is pending in the id cache */
    char device[EF_NAME_MAX + 1]; /* for the log */
    char reply_topic[EF_CMD_TOPIC_MAX];
    void *correlation;
    size_t correlation_len;
    struct ef_cmd_job job;
};

struct ef_commands *ef_commands_new(void)
{
    struct ef_commands *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->dedup = ef_dedup_new(EF_DEDUP_ENTRIES, EF_DEDUP_BYTES, EF_DEDUP_TTL_MS);
    if (!c->dedup) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->gen_lock, NULL);
    pthread_mutex_init(&c->out_lock, NULL);
    return c;
}

void ef_commands_free(struct ef_commands *c)
{
    if (!c)
        return;
    ef_dedup_free(c->dedup);
    pthread_mutex_destroy(&c->gen_lock);
    pthread_mutex_destroy(&c->out_lock);
    free(c);
}

void ef_commands_set(struct ef_commands *c, const struct ef_config *cfg,
                     struct ef_source *const *sources, size_t nsources, struct ef_publisher *pub)
{
    pthread_mutex_lock(&c->gen_lock);
    if (cfg) {
        memset(&c->idle, 0, sizeof c->idle);
        c->idle.mqtt = cfg->mqtt;
        c->idle.gateway = cfg->gateway;
    }
    c->cfg = cfg;
    c->sources = sources;
    c->nsources = nsources;
    pthread_mutex_lock(&c->out_lock);
    c->pub = pub;
    pthread_mutex_unlock(&c->out_lock);
    pthread_mutex_unlock(&c->gen_lock);
}

void ef_commands_get_stats(struct ef_commands *c, struct ef_cmd_stats *out)
{
    pthread_mutex_lock(&c->out_lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->out_lock);
}

/* One info line per point of the command (device, point, value, id,
 * outcome), or one for a command refused before its points were known. */
static void log_outcome(const struct cmd_run *r, const char *device)
{
    const struct ef_cmd_job *j = &r->job;
    char id[EF_CMD_ID_MAX + 8] = "";
    if (j->has_id)
        snprintf(id, sizeof id, " id %s", j->id);
    if (j->nwrites == 0) {
        ef_info("command%s on %s refused: %s", id, j->result_topic[0] ? j->result_topic : "?",
                j->error);
        return;
    }
    for (size_t i = 0; i < j->nwrites; i++) {
        const struct ef_cmd_write *w = &j->writes[i];
        char v[40], rb[40];
        struct ef_buf b;
        ef_buf_init(&b, v, sizeof v);
        ef_buf_value(&b, &w->w.value);
        v[b.len < sizeof v ? b.len : sizeof v - 1] = '\0';
        if (w->outcome == EF_CMD_WRITTEN) {
            ef_buf_init(&b, rb, sizeof rb);
            if (w->has_readback)
                ef_buf_value(&b, &w->readback);
            else
                ef_buf_puts(&b, "nothing (the read-back failed)");
            rb[b.len < sizeof rb ? b.len : sizeof rb - 1] = '\0';
            ef_info("command%s: %s/%s = %s written, read back %s", id, device, w->name, v, rb);
        } else {
            ef_info("command%s: %s/%s = %s not written: %s", id, device, w->name, v,
                    w->outcome == EF_CMD_PENDING ? j->error : w->error);
        }
    }
}

static void send_locked(struct ef_commands *c, const struct cmd_run *r, const char *payload,
                        size_t len, unsigned times)
{
    if (!r->reply_topic[0] || !c->pub)
        return;
    for (unsigned k = 0; k < times; k++)
        ef_pub_reply(c->pub, r->reply_topic, payload, len, r->correlation, r->correlation_len);
}

/* Any thread: the command has ended; its one result goes out. */
static void finish(struct cmd_run *r)
{
    const char *device = r->device[0] ? r->device : "?";
    struct ef_commands *c = r->c;
    char *buf = malloc(EF_CMD_RESULT_MAX);
    struct ef_buf b;
    ef_buf_init(&b, buf ? buf : (char[1]){0}, buf ? EF_CMD_RESULT_MAX : 1);
    if (buf)
        ef_cmd_result_json(&r->job, ef_wall_ms(), &b);
    log_outcome(r, device);
    ef_debug("command ended %lld ms after it arrived",
             (long long)(ef_mono_ms() - r->job.arrived_ms));
    enum ef_cmd_class k = ef_cmd_job_class(&r->job);
    pthread_mutex_lock(&c->out_lock);
    if (k == EF_CMD_CLASS_REFUSED)
        c->stats.refused++;
    else if (k == EF_CMD_CLASS_EXECUTED)
        c->stats.executed++;
    else
        c->stats.failed++;
    unsigned times = 1;
    if (buf && ef_buf_ok(&b)) {
        if (r->cached)
            times += ef_dedup_complete(c->dedup, r->job.id, r->reply_topic, buf, b.len,
                                       ef_mono_ms());
        send_locked(c, r, buf, b.len, times);
    } else {
        ef_err("command%s%s: out of memory for its result", r->job.has_id ? " id " : "",
               r->job.has_id ? r->job.id : "");
    }
    pthread_mutex_unlock(&c->out_lock);
    free(buf);
    free(r->correlation);
    free(r);
}

static void name_device(struct cmd_run *r, const struct ef_config *cfg)
{
    if (cfg && r->job.nwrites && r->job.device < cfg->ndevices)
        snprintf(r->device, sizeof r->device, "%s", cfg->devices[r->job.device].name);
}

static void on_done(void *ctx, const struct ef_write_result *res);

/* Submits the write in progress, or finishes the command when there is none
 * left or it cannot be sent. Publisher thread (the first write) or the bus
 * thread (the next ones, from on_done). */
static void submit(struct cmd_run *r)
{
    for (;;) {
        if (r->i >= r->job.nwrites ||
            !ef_cmd_job_fresh(&r->job, r->i, r->max_age_ms, ef_mono_ms(), ef_wall_ms()))
            break;
        const struct ef_cmd_write *w = &r->job.writes[r->i];
        struct ef_write_req q = {
            .source_index = r->job.device,
            .fc = (uint8_t)w->w.fc,
            .address = w->w.address,
            .count = w->w.count,
            .coil = w->w.coil,
            .and_mask = w->w.and_mask,
            .or_mask = w->w.or_mask,
            .deadline_mono_ms = r->job.arrived_ms + r->max_age_ms,
            .point = w->point,
            .done = on_done,
            .ctx = r,
        };
        memcpy(q.regs, w->w.regs, sizeof q.regs);
        struct ef_write_result now;
        if (ef_source_write(r->src, &q, &now) == 0)
            return; /* on_done follows, on the bus thread */
        ef_cmd_job_failed(&r->job, r->i, "%s", now.error[0] ? now.error : "not sent");
        break;
    }
    finish(r);
}

static void on_done(void *ctx, const struct ef_write_result *res)
{
    struct cmd_run *r = ctx;
    if (res->status == EF_WRITE_OK) {
        ef_cmd_job_written(&r->job, r->i, res->has_readback ? &res->readback : NULL);
        r->i++;
        submit(r);
        return;
    }
    /* An expiry is said in the command's own words when its age shows it. */
    if (res->status != EF_WRITE_EXPIRED ||
        ef_cmd_job_fresh(&r->job, r->i, r->max_age_ms, ef_mono_ms(), ef_wall_ms()))
        ef_cmd_job_failed(&r->job, r->i, "%s", res->error[0] ? res->error : "write failed");
    finish(r);
}

/* Where the result goes: the MQTT 5 Response Topic when the command gave a
 * usable one (no wildcards: a topic to publish on), else P/G/result/... */
static void reply_route(struct cmd_run *r, const struct ef_pub_inbound *m)
{
    const char *rt = m->response_topic;
    if (rt && rt[0] && strlen(rt) < sizeof r->reply_topic && !strpbrk(rt, "+#"))
        snprintf(r->reply_topic, sizeof r->reply_topic, "%s", rt);
    else
        snprintf(r->reply_topic, sizeof r->reply_topic, "%s", r->job.result_topic);
    if (m->correlation_len && (r->correlation = malloc(m->correlation_len))) {
        memcpy(r->correlation, m->correlation, m->correlation_len);
        r->correlation_len = m->correlation_len;
    }
}

/* Publisher thread, with gen_lock held: a repeated id is answered from the
 * cache. Returns true when R must not be executed (and has been freed). */
static bool repeated(struct ef_commands *c, struct cmd_run *r)
{
    struct ef_dedup_result first;
    pthread_mutex_lock(&c->out_lock);
    enum ef_dedup_seen seen = ef_dedup_check(c->dedup, r->job.id, ef_mono_ms(), &first);
    if (seen != EF_DEDUP_NEW) {
        c->stats.repeated++;
        if (seen == EF_DEDUP_DONE && first.payload)
            send_locked(c, r, first.payload, first.len, 1);
    }
    pthread_mutex_unlock(&c->out_lock);
    if (seen == EF_DEDUP_NEW) {
        r->cached = true;
        return false;
    }
    ef_info("command id %s repeated (a redelivery): not executed again%s", r->job.id,
            seen == EF_DEDUP_DONE ? "; its first result is sent again" : "");
    free(r->correlation);
    free(r);
    return true;
}

static void on_message(void *ctx, const struct ef_pub_inbound *m)
{
    struct ef_commands *c = ctx;
    struct cmd_run *r = calloc(1, sizeof *r);
    pthread_mutex_lock(&c->out_lock);
    c->stats.received++;
    pthread_mutex_unlock(&c->out_lock);
    if (!r) {
        ef_err("command on %s dropped: out of memory", m->topic);
        return;
    }
    r->c = c;
    pthread_mutex_lock(&c->gen_lock);
    const struct ef_config *cfg = c->cfg ? c->cfg : &c->idle;
    r->max_age_ms = cfg->mqtt.command_max_age_ms;
    /* An oversize payload was not copied; the reader refuses it by its
     * length alone, before it reads a byte. */
    static const char none[1];
    enum ef_cmd_prep rc = ef_cmd_prepare(&r->job, cfg, m->topic, strlen(m->topic),
                                         m->payload ? m->payload : none, m->len, m->retained,
                                         m->arrived_mono_ms, ef_wall_ms());
    if (rc == EF_CMD_NOT_OURS) {
        pthread_mutex_unlock(&c->gen_lock);
        ef_debug("a message on %s is no command of this gateway", m->topic);
        free(r);
        return;
    }
    reply_route(r, m);
    name_device(r, c->cfg);
    /* The idle configuration has no device, so ef_cmd_prepare refused the
     * command as for an unknown one: say the real reason. */
    if (!c->cfg && strncmp(r->job.error, "unknown device", 14) == 0)
        snprintf(r->job.error, sizeof r->job.error,
                 "the gateway is reloading or stopping: send the command again");
    if (rc == EF_CMD_EXECUTE && r->job.has_id && repeated(c, r)) {
        pthread_mutex_unlock(&c->gen_lock);
        return;
    }
    if (rc == EF_CMD_EXECUTE) {
        size_t bus = cfg->devices[r->job.device].bus;
        r->src = bus < c->nsources ? c->sources[bus] : NULL;
        if (r->src) {
            submit(r);
        } else {
            ef_cmd_job_failed(&r->job, 0, "the bus of %s is not running", r->device);
            finish(r);
        }
    } else {
        finish(r);
    }
    pthread_mutex_unlock(&c->gen_lock);
}

void ef_commands_submit(struct ef_commands *c, const struct ef_pub_inbound *m)
{
    on_message(c, m);
}

bool ef_commands_wanted(const struct ef_config *cfg) { return ef_cmd_any_writable(cfg); }

int ef_commands_attach(struct ef_commands *c, const struct ef_config *cfg,
                       struct ef_publisher *pub)
{
    if (!ef_cmd_any_writable(cfg))
        return 0;
    char dev[EF_CMD_TOPIC_MAX], point[EF_CMD_TOPIC_MAX];
    ef_cmd_subscriptions(cfg, dev, point);
    if (ef_pub_subscribe(pub, dev, 1, on_message, c) != 0 ||
        ef_pub_subscribe(pub, point, 1, on_message, c) != 0) {
        ef_err("commands: cannot subscribe to %s and %s", dev, point);
        return -1;
    }
    return 0;
}
