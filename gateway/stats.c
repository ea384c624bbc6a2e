#include "gateway/stats.h"

static void field(struct ef_buf *b, const char *name, uint64_t v, bool first)
{
    if (!first)
        ef_buf_put(b, ",", 1);
    ef_buf_put(b, "\"", 1);
    ef_buf_puts(b, name);
    ef_buf_put(b, "\":", 2);
    ef_buf_uint(b, v);
}

static uint64_t ld(atomic_uint_fast64_t *a) { return atomic_load_explicit(a, memory_order_relaxed); }

static void device(struct ef_buf *b, const char *name, struct ef_dev_counters *c)
{
    ef_buf_put(b, "\"", 1);
    ef_buf_puts(b, name);
    ef_buf_put(b, "\":{", 3);
    field(b, "polls", ld(&c->polls), true);
    field(b, "polls_failed", ld(&c->polls_failed), false);
    field(b, "readings", ld(&c->readings), false);
    field(b, "requests", ld(&c->requests), false);
    field(b, "errors", ld(&c->errors), false);
    field(b, "timeouts", ld(&c->timeouts), false);
    field(b, "points_failed", ld(&c->points_failed), false);
    field(b, "skipped", ld(&c->skipped), false);
    field(b, "lines_rejected", ld(&c->lines_rejected), false);
    field(b, "lines_overlong", ld(&c->lines_overlong), false);
    field(b, "reopens", ld(&c->reopens), false);
    ef_buf_put(b, "}", 1);
}

/* Closes "dropped" and opens nothing: the caller closes this object. */
static void sparkplug(struct ef_buf *b, const struct ef_sp_stats *s)
{
    ef_buf_puts(b, "},\"sparkplug\":{");
    field(b, "bdseq", s->bdseq, true);
    ef_buf_puts(b, s->host_online ? ",\"host_online\":true" : ",\"host_online\":false");
    field(b, "nbirths", s->nbirths, false);
    field(b, "dbirths", s->dbirths, false);
    field(b, "ddeaths", s->ddeaths, false);
    field(b, "rebirth_requests", s->rebirth_requests, false);
    field(b, "historical", s->historical, false);
    field(b, "dropped", s->dropped, false);
    field(b, "unknown_metrics", s->unknown_metrics, false);
    field(b, "dcmd_received", s->dcmd_received, false);
    field(b, "dcmd_refused", s->dcmd_refused, false);
    field(b, "dcmd_writes", s->dcmd_writes, false);
    field(b, "bad_messages", s->bad_messages, false);
}

