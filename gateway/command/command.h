/* Commands from MQTT to Modbus devices: the pure part (INTERFACE.md
 * "Writing to devices"). Nothing here does I/O or takes a lock; the
 * publisher hands a message in, the bus thread executes the writes, and
 * the result goes back through the queue.
 *
 * Life of one command (who calls what):
 *
 *   publisher thread, on a message of P/G/set/+ or P/G/set/+/+:
 *     rc = ef_cmd_prepare(job, cfg, topic, tlen, payload, plen, retained,
 *                         mono_now, wall_now);
 *     EF_CMD_NOT_OURS  not a command topic of this gateway: log, no result
 *     EF_CMD_REFUSED   send the result now (ef_cmd_result_json) on
 *                      job->result_topic; nothing is written
 *     EF_CMD_EXECUTE   if job->has_id, ask the id cache (dedup.h) first:
 *                      NEW: hand the job to the bus thread of
 *                      cfg->devices[job->device].bus; PENDING or DONE: do
 *                      not execute (DONE: send the stored first result)
 *   bus thread, ahead of its next poll, for i = 0 .. job->nwrites-1:
 *     if (!ef_cmd_job_fresh(job, i, max_age, mono_now, wall_now)) stop;
 *     execute job->writes[i].w (cmd_encode.h says how, with libmodbus);
 *     on success read the point back and ef_cmd_job_written(job, i, &rb)
 *     (NULL when the read-back failed); on failure
 *     ef_cmd_job_failed(job, i, "Modbus exception: %s", ...) and stop.
 *     A device that is offline or a bus that is down: ef_cmd_job_failed
 *     at i = 0 with a text saying so.
 *   then: ef_cmd_result_json(job, wall_now, &buf) and push it to the queue
 *     (QoS 1, not retained) on job->result_topic, or on the MQTT 5 response
 *     topic; give the same payload to ef_dedup_complete(); count it with
 *     ef_cmd_job_class().
 *
 * A job refers to the configuration it was prepared with (device index,
 * point pointers): it must be executed or answered before that
 * configuration is freed (a reload answers pending jobs with
 * ef_cmd_job_failed first). A job is about 11 KiB: allocate it, do not put
 * it on a small stack; ef_cmd_prepare itself uses about 6 KiB of stack.
 * Nothing here keeps state between calls: any thread may prepare a job,
 * and a job belongs to whoever holds it. */
#ifndef EF_COMMAND_H
#define EF_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"
#include "gateway/command/cmd_encode.h"
#include "gateway/command/cmd_json.h"
#include "gateway/north/json.h"

/* Longest topic built here: prefix (255) + gateway id + two names fit. */
#define EF_CMD_TOPIC_MAX 512
/* Largest result payload ef_cmd_result_json() writes: a buffer this big
 * always holds it. */
#define EF_CMD_RESULT_MAX 16384

/* P/G/set/D[/X] split into its names. */
struct ef_cmd_topic {
    bool multi; /* P/G/set/D: several points of D */
    const char *device, *point; /* into the topic; not NUL-terminated */
    size_t device_len, point_len; /* point_len 0 when multi */
};

/* Splits TOPIC (LEN bytes) when it is P/G/set/D or P/G/set/D/X for this
 * PREFIX and gateway ID (levels matched exactly, no wildcards). Returns 0,
 * or -1 when the topic is something else. The names are not checked here:
 * a bad name still deserves a result (ef_cmd_prepare refuses it). */
int ef_cmd_topic_parse(const char *prefix, const char *id, const char *topic, size_t len,
                       struct ef_cmd_topic *out);

/* The two subscriptions (QoS 1): P/G/set/+ and P/G/set/+/+. */
void ef_cmd_subscriptions(const struct ef_config *cfg, char device_filter[EF_CMD_TOPIC_MAX],
                          char point_filter[EF_CMD_TOPIC_MAX]);

/* True when some device point is writable: only then does the gateway subscribe. */
bool ef_cmd_any_writable(const struct ef_config *cfg);

enum ef_cmd_outcome {
    EF_CMD_PENDING, /* not executed yet */
    EF_CMD_WRITTEN, /* the device took the write */
    EF_CMD_FAILED,  /* refused, or the write failed: error says why */
    EF_CMD_SKIPPED, /* not written because an earlier point failed or was refused */
};

