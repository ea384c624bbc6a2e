/* The store-and-forward queue between the core and the publisher.
 *
 * It holds encoded messages (topic, payload, QoS, retain, class). Alarms are
 * durable: on disk and fsync'd before ef_queue_push() returns, removed only
 * when acknowledged. Telemetry stays in memory while the publisher keeps up
 * and spills to disk (segment files under DIR) while the broker is
 * unreachable or the publisher falls behind, so that no telemetry stays only
 * in memory longer than flush_ms. max_disk_mb is a hard cap: when full the
 * oldest telemetry is dropped first, alarms last, and every drop is counted.
 * Only regular files owned by the effective user are opened, cut or deleted
 * in DIR (common/file.h); anything else there is logged and left alone.
 *
 * Threads: every function is safe to call from any thread (one internal
 * mutex, never held while calling out). The publisher calls take/ack/nack,
 * typically ack/nack from paho's callback threads.
 *
 * Return codes: 0 success; EF_QUEUE_EMPTY nothing to take; negative errno
 * values for I/O failures (the caller logs them). */
#ifndef EF_QUEUE_H
#define EF_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum ef_msg_class {
    EF_CLASS_ALARM = 0,     /* durable, delivered before telemetry */
    EF_CLASS_TELEMETRY = 1, /* memory first, spilled to disk when needed */
};

#define EF_QUEUE_EMPTY 1

/* A message handed to the publisher. It stays owned by the queue and valid
 * until ef_queue_ack() or ef_queue_nack() is called on it. */
struct ef_qmsg {
    uint64_t id; /* unique within the process */
    enum ef_msg_class cls;
    int qos;
    bool retain;
    int64_t ts_ms; /* acquisition time (for replay order and logs) */
    const char *topic;
    const void *payload;
    size_t payload_len;
};

struct ef_queue_stats {
    uint64_t pushed[2];          /* by class */
    uint64_t acked[2];
    uint64_t mem_msgs, mem_bytes; /* currently held in memory */
    uint64_t disk_msgs, disk_bytes; /* currently on disk, not yet acknowledged */
    uint64_t disk_used_bytes;    /* segment files' size (<= max_disk_mb) */
    uint64_t dropped_full[2];    /* dropped because the disk cap was reached */
    uint64_t dropped_memory;     /* dropped because memory was full and disk failed */
    uint64_t corrupt_records;    /* cut off during recovery (CRC/length) */
    uint64_t recovered_msgs;     /* found on disk at open */
    uint64_t spilled_msgs;       /* telemetry written to disk */
    uint64_t disk_errors;
};

struct ef_queue;

/* Opens (creating DIR if needed) and recovers what is on disk: a torn or
 * corrupt tail is cut off and counted, never replayed and never fatal.
 * Returns 0 or a negative errno (DIR unusable). */
int ef_queue_open(const char *dir, const struct ef_queue_cfg *cfg, struct ef_queue **out);

/* Queues one message (copied). Alarms return only after fsync; on a full
 * file system the oldest telemetry on disk is dropped to make room for
 * them. Telemetry never waits for the disk: when it is busy or failing and
 * memory is full, the oldest telemetry in memory is dropped (counted).
 * Returns 0, or a negative errno if an alarm could not be made durable (it
 * is still kept in memory, retried at each tick, and counted in
 * disk_errors), -ENOSPC if the cap was full of alarms (dropped, counted).
 * Also -EINVAL (bad class, QoS or NULL topic) and -EMSGSIZE (topic +
 * payload over 64 KB less the record header; the message is not queued). */
int ef_queue_push(struct ef_queue *q, enum ef_msg_class cls, const char *topic,
                  const void *payload, size_t len, int qos, bool retain, int64_t ts_ms);

/* Next message to send: alarms first (oldest first), then telemetry in the
 * configured replay order. Returns 0 with *out set, or EF_QUEUE_EMPTY. A
 * message taken is "in flight" until acked or nacked. */
int ef_queue_take(struct ef_queue *q, struct ef_qmsg **out);

/* The broker has it (PUBACK/PUBCOMP, or written for QoS 0): forget it. */
void ef_queue_ack(struct ef_queue *q, struct ef_qmsg *m);

/* Not delivered (connection lost, send failed): it will be taken again,
 * before anything newer of its class. */
void ef_queue_nack(struct ef_queue *q, struct ef_qmsg *m);

/* Tells the queue whether the publisher is connected; while not connected,
 * telemetry older than flush_ms is spilled to disk at the next tick. (So is
 * telemetry the publisher left waiting that long while connected: it is
 * falling behind. Telemetry taken and acked promptly never touches disk.)
 * The publisher must nack what it has in flight when the link drops, so
 * that those messages are spilled too. */
void ef_queue_set_connected(struct ef_queue *q, bool connected);

/* Housekeeping (spill by age, cursor writes, segment deletion). Call every
 * ~100 ms from one thread. NOW is the monotonic clock in ms. */
void ef_queue_tick(struct ef_queue *q, int64_t now_mono_ms);

/* Waits until a message may be available to take, or TIMEOUT_MS passes, or
 * ef_queue_wake() is called. Returns true if something is available. */
bool ef_queue_wait(struct ef_queue *q, int timeout_ms);
void ef_queue_wake(struct ef_queue *q);

void ef_queue_get_stats(struct ef_queue *q, struct ef_queue_stats *out);

/* Persists everything still in memory (including messages in flight, which
 * count as not delivered) and frees the queue. Returns 0 or a negative errno. */
int ef_queue_close(struct ef_queue *q);

#endif