void ef_stats_encode(struct ef_buf *b, const struct ef_stats_input *in)
{
    const struct ef_queue_stats *q = &in->queue;
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, in->ts_ms);
    field(b, "uptime_s", (uint64_t)in->uptime_s, false);
    field(b, "readings", in->core.readings, false);
    field(b, "samples", in->core.samples, false);
    field(b, "telemetry_queued", in->core.messages, false);
    field(b, "telemetry_suppressed", in->core.suppressed, false);
    field(b, "alarms_queued", in->core.alarms, false);
    field(b, "published", in->pub.published, false);
    field(b, "resent", in->pub.resent, false);
    field(b, "connects", in->pub.connects, false);
    field(b, "reconnects", in->pub.connects ? in->pub.connects - 1 : 0, false);
    field(b, "connect_failures", in->pub.connect_failures, false);
    field(b, "connection_lost", in->pub.connection_lost, false);
    field(b, "clock_jumps", in->clock_jumps, false);
    field(b, "clock_unsynced", in->clock_unsynced, false);
    field(b, "switches", in->pub.switches, false);
    /* The uri as configured: the config refuses blanks and control
     * characters in it, so only quote and backslash need escaping. */
    ef_buf_puts(b, ",\"broker\":\"");
    for (const char *c = in->pub.broker; *c; c++) {
        if (*c == '"' || *c == '\\')
            ef_buf_put(b, "\\", 1);
        ef_buf_put(b, c, 1);
    }
    ef_buf_put(b, "\"", 1);
    ef_buf_puts(b, ",\"queue\":{");
    field(b, "memory_msgs", q->mem_msgs, true);
    field(b, "memory_bytes", q->mem_bytes, false);
    field(b, "disk_msgs", q->disk_msgs, false);
    field(b, "disk_bytes", q->disk_bytes, false);
    field(b, "disk_used_bytes", q->disk_used_bytes, false);
    field(b, "spilled", q->spilled_msgs, false);
    field(b, "recovered", q->recovered_msgs, false);
    field(b, "corrupt_records", q->corrupt_records, false);
    field(b, "disk_errors", q->disk_errors, false);
    field(b, "disk_faults", q->disk_faults, false);
    field(b, "disk_fault", in->disk_fault, false);
    ef_buf_puts(b, "},\"dropped\":{");
    field(b, "telemetry_disk_full", q->dropped_full[1], true);
    field(b, "alarm_disk_full", q->dropped_full[0], false);
    field(b, "memory_full", q->dropped_memory, false);
    field(b, "queue_refused", in->core.queue_errors, false);
    field(b, "stats_not_connected", in->pub.direct_dropped, false);
    field(b, "too_large", in->pub.too_large, false);
    field(b, "alarm_too_large", in->pub.alarm_too_large, false);
    field(b, "clock_unsynced", in->core.clock_dropped, false);
    field(b, "stats_too_large", in->pub.stats_too_large, false);
    field(b, "inbound_inbox_full", in->pub.inbound_dropped, false);
    field(b, "replies_backlog_full", in->pub.replies_dropped, false);
    ef_buf_puts(b, "},\"commands\":{");
    field(b, "received", in->commands.received, true);
    field(b, "executed", in->commands.executed, false);
    field(b, "failed", in->commands.failed, false);
    field(b, "refused", in->commands.refused, false);
    field(b, "repeated", in->commands.repeated, false);
    field(b, "results_sent", in->pub.replies_sent, false);
    if (in->has_sparkplug)
        sparkplug(b, &in->sparkplug);
    ef_buf_puts(b, "},\"devices\":{");
    for (size_t i = 0; i < in->ndevices; i++) {
        if (i)
            ef_buf_put(b, ",", 1);
        device(b, ef_core_device_name(in->names, i), &in->devices[i]);
    }
    ef_buf_puts(b, "}}");
}

void ef_stats_add_core(struct ef_core_stats *acc, const struct ef_core_stats *s)
{
    acc->samples += s->samples;
    acc->readings += s->readings;
    acc->messages += s->messages;
    acc->suppressed += s->suppressed;
    acc->alarms += s->alarms;
    acc->queue_errors += s->queue_errors;
    acc->clock_dropped += s->clock_dropped;
}

void ef_stats_add_pub(struct ef_pub_stats *acc, const struct ef_pub_stats *s)
{
    acc->connects += s->connects;
    acc->connect_failures += s->connect_failures;
    acc->connection_lost += s->connection_lost;
    acc->published += s->published;
    acc->resent += s->resent;
    acc->direct_dropped += s->direct_dropped;
    acc->too_large += s->too_large;
    acc->alarm_too_large += s->alarm_too_large;
    acc->stats_too_large += s->stats_too_large;
    acc->switches += s->switches;
    acc->inbound_dropped += s->inbound_dropped;
    acc->replies_sent += s->replies_sent;
    acc->replies_dropped += s->replies_dropped;
}

static void add(atomic_uint_fast64_t *dst, atomic_uint_fast64_t *src)
{
    atomic_fetch_add_explicit(dst, ld(src), memory_order_relaxed);
}

void ef_stats_add_device(struct ef_dev_counters *dst, struct ef_dev_counters *src)
{
    add(&dst->polls, &src->polls);
    add(&dst->polls_failed, &src->polls_failed);
    add(&dst->requests, &src->requests);
    add(&dst->errors, &src->errors);
    add(&dst->timeouts, &src->timeouts);
    add(&dst->points_failed, &src->points_failed);
    add(&dst->skipped, &src->skipped);
    add(&dst->readings, &src->readings);
    add(&dst->lines_rejected, &src->lines_rejected);
    add(&dst->lines_overlong, &src->lines_overlong);
    add(&dst->reopens, &src->reopens);
}
