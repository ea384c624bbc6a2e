/* A command message -> a checked job, and the job's state as the bus
 * thread executes it (see command.h for the whole life of a command). */
#include "gateway/command/command.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool take(const char *s, size_t len, size_t *pos, const char *lit)
{
    size_t n = strlen(lit);
    if (len - *pos < n || memcmp(s + *pos, lit, n) != 0)
        return false;
    *pos += n;
    return true;
}

int ef_cmd_topic_parse(const char *prefix, const char *id, const char *topic, size_t len,
                       struct ef_cmd_topic *out)
{
    size_t pos = 0;
    if (!take(topic, len, &pos, prefix) || !take(topic, len, &pos, "/") ||
        !take(topic, len, &pos, id) || !take(topic, len, &pos, "/set/"))
        return -1;
    const char *rest = topic + pos;
    size_t n = len - pos;
    const char *slash = memchr(rest, '/', n);
    out->device = rest;
    out->multi = slash == NULL;
    out->device_len = slash ? (size_t)(slash - rest) : n;
    out->point = slash ? slash + 1 : rest + n;
    out->point_len = slash ? n - out->device_len - 1 : 0;
    if (slash && memchr(out->point, '/', out->point_len))
        return -1;
    return 0;
}

void ef_cmd_subscriptions(const struct ef_config *cfg, char device_filter[EF_CMD_TOPIC_MAX],
                          char point_filter[EF_CMD_TOPIC_MAX])
{
    snprintf(device_filter, EF_CMD_TOPIC_MAX, "%s/%s/set/+", cfg->mqtt.topic_prefix,
             cfg->gateway.id);
    snprintf(point_filter, EF_CMD_TOPIC_MAX, "%s/%s/set/+/+", cfg->mqtt.topic_prefix,
             cfg->gateway.id);
}

bool ef_cmd_any_writable(const struct ef_config *cfg)
{
    for (size_t d = 0; d < cfg->ndevices; d++)
        for (size_t i = 0; i < cfg->devices[d].npoints; i++)
            if (cfg->devices[d].points[i].writable)
                return true;
    return false;
}

/* P/G/result/ plus the levels after P/G/set/, when they can be echoed: a
 * topic level the broker let through may still hold bytes that are better
 * not sent back (no UTF-8 checks are made on it here). */
static void result_topic(struct ef_cmd_job *job, const struct ef_config *cfg,
                         const struct ef_cmd_topic *t, const char *topic, size_t len)
{
    const char *rest = t->device;
    size_t n = len - (size_t)(rest - topic);
    for (size_t i = 0; i < n; i++)
        if (rest[i] < 0x20 || rest[i] > 0x7e || rest[i] == '+' || rest[i] == '#')
            return;
    int w = snprintf(job->result_topic, sizeof job->result_topic, "%s/%s/result/%.*s",
                     cfg->mqtt.topic_prefix, cfg->gateway.id, (int)n, rest);
    if (w < 0 || (size_t)w >= sizeof job->result_topic)
        job->result_topic[0] = '\0';
}

