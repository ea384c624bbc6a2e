/* The core's private state, shared by core.c (telemetry, report by
 * exception) and core_alarm.c (limit and offline alarms, their persistence). */
#ifndef EF_CORE_PRIV_H
#define EF_CORE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "gateway/core/alarm.h"
#include "gateway/core/clockwatch.h"
#include "gateway/core/core.h"
#include "gateway/sparkplug/sp_node.h"

#define CORE_MAX_READINGS 1024 /* per sample */
#define CORE_PAYLOAD_MAX 65536
#define CORE_TOPIC_MAX (EF_STR_MAX + 3 * EF_NAME_MAX + 32)

/* What the core remembers of one value of one device. */
struct slot {
    char name[EF_NAME_MAX + 1];
    const char *seen_as; /* a stable name pointer that matched it (fast path), or NULL */
    double last_sent;
    int64_t last_sent_ms; /* ts of the last message carrying it; 0 = never */
    struct ef_alarm_state alarm;
    /* The latest reading, sent or not, for the local web view. */
    const struct ef_point *point; /* NULL: an unconfigured serial value */
    struct ef_value last; /* a string points into text */
    int64_t last_ms; /* 0 = never read */
    char *text;      /* a string reading's copy (the source's is gone after the call) */
    size_t text_cap;
};

/* Keeps R (read at TS) as S's latest value, copying a string's text.
 * With the device's lock held (core_view.c). */
void ef_core_keep_last(struct slot *s, const struct ef_reading *r, int64_t ts);

struct core_dev {
    pthread_mutex_t lock; /* sink calls for one device are serialised */
    char name[EF_NAME_MAX + 1];
    char topic_telemetry[CORE_TOPIC_MAX];
    char topic_alarm[CORE_TOPIC_MAX]; /* P/G/alarm/D; points add /X */
    char topic_avail[CORE_TOPIC_MAX]; /* P/G/availability/D */
    enum { AVAIL_UNSAID, AVAIL_ONLINE, AVAIL_OFFLINE } avail; /* last queued, this core */
    int heartbeat_s;
    int offline_after;
    struct ef_offline_state offline;
    int64_t last_poll_ms; /* wall clock of the latest poll_result, 0 = none yet */
    bool last_answered;
    struct slot *slots; /* grows for serial sensors that report new names */
    size_t nslots, capslots;
    bool serial;   /* a serial sensor (Sparkplug: its values are Doubles) */
    char *payload; /* CORE_PAYLOAD_MAX bytes, used under lock */
    bool *include;
};

struct ef_core {
    const struct ef_config *cfg;
    struct ef_queue *q;
    struct ef_sink sink;
    struct ef_sp_node *sp; /* Sparkplug B telemetry instead of JSON, or NULL */
    struct core_dev *devs;
    size_t ndevs;
    pthread_mutex_t store_lock; /* serialises the alarm state file */
    char store_path[EF_STR_MAX + 16]; /* "" when not persisted */
    struct ef_clock_watch *clock; /* NULL: times are never marked */
    int save_err;          /* last failure saving it (negative errno), 0 when fine */
    uint64_t save_failed;  /* saves failed since it last worked (store_lock) */
    atomic_uint_fast64_t samples, readings, messages, suppressed, alarms, queue_errors;
    atomic_uint_fast64_t clock_dropped;
};

/* Finds or adds the slot for NAME (HINT: its probable index). NULL when out
 * of memory. Called with the device's lock held. */
struct slot *ef_core_slot(struct core_dev *d, size_t hint, const char *name);
/* The same; STABLE says NAME points into the configuration (it is its
 * point's own name), so a pointer comparison can stand for strcmp. */
struct slot *ef_core_slot_stable(struct core_dev *d, size_t hint, const char *name, bool stable);

/* Limit alarms of one reading; queues an alarm message per event. Called
 * with the device's lock held. Returns true if a state changed. */
bool ef_core_check_limits(struct ef_core *c, struct core_dev *d, struct slot *s,
                          const struct ef_reading *r, int64_t ts_ms);

/* Rewrites the alarm state file from every device's state (write, fsync,
 * rename). Takes each device's lock in turn: call without any held. */
void ef_core_save_alarms(struct ef_core *c);

/* Loads the alarm state file into the devices' slots (at creation), and
 * clears the alarms the configuration no longer has. RELOAD: for a SIGHUP
 * rather than a start (the log's wording). */
void ef_core_load_alarms(struct ef_core *c, bool reload);

void ef_core_on_poll(void *ctx, size_t index, int64_t ts_ms, bool answered);

#endif