struct ef_cmd_write {
    char name[EF_NAME_MAX + 1];   /* point name */
    const struct ef_point *point; /* in the configuration given to ef_cmd_prepare */
    size_t point_index;           /* its index in the device's points */
    struct ef_write w;            /* what to send (cmd_encode.h) */
    enum ef_cmd_outcome outcome;
    bool has_readback;
    struct ef_value readback;     /* decoded as the point, when has_readback */
    char error[EF_CMD_ERROR_MAX]; /* FAILED, SKIPPED */
};

struct ef_cmd_job {
    char result_topic[EF_CMD_TOPIC_MAX]; /* P/G/result/D[/X]; "" when the topic's
                                          * levels cannot be echoed (not printable
                                          * ASCII, or too long): then log only */
    bool multi;
    bool has_id;
    char id[EF_CMD_ID_MAX + 1];
    bool has_ts;
    int64_t ts_ms;      /* the command's own ts (wall clock, ms) */
    int64_t arrived_ms; /* monotonic ms when it reached the gateway */
    size_t device;      /* index into cfg->devices (EF_CMD_EXECUTE only) */
    bool refused;       /* nothing was executed: a rule refused it */
    bool failed;        /* a write was attempted and failed */
    /* refused or failed: the reason; for a device topic prefixed with the
     * point name when the reason does not name it */
    char error[EF_CMD_ERROR_MAX + EF_NAME_MAX + 2];
    size_t nwrites;     /* the command's points in the order given; 0 when it
                         * was refused before its points were looked up */
    struct ef_cmd_write writes[EF_CMD_VALUES_MAX];
};

enum ef_cmd_prep { EF_CMD_EXECUTE, EF_CMD_REFUSED, EF_CMD_NOT_OURS };

/* Reads one MQTT message on a command topic and fills JOB: the topic, the
 * payload (cmd_json.h), the retained flag, the ts against WALL_NOW_MS and
 * cfg->mqtt.command_max_age_ms, the device and every point (known, Modbus,
 * writable), and every value (cmd_encode.h). All values are checked before
 * anything is written, so a refused value writes none of the command.
 * ARRIVED_MONO_MS is kept for ef_cmd_job_fresh(). */
enum ef_cmd_prep ef_cmd_prepare(struct ef_cmd_job *job, const struct ef_config *cfg,
                                const char *topic, size_t topic_len, const void *payload,
                                size_t payload_len, bool retained, int64_t arrived_mono_ms,
                                int64_t wall_now_ms);

/* Checks JOB's age just before write I: no more than MAX_AGE_MS since it
 * arrived (monotonic), and its ts (when it has one) within MAX_AGE_MS of
 * WALL_NOW_MS. When it is too old, marks write I as failed and the rest as
 * skipped ("expired: ..."), sets refused (I == 0) or failed (I > 0), and
 * returns false. */
bool ef_cmd_job_fresh(struct ef_cmd_job *job, size_t i, int max_age_ms, int64_t mono_now_ms,
                      int64_t wall_now_ms);

/* Write I was taken; READBACK is the point's value read right after, or
 * NULL when that read failed. */
void ef_cmd_job_written(struct ef_cmd_job *job, size_t i, const struct ef_value *readback);

/* Write I failed (FMT says how, e.g. "Modbus exception: Illegal data
 * address", "timeout", "device offline"): it and the rest are not written. */
void ef_cmd_job_failed(struct ef_cmd_job *job, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* For the stats: commands.refused, .executed (all written) or .failed. */
enum ef_cmd_class { EF_CMD_CLASS_REFUSED, EF_CMD_CLASS_EXECUTED, EF_CMD_CLASS_FAILED };
enum ef_cmd_class ef_cmd_job_class(const struct ef_cmd_job *job);

/* The result payload, into OUT (EF_CMD_RESULT_MAX bytes always suffice):
 *   {"ts":T,"id":"op-17","ok":true,"value":21.5,"readback":21.5}
 *   {"ts":T,"id":"op-17","ok":false,"error":"above write_max 30"}
 * "id" only when the command had one; "readback" is null when the read
 * after the write failed. A device-topic command adds, once its points were
 * looked up, "results":{"mode":{"ok":true,"value":2,"readback":2},
 * "setpoint":{"ok":false,"error":"..."}} with every point of the command;
 * its own "ok" is true only when every point was written. */
void ef_cmd_result_json(const struct ef_cmd_job *job, int64_t wall_now_ms, struct ef_buf *out);

/* Appends S as a JSON string (quotes included): '"' and '\\' escaped,
 * control characters and bytes above 0x7e replaced by '?'. */
void ef_cmd_json_string(struct ef_buf *b, const char *s);

#endif