static enum ef_cmd_prep refuse(struct ef_cmd_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum ef_cmd_prep refuse(struct ef_cmd_job *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
    job->refused = true;
    return EF_CMD_REFUSED;
}

/* The command's ts against the gateway's clock, both ways: a ts far in the
 * future would otherwise keep a command fresh for as long as it says. */
static bool ts_ok(int64_t ts, int64_t wall_now, int max_age, char *err, size_t errlen)
{
    int64_t age = wall_now - ts;
    if (age > max_age)
        snprintf(err, errlen, "expired: ts is %lld ms old (command_max_age_ms %d)",
                 (long long)age, max_age);
    else if (-age > max_age)
        snprintf(err, errlen, "expired: ts is %lld ms ahead of the gateway's clock "
                 "(command_max_age_ms %d)", (long long)-age, max_age);
    else
        return true;
    return false;
}

static const struct ef_device *find_device(const struct ef_config *cfg, const char *name,
                                           size_t *index)
{
    for (size_t i = 0; i < cfg->ndevices; i++) {
        if (strcmp(cfg->devices[i].name, name) == 0) {
            *index = i;
            return &cfg->devices[i];
        }
    }
    return NULL;
}

/* Looks up and encodes every point of MSG; on the first refusal marks that
 * point failed and all others skipped. Returns true when all are good. */
static bool prepare_writes(struct ef_cmd_job *job, const struct ef_device *dev,
                           const struct ef_cmd_msg *msg)
{
    size_t bad = msg->nitems;
    bool named = false; /* the error names the point itself */
    char err[EF_CMD_ERROR_MAX];
    job->nwrites = msg->nitems;
    for (size_t i = 0; i < msg->nitems; i++) {
        struct ef_cmd_write *w = &job->writes[i];
        memcpy(w->name, msg->items[i].name, sizeof w->name);
        w->outcome = EF_CMD_PENDING;
        if (bad < msg->nitems)
            continue;
        for (size_t k = 0; k < dev->npoints && !w->point; k++) {
            if (strcmp(dev->points[k].name, w->name) == 0) {
                w->point = &dev->points[k];
                w->point_index = k;
            }
        }
        named = true;
        if (!w->point) {
            snprintf(err, sizeof err, "unknown point '%s' of device '%s'", w->name, dev->name);
        } else if (!w->point->writable) {
            snprintf(err, sizeof err, "point '%s' of device '%s' is not writable", w->name,
                     dev->name);
        } else {
            if (ef_cmd_encode(w->point, dev->write_single, &msg->items[i].value, &w->w, err,
                              sizeof err) == 0)
                continue;
            named = false;
        }
        bad = i;
    }
    if (bad == msg->nitems)
        return true;
    for (size_t i = 0; i < job->nwrites; i++) {
        struct ef_cmd_write *w = &job->writes[i];
        w->outcome = i == bad ? EF_CMD_FAILED : EF_CMD_SKIPPED;
        if (i == bad)
            memcpy(w->error, err, sizeof w->error);
        else
            snprintf(w->error, sizeof w->error, "not written: '%s' was refused",
                     job->writes[bad].name);
    }
    if (job->multi && !named)
        refuse(job, "%s: %s", job->writes[bad].name, err);
    else
        refuse(job, "%s", err);
    return false;
}

static void job_reset(struct ef_cmd_job *job, int64_t arrived)
{
    job->result_topic[0] = '\0';
    job->multi = job->has_id = job->has_ts = false;
    job->ts_ms = 0;
    job->arrived_ms = arrived;
    job->device = 0;
    job->refused = job->failed = false;
    job->error[0] = '\0';
    job->nwrites = 0;
    memset(job->writes, 0, sizeof job->writes);
}

enum ef_cmd_prep ef_cmd_prepare(struct ef_cmd_job *job, const struct ef_config *cfg,
                                const char *topic, size_t topic_len, const void *payload,
                                size_t payload_len, bool retained, int64_t arrived_mono_ms,
                                int64_t wall_now_ms)
{
    struct ef_cmd_topic t;
    struct ef_cmd_msg msg;
    char err[EF_CMD_ERROR_MAX];
    job_reset(job, arrived_mono_ms);
    if (ef_cmd_topic_parse(cfg->mqtt.topic_prefix, cfg->gateway.id, topic, topic_len, &t) != 0) {
        refuse(job, "not a command topic of this gateway");
        return EF_CMD_NOT_OURS;
    }
    result_topic(job, cfg, &t, topic, topic_len);
    job->multi = t.multi;
    int rc = ef_cmd_parse(payload, payload_len, t.multi, &msg, err, sizeof err);
    if (msg.has_id) {
        job->has_id = true;
        memcpy(job->id, msg.id, sizeof job->id);
    }
    /* Before anything else: a broker must never make a command run again. */
    if (retained)
        return refuse(job, "retained command refused: a retained message is never executed");
    if (rc != 0)
        return refuse(job, "%s", err);
    job->has_ts = msg.has_ts;
    job->ts_ms = msg.ts_ms;
    if (msg.has_ts && !ts_ok(msg.ts_ms, wall_now_ms, cfg->mqtt.command_max_age_ms, err, sizeof err))
        return refuse(job, "%s", err);
    if (!ef_cmd_name_ok(t.device, t.device_len))
        return refuse(job, "the device in the topic is not a name ([A-Za-z0-9_-], 1 to %d "
                           "characters)", EF_NAME_MAX);
    char name[EF_NAME_MAX + 1];
    memcpy(name, t.device, t.device_len);
    name[t.device_len] = '\0';
    const struct ef_device *dev = find_device(cfg, name, &job->device);
    if (!dev) {
        for (size_t i = 0; i < cfg->nserials; i++)
            if (strcmp(cfg->serials[i].name, name) == 0)
                return refuse(job, "'%s' is a serial sensor: serial sensors are not writable", name);
        return refuse(job, "unknown device '%s'", name);
    }
    if (!t.multi) {
        if (!ef_cmd_name_ok(t.point, t.point_len))
            return refuse(job, "the point in the topic is not a name ([A-Za-z0-9_-], 1 to %d "
                               "characters)", EF_NAME_MAX);
        memcpy(msg.items[0].name, t.point, t.point_len);
        msg.items[0].name[t.point_len] = '\0';
    }
    return prepare_writes(job, dev, &msg) ? EF_CMD_EXECUTE : EF_CMD_REFUSED;
}

/* Marks write I failed with ERR and every later one skipped with SKIP. */
static void stop_at(struct ef_cmd_job *job, size_t i, const char *err, const char *skip)
{
    for (size_t k = i; k < job->nwrites; k++) {
        job->writes[k].outcome = k == i ? EF_CMD_FAILED : EF_CMD_SKIPPED;
        snprintf(job->writes[k].error, sizeof job->writes[k].error, "%s", k == i ? err : skip);
    }
}

bool ef_cmd_job_fresh(struct ef_cmd_job *job, size_t i, int max_age_ms, int64_t mono_now_ms,
                      int64_t wall_now_ms)
{
    char err[EF_CMD_ERROR_MAX];
    if (job->refused || job->failed || i >= job->nwrites)
        return false;
    if (mono_now_ms - job->arrived_ms > max_age_ms)
        snprintf(err, sizeof err, "expired: not executed within %d ms of its arrival "
                 "(command_max_age_ms)", max_age_ms);
    else if (!job->has_ts || ts_ok(job->ts_ms, wall_now_ms, max_age_ms, err, sizeof err))
        return true;
    stop_at(job, i, err, "not written: expired");
    snprintf(job->error, sizeof job->error, "%s", err);
    job->refused = i == 0;
    job->failed = i > 0;
    return false;
}

void ef_cmd_job_written(struct ef_cmd_job *job, size_t i, const struct ef_value *readback)
{
    if (i >= job->nwrites)
        return;
    job->writes[i].outcome = EF_CMD_WRITTEN;
    job->writes[i].has_readback = readback != NULL;
    if (readback)
        job->writes[i].readback = *readback;
}

void ef_cmd_job_failed(struct ef_cmd_job *job, size_t i, const char *fmt, ...)
{
    char err[EF_CMD_ERROR_MAX], skip[EF_CMD_ERROR_MAX];
    va_list ap;
    if (i >= job->nwrites)
        return;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
    snprintf(skip, sizeof skip, "not written: '%s' failed", job->writes[i].name);
    stop_at(job, i, err, skip);
    if (job->multi)
        snprintf(job->error, sizeof job->error, "%s: %s", job->writes[i].name, err);
    else
        snprintf(job->error, sizeof job->error, "%s", err);
    job->failed = true;
}

enum ef_cmd_class ef_cmd_job_class(const struct ef_cmd_job *job)
{
    if (job->refused)
        return EF_CMD_CLASS_REFUSED;
    bool all = job->nwrites > 0;
    for (size_t i = 0; i < job->nwrites; i++)
        all = all && job->writes[i].outcome == EF_CMD_WRITTEN;
    return !job->failed && all ? EF_CMD_CLASS_EXECUTED : EF_CMD_CLASS_FAILED;
}
