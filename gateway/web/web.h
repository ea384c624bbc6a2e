/* The local web view: one page (/), its live feed (/events, Server-Sent
 * Events), /api/status (JSON) and /metrics (Prometheus text 0.0.4).
 *
 * The server runs on libmicrohttpd's one internal thread (loaded only when
 * [http] is configured). It never reads the core, the queue or the
 * publisher: the main thread hands it a snapshot every second
 * (ef_web_publish), which is encoded once and swapped in under a mutex that
 * requests hold only to copy the encoded text. An event stream gets the
 * newest snapshot when it can take it; one that cannot keep up skips the
 * ones in between, so a slow browser costs one snapshot of memory at most. */
#ifndef EF_WEB_H
#define EF_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"

/* Per-device counters, in the order and with the names of the stats topic. */
#define EF_WEB_DEV_COUNTERS(X)                                                                    \
    X(polls) X(polls_failed) X(readings) X(requests) X(errors) X(timeouts) X(points_failed)       \
    X(skipped) X(lines_rejected) X(lines_overlong) X(reopens)
#define EF_WEB_COUNT_ONE(name) +1
enum { EF_WEB_NDEV_COUNTERS = 0 EF_WEB_DEV_COUNTERS(EF_WEB_COUNT_ONE) };

struct ef_web_point {
    char name[EF_NAME_MAX + 1];
    char unit[33];
    struct ef_value value;
    int64_t ts_ms; /* 0: never read */
    bool alarm_high, alarm_low;
};

struct ef_web_device {
    char name[EF_NAME_MAX + 1];
    bool serial;
    bool offline;
    bool answered;        /* the latest poll */
    int64_t last_poll_ms; /* wall clock, 0 = not yet */
    uint64_t counters[EF_WEB_NDEV_COUNTERS];
    struct ef_web_point *points;
    size_t npoints;
};

/* A figure of the gateway as a whole: NAME is its stats topic name with
 * groups joined by '_' ("dropped_memory_full"); counters become
 * edgeferry_NAME_total, gauges edgeferry_NAME. */
struct ef_web_figure {
    const char *name;
    const char *help;
    uint64_t value;
};

#define EF_WEB_MAX_FIGURES 48

struct ef_web_snapshot {
    int64_t ts_ms;
    int64_t uptime_s;
    const char *gateway_id;
    const char *broker;   /* [mqtt] uri */
    bool connected;
    struct ef_web_figure counters[EF_WEB_MAX_FIGURES];
    size_t ncounters;
    struct ef_web_figure gauges[EF_WEB_MAX_FIGURES];
    size_t ngauges;
    struct ef_web_device *devices;
    size_t ndevices;
    unsigned http_streams; /* filled by ef_web_publish */
};

struct ef_buf;

/* Encoders, pure: the JSON of /api/status and of each event (one line, no
 * newline inside), and the Prometheus text of /metrics. */
void ef_web_encode_json(struct ef_buf *b, const struct ef_web_snapshot *s);
void ef_web_encode_metrics(struct ef_buf *b, const struct ef_web_snapshot *s);

struct ef_web;

/* Loads libmicrohttpd, reads the password file and starts listening on
 * CFG's address. CFG is copied. Returns NULL (logged) on any failure. */
struct ef_web *ef_web_start(const struct ef_http *cfg);

/* Stops the server: open streams end, the thread is joined. NULL is fine. */
void ef_web_stop(struct ef_web *w);

/* After a reload: true when CFG differs from what W runs with (listen
 * address, or password file content), so the caller restarts it. */
bool ef_web_needs_restart(const struct ef_web *w, const struct ef_http *cfg);

/* Encodes S and makes it what requests and streams see from now on; wakes
 * the waiting streams. Called by one thread (the main loop). */
void ef_web_publish(struct ef_web *w, struct ef_web_snapshot *s);

/* The page, embedded at build time from page.html. */
extern const char ef_web_page[];
extern const size_t ef_web_page_len;

#endif
